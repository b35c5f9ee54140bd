package io.carecontext.services.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PreDestroy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals every active tenant's audit chains ({@link AuditLog#seal}, tenant migration 37): every
 * {@code CARECONTEXT_AUDIT_SEAL_SECONDS} (a minute by default) and once more when the service
 * stops, so that an audit row altered in the database, even with the chain recomputed around it,
 * is found by verify once its shard has been sealed past it. Several processes may seal at once: a
 * head sealed twice is one seal. Logs tenant ids and counts only.
 */
@Context
public class AuditSealing {

  private static final Logger LOG = LoggerFactory.getLogger(AuditSealing.class);

  private final AuditLog audit;
  private final TenantDirectory directory;
  private final ScheduledExecutorService scheduler;
  private final AtomicLong seals = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong lastCompleteRun = new AtomicLong();

  public AuditSealing(AuditLog audit, TenantDirectory directory,
                      @Value("${carecontext.audit.seal-seconds:60}") int seconds) {
    this.audit = audit;
    this.directory = directory;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "audit-sealing");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(1, seconds);
    scheduler.scheduleWithFixedDelay(this::scheduledRun, every, every, TimeUnit.SECONDS);
  }

  // A scheduled task that throws is never run again: a run that cannot even list the tenants is
  // logged, and the next one tries again.
  private void scheduledRun() {
    try {
      sealAll();
    } catch (RuntimeException e) {
      LOG.warn("audit sealing: run skipped ({}); the next run tries again", e.getClass().getSimpleName());
    }
  }

  /**
   * Seals every active tenant's shards whose head moved since their latest seal; returns the seals
   * written per tenant. A tenant that fails is logged and skipped, and the others go on.
   */
  public Map<TenantId, Integer> sealAll() {
    Map<TenantId, Integer> sealed = new LinkedHashMap<>();
    boolean complete = true;
    for (TenantId tenant : directory.activeWithSettings().keySet()) {
      try {
        int n = audit.seal(tenant);
        sealed.put(tenant, n);
        seals.addAndGet(n);
      } catch (RuntimeException e) {
        complete = false;
        failures.incrementAndGet();
        LOG.warn("audit sealing: tenant {} not sealed ({}); the next run tries again", tenant.value(),
            e.getClass().getSimpleName());
      }
    }
    if (complete) {
      lastCompleteRun.set(System.currentTimeMillis() / 1000);
    }
    return sealed;
  }

  /** Seals written by this process since start. */
  public long sealsWritten() {
    return seals.get();
  }

  /** Tenants whose sealing failed in a run, summed over the runs since start. */
  public long failures() {
    return failures.get();
  }

  /** When a run last sealed every active tenant (epoch seconds; 0: not yet). */
  public long lastCompleteRunEpochSeconds() {
    return lastCompleteRun.get();
  }

  @PreDestroy
  void close() {
    scheduler.shutdownNow();
    try {
      // The last rows this process wrote, sealed before it goes (best effort: the database may be gone).
      if (scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
        sealAll();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.warn("audit sealing: final run skipped ({})", e.getClass().getSimpleName());
    }
  }
}
