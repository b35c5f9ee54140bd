package io.carecontext.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The audit-row budget of one kind of refusal, per key: {@link #PER_MINUTE} rows a minute (a burst of
 * as many). A key refused in a loop (wrong secrets, wrong methods, bad bodies, past its rate limit)
 * would otherwise grow its tenant's trail without bound, and with it every verify and export, and hold
 * the audit writer every tenant's reads wait on. Past the budget a request is still refused, and
 * counted; the key's next row says how many went unrecorded (details {@code unrecordedBefore}).
 */
public final class RefusalRows {

  public static final int PER_MINUTE = 30;

  private final Map<String, RateLimiter.Bucket> budget = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> unrecorded = new ConcurrentHashMap<>();

  /** {@code entry} as the refusal's row should read it; empty when the key's rows are over the budget. */
  public Optional<AuditEntry> row(String key, AuditEntry entry) {
    OptionalLong due = due(key, System.nanoTime());
    if (due.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(due.getAsLong() == 0 ? entry : entry.withDetail("unrecordedBefore",
        Long.toString(due.getAsLong())));
  }

  /** Records {@code entry} in {@code tenant}'s trail while the key's rows are within the budget (see {@link #row}). */
  public void record(AuditLog audit, TenantId tenant, String key, AuditEntry entry) {
    row(key, entry).ifPresent(due -> audit.record(tenant, due));
  }

  /**
   * Whether this refusal of the key gets its row: empty when over the budget (the refusal is counted);
   * otherwise how many of the key's refusals went unrecorded before it.
   */
  OptionalLong due(String key, long nowNanos) {
    if (RateLimiter.take(budget, key, PER_MINUTE, nowNanos).isPresent()) {
      unrecorded.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
      return OptionalLong.empty();
    }
    AtomicLong skipped = unrecorded.remove(key);
    return OptionalLong.of(skipped == null ? 0 : skipped.get());
  }
}
