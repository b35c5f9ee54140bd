package io.carecontext.services.tenancy;

import io.carecontext.ingest.embedding.BatchingConfig;
import io.carecontext.ingest.embedding.BatchingEmbedder;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.EmbeddingProviders;
import io.carecontext.migrations.TenantId;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's embedding provider, chosen by its {@code embedding} setting. Tenants with the same
 * setting share one provider, so the in-process model is loaded once per process.
 */
@Singleton
public class TenantEmbeddings implements AutoCloseable {

  private final TenantDirectory tenants;
  private final Map<Map<String, Object>, BatchingEmbedder> providers = new ConcurrentHashMap<>();

  public TenantEmbeddings(TenantDirectory tenants) {
    this.tenants = tenants;
  }

  public EmbeddingProvider forTenant(TenantId tenant) {
    Map<String, Object> setting = Map.copyOf(tenants.section(tenant, "embedding"));
    return providers.computeIfAbsent(setting, s -> new BatchingEmbedder(
        EmbeddingProviders.forSettings(s, TenantEmbeddings::secret), BatchingConfig.defaults()));
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
  }
}
