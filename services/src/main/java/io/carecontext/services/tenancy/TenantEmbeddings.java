package io.carecontext.services.tenancy;

import io.carecontext.ingest.embedding.BatchingConfig;
import io.carecontext.ingest.embedding.BatchingEmbedder;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.EmbeddingProviders;
import io.carecontext.migrations.SecretNames;
import io.carecontext.migrations.TenantId;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each tenant's embedding provider, chosen by its {@code embedding} setting. Tenants with the same
 * setting share one provider, so the in-process model is loaded once per process.
 *
 * <p>Query embeddings are cached per tenant: clinical apps ask the same questions over and over
 * ("recent HbA1c trend"), and the model is the largest cost of a context request. The cache is in
 * memory only, bounded, and keyed by a salted hash of the tenant and the text, never by the text
 * itself. Tenants never share entries, so a fast answer tells one tenant nothing about what another
 * asked.
 *
 * <p>A query is one text, embedded on the request's own thread by the same model instance the
 * ingest path uses. Ingest hands its batches to {@link BatchingEmbedder}'s pool to use every core;
 * for one text that pool only added two thread hand-offs and a wait in its queue behind other
 * requests' questions (docs/benchmarks.md, seventeenth session).
 */
@Singleton
public class TenantEmbeddings implements AutoCloseable {

  private final TenantDirectory tenants;
  static final int QUERY_CACHE_ENTRIES = 4096;

  private final Map<Map<String, Object>, EmbeddingProvider> models = new ConcurrentHashMap<>();
  private final Map<Map<String, Object>, BatchingEmbedder> providers = new ConcurrentHashMap<>();
  private final Map<Map<String, Object>, QueryCache> queryCaches = new ConcurrentHashMap<>();
  private final byte[] salt = new byte[32];
  private final AtomicLong queryHits = new AtomicLong();
  private final AtomicLong queryMisses = new AtomicLong();

  public TenantEmbeddings(TenantDirectory tenants) {
    this.tenants = tenants;
    new SecureRandom().nextBytes(salt);
  }

  public EmbeddingProvider forTenant(TenantId tenant) {
    Map<String, Object> setting = Map.copyOf(tenants.section(tenant, "embedding"));
    requireGranted(tenant, setting);
    return provider(setting);
  }

  /**
   * Tenants with the same setting share a provider, and with it the key its variable holds: each
   * must have that variable granted ({@link SecretNames}), checked on every use, since a setting
   * stored before grants existed may name any variable.
   */
  private static void requireGranted(TenantId tenant, Map<String, Object> setting) {
    SecretNames.requireGrantedTo(tenant.value(), "embedding setting", setting);
    if (setting.containsKey("baseUrl")) {
      // and its host approved by the operator, also for a setting stored before approvals existed
      io.carecontext.migrations.ModelHosts.requireApprovedFor(tenant.value(), "embedding setting", setting.get("baseUrl"));
    }
  }

  /**
   * The embedding of one query under the tenant's model (its settings as
   * {@link TenantDirectory#settings} returns them), from the cache when the tenant asked the same
   * text with the same model before.
   */
  public float[] embedQuery(TenantId tenant, Map<String, Object> tenantSettings, String text) {
    Object section = tenantSettings.get("embedding");
    Map<String, Object> setting = section instanceof Map<?, ?> m ? copy(m) : Map.of();
    QueryCache cache = queryCaches.computeIfAbsent(setting, s -> new QueryCache());
    String key = key(tenant, text);
    float[] hit = cache.get(key);
    if (hit != null) {
      queryHits.incrementAndGet();
      return hit;
    }
    queryMisses.incrementAndGet();
    requireGranted(tenant, setting);
    float[] vector = model(setting).embedAll(List.of(text)).get(0);
    cache.put(key, vector);
    return vector;
  }

  /**
   * The id of the model {@link #embedQuery} embeds with under these settings: the search compares
   * the question only with chunks of that model. Null for a setting that names no usable model (its
   * questions cannot be embedded either).
   */
  public String modelId(Map<String, Object> tenantSettings) {
    return EmbeddingProviders.modelIdOf(tenantSettings.get("embedding") instanceof Map<?, ?> m ? copy(m) : Map.of());
  }

  /** Query-embedding cache hits and misses since start. */
  public long[] queryCacheCounts() {
    return new long[] {queryHits.get(), queryMisses.get()};
  }

  /** The setting's model, one instance per setting, shared by queries and ingest. */
  private EmbeddingProvider model(Map<String, Object> setting) {
    return models.computeIfAbsent(setting, s -> EmbeddingProviders.forSettings(s, TenantEmbeddings::secret));
  }

  /** The model behind the batching pool, for many texts at once (ingest, re-embedding). */
  private EmbeddingProvider provider(Map<String, Object> setting) {
    return providers.computeIfAbsent(setting, s -> new BatchingEmbedder(model(s), BatchingConfig.defaults()));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> copy(Map<?, ?> m) {
    return Map.copyOf((Map<String, Object>) m);
  }

  private String key(TenantId tenant, String text) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(salt);
      d.update((tenant.value() + "\n").getBytes(StandardCharsets.UTF_8)); // tenant ids hold no newline
      return HexFormat.of().formatHex(d.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A bounded least-recently-used map. */
  private static final class QueryCache {
    private final Map<String, float[]> entries = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
        return size() > QUERY_CACHE_ENTRIES;
      }
    };

    synchronized float[] get(String key) {
      return entries.get(key);
    }

    synchronized void put(String key, float[] vector) {
      entries.put(key, vector);
    }
  }

  /** API keys of embedding endpoints come from the environment, by the name the setting gives. */
  private static Optional<String> secret(String name) {
    return Optional.ofNullable(System.getenv(name));
  }

  @PreDestroy
  @Override
  public void close() {
    providers.values().forEach(BatchingEmbedder::close);
    providers.clear();
    models.clear();
    queryCaches.clear();
  }
}
