package io.carecontext.services.ops;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.retrieval.AuditSealing;
import io.carecontext.services.tenancy.TenantEmbeddings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The product's own metrics. Labels are tenant ids, decisions, reasons and outcomes — never
 * patient ids, principals or any other PHI.
 */
@Context // eager: the embedding counters exist from start-up, also in worker processes
public class Metrics {

  static final long OUTBOX_REFRESH_SECONDS = 15;
  private static final Logger LOG = LoggerFactory.getLogger(Metrics.class);

  private final MeterRegistry registry;
  private final MultiGauge outboxDepth;
  private final MultiGauge chunksOfAnotherModel;
  /** Each tenant's chunks of another model as last read, kept while a read fails. */
  private final Map<TenantId, Long> lastLeft = new ConcurrentHashMap<>();
  private final ScheduledExecutorService refresher;
  private final EmbeddingWorker worker;

  public Metrics(MeterRegistry registry, EmbeddingWorker worker, TenantEmbeddings embeddings, AuditLog audit,
                 AuditSealing sealing) {
    this.registry = registry;
    this.worker = worker;
    ProcessCpuSeconds.register(registry);
    EmbeddingWorker.Stats s = worker.stats();
    FunctionTimer.builder("carecontext.embedding.model.latency", s, st -> st.modelCalls.get(),
            st -> st.modelNanos.get(), TimeUnit.NANOSECONDS)
        .description("calls of the embedding model by the worker (one call embeds a batch) and their time")
        .register(registry);
    count("carecontext.query.embedding.cache.hits", embeddings, e -> e.queryCacheCounts()[0],
        "context and chat queries whose embedding came from the query cache");
    count("carecontext.query.embedding.cache.misses", embeddings, e -> e.queryCacheCounts()[1],
        "context and chat queries embedded by the model");
    count("carecontext.audit.rows", audit, a -> a.groupCommitStats().rows(),
        "audit rows written by this process");
    count("carecontext.audit.commits", audit, a -> a.groupCommitStats().commits(),
        "transactions that wrote them (group commit: rows ÷ commits is the mean batch)");
    count("carecontext.audit.rows.alone", audit, a -> a.groupCommitStats().alone(),
        "audit rows written on their own after waiting 5 ms for a stalled group-commit writer");
    count("carecontext.audit.rows.retried", audit, a -> a.groupCommitStats().fallbacks(),
        "audit rows written one at a time after their batch failed (a chain head moved elsewhere)");
    count("carecontext.audit.seals", sealing, AuditSealing::sealsWritten,
        "keyed seals of audit chain heads written by this process");
    count("carecontext.audit.seal.failures", sealing, AuditSealing::failures,
        "tenants whose audit chains a sealing run could not seal (each is logged; the next run tries again)");
    sealLastComplete(registry, sealing, AuditSealing::lastCompleteRunEpochSeconds);
    outboxDepth = MultiGauge.builder("carecontext.outbox.depth")
        .description("outbox rows per tenant: ready (waiting to be embedded) and parked (failed repeatedly)")
        .register(registry);
    chunksOfAnotherModel = MultiGauge.builder("carecontext.chunks.of.another.model")
        .description("chunks per tenant that its embedding model has not made yet (a re-embedding's work left; "
            + "searches that meet one answer 503 reembedding_in_progress); 0 once a change of model is re-embedded")
        .register(registry);
    refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "metrics-outbox");
      t.setDaemon(true);
      return t;
    });
    refresher.scheduleWithFixedDelay(this::refreshTenantGauges, 0, OUTBOX_REFRESH_SECONDS, TimeUnit.SECONDS);
    count("carecontext.embedding.resources", s.resources, AtomicLong::get,
        "resources chunked and embedded by this process");
    count("carecontext.embedding.chunks", s.chunks, AtomicLong::get,
        "chunks written by this process");
    count("carecontext.embedding.texts", s.embedded, AtomicLong::get,
        "texts sent to the embedding model");
    count("carecontext.embedding.cache.hits", s.cacheHits, AtomicLong::get,
        "texts served from the embedding cache");
    count("carecontext.embedding.failures", s.failures, AtomicLong::get,
        "outbox rows that failed an attempt");
    count("carecontext.embedding.batch.fallbacks", s.batchFallbacks, AtomicLong::get,
        "worker batches that failed as a whole and were retried a row at a time");
  }

  /**
   * When a sealing run last sealed every active tenant, as Prometheus names a point in time
   * ({@code process_start_time_seconds}): {@code carecontext_audit_seal_last_complete_timestamp_seconds}. It was
   * {@code carecontext_audit_seal_last_complete}, a number without a unit, which a dashboard could not tell from a
   * count; an alert is {@code time() - carecontext_audit_seal_last_complete_timestamp_seconds > 3 * interval}.
   */
  static <T> void sealLastComplete(MeterRegistry registry, T source, ToDoubleFunction<T> epochSeconds) {
    Gauge.builder("carecontext.audit.seal.last.complete.timestamp", source, epochSeconds)
        .baseUnit("seconds")
        .description("when a run last sealed every active tenant's audit chains (Unix time in seconds; alert when "
            + "time() minus it exceeds several CARECONTEXT_AUDIT_SEAL_SECONDS)")
        .register(registry);
  }

  private <T> void count(String name, T source, ToDoubleFunction<T> value, String description) {
    FunctionCounter.builder(name, source, value).description(description).register(registry);
  }

  /**
   * Reads every tenant's outbox depth (two counts a tenant, one statement) and the chunks its model has not made yet
   * (two index reads a tenant; while a re-embedding is under way, index-only counts of the chunks left), every
   * {@value #OUTBOX_REFRESH_SECONDS} s: a scrape reads what the last run found and never the database. A tenant whose
   * count cannot be read now (its embedding setting unusable, a secret no longer granted, or a failed statement)
   * keeps the value last read: its series vanished, which resolved an alert on a re-embedding that had stalled for
   * that very reason. A tenant no longer listed (deleted) loses its series.
   */
  public void refreshTenantGauges() {
    try {
      List<MultiGauge.Row<?>> depths = new ArrayList<>();
      List<MultiGauge.Row<?>> left = new ArrayList<>();
      Map<TenantId, Long> read = new HashMap<>();
      for (TenantId tenant : worker.tenants()) {
        EmbeddingWorker.OutboxDepth d = worker.outboxDepth(tenant);
        depths.add(MultiGauge.Row.of(Tags.of("tenant", tenant.value(), "state", "ready"), d.ready()));
        depths.add(MultiGauge.Row.of(Tags.of("tenant", tenant.value(), "state", "parked"), d.parked()));
        Long count = lastLeft.get(tenant);
        try {
          count = worker.chunksOfAnotherModel(tenant);
        } catch (RuntimeException e) {
          LOG.debug("metrics: chunks of another model of tenant {} not read ({})", tenant,
              e.getClass().getSimpleName());
        }
        if (count != null) {
          read.put(tenant, count);
          left.add(MultiGauge.Row.of(Tags.of("tenant", tenant.value()), count));
        }
      }
      lastLeft.keySet().retainAll(read.keySet());
      lastLeft.putAll(read);
      outboxDepth.register(depths, true);
      chunksOfAnotherModel.register(left, true);
    } catch (RuntimeException e) {
      LOG.warn("metrics: outbox depth not refreshed ({})", e.getClass().getSimpleName());
    }
  }

  @PreDestroy
  void close() {
    refresher.shutdownNow();
  }

  /** One context, chat or research decision: allowed, or denied with its (PHI-free) reason code. */
  public void decision(String tenant, String action, String decision, String reason, Duration latency) {
    count(tenant, action, decision, reason);
    Timer.builder("carecontext.request.latency").tag("action", action).publishPercentiles(0.5, 0.95, 0.99)
        .description("time of context, chat and research requests from arrival to their decision, by action "
            + "(requests refused before their decision are not timed)")
        .register(registry).record(latency);
  }

  /**
   * A request refused before its decision (a body that cannot be read, a missing or too long
   * question, k out of range): counted with the decisions, as denied with its reason, but not timed,
   * so the latency stays that of the requests that were decided.
   */
  public void refusal(String tenant, String action, String reason) {
    count(tenant, action, "denied", reason);
  }

  /**
   * The reasons behind the one 404 that API.md makes identical ({@link ContextService#INDISTINGUISHABLE_REASONS}).
   * Counted apart, they told whoever scrapes {@code /metrics} (not an auditor) which of them a request had
   * met: watch a counter around one request and the patient's consent is known. They are counted
   * together; the audit row keeps the true reason.
   */
  static String reasonLabel(String reason) {
    return ContextService.INDISTINGUISHABLE_REASONS.contains(reason) ? "patient_not_found" : reason;
  }

  private void count(String tenant, String action, String decision, String reason) {
    Counter.builder("carecontext.requests").tag("tenant", tenant).tag("action", action).tag("decision", decision)
        .tag("reason", reasonLabel(reason))
        .description("context, chat and research requests by tenant, action, decision and reason (the reasons of the "
            + "one identical 404 counted together as patient_not_found)")
        .register(registry).increment();
  }

  public void auditWriteFailure(String tenant) {
    Counter.builder("carecontext.audit.write.failures").tag("tenant", tenant)
        .description("context, chat and research requests answered 503 because they could not be completed and "
            + "audited (nothing was returned)")
        .register(registry).increment();
  }

  public void resourcesWritten(String tenant, long count) {
    Counter.builder("carecontext.ingest.resources").tag("tenant", tenant)
        .description("resources created or changed by FHIR writes (single writes, Bundles, $import), by tenant")
        .register(registry).increment(count);
  }

  public void llmTokens(String tenant, String direction, long tokens) {
    Counter.builder("carecontext.llm.tokens").tag("tenant", tenant).tag("direction", direction)
        .description("tokens of chat model exchanges by tenant and direction (prompt or output)")
        .register(registry).increment(tokens);
  }
}
