package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RefusalRowsTest {

  static final long SECOND = 1_000_000_000L;

  @Test
  void refusalRowsAreBoundedPerKeyAndTheNextRowCountsThoseLeftOut() {
    RefusalRows limiter = new RefusalRows();
    int budget = RefusalRows.PER_MINUTE;
    for (int i = 0; i < budget; i++) {
      assertThat(limiter.due("k1", 0)).hasValue(0);
    }
    for (int i = 0; i < 7; i++) {
      assertThat(limiter.due("k1", 0)).isEmpty(); // refused, counted, no row
    }
    assertThat(limiter.due("k2", 0)).hasValue(0); // a budget of its own
    // once a row is due again (two seconds refill one at 30 a minute), it says how many went unrecorded
    assertThat(limiter.due("k1", 2 * SECOND)).hasValue(7);
    assertThat(limiter.due("k1", 2 * SECOND)).isEmpty();
    assertThat(limiter.due("k1", 4 * SECOND)).hasValue(1);
  }
}
