package io.carecontext.retrieval;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

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

  /** Empty when allowed; otherwise the seconds until one more request is allowed. */
  public OptionalLong acquire(String keyId, int tenantPerMinute, long nowNanos) {
    int perMinute = (int) ((tenantPerMinute + (long) shares - 1) / shares);
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
