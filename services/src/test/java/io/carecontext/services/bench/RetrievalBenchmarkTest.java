package io.carecontext.services.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RetrievalBenchmarkTest {

  @Test
  void consentExceptionsGoToExactlyTheirShareOfEveryHundredPatients() {
    for (int percent : new int[] {0, 1, 45, 100}) {
      for (int from : new int[] {0, 100, 1900}) {
        long with = IntStream.range(from, from + 100).filter(p -> RetrievalBenchmark.hasConsentException(p, percent))
            .count();
        assertThat(with).as("%d %% from patient %d", percent, from).isEqualTo(percent);
      }
    }
  }

  @Test
  void theQueriesMeetConsentExceptionsInTheirShare() {
    // The core's calls stride through the patients (RetrievalBenchmark.patient); a run makes tens of
    // thousands of them. Their share of patients with an exception is the share loaded.
    int patients = 2000;
    long with = IntStream.range(0, 20_000).mapToObj(i -> RetrievalBenchmark.patient(i, patients))
        .filter(p -> RetrievalBenchmark.hasConsentException(Integer.parseInt(p.substring(1)), 45)).count();
    assertThat(with).isEqualTo(9_000);
  }

  @Test
  void aShareOutsideZeroToAHundredIsRefused() {
    assertThatThrownBy(() -> new RetrievalBenchmark.Setup(3, 10, 5, 0, 101, 8, 1, false, true, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--consent-exceptions");
    assertThatThrownBy(() -> new RetrievalBenchmark.Setup(3, 10, 5, 0, -1, 8, 1, false, true, false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void coreOnlyAndHttpOnlyTogetherAreRefused() {
    assertThatThrownBy(() -> new RetrievalBenchmark.Setup(3, 10, 5, 0, 0, 8, 1, false, true, true))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--http-only");
  }
}
