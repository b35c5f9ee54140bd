package io.carecontext.retrieval;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per API key, refilled continuously at the tenant's per-minute rate: it slows
 * membership-inference probing (asking about many patients to learn who exists).
 */
public final class RateLimiter {

  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** Empty when allowed; otherwise the seconds until one more request is allowed. */
  public OptionalLong acquire(String keyId, int perMinute, long nowNanos) {
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
