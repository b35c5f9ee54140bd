package io.carecontext.services.retrieval;

import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces each tenant's audit retention ({@code retentionYears}, default 6): a minute after
 * start-up and then once a day, every active tenant's audit rows older than its retention are
 * purged as the schema owner, shard by shard, with an anchor hash so the rows kept still verify
 * ({@link AuditLog#purge}), which writes a row of its own ({@code audit-purge}) in the trail it cut, in
 * the same transaction. Several processes may run it at once: anchors only move forward, and a purge
 * that finds nothing more to delete writes no row. Logs tenant ids and counts only.
 */
@Context
public class AuditRetention {

  static final Duration FIRST_RUN = Duration.ofMinutes(1);
  static final Duration INTERVAL = Duration.ofDays(1);
  private static final Logger LOG = LoggerFactory.getLogger(AuditRetention.class);
  /** The retention the admin API accepts: the only one the purge obeys. */
  static final int MIN_YEARS = io.carecontext.services.admin.TenantSettings.MIN_RETENTION_YEARS;
  static final int MAX_YEARS = io.carecontext.services.admin.TenantSettings.MAX_RETENTION_YEARS;

  private final PlatformDatabase db;
  private final TenantDirectory directory;
  private final ScheduledExecutorService scheduler;

  public AuditRetention(PlatformDatabase db, TenantDirectory directory) {
    this.db = db;
    this.directory = directory;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "audit-retention");
      t.setDaemon(true);
      return t;
    });
    scheduler.scheduleWithFixedDelay(this::scheduledRun, FIRST_RUN.toSeconds(), INTERVAL.toSeconds(), TimeUnit.SECONDS);
  }

  // A scheduled task that throws is never run again, so a run that cannot even list the tenants
  // (the database unreachable, say) is logged and the next day's run still happens.
  private void scheduledRun() {
    try {
      purgeAll(Instant.now());
    } catch (RuntimeException e) {
      LOG.warn("audit retention: run skipped ({}); the next run tries again", e.getClass().getSimpleName());
    }
  }

  /**
   * Purges every active tenant's audit rows older than its retention at {@code now}; returns the
   * rows deleted per tenant. A tenant that fails is logged and skipped, and the others go on.
   */
  public Map<TenantId, Integer> purgeAll(Instant now) {
    Map<TenantId, Integer> purged = new LinkedHashMap<>();
    for (Map.Entry<TenantId, Map<String, Object>> active : directory.activeWithSettings().entrySet()) {
      TenantId tenant = active.getKey();
      try {
        Object setting = active.getValue().get("retentionYears");
        if (!(setting instanceof Integer || setting instanceof Long)
            || ((Number) setting).longValue() < MIN_YEARS || ((Number) setting).longValue() > MAX_YEARS) {
          // The purge deletes as the schema owner, by a setting the application role may write: only
          // what the admin API accepts is obeyed. Zero or fewer years would delete the whole trail,
          // and the anchors would keep it verifying.
          LOG.warn("audit retention: tenant {} not purged: its retentionYears is not a whole number from {} to {}",
              tenant.value(), MIN_YEARS, MAX_YEARS);
          continue;
        }
        int years = ((Number) setting).intValue();
        Instant before = now.atOffset(ZoneOffset.UTC).minusYears(years).toInstant();
        int n;
        try (Connection owner = db.ownerDataSource().getConnection()) {
          n = AuditLog.purge(owner, tenant, before);
        }
        purged.put(tenant, n);
        if (n > 0) {
          LOG.info("audit retention: tenant {} purged {} audit rows older than {} years", tenant.value(), n, years);
        }
      } catch (SQLException | RuntimeException e) {
        LOG.warn("audit retention: tenant {} not purged ({}); the next run tries again", tenant.value(),
            e.getClass().getSimpleName());
      }
    }
    LOG.info("audit retention: {} tenant(s) checked, {} audit rows purged", purged.size(),
        purged.values().stream().mapToInt(Integer::intValue).sum());
    return purged;
  }

  @PreDestroy
  void close() {
    scheduler.shutdownNow();
  }
}
