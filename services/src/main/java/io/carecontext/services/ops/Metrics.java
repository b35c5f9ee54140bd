package io.carecontext.services.ops;

import io.carecontext.ingest.EmbeddingWorker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.annotation.Context;
import java.time.Duration;

/**
 * The product's own metrics. Labels are tenant ids, decisions, reasons and outcomes — never
 * patient ids, principals or any other PHI.
 */
@Context // eager: the embedding counters exist from start-up, also in worker processes
public class Metrics {

  private final MeterRegistry registry;

  public Metrics(MeterRegistry registry, EmbeddingWorker worker) {
    this.registry = registry;
    EmbeddingWorker.Stats s = worker.stats();
    FunctionCounter.builder("carecontext.embedding.resources", s.resources, java.util.concurrent.atomic.AtomicLong::get)
        .description("resources chunked and embedded by this process").register(registry);
    FunctionCounter.builder("carecontext.embedding.chunks", s.chunks, java.util.concurrent.atomic.AtomicLong::get)
        .description("chunks written by this process").register(registry);
    FunctionCounter.builder("carecontext.embedding.texts", s.embedded, java.util.concurrent.atomic.AtomicLong::get)
        .description("texts sent to the embedding model").register(registry);
    FunctionCounter.builder("carecontext.embedding.cache.hits", s.cacheHits, java.util.concurrent.atomic.AtomicLong::get)
        .description("texts served from the embedding cache").register(registry);
    FunctionCounter.builder("carecontext.embedding.failures", s.failures, java.util.concurrent.atomic.AtomicLong::get)
        .description("outbox rows that failed an attempt").register(registry);
  }

  /** One context or chat decision: allowed, or denied with its (PHI-free) reason code. */
  public void decision(String tenant, String action, String decision, String reason, Duration latency) {
    Counter.builder("carecontext.requests").tag("tenant", tenant).tag("action", action).tag("decision", decision)
        .tag("reason", reason).register(registry).increment();
    Timer.builder("carecontext.request.latency").tag("action", action).publishPercentiles(0.5, 0.95, 0.99)
        .register(registry).record(latency);
  }

  public void auditWriteFailure(String tenant) {
    Counter.builder("carecontext.audit.write.failures").tag("tenant", tenant).register(registry).increment();
  }

  public void resourcesWritten(String tenant, int count) {
    Counter.builder("carecontext.ingest.resources").tag("tenant", tenant).register(registry).increment(count);
  }

  public void llmTokens(String tenant, String direction, long tokens) {
    Counter.builder("carecontext.llm.tokens").tag("tenant", tenant).tag("direction", direction).register(registry)
        .increment(tokens);
  }
}
