package io.carecontext.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

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

  /** The audit rows of the requests this limit refuses, bounded per key (a key looping past its limit). */
  private final RefusalRows refusalRows = new RefusalRows();

  /** Empty when allowed; otherwise the seconds until one more request is allowed. */
  public OptionalLong acquire(String keyId, int tenantPerMinute, long nowNanos) {
    int perMinute = (int) ((tenantPerMinute + (long) shares - 1) / shares);
    return take(buckets, keyId, perMinute, nowNanos);
  }

  /**
   * The 429 of a request this limit refused, with its audit row while the key's rows are within
   * {@link RefusalRows#PER_MINUTE} a minute (then the refusal carries its row's id; otherwise none, and it is counted).
   */
  public AccessDenied refused(AuditLog audit, TenantId tenant, AuditEntry base, String keyId, long retryAfterSeconds,
                              long startNanos) {
    return refused(audit, tenant, base, e -> e, keyId, retryAfterSeconds, startNanos);
  }

  /**
   * As {@link #refused(AuditLog, TenantId, AuditEntry, String, long, long)}, the row completed by
   * {@code completing} only when it is written (a research subject code resolved to its patient: a
   * read of the database, which a refusal past the row budget does not make).
   */
  public AccessDenied refused(AuditLog audit, TenantId tenant, AuditEntry base,
                              UnaryOperator<AuditEntry> completing, String keyId,
                              long retryAfterSeconds, long startNanos) {
    UUID row = refusalRows.row(keyId, base)
        .map(e -> audit.recordDenial(tenant, completing.apply(e), "rate_limited", startNanos)).orElse(null);
    // when and what: "retry later" left the caller to find Retry-After, and whom to ask for a higher limit
    return new AccessDenied(429, "rate_limited", "too many requests for this key: send the request again in "
        + retryAfterSeconds + " s (Retry-After); the limit is the tenant's settings.rateLimitPerMinute, which a "
        + "tenant admin sets", "rate_limited", row, retryAfterSeconds);
  }

  /** A token from {@code key}'s bucket in {@code buckets}, refilled at {@code perMinute}: empty when taken, else the seconds to wait. */
  static OptionalLong take(Map<String, Bucket> buckets, String keyId, int perMinute, long nowNanos) {
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

  static final class Bucket {
    double tokens;
    long last;

    Bucket(int capacity, long now) {
      tokens = capacity;
      last = now;
    }
  }
}
