package io.carecontext.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket per API key, refilled continuously at the tenant's per-minute rate: it slows
 * membership-inference probing (asking about many patients to learn who exists). The buckets live
 * in this process: where a key's requests are spread over {@code shares} API processes (replicas
 * behind one load balancer), each allows its share of the rate, rounded up, so that together they
 * allow about the tenant's rate, not that many times it.
 */
public final class RateLimiter {

  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final int shares;

  /** For one process that serves every request. */
  public RateLimiter() {
    this(1);
  }

  public RateLimiter(int shares) {
    if (shares < 1) {
      throw new IllegalArgumentException("shares must be at least 1");
    }
    this.shares = shares;
  }

  /**
   * Audit rows a minute (a burst of as many) for one key's requests refused by this limit: each refusal
   * wrote a row, so a key looping past its limit grew its tenant's trail without bound, and took the
   * audit writer, which every tenant's reads wait on, for itself. Past the budget a refusal is still
   * refused and counted; the key's next row says how many went unrecorded (details
   * {@code unrecordedBefore}), as for refused keys and refused methods.
   */
  public static final int REFUSAL_ROWS_PER_MINUTE = 30;

  private final Map<String, Bucket> rowBuckets = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> unrecorded = new ConcurrentHashMap<>();

  /** Empty when allowed; otherwise the seconds until one more request is allowed. */
  public OptionalLong acquire(String keyId, int tenantPerMinute, long nowNanos) {
    int perMinute = (int) ((tenantPerMinute + (long) shares - 1) / shares);
    return take(buckets, keyId, perMinute, nowNanos);
  }

  /**
   * The 429 of a request this limit refused, with its audit row while the key's rows are within
   * {@link #REFUSAL_ROWS_PER_MINUTE} (then the refusal carries its row's id; otherwise none, and it is counted).
   */
  public AccessDenied refused(AuditLog audit, TenantId tenant, AuditEntry base, String keyId, long retryAfterSeconds,
                              long startNanos) {
    OptionalLong due = refusalRow(keyId, System.nanoTime());
    UUID row = due.isEmpty() ? null : audit.recordDenial(tenant, due.getAsLong() == 0 ? base
        : base.withDetail("unrecordedBefore", Long.toString(due.getAsLong())), "rate_limited", startNanos);
    return new AccessDenied(429, "rate_limited", "too many requests for this key: retry later", "rate_limited", row,
        retryAfterSeconds);
  }

  /**
   * Whether this refusal of the key gets its audit row: empty when the key's rows are over their
   * budget of {@link #REFUSAL_ROWS_PER_MINUTE} (the refusal is counted); otherwise how many of its
   * refusals went unrecorded before it. One limiter counts one kind of refusal.
   */
  public OptionalLong refusalRow(String keyId, long nowNanos) {
    if (take(rowBuckets, keyId, REFUSAL_ROWS_PER_MINUTE, nowNanos).isPresent()) {
      unrecorded.computeIfAbsent(keyId, k -> new AtomicLong()).incrementAndGet();
      return OptionalLong.empty();
    }
    AtomicLong skipped = unrecorded.remove(keyId);
    return OptionalLong.of(skipped == null ? 0 : skipped.get());
  }

  private static OptionalLong take(Map<String, Bucket> buckets, String keyId, int perMinute, long nowNanos) {
    Bucket b = buckets.computeIfAbsent(keyId, k -> new Bucket(perMinute, nowNanos));
    synchronized (b) {
      double perNano = perMinute / 60e9;
      b.tokens = Math.min(perMinute, b.tokens + (nowNanos - b.last) * perNano);
      b.last = nowNanos;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return OptionalLong.empty();
      }
      return OptionalLong.of(Math.max(1, (long) Math.ceil((1 - b.tokens) / perNano / 1e9)));
    }
  }

  private static final class Bucket {
    double tokens;
    long last;

    Bucket(int capacity, long now) {
      tokens = capacity;
      last = now;
    }
  }
}
