package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import org.junit.jupiter.api.Test;

class ProgressLogTest {

  private static final long S = 1_000_000_000L;
  private final TenantId a = TenantId.of("clinic");
  private final TenantId b = TenantId.of("lab");

  @Test
  void aQueueWorkedOffWithinTheMinuteWritesNoLine() {
    ProgressLog log = new ProgressLog();
    assertThat(log.done(a, 64, 0)).isEmpty();
    assertThat(log.done(a, 64, 59 * S)).isEmpty();
    assertThat(log.emptied(a, 59 * S)).isEmpty();
  }

  @Test
  void aLongRunWritesALineAMinuteAndOneWhenItsQueueIsEmpty() {
    ProgressLog log = new ProgressLog();
    log.done(a, 100, 0);
    log.done(a, 500, 30 * S);
    assertThat(log.done(a, 600, 60 * S)).contains(new ProgressLog.Line(1_200, 60, 1_200, 60));
    assertThat(log.done(a, 300, 90 * S)).isEmpty();
    assertThat(log.done(a, 300, 121 * S)).hasValueSatisfying(line -> {
      assertThat(line).isEqualTo(new ProgressLog.Line(600, 61, 1_800, 121));
      assertThat(line.perSecond()).isEqualTo(9);
    });
    assertThat(log.emptied(a, 130 * S)).contains(new ProgressLog.Line(1_800, 130, 1_800, 130));
    // the next run begins anew, quiet again for its first minute
    assertThat(log.done(a, 10, 200 * S)).isEmpty();
    assertThat(log.emptied(a, 201 * S)).isEmpty();
  }

  @Test
  void eachTenantHasItsOwnRun() {
    ProgressLog log = new ProgressLog();
    log.done(a, 10, 0);
    log.done(b, 20, 50 * S);
    assertThat(log.done(a, 10, 61 * S)).isPresent();
    assertThat(log.done(b, 20, 61 * S)).isEmpty();
    assertThat(log.emptied(b, 62 * S)).isEmpty();
    assertThat(log.emptied(a, 62 * S)).isPresent();
  }

  @Test
  void theRunEndsWhenTheLastThreadDrainingTheTenantFindsTheQueueEmpty() {
    // two threads drain one tenant: the first to find the queue empty, while the other works the last batch, wrote
    // "the queue is empty" with that batch left out, and the batch began a run of its own
    ProgressLog log = new ProgressLog();
    log.begin(a);
    log.begin(a);
    log.done(a, 100, 0);
    assertThat(log.done(a, 100, 61 * S)).isPresent();
    assertThat(log.emptied(a, 62 * S)).as("the other thread still works").isEmpty();
    log.done(a, 50, 63 * S);
    assertThat(log.emptied(a, 64 * S)).contains(new ProgressLog.Line(250, 64, 250, 64));
    // a thread whose batch failed leaves without ending the run; the one left ends it
    log.begin(a);
    log.begin(a);
    log.done(a, 10, 100 * S);
    assertThat(log.done(a, 10, 170 * S)).isPresent();
    log.left(a);
    assertThat(log.emptied(a, 171 * S)).contains(new ProgressLog.Line(20, 71, 20, 71));
  }
}
