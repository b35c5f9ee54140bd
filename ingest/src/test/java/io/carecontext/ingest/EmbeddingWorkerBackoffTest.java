package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The wait between calls to an embedding endpoint that keeps failing as a whole. */
class EmbeddingWorkerBackoffTest {

  @Test
  void theWaitDoublesUpToFiveMinutes() {
    assertThat(EmbeddingWorker.pauseAfter(1, 0.999_999)).isBetween(Duration.ofMillis(999), Duration.ofSeconds(1));
    assertThat(EmbeddingWorker.pauseAfter(2, 0.999_999)).isBetween(Duration.ofMillis(1_999), Duration.ofSeconds(2));
    assertThat(EmbeddingWorker.pauseAfter(5, 0.999_999)).isBetween(Duration.ofMillis(15_999), Duration.ofSeconds(16));
    assertThat(EmbeddingWorker.pauseAfter(9, 0.999_999)).isBetween(Duration.ofMillis(255_999), Duration.ofSeconds(256));
    for (int failures : new int[] {10, 30, 64, Integer.MAX_VALUE}) {
      assertThat(EmbeddingWorker.pauseAfter(failures, 0.999_999)).as("failure " + failures)
          .isBetween(EmbeddingWorker.MAX_PAUSE.minusMillis(1), EmbeddingWorker.MAX_PAUSE);
    }
  }

  @Test
  void jitterTakesUpToHalfOfIt() {
    assertThat(EmbeddingWorker.pauseAfter(3, 0)).isEqualTo(Duration.ofSeconds(2));
    assertThat(EmbeddingWorker.pauseAfter(3, 0.5)).isEqualTo(Duration.ofSeconds(3));
    assertThat(EmbeddingWorker.pauseAfter(30, 0)).isEqualTo(EmbeddingWorker.MAX_PAUSE.dividedBy(2));
  }

  /** An endpoint's Retry-After is waited at least, up to an hour, with up to a tenth more for jitter. */
  @Test
  void anEndpointsRetryAfterIsWaitedNotTheShorterBackoff() {
    assertThat(EmbeddingWorker.pauseAfter(1, 0, 120)).isEqualTo(Duration.ofSeconds(120));
    assertThat(EmbeddingWorker.pauseAfter(1, 0.999_999, 120)).isBetween(Duration.ofSeconds(131), Duration.ofSeconds(132));
    assertThat(EmbeddingWorker.pauseAfter(1, 0, 86_400)).as("capped").isEqualTo(Duration.ofHours(1));
    assertThat(EmbeddingWorker.pauseAfter(1, 0, Long.MAX_VALUE)).as("capped").isEqualTo(Duration.ofHours(1));
    // never shorter than the backoff: a Retry-After of 0 or 1 s after many failures waits the backoff
    assertThat(EmbeddingWorker.pauseAfter(9, 0, 0)).isEqualTo(EmbeddingWorker.pauseAfter(9, 0));
    assertThat(EmbeddingWorker.pauseAfter(9, 0, 1)).isEqualTo(EmbeddingWorker.pauseAfter(9, 0));
    // none given: the backoff
    assertThat(EmbeddingWorker.pauseAfter(3, 0.5, -1)).isEqualTo(EmbeddingWorker.pauseAfter(3, 0.5));
  }
}
