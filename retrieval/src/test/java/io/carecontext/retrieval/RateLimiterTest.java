package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

  static final long SECOND = 1_000_000_000L;

  /** How many of {@code n} requests at one instant are allowed. */
  static int allowed(RateLimiter limiter, String key, int perMinute, int n, long now) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
      if (limiter.acquire(key, perMinute, now).isEmpty()) {
        ok++;
      }
    }
    return ok;
  }

  @Test
  void aKeyGetsItsPerMinuteBudgetThenWaitsForTheRefill() {
    RateLimiter limiter = new RateLimiter();
    assertThat(allowed(limiter, "k1", 60, 100, 0)).isEqualTo(60);
    OptionalLong wait = limiter.acquire("k1", 60, 0);
    assertThat(wait).hasValue(1); // one a second
    assertThat(limiter.acquire("k1", 60, SECOND)).isEmpty();
    assertThat(limiter.acquire("k1", 60, SECOND)).isPresent();
    // another key has its own budget
    assertThat(allowed(limiter, "k2", 60, 100, 0)).isEqualTo(60);
  }

  @Test
  void eachOfSeveralProcessesAllowsItsShareRoundedUp() {
    RateLimiter third = new RateLimiter(3);
    assertThat(allowed(third, "k", 600, 1_000, 0)).isEqualTo(200);
    assertThat(allowed(new RateLimiter(4), "k", 10, 100, 0)).isEqualTo(3); // never below the tenant's rate in all
    assertThat(allowed(new RateLimiter(1_000), "k", 1, 10, 0)).isEqualTo(1); // never none
    // the largest rate does not overflow
    assertThat(new RateLimiter(7).acquire("k", Integer.MAX_VALUE, 0)).isEmpty();
    assertThatThrownBy(() -> new RateLimiter(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
