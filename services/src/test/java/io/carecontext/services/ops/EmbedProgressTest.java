package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The rate arithmetic the status endpoint and the CLI's waits share (the CLI's texts: IngestProgressTest). */
class EmbedProgressTest {

  static final long S = 1_000_000_000L;

  @Test
  void aLoadThatStoresFasterThanTheWorkerEmbedsStillShowsTheWorkersRate() {
    // the endpoint's done is resources stored less those queued or parked: the queue rises, done rises too
    EmbedProgress p = new EmbedProgress();
    assertThat(p.add(0, 0, 1_000, 0).perSecond()).isEmpty(); // one read measures nothing
    EmbedProgress.Estimate e = p.add(10 * S, 2_000, 3_000, 0); // 2,000 embedded while 4,000 more were stored
    assertThat(e.perSecond()).isEqualTo(OptionalDouble.of(200));
    assertThat(e.etaSeconds()).isEqualTo(OptionalLong.of(15));
    assertThat(e.lastProgressNanos()).isEqualTo(OptionalLong.of(10 * S));
    assertThat(e.spanNanos()).isEqualTo(10 * S);
  }

  @Test
  void noProgressGivesNoRateNoTimeLeftAndKeepsTheLastProgress() {
    EmbedProgress p = new EmbedProgress();
    p.add(0, 0, 100, 0);
    p.add(5 * S, 50, 50, 0);
    EmbedProgress.Estimate idle = p.add(40 * S, 50, 50, 0); // the worker stopped at 5 s
    assertThat(idle.perSecond()).isEmpty();
    assertThat(idle.etaSeconds()).isEmpty();
    assertThat(idle.stalled()).isTrue();
    assertThat(idle.lastProgressNanos()).as("when it last moved").isEqualTo(OptionalLong.of(5 * S));
  }

  @Test
  void onlyRetryingRowsLeftGetARateButNoTimeLeft() {
    EmbedProgress p = new EmbedProgress();
    p.add(0, 0, 107, 0);
    EmbedProgress.Estimate e = p.add(2 * S, 100, 7, 7);
    assertThat(e.perSecond()).isEqualTo(OptionalDouble.of(50));
    assertThat(e.etaSeconds()).isEmpty();
    assertThat(e.stalled()).isFalse();
  }

  @Test
  void readsInQuickSuccessionAreNotKeptSoAPollingLoopCannotGrowTheWindow() {
    EmbedProgress p = new EmbedProgress();
    p.add(0, 0, 10_000, 0);
    for (int i = 1; i <= 10_000; i++) {
      p.add(i * 1_000_000L, i / 10, 10_000 - i / 10, 0); // a read every millisecond for 10 s
    }
    EmbedProgress.Estimate e = p.add(10 * S + 1, 1_000, 9_000, 0);
    assertThat(e.perSecond().getAsDouble()).isCloseTo(100, org.assertj.core.data.Offset.offset(0.01));
    // and the window still moves on: 30 s later only its last 30 s count
    p.add(40 * S, 1_000, 9_000, 0);
    assertThat(p.add(41 * S, 1_000, 9_000, 0).perSecond()).isEmpty();
  }

  /** The window slides: the rate is over the last 30 s of reads, the oldest leaving from the front as reads come. */
  @Test
  void theRateIsOverTheLastWindowOfReads() {
    EmbedProgress p = new EmbedProgress();
    for (int second = 0; second <= 60; second++) {
      // 10 a second for the first 30 s, 50 a second after
      p.add(second * S, second <= 30 ? 10L * second : 300 + 50L * (second - 30), 1_000_000, 0);
    }
    EmbedProgress.Estimate e = p.add(61 * S, 300 + 50 * 31, 1_000_000, 0);
    assertThat(e.spanNanos()).isEqualTo(30 * S); // from the newest read at least a window old (at 31 s) to this one
    assertThat(e.perSecond()).isEqualTo(OptionalDouble.of(50));
  }

  /**
   * Two reads of the status answered at once: the one counted first may be added second. Its older count read as the
   * queue going back and then, at the next read, as progress, moving lastProgressAt to a moment nothing finished.
   */
  @Test
  void aReadCountedBeforeOneAlreadyAddedChangesNothing() {
    EmbedProgress p = new EmbedProgress();
    p.add(0, 100, 50, 0);
    p.add(10 * S, 120, 30, 0); // progress at 10 s
    EmbedProgress.Estimate late = p.add(9 * S, 115, 35, 0); // counted at 9 s, added after the 10 s read
    assertThat(late.lastProgressNanos()).isEqualTo(OptionalLong.of(10 * S));
    assertThat(late.perSecond()).isEqualTo(OptionalDouble.of(2));
    EmbedProgress.Estimate next = p.add(20 * S, 120, 30, 0); // nothing finished since 10 s
    assertThat(next.lastProgressNanos()).isEqualTo(OptionalLong.of(10 * S));
    assertThat(next.perSecond()).isEqualTo(OptionalDouble.of(1));
  }

  /**
   * A status read rarely measures over the time since the previous read, however long (until the window is dropped,
   * EmbedWindows): no rate is known over a shorter span, and rateWindowSeconds says the span it is over (530 s for
   * reads 530 s apart), as the README says; polled every few seconds it is 30 s and at most one poll more.
   */
  @Test
  void readsFarApartMeasureOverTheirGap() {
    EmbedProgress p = new EmbedProgress();
    p.add(0, 0, 10_000, 0);
    EmbedProgress.Estimate e = p.add(530 * S, 1_060, 8_940, 0);
    assertThat(e.spanNanos()).isEqualTo(530 * S);
    assertThat(e.perSecond()).isEqualTo(OptionalDouble.of(2));
    assertThat(p.add(1_060 * S, 2_120, 7_880, 0).spanNanos()).isEqualTo(530 * S);
    EmbedProgress polled = new EmbedProgress();
    long span = 0;
    for (long t = 0; t <= 120; t += 7) {
      span = polled.add(t * S, t, 1_000, 0).spanNanos();
    }
    assertThat(span).isBetween(30 * S, 37 * S);
  }
}
