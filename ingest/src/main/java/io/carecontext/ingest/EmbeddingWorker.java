package io.carecontext.ingest;

import com.pgvector.PGvector;
import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.fhir.ClinicalChunk;
import io.carecontext.fhir.ConsentDirective;
import io.carecontext.fhir.ConsentInterpreter;
import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.embedding.EmbeddingException;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.ResearchForgetLock;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains the tenants' outboxes: claims rows with {@code FOR UPDATE SKIP LOCKED}, renders the
 * resource version into chunks, embeds only texts the tenant has not embedded with that model
 * before (the cache), and replaces the resource's chunks — claim, chunks, cache and outbox delete
 * in one transaction, so a worker killed mid-batch loses nothing and duplicates nothing.
 * A row that keeps failing is retried with backoff and then parked with a PHI-free reason. An
 * embedding endpoint that fails whatever it is sent (down, refusing, rate limiting) pauses the
 * tenant instead, with a growing, jittered wait, and costs the rows no attempt; an endpoint that answered
 * 429 or 503 with {@code Retry-After} is not called again for the tenant before that (at most an hour).
 */
public final class EmbeddingWorker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddingWorker.class);
  static final int MAX_ATTEMPTS = 5;

  private final TenantTransactions tx;
  private final TenantKeys keys;
  private final Function<TenantId, EmbeddingProvider> providers;
  private final Supplier<List<TenantId>> tenants;
  private volatile boolean tenantListFailing;
  /** Set by {@link #close()} before it interrupts the threads: a batch cut short by the stop is not the rows' fault. */
  private volatile boolean closing;
  private final int batchSize;
  private final ChunkRenderer renderer = new ChunkRenderer();
  private final Stats stats = new Stats();
  private ScheduledExecutorService scheduler;
  /** Tenants whose endpoint failed as a whole: not called again before {@code untilNanos}. */
  private final Map<TenantId, Pause> paused = new ConcurrentHashMap<>();
  private final ProgressLog progress = new ProgressLog();

  /**
   * A tenant's pause after its endpoint failed as a whole; it holds only while the tenant's provider is the one that
   * failed, the same instance at the same model and size ({@link #modelAndSize}). The tenant's provider is one
   * instance per embedding setting (TenantEmbeddings), so any change of the setting ends the pause: an admin who
   * fixed the endpoint's {@code baseUrl} or {@code apiKeySecret} (same model, same size) waited out the broken
   * one's pause, up to 5 minutes, or an hour after a {@code Retry-After}. The size too, for a provider that answers
   * another size without a new instance: an endpoint answering vectors of another size pauses the tenant, and the
   * fix, the setting's {@code dimensions}, keeps the model's name.
   */
  private record Pause(long untilNanos, int failures, EmbeddingProvider provider, String model) {
    boolean of(EmbeddingProvider current) {
      return provider == current && model.equals(modelAndSize(current));
    }
  }

  private static String modelAndSize(EmbeddingProvider provider) {
    return provider.modelId() + "/" + provider.dimensions();
  }

  /** The longest wait between two calls to an endpoint that keeps failing. */
  static final Duration MAX_PAUSE = Duration.ofMinutes(5);

  /** The longest {@code Retry-After} of an endpoint's that is waited (see {@link EmbeddingException#MAX_RETRY_AFTER_SECONDS}). */
  static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(EmbeddingException.MAX_RETRY_AFTER_SECONDS);

  public EmbeddingWorker(TenantTransactions tx, TenantKeys keys, Function<TenantId, EmbeddingProvider> providers,
                         Supplier<List<TenantId>> tenants, int batchSize) {
    this.tx = tx;
    this.keys = keys;
    this.providers = providers;
    this.tenants = tenants;
    this.batchSize = batchSize;
  }

  /** Counters since start, for progress bars and metrics. */
  public static final class Stats {
    public final AtomicLong resources = new AtomicLong();
    public final AtomicLong chunks = new AtomicLong();
    public final AtomicLong embedded = new AtomicLong();
    public final AtomicLong cacheHits = new AtomicLong();
    public final AtomicLong failures = new AtomicLong();
    /** Batches that failed as a whole, after which each of their rows was retried on its own. */
    public final AtomicLong batchFallbacks = new AtomicLong();
    /** Calls to the embedding model and the time they took (the cache answers without one). */
    public final AtomicLong modelCalls = new AtomicLong();
    public final AtomicLong modelNanos = new AtomicLong();
  }

  public Stats stats() {
    return stats;
  }

  /** Outbox rows of the tenant waiting to be embedded, and those parked after repeated failures. */
  public record OutboxDepth(long ready, long parked) {}

  public OutboxDepth outboxDepth(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT count(*) FILTER (WHERE parked_at IS NULL), count(*) FILTER (WHERE parked_at IS NOT NULL) FROM outbox""");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new OutboxDepth(rs.getLong(1), rs.getLong(2));
      }
    });
  }

  /**
   * Rows that failed an attempt and wait for their next one ({@code retrying}: counted in the ready
   * depth too), and the PHI-free reason of the latest failure, retrying rows first, else parked ones;
   * null when no row has failed. Without them a load against a model that refuses every call showed
   * only a depth that did not move, for the hours its rows took to be parked.
   */
  public record Failing(long retrying, String lastError, boolean paused) {
    public Failing(long retrying, String lastError) {
      this(retrying, lastError, false);
    }
  }

  /**
   * The tenant's {@link Failing} rows, and whether its endpoint's pause holds: this worker's pause, or, for a worker
   * in another process, a batch the pause marked and holds back (rows a pause marks are charged no attempt, a row's
   * own failure always is). While paused nothing is embedded, whatever the last half minute's rate was.
   */
  public Failing failing(TenantId tenant) {
    boolean pausedHere = pausedNow(tenant);
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT (SELECT count(*) FROM outbox WHERE parked_at IS NULL AND (attempts > 0 OR last_error IS NOT NULL)),
                 (SELECT last_error FROM outbox WHERE last_error IS NOT NULL
                   ORDER BY parked_at IS NULL DESC, available_at DESC LIMIT 1),
                 EXISTS (SELECT 1 FROM outbox WHERE parked_at IS NULL AND attempts = 0 AND last_error IS NOT NULL
                         AND available_at > now())""");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Failing(rs.getLong(1), rs.getString(2), pausedHere || rs.getBoolean(3));
      }
    });
  }

  /**
   * Whether this worker holds the tenant's endpoint off now: a pause not yet over, of the tenant's provider still (a
   * change of setting ends it at the next batch). A setting that cannot be used now leaves the pause as it is.
   */
  private boolean pausedNow(TenantId tenant) {
    Pause pause = paused.get(tenant);
    if (pause == null || System.nanoTime() - pause.untilNanos() >= 0) {
      return false;
    }
    try {
      return pause.of(providers.apply(tenant));
    } catch (RuntimeException unusable) {
      return true;
    }
  }

  /** The tenants this worker drains. */
  public List<TenantId> tenants() {
    return tenants.get();
  }

  /**
   * Processes ready outbox rows of the tenant until none is left; returns how many it handled. A long run writes its
   * progress to the log once a minute, and a line when the queue is empty ({@link ProgressLog}).
   */
  public int drain(TenantId tenant) {
    int total = 0;
    int n;
    progress.begin(tenant);
    try {
      while ((n = processBatch(tenant)) > 0) {
        total += n;
        progress.done(tenant, n, System.nanoTime()).ifPresent(line -> LOG.info("embedding worker: tenant {}: {} "
                + "resource(s) processed in the last {} s ({}/s), {} queued, {} in {} s so far (progress: GET "
                + "/admin/tenants/{}/ingest)", tenant, line.done(), line.seconds(), line.perSecond(),
            outboxDepth(tenant).ready(), line.total(), line.totalSeconds(), tenant));
      }
    } catch (RuntimeException | Error e) {
      progress.left(tenant);
      throw e;
    }
    progress.emptied(tenant, System.nanoTime()).ifPresent(line -> LOG.info("embedding worker: tenant {}: the queue "
        + "is empty: {} resource(s) processed in {} s", tenant, line.total(), line.totalSeconds()));
    return total;
  }

  /**
   * One batch; on failure every row is retried alone so one poison item cannot block the rest. When the
   * endpoint failed as a whole (see {@link EmbeddingException#endpointWide}) the rows are not tried one
   * by one (each would meet the same failure, lose an attempt, and the backlog would be parked within a
   * minute of an outage): the tenant pauses instead, its batch marked with the reason for the ingest
   * status, and nothing is handled until the pause is over.
   */
  public int processBatch(TenantId tenant) {
    Pause pause = paused.get(tenant);
    if (pause != null && !pause.of(providers.apply(tenant))) {
      // the tenant changed its embedding setting (its model, its size, its endpoint's address or key) since: the
      // endpoint that failed is not the one to wait for (a model set back to the in-process one, or an endpoint's
      // address corrected, waited out the old endpoint's pause, up to minutes)
      paused.remove(tenant, pause);
      pause = null;
    }
    if (pause != null && System.nanoTime() - pause.untilNanos() < 0) {
      return 0;
    }
    try {
      int n = tx.run(tenant, PolicySettings.ingest(), c -> process(tenant, c, claim(c, batchSize, null)));
      if (n > 0 && pause != null && paused.remove(tenant) != null) {
        LOG.info("embedding worker: tenant {} embeds again after {} failed call(s) to its endpoint", tenant,
            pause.failures());
      }
      return n;
    } catch (RuntimeException batchFailure) {
      if (stopping()) {
        // The process is stopping (SIGTERM, Ctrl-C) and interrupted the embedding: the batch's transaction
        // rolled back, so its rows wait, untouched, for the next start. Trying them one by one charged each
        // an attempt with "the model's answer could not be used: check settings.embedding.model", which sent
        // the operator to a setting that was fine (a walk of a stop during a load found 129 such rows), and
        // five stops in one load would have parked them.
        return 0;
      }
      EmbeddingException down = endpointDown(batchFailure);
      if (down != null) {
        pauseTenant(tenant, pause, down);
        return 0;
      }
      stats.batchFallbacks.incrementAndGet();
      List<Long> ids = tx.run(tenant, PolicySettings.ingest(), c -> ids(claim(c, batchSize, null)));
      int handled = 0;
      for (Long id : ids) {
        try {
          handled += tx.run(tenant, PolicySettings.ingest(), c -> process(tenant, c, claim(c, 1, id)));
        } catch (RuntimeException e) {
          if (stopping()) {
            break; // as above: the row rolled back and waits for the next start
          }
          EmbeddingException rowDown = endpointDown(e);
          if (rowDown != null) {
            // the endpoint went down (or asked to be left alone) while the rows were tried one by one: the
            // row is not at fault and loses no attempt, and the rest are not sent to an endpoint that refuses
            pauseTenant(tenant, paused.get(tenant), rowDown);
            break;
          }
          fail(tenant, id, e);
          handled++;
        }
      }
      return handled;
    }
  }

  /** Polls every active tenant on a fixed, bounded pool until {@link #close()}. */
  public synchronized void start(int threads, Duration poll) {
    if (scheduler != null || threads <= 0) {
      return;
    }
    scheduler = Executors.newScheduledThreadPool(threads, r -> {
      Thread t = new Thread(r, "embedding-worker");
      t.setDaemon(true);
      return t;
    });
    scheduler.execute(this::enqueueUnderivedConsents);
    for (int i = 0; i < threads; i++) {
      scheduler.scheduleWithFixedDelay(this::pollAll, 0, poll.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Once at start, for every tenant: what older releases stored and the current rules read otherwise,
   * queued to be processed again like a re-embedding (progress: GET /admin/tenants/{t}/ingest).
   */
  private void enqueueUnderivedConsents() {
    List<TenantId> all;
    try {
      all = tenants.get();
    } catch (RuntimeException e) {
      LOG.warn("embedding worker: the tenant list cannot be read ({}); what older releases stored is queued to be "
          + "processed again at the next start", e.getClass().getSimpleName());
      return;
    }
    for (TenantId tenant : all) {
      queueAtStart(tenant, this::enqueueConsentsReadByOlderRules, "consent(s) queued to be read again under the "
          + "current consent rules", "its consents");
      queueAtStart(tenant, this::enqueueRerender, "resource(s) queued to make their chunks again with the current "
          + "renderer", "its chunks");
      queueAtStart(tenant, this::enqueueChunksOfAnotherModel, "resource(s) queued to re-embed chunks another model "
          + "made", "its chunks of another model");
      queueAtStart(tenant, this::enqueueRolesWithoutHolder, "PractitionerRole(s) queued to link their practitioner to "
          + "the care relationships stated through them", "its PractitionerRoles");
      queueAtStart(tenant, this::enqueueUncheckedCareLinks, "CareTeam(s) and Encounter(s) queued to check the care "
          + "relationships they state against their status and period", "its care relationships");
    }
  }

  /** One of the queuings above, logged with how many it queued; a failure is retried at the next start. */
  private void queueAtStart(TenantId tenant, java.util.function.ToIntFunction<TenantId> enqueue, String queued,
                            String what) {
    try {
      int n = enqueue.applyAsInt(tenant);
      if (n > 0) {
        LOG.info("embedding worker: tenant {}: {} {} (progress: GET /admin/tenants/{}/ingest)", tenant, n, queued,
            tenant);
      }
    } catch (RuntimeException e) {
      LOG.warn("embedding worker: tenant {}: {} could not be queued to be processed again ({}); they are queued "
          + "again at the next start", tenant, what, e.getClass().getSimpleName());
    }
  }

  private void pollAll() {
    // Nothing may leave a scheduled round: an exception that does ends the schedule for good, and
    // the worker would stop embedding without a word until the process restarts (reading the
    // tenant list during a database outage did exactly that).
    List<TenantId> all;
    try {
      all = tenants.get();
    } catch (RuntimeException e) {
      if (!tenantListFailing) {
        tenantListFailing = true;
        LOG.warn("embedding worker: the tenant list cannot be read ({}); retrying every round",
            e.getClass().getSimpleName());
      }
      return;
    }
    if (tenantListFailing) {
      tenantListFailing = false;
      LOG.info("embedding worker: the tenant list is readable again");
    }
    for (TenantId tenant : all) {
      try {
        drain(tenant);
      } catch (RuntimeException e) {
        LOG.warn("embedding worker: tenant {} failed this round ({})", tenant, e.getClass().getSimpleName());
      }
    }
  }

  /**
   * Queues every Consent whose row was made by older rules than {@link ConsentInterpreter#RULES_VERSION}
   * (its {@code rules_version} NULL or lower: stored before tenant migration 40, which also covers
   * those stored before migration 20, whose explicitly permitted labels were never derived), so that
   * processing it reads the stored Consent again; resumable, and a no-op once none is left. Returns
   * how many it queued.
   */
  public int enqueueConsentsReadByOlderRules(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO outbox (resource_type, resource_id, version_id, operation)
          SELECT r.resource_type, r.resource_id, r.version_id, 'reembed'
          FROM consents k JOIN resources r ON r.resource_type = 'Consent' AND r.resource_id = k.consent_id
          WHERE (k.explicit_labels IS NULL OR k.rules_version IS NULL OR k.rules_version < ?) AND NOT r.deleted
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.resource_type = r.resource_type
                            AND o.resource_id = r.resource_id AND o.parked_at IS NULL)""")) {
        ps.setInt(1, ConsentInterpreter.RULES_VERSION);
        return ps.executeUpdate();
      }
    });
  }

  /**
   * Queues every CareTeam and Encounter with care links stored before tenant migration 25, so that
   * the worker replaces them with what the resource states (see {@link #rederiveCareLinks}).
   */
  public int enqueueUncheckedCareLinks(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO outbox (resource_type, resource_id, version_id, operation)
          SELECT r.resource_type, r.resource_id, r.version_id, 'reembed' FROM resources r
          WHERE r.resource_type IN ('CareTeam', 'Encounter') AND NOT r.deleted
            AND EXISTS (SELECT 1 FROM care_links l WHERE l.source_type = r.resource_type
                        AND l.source_id = r.resource_id AND l.status_checked IS NULL)
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.resource_type = r.resource_type
                            AND o.resource_id = r.resource_id AND o.parked_at IS NULL)""")) {
        return ps.executeUpdate();
      }
    });
  }

  /**
   * Queues every current PractitionerRole without its practitioner's row (stored before tenant
   * migration 46, or its row removed by migration 47 to be made again with the role's period), so
   * that the worker makes the row and the copies of the links through the role (see
   * {@link #rederiveRoleHolder}). A role version found linking no one (inactive, ended, or naming no
   * Practitioner), by its write or by the worker, is not queued again (tenant migration 49). And every
   * role whose row was made before its period's date bounds were read in the zone of the other bound
   * (its {@code periods_checked} NULL, tenant migration 63): its row and copies stand until the worker
   * replaces them.
   */
  public int enqueueRolesWithoutHolder(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO outbox (resource_type, resource_id, version_id, operation)
          SELECT r.resource_type, r.resource_id, r.version_id, 'reembed' FROM resources r
          WHERE r.resource_type = 'PractitionerRole' AND NOT r.deleted
            AND NOT EXISTS (SELECT 1 FROM practitioner_roles p WHERE p.role_id = r.resource_id
                            AND p.periods_checked IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM practitioner_roles_without_holder n
                            WHERE n.role_id = r.resource_id AND n.version_id = r.version_id)
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.resource_type = r.resource_type
                            AND o.resource_id = r.resource_id AND o.parked_at IS NULL)""")) {
        return ps.executeUpdate();
      }
    });
  }

  /**
   * Queues every current resource with chunks made by an older {@link ChunkRenderer} (their
   * {@code renderer_version} NULL or lower: made before tenant migration 41), so that the worker
   * makes them again; resumable, and a no-op once none is left. Returns how many it queued.
   */
  public int enqueueRerender(TenantId tenant) {
    ChunkRange range = chunkRange(tenant);
    // one model at one size: the range's ends hold the least version and any NULL; otherwise (a
    // re-embedding under way) they do not, and the scan decides
    if (range == null || range.oneModel() && range.highVersion() != null
        && range.lowVersion() >= ChunkRenderer.VERSION) {
      return 0;
    }
    return enqueueWithChunks(tenant, "k.renderer_version IS NULL OR k.renderer_version < ?", ChunkRenderer.VERSION);
  }

  /**
   * Queues every current resource whose chunks were made by another model, or by this one at
   * another size (an endpoint's model asked for fewer dimensions keeps its name); resumable.
   */
  public int enqueueReembed(TenantId tenant, String modelId, int dimensions) {
    ChunkRange range = chunkRange(tenant);
    if (range == null || range.oneModel() && range.lowModel().equals(modelId) && range.lowSize() == dimensions) {
      return 0;
    }
    return enqueueWithChunks(tenant, OF_ANOTHER_MODEL, modelId, dimensions);
  }

  /**
   * The first and the last entry of the tenant's chunks in their (model, size, renderer version)
   * index (tenant migration 54): two index reads, not a scan. Both ends are of one model at one size
   * only when every chunk is; then the low end holds the least renderer version and the high end
   * (descending, NULLs first) a NULL if any chunk has one. Each start asks it of every tenant, and
   * the scans of every chunk that {@link #enqueueWithChunks} makes run only when it finds work.
   */
  static final String CHUNK_RANGE = """
      SELECT low.model, low.size, low.renderer_version, high.model, high.size, high.renderer_version
      FROM (SELECT model, public.vector_dims(embedding) AS size, renderer_version FROM chunks
            ORDER BY model, public.vector_dims(embedding), renderer_version LIMIT 1) low,
           (SELECT model, public.vector_dims(embedding) AS size, renderer_version FROM chunks
            ORDER BY model DESC, public.vector_dims(embedding) DESC, renderer_version DESC LIMIT 1) high""";

  /** The ends of {@link #CHUNK_RANGE}; versions are null where the chunk has none. */
  private record ChunkRange(String lowModel, int lowSize, Integer lowVersion, String highModel, int highSize,
                            Integer highVersion) {
    boolean oneModel() {
      return lowModel.equals(highModel) && lowSize == highSize;
    }
  }

  /** The tenant's {@link ChunkRange}, or null when it has no chunks. */
  private ChunkRange chunkRange(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(CHUNK_RANGE); ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new ChunkRange(rs.getString(1), rs.getInt(2), rs.getObject(3, Integer.class),
            rs.getString(4), rs.getInt(5), rs.getObject(6, Integer.class)) : null;
      }
    });
  }

  /**
   * A chunk {@code k} that the model (its id, then its size, as two parameters) did not make: what a
   * change of model re-embeds, and what searches refuse until it has.
   */
  public static final String OF_ANOTHER_MODEL = "k.model <> ? OR public.vector_dims(k.embedding) <> ?";

  /**
   * How many of the tenant's chunks its model (at its size) has not made yet, what {@code GET …/ingest} calls
   * {@code chunksOfAnotherModel}: the re-embedding left, for the metric an alert reads, every 15 s by every process.
   * The index of tenant migration 54 answers it: its two ends when every chunk is of the tenant's model (two reads,
   * the common case); else {@link #CHUNKS_OF_ANOTHER_MODEL}, index-only counts of the chunks of the models ordered
   * before and after the tenant's, and the least and greatest size of its own model's chunks. Only while some of
   * those are of another size (the same model name asked for other dimensions) are that model's chunks read.
   * A bound on {@code vector_dims} (not leakproof) is never an index condition under row-level security: the row
   * comparison {@code (model, vector_dims(embedding)) < (?, ?)} read every chunk of the tenant twice, 25,000
   * pages and 1.4 s at 100,000 chunks half re-embedded, where these read about 50 index pages in 40 ms.
   */
  public long chunksOfAnotherModel(TenantId tenant) {
    return chunksOfAnotherModel(tenant, providers.apply(tenant));
  }

  /** {@link #chunksOfAnotherModel(TenantId)} under the tenant's provider, already asked for. */
  public long chunksOfAnotherModel(TenantId tenant, EmbeddingProvider provider) {
    ChunkRange range = chunkRange(tenant);
    if (range == null || range.oneModel() && range.lowModel().equals(provider.modelId())
        && range.lowSize() == provider.dimensions()) {
      return 0;
    }
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      long left;
      Integer least;
      Integer greatest;
      try (PreparedStatement ps = c.prepareStatement(CHUNKS_OF_ANOTHER_MODEL)) {
        for (int i = 1; i <= 4; i++) {
          ps.setString(i, provider.modelId());
        }
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          left = rs.getLong(1);
          least = rs.getObject(2, Integer.class);
          greatest = rs.getObject(3, Integer.class);
        }
      }
      if (least == null || least == provider.dimensions() && greatest == provider.dimensions()) {
        return left;
      }
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT count(*) FROM chunks WHERE model = ? AND public.vector_dims(embedding) <> ?")) {
        ps.setString(1, provider.modelId());
        ps.setInt(2, provider.dimensions());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return left + rs.getLong(1);
        }
      }
    });
  }

  /**
   * With the tenant's model id as its four parameters: the chunks of the other models (two index-only counts, on
   * model alone, whose comparisons are leakproof) and the least and greatest size of the model's own chunks (an
   * index read at each end of the model's entries), for {@link #chunksOfAnotherModel}.
   */
  static final String CHUNKS_OF_ANOTHER_MODEL = """
      SELECT (SELECT count(*) FROM chunks WHERE model < ?) + (SELECT count(*) FROM chunks WHERE model > ?),
             (SELECT public.vector_dims(embedding) FROM chunks WHERE model = ?
              ORDER BY model, public.vector_dims(embedding) LIMIT 1),
             (SELECT public.vector_dims(embedding) FROM chunks WHERE model = ?
              ORDER BY model DESC, public.vector_dims(embedding) DESC LIMIT 1)""";

  /**
   * Queues, as a change of model does, every resource with chunks that the tenant's model (at its
   * size) did not make. A change of model stores the setting and then queues its re-embedding; a
   * process that ended between the two left chunks that every search refuses (503
   * reembedding_in_progress) and nothing queued to replace them. Run at each start, so that any such
   * gap closes by itself.
   */
  public int enqueueChunksOfAnotherModel(TenantId tenant) {
    EmbeddingProvider provider = providers.apply(tenant);
    return enqueueReembed(tenant, provider.modelId(), provider.dimensions());
  }

  /**
   * Queues every current resource with a chunk {@code k} that meets {@code condition} (with its
   * parameters) and is not queued already; resumable. Returns how many it queued.
   */
  private int enqueueWithChunks(TenantId tenant, String condition, Object... parameters) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO outbox (resource_type, resource_id, version_id, operation)
          SELECT r.resource_type, r.resource_id, r.version_id, 'reembed' FROM resources r
          WHERE NOT r.deleted
            AND EXISTS (SELECT 1 FROM chunks k WHERE k.resource_type = r.resource_type
                        AND k.resource_id = r.resource_id AND (%s))
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.resource_type = r.resource_type
                            AND o.resource_id = r.resource_id AND o.parked_at IS NULL)""".formatted(condition))) {
        for (int i = 0; i < parameters.length; i++) {
          ps.setObject(i + 1, parameters[i]);
        }
        return ps.executeUpdate();
      }
    });
  }

  /** Outbox rows parked after repeated failures, for admins: id, resource, attempts, reason. */
  public List<Map<String, Object>> parked(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      List<Map<String, Object>> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT outbox_id, resource_type, resource_id, attempts, last_error, parked_at FROM outbox "
              + "WHERE parked_at IS NOT NULL ORDER BY outbox_id LIMIT 1000");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("outboxId", rs.getLong(1));
          m.put("resource", rs.getString(2) + "/" + rs.getString(3));
          m.put("attempts", rs.getInt(4));
          m.put("reason", rs.getString(5));
          m.put("parkedAt", rs.getTimestamp(6).toInstant().toString());
          out.add(m);
        }
      }
      return out;
    });
  }

  /**
   * After a change of the tenant's model: the rows still waiting out the old model's failures (its
   * backoff, or its endpoint's pause) are due at once, with their attempts and reason cleared, so that
   * the new model gets them now and the ingest status no longer shows the old endpoint's error. Parked
   * rows stay parked ({@link #retryParked}). Returns how many rows it made due.
   */
  public int retryWithNewModel(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          UPDATE outbox SET attempts = 0, last_error = NULL, available_at = now()
          WHERE parked_at IS NULL AND (attempts > 0 OR last_error IS NOT NULL OR available_at > now())""")) {
        return ps.executeUpdate();
      }
    });
  }

  /** Puts parked rows back in the queue (after the cause is fixed). */
  public int retryParked(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE outbox SET parked_at = NULL, attempts = 0, last_error = NULL, available_at = now() WHERE parked_at IS NOT NULL")) {
        return ps.executeUpdate();
      }
    });
  }

  private record Claimed(long outboxId, String type, String id, long version) {
    String resourceKey() {
      return EmbeddingWorker.resourceKey(type, id);
    }
  }

  /** The endpoint-wide model failure behind {@code e}, if it is one. */
  private static EmbeddingException endpointDown(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof EmbeddingException ee) {
        return ee.endpointWide() ? ee : null;
      }
    }
    return null;
  }

  /**
   * The wait after the {@code failures}-th failure in a row: 1 s, 2 s, 4 s … up to {@link #MAX_PAUSE},
   * each between half and all of that ({@code jitter} in [0, 1)), so that workers that met the same
   * outage do not call the endpoint again all at once.
   */
  static Duration pauseAfter(int failures, double jitter) {
    long full = Math.min(MAX_PAUSE.toMillis(), 1_000L << Math.min(failures - 1, 20));
    return Duration.ofMillis((long) (full * (0.5 + 0.5 * jitter)));
  }

  /**
   * The wait after the {@code failures}-th failure in a row, when the endpoint's answer asked to be called
   * again in {@code retryAfterSeconds} (429 or 503 with {@code Retry-After}; -1 when it did not): at least
   * that, capped at {@link #MAX_RETRY_AFTER}, plus up to a tenth more ({@code jitter} in [0, 1)) so that
   * workers told the same moment do not all call at it; never less than {@link #pauseAfter} would wait.
   * The worker's own backoff (1 s, 2 s, 4 s…) called a rate-limited endpoint again long before it asked.
   */
  static Duration pauseAfter(int failures, double jitter, long retryAfterSeconds) {
    Duration backoff = pauseAfter(failures, jitter);
    if (retryAfterSeconds < 0) {
      return backoff;
    }
    long asked = Math.min(MAX_RETRY_AFTER.toMillis(), Math.multiplyExact(Math.min(retryAfterSeconds,
        MAX_RETRY_AFTER.toSeconds()), 1_000L));
    Duration honoured = Duration.ofMillis(asked + (long) (asked * 0.1 * jitter));
    return honoured.compareTo(backoff) > 0 ? honoured : backoff;
  }

  private void pauseTenant(TenantId tenant, Pause previous, EmbeddingException down) {
    stats.failures.incrementAndGet();
    int failures = previous == null ? 1 : previous.failures() + 1;
    Duration wait = pauseAfter(failures, ThreadLocalRandom.current().nextDouble(), down.retryAfterSeconds());
    EmbeddingProvider provider = providers.apply(tenant);
    paused.put(tenant, new Pause(System.nanoTime() + wait.toNanos(), failures, provider, modelAndSize(provider)));
    String reason = "EmbeddingException: " + down.kind() + (down.retryAfterSeconds() < 0 ? ""
        : "; it asked to be called again in " + down.retryAfterSeconds() + " s (Retry-After), next call in "
            + wait.toSeconds() + " s");
    // the rows wait with the tenant, but at most MAX_PAUSE: the pause itself holds the tenant for a longer
    // Retry-After, and ends when the tenant changes its model, which rows held for an hour would not
    Duration rowsWait = wait.compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : wait;
    try {
      // the batch that failed, as the next claim would take it: retrying, with why, for the ingest status
      tx.run(tenant, PolicySettings.ingest(), c -> {
        try (PreparedStatement ps = c.prepareStatement("""
            UPDATE outbox SET last_error = ?, available_at = now() + make_interval(secs => ?)
            WHERE outbox_id IN (SELECT outbox_id FROM outbox WHERE parked_at IS NULL AND available_at <= now()
                                ORDER BY outbox_id LIMIT ? FOR UPDATE SKIP LOCKED)""")) {
          ps.setString(1, reason);
          ps.setDouble(2, rowsWait.toMillis() / 1000.0);
          ps.setInt(3, batchSize);
          return ps.executeUpdate();
        }
      });
    } catch (RuntimeException e) {
      LOG.warn("embedding worker: tenant {} failing rows not marked ({})", tenant, e.getClass().getSimpleName());
    }
    if (Integer.bitCount(failures) == 1) {
      // the 1st, 2nd, 4th, 8th … failure in a row: an outage of hours writes a dozen lines, not thousands
      LOG.warn("embedding worker: tenant {} embedding endpoint failed ({}); next call in {} ms ({} failure(s) in a row)",
          tenant, down.kind(), wait.toMillis(), failures);
    }
  }

  private static List<Long> ids(List<Claimed> rows) {
    return rows.stream().map(Claimed::outboxId).toList();
  }

  /**
   * Plans this transaction's statements for their values and the tables as they are now. A batch
   * names its resources, chunks and cache entries by key arrays; the generic plans a pooled
   * connection kept from a tenant's first minute, when its tables were nearly empty, scanned every
   * row and joined it to the batch's keys (12–27 ms a statement at a few thousand rows in the ingest
   * benchmark, growing with the tenant until its statistics caught up). Planning a batch's few
   * statements costs well under a millisecond.
   */
  private static void customPlans(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")) {
      ps.execute();
    }
  }

  private static List<Claimed> claim(Connection c, int limit, Long only) throws SQLException {
    String sql = "SELECT outbox_id, resource_type, resource_id, version_id FROM outbox "
        + "WHERE parked_at IS NULL AND available_at <= now()" + (only == null ? "" : " AND outbox_id = ?")
        + " ORDER BY outbox_id LIMIT ? FOR UPDATE SKIP LOCKED";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      if (only != null) {
        ps.setLong(i++, only);
      }
      ps.setInt(i, limit);
      List<Claimed> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Claimed(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
        }
      }
      return rows;
    }
  }

  private int process(TenantId tenant, Connection c, List<Claimed> rows) throws SQLException {
    if (rows.isEmpty()) {
      return 0;
    }
    customPlans(c);
    TenantCipher cipher = keys.cipher(tenant);
    EmbeddingProvider provider = providers.apply(tenant);
    // Keyed by resource: two queued rows naming the same current version render the same chunks.
    Map<String, Rendered> byResource = new LinkedHashMap<>();
    Map<String, Stored> stored = load(c, rows);
    for (Claimed row : rows) {
      Resource resource = current(tenant, cipher, row, stored.get(row.resourceKey()));
      if (resource != null && !byResource.containsKey(row.resourceKey())) {
        byResource.put(row.resourceKey(), Rendered.of(row, renderer.render(resource), cipher));
        if (resource instanceof Consent consent) {
          rereadConsent(c, consent);
        }
        if (resource instanceof CareTeam || resource instanceof Encounter) {
          rederiveCareLinks(c, row, resource);
        }
        if (resource instanceof PractitionerRole) {
          rederiveRoleHolder(c, row, resource);
        }
      }
    }
    Map<String, String> textsByHash = new LinkedHashMap<>();
    for (Rendered r : byResource.values()) {
      for (int i = 0; i < r.chunks().size(); i++) {
        textsByHash.putIfAbsent(hex(r.hashes().get(i)), r.chunks().get(i).text());
      }
    }
    Map<String, float[]> vectors = cached(c, provider.modelId(), provider.dimensions(), textsByHash.keySet());
    stats.cacheHits.addAndGet(vectors.size());
    List<String> missHashes = textsByHash.keySet().stream().filter(h -> !vectors.containsKey(h)).toList();
    if (!missHashes.isEmpty()) {
      long started = System.nanoTime();
      List<float[]> embedded = provider.embedAll(missHashes.stream().map(textsByHash::get).toList());
      stats.modelNanos.addAndGet(System.nanoTime() - started);
      stats.modelCalls.incrementAndGet();
      stats.embedded.addAndGet(embedded.size());
      cache(c, provider.modelId(), missHashes, embedded);
      for (int i = 0; i < missHashes.size(); i++) {
        vectors.put(missHashes.get(i), embedded.get(i));
      }
    }
    EmbeddingProvider now = providers.apply(tenant);
    if (!now.modelId().equals(provider.modelId()) || now.dimensions() != provider.dimensions()) {
      // The tenant changed its model while this batch was embedded. The change queued every resource
      // with chunks of the old model except those queued already, these among them: committed, the old
      // model's chunks would stay until the worker's next start (searches refusing them meanwhile).
      // The rows stay queued, for the new model.
      return 0;
    }
    Settled settled = settle(c, rows);
    List<Rendered> current = byResource.values().stream().filter(r -> settled.replaces(r.row())).toList();
    boolean research = !current.isEmpty() && lockChunksForWriting(c, tenant);
    replaceChunks(tenant, c, cipher, provider.modelId(), current, vectors);
    if (research) {
      forgetResearchEmbeddings(c, current);
    }
    stats.resources.addAndGet(current.size());
    stats.chunks.addAndGet(current.stream().mapToLong(r -> r.chunks().size()).sum());
    List<Long> done = rows.stream().filter(row -> !settled.waits(row)).map(Claimed::outboxId).toList();
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM outbox WHERE outbox_id = ANY (?)")) {
      ps.setArray(1, c.createArrayOf("bigint", done.toArray()));
      ps.executeUpdate();
    }
    return done.size();
  }

  /**
   * What became of the claimed resources while the batch was embedded: their versions read again
   * (-1 for one deleted or not stored), and those with an older queue row that another worker holds.
   */
  private record Settled(Map<String, Long> versions, Set<String> behindAnother) {
    /** Whether the row's version is still the resource's current one. */
    boolean current(Claimed row) {
      return versions.getOrDefault(row.resourceKey(), -1L) == row.version();
    }

    /** Whether the row stays queued for a later round: current, but another worker has an older row of it. */
    boolean waits(Claimed row) {
      return current(row) && behindAnother.contains(row.resourceKey());
    }

    boolean replaces(Claimed row) {
      return current(row) && !behindAnother.contains(row.resourceKey());
    }
  }

  /**
   * Reads again, just before the chunks are replaced, what {@link #load} read before the model was
   * called. Two workers (threads of one process, or two processes) on one resource updated twice: the
   * first embedded version 2 while version 3 was written; the second, skipping the first one's locked
   * queue row, embedded version 3 and committed; the first then replaced version 3's chunks with
   * version 2's and deleted its row, and the stale text was served for good. Now a row whose version
   * is no longer current replaces nothing (the newer version's row, or the delete, takes over), and a
   * row behind an older one of the same resource that another worker holds waits for a later round,
   * when the older one's chunks are committed (its lock ends with its commit). Nothing here waits for
   * a lock: an update that voids the earlier text holds the resource's row while it waits for this
   * worker's queue row, and a worker waiting in turn would deadlock the two.
   */
  private static Settled settle(Connection c, List<Claimed> rows) throws SQLException {
    Object[] types = rows.stream().map(Claimed::type).toArray();
    Object[] ids = rows.stream().map(Claimed::id).toArray();
    Map<String, Long> versions = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT resource_type, resource_id, version_id, deleted FROM resources
        WHERE (resource_type, resource_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))""")) {
      ps.setArray(1, c.createArrayOf("text", types));
      ps.setArray(2, c.createArrayOf("text", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          versions.put(resourceKey(rs.getString(1), rs.getString(2)), rs.getBoolean(4) ? -1L : rs.getLong(3));
        }
      }
    }
    Map<String, Long> oldestClaimed = new HashMap<>();
    for (Claimed row : rows) {
      oldestClaimed.merge(row.resourceKey(), row.outboxId(), Math::min);
    }
    Map<Long, String> older = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT resource_type, resource_id, outbox_id FROM outbox
        WHERE (resource_type, resource_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))""")) {
      ps.setArray(1, c.createArrayOf("text", types));
      ps.setArray(2, c.createArrayOf("text", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String key = resourceKey(rs.getString(1), rs.getString(2));
          if (rs.getLong(3) < oldestClaimed.get(key)) {
            older.put(rs.getLong(3), key);
          }
        }
      }
    }
    Set<String> behindAnother = new java.util.HashSet<>();
    if (!older.isEmpty()) {
      // the older rows no other worker holds are locked here until this commits; the rest are held
      Set<Long> free = new java.util.HashSet<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT outbox_id FROM outbox WHERE outbox_id = ANY (?) FOR UPDATE SKIP LOCKED")) {
        ps.setArray(1, c.createArrayOf("bigint", older.keySet().toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            free.add(rs.getLong(1));
          }
        }
      }
      older.forEach((id, key) -> {
        if (!free.contains(id)) {
          behindAnother.add(key);
        }
      });
    }
    return new Settled(versions, behindAnother);
  }

  /**
   * Reads a stored Consent again under the current rules, replacing what older rules made of it
   * (explicitly permitted labels before tenant migration 20, the rest before migration 40). Only a
   * row made by older rules is replaced: one written since carries the current rules' reading, and a
   * worker that read an older version of the resource must not overwrite it.
   */
  private static void rereadConsent(Connection c, Consent consent) throws SQLException {
    List<ConsentDirective> read = ConsentInterpreter.interpretAll(consent);
    if (read.isEmpty()) {
      return;
    }
    // Replaced whole by the write path's own inserts (the Consent's row and the one denying its purposes, rules 4),
    // only where older rules made the Consent's row.
    String id = read.get(0).consentId();
    try (PreparedStatement ps = c.prepareStatement(
        "DELETE FROM consents WHERE consent_id IN (?, ?) AND (explicit_labels IS NULL OR rules_version IS NULL "
            + "OR rules_version < ?)")) {
      ps.setString(1, id);
      ps.setString(2, ConsentInterpreter.purposesDeniedId(id));
      ps.setInt(3, ConsentInterpreter.RULES_VERSION);
      if (ps.executeUpdate() > 0) {
        for (ConsentDirective d : read) {
          ResourceWriter.insertConsent(c, d);
        }
      }
    }
  }

  /**
   * Replaces a CareTeam's or Encounter's care links with what it states now: links stored before
   * tenant migration 25 were made whatever the resource's status, and one that ended care (an
   * inactive team, a cancelled encounter) must not keep admitting its practitioners. Links written
   * since are the resource's own (its write replaced them), so only a resource that still has
   * unchecked ones is touched.
   */
  private static void rederiveCareLinks(Connection c, Claimed row, Resource resource) throws SQLException {
    if (deleteCareLinks(c, row, " AND status_checked IS NULL") == 0) {
      return; // nothing stored before migration 25
    }
    deleteCareLinks(c, row, "");
    ResourceWriter.insertCareLinks(c, resource);
  }

  /**
   * A PractitionerRole without its practitioner's row gets it, with the copies of the links through
   * it ({@link ResourceWriter#insertRoleHolder}); one whose row was made before tenant migration 63
   * (its period's date bounds read in UTC, up to 14 hours wide) gets them again, in this transaction,
   * so the old ones hold until the new ones commit; one with a checked row was written by the current rules.
   */
  private static void rederiveRoleHolder(Connection c, Claimed row, Resource resource) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT 1 FROM practitioner_roles WHERE role_id = ? AND periods_checked IS NOT NULL")) {
      ps.setString(1, row.id());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return;
        }
      }
    }
    ResourceWriter.clearRoleHolder(c, row.id());
    ResourceWriter.insertRoleHolder(c, row.id(), resource);
  }

  private static int deleteCareLinks(Connection c, Claimed row, String condition) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "DELETE FROM care_links WHERE source_type = ? AND source_id = ?" + condition)) {
      ps.setString(1, row.type());
      ps.setString(2, row.id());
      return ps.executeUpdate();
    }
  }

  /** A stored resource version, still encrypted. */
  private record Stored(long version, boolean deleted, byte[] body) {}

  /** A claimed resource version, the chunks it renders to and their texts' keyed hashes, in order. */
  private record Rendered(Claimed row, List<ClinicalChunk> chunks, List<byte[]> hashes) {
    static Rendered of(Claimed row, List<ClinicalChunk> chunks, TenantCipher cipher) {
      return new Rendered(row, chunks,
          chunks.stream().map(ch -> cipher.contentHash(ch.text().getBytes(StandardCharsets.UTF_8))).toList());
    }
  }

  /** The current stored version of every claimed resource, in one round trip. */
  private static Map<String, Stored> load(Connection c, List<Claimed> rows) throws SQLException {
    Map<String, Stored> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT resource_type, resource_id, version_id, deleted, body FROM resources
        WHERE (resource_type, resource_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))""")) {
      ps.setArray(1, c.createArrayOf("text", rows.stream().map(Claimed::type).toArray()));
      ps.setArray(2, c.createArrayOf("text", rows.stream().map(Claimed::id).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(resourceKey(rs.getString(1), rs.getString(2)),
              new Stored(rs.getLong(3), rs.getBoolean(4), rs.getBytes(5)));
        }
      }
    }
    return out;
  }

  /** The resource of the row, or null when the row is stale (deleted, or a newer version queued). */
  private static Resource current(TenantId tenant, TenantCipher cipher, Claimed row, Stored stored) {
    if (stored == null || stored.deleted() || stored.version() != row.version()) {
      return null;
    }
    String json = cipher.decryptToString(stored.body(), Aad.resource(tenant, row.type(), row.id(), row.version()));
    return Fhir.parseResource(json);
  }

  static String resourceKey(String type, String id) {
    return type + "/" + id; // FHIR resource types and ids contain no '/'
  }

  /**
   * The vectors the cache holds for these texts by this model at this size: an endpoint's model
   * asked for another number of dimensions keeps its name, and its older entries are not answers.
   *
   * <p>The hashes are one array the primary key is probed with ({@code text_hash = ANY}), whatever the
   * table's statistics say. The form before ({@code IN (SELECT … FROM unnest(…))}) was planned, on a
   * tenant's young cache, as a scan of every entry of the model joined to the batch's hashes: 15–27 ms
   * a batch at 1,500 entries in the ingest benchmark, and growing with the cache.
   */
  private static Map<String, float[]> cached(Connection c, String model, int dimensions, Collection<String> hashes)
      throws SQLException {
    Map<String, float[]> out = new LinkedHashMap<>();
    if (hashes.isEmpty()) {
      return out;
    }
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT encode(text_hash, 'hex'), embedding FROM embedding_cache WHERE model = ? "
            + "AND text_hash = ANY (ARRAY(SELECT decode(h, 'hex') FROM unnest(?::text[]) AS h)) "
            + "AND public.vector_dims(embedding) = ?")) {
      ps.setString(1, model);
      ps.setArray(2, c.createArrayOf("text", hashes.toArray()));
      ps.setInt(3, dimensions);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), ((PGvector) rs.getObject(2)).toArray());
        }
      }
    }
    return out;
  }

  private static void cache(Connection c, String model, List<String> hashes, List<float[]> vectors) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        // an entry of another size (the model's older dimensions) is replaced; one of this size kept
        "INSERT INTO embedding_cache (model, text_hash, embedding) VALUES (?, decode(?, 'hex'), ?) "
            + "ON CONFLICT (model, text_hash) DO UPDATE SET embedding = EXCLUDED.embedding, created_at = now() "
            + "WHERE public.vector_dims(embedding_cache.embedding) <> public.vector_dims(EXCLUDED.embedding)")) {
      for (int i = 0; i < hashes.size(); i++) {
        ps.setString(1, model);
        ps.setString(2, hashes.get(i));
        ps.setObject(3, new PGvector(vectors.get(i)));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** Deletes the resources' old chunks and inserts the new ones: two round trips for the batch. */
  private static void replaceChunks(TenantId tenant, Connection c, TenantCipher cipher, String model,
                                    Collection<Rendered> resources, Map<String, float[]> vectors)
      throws SQLException {
    if (resources.isEmpty()) {
      return;
    }
    try (PreparedStatement del = c.prepareStatement("""
        DELETE FROM chunks
        WHERE (resource_type, resource_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))""")) {
      del.setArray(1, c.createArrayOf("text", resources.stream().map(r -> r.row().type()).toArray()));
      del.setArray(2, c.createArrayOf("text", resources.stream().map(r -> r.row().id()).toArray()));
      del.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO chunks (resource_type, resource_id, version_id, patient_id, category, security_labels,
                            effective_date, seq, text_hash, text, model, embedding, renderer_version,
                            effective_precision)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
      for (Rendered r : resources) {
        Claimed row = r.row();
        for (int i = 0; i < r.chunks().size(); i++) {
          ClinicalChunk ch = r.chunks().get(i);
          byte[] hash = r.hashes().get(i);
          ps.setString(1, row.type());
          ps.setString(2, row.id());
          ps.setLong(3, row.version());
          ps.setString(4, ch.patientId());
          ps.setString(5, ch.category().code());
          ps.setArray(6, c.createArrayOf("text", ch.securityLabels().toArray()));
          ps.setDate(7, ch.effectiveDate() == null ? null : Date.valueOf(ch.effectiveDate().day()));
          ps.setInt(8, ch.seq());
          ps.setBytes(9, hash);
          ps.setBytes(10, cipher.encryptString(ch.text(), Aad.chunk(tenant, row.type(), row.id(), ch.seq())));
          ps.setString(11, model);
          ps.setObject(12, new PGvector(vectors.get(hex(hash))));
          ps.setInt(13, ChunkRenderer.VERSION);
          ps.setString(14, ch.effectiveDate() == null ? null : ch.effectiveDate().precision().code());
          ps.addBatch();
        }
      }
      ps.executeBatch();
    }
  }

  /**
   * A patient's research embeddings (tenant migration 64) were made from texts de-identified with the
   * identifiers known then; when the resources that carry them change (a Patient renamed, a
   * RelatedPerson or FamilyMemberHistory arriving later, a Practitioner linked to the patient, an Encounter
   * or another care link's source that links a practitioner to the patient for the first time, or a
   * PractitionerRole whose holder is linked by it to patients for the first time), the patient's chunks wait
   * for the research sweep again, so a name learned now is not left in what research ranks on.
   *
   * <p>Only while research is on (tenant migration 66's marker, read with the lock, {@link #lockChunksForWriting}):
   * a tenant without research has no research embedding that counts (turning research on forgets every one before
   * its build makes them again, with the identifiers as they are then), so its batches run nothing more.
   */
  private static void forgetResearchEmbeddings(Connection c, Collection<Rendered> resources) throws SQLException {
    List<String> types = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<String> practitioners = new ArrayList<>();
    List<String> roles = new ArrayList<>();
    List<String> sourceTypes = new ArrayList<>();
    List<String> sourceIds = new ArrayList<>();
    for (Rendered r : resources) {
      switch (r.row().type()) {
        case "Patient", "RelatedPerson", "FamilyMemberHistory" -> {
          types.add(r.row().type());
          ids.add(r.row().id());
        }
        case "Practitioner" -> practitioners.add(r.row().id());
        case "PractitionerRole" -> roles.add(r.row().id());
        default -> {
          // a care link's source (an Encounter, a CareTeam…): it may link a practitioner to the patient
          sourceTypes.add(r.row().type());
          sourceIds.add(r.row().id());
        }
      }
    }
    if (types.isEmpty() && practitioners.isEmpty() && roles.isEmpty() && sourceTypes.isEmpty()) {
      return;
    }
    String patients = """
        patient_id IN (SELECT r.patient_id FROM resources r JOIN unnest(?::text[], ?::text[]) AS x(t, id)
                         ON r.resource_type = x.t AND r.resource_id = x.id
                       UNION ALL
                       SELECT l.patient_id FROM care_links l WHERE l.practitioner_id = ANY (?)
                       UNION ALL
                       SELECT l.patient_id FROM care_links l JOIN unnest(?::text[], ?::text[]) AS s(t, id)
                         ON l.source_type = s.t AND l.source_id = s.id
                       WHERE NOT EXISTS (SELECT 1 FROM care_links o WHERE o.patient_id = l.patient_id
                                           AND o.practitioner_id = l.practitioner_id
                                           AND (o.source_type <> l.source_type OR o.source_id <> l.source_id))
                       UNION ALL
                       SELECT l.patient_id FROM care_links l WHERE l.via_role = ANY (?)
                       AND NOT EXISTS (SELECT 1 FROM care_links o WHERE o.patient_id = l.patient_id
                                         AND o.practitioner_id = l.practitioner_id
                                         AND o.via_role IS DISTINCT FROM l.via_role))""";
    // A research batch in flight (ResearchEmbeddings.embedPending) holds its chunks locked with no research
    // embedding yet, and read the identifiers before these changes were committed: the update below, which only
    // sees chunks that have one, passed over them, and the batch then stored embeddings made without the name
    // that just arrived, for good. Locking the patients' chunks still waiting first waits for such a batch to
    // commit, so that the update, a statement later, sees its embeddings and forgets them.
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM chunks WHERE research_embedding IS NULL AND "
        + patients + " ORDER BY chunk_id FOR UPDATE")) {
      bindPatients(c, ps, types, ids, practitioners, roles, sourceTypes, sourceIds);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // only the locks are wanted
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE chunks SET research_embedding = NULL WHERE research_embedding IS NOT NULL AND " + patients)) {
      bindPatients(c, ps, types, ids, practitioners, roles, sourceTypes, sourceIds);
      ps.executeUpdate();
    }
  }

  /**
   * The tenant's research forgetting lock, shared ({@link ResearchForgetLock}), before the batch's first chunk lock,
   * and whether the tenant has research on (tenant migration 66's marker, one read of a one-row table), in one round
   * trip. Turning research on forgets every research embedding, updating every chunk that has one in the table's
   * order, while this batch deletes its resources' chunks and then updates its patients': the two met with their
   * locks taken in opposite orders (40P01, the batch or the research build aborted). Now the forgetting waits for
   * this batch's writes, or this batch for the forgetting. Whatever research is (it may be turned on a moment after
   * the read), as the deletion alone takes chunk locks in an order of its own.
   */
  private static boolean lockChunksForWriting(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(" + ResearchForgetLock.KEY
        + ") IS NULL, coalesce((SELECT enabled FROM research_build), false)")) {
      ps.setString(1, tenant.value());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(2);
      }
    }
  }

  private static void bindPatients(Connection c, PreparedStatement ps, List<String> types, List<String> ids,
                                   List<String> practitioners, List<String> roles, List<String> sourceTypes,
                                   List<String> sourceIds) throws SQLException {
    ps.setArray(1, c.createArrayOf("text", types.toArray()));
    ps.setArray(2, c.createArrayOf("text", ids.toArray()));
    ps.setArray(3, c.createArrayOf("text", practitioners.toArray()));
    ps.setArray(4, c.createArrayOf("text", sourceTypes.toArray()));
    ps.setArray(5, c.createArrayOf("text", sourceIds.toArray()));
    ps.setArray(6, c.createArrayOf("text", roles.toArray()));
  }

  private void fail(TenantId tenant, long outboxId, RuntimeException e) {
    stats.failures.incrementAndGet();
    // The reason is the exception type, and for the model's failures its kind: messages of
    // third-party exceptions can quote PHI.
    String reason = e instanceof EmbeddingException ee ? "EmbeddingException: " + ee.kind() : e.getClass().getSimpleName();
    tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          UPDATE outbox SET attempts = attempts + 1, last_error = ?,
            available_at = now() + make_interval(secs => least(300, power(2, attempts + 1))),
            parked_at = CASE WHEN attempts + 1 >= ? THEN now() END
          WHERE outbox_id = ?""")) {
        ps.setString(1, reason);
        ps.setInt(2, MAX_ATTEMPTS);
        ps.setLong(3, outboxId);
        return ps.executeUpdate();
      }
    });
    LOG.warn("embedding worker: tenant {} outbox row {} failed ({})", tenant, outboxId, reason);
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** Whether this thread's work was cut short by {@link #close()} (or its thread interrupted otherwise). */
  private boolean stopping() {
    return closing || Thread.currentThread().isInterrupted();
  }

  @Override
  public synchronized void close() {
    closing = true;
    if (scheduler != null) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      scheduler = null;
    }
  }
}
