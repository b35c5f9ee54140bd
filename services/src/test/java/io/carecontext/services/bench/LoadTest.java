package io.carecontext.services.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LoadTest {

  @Test
  void theIntervalOfSixRoundsIsTheMeanPlusOrMinusStudentsTTimesTheStandardError() {
    // The eleventh session's final run: mean 2.003, sample standard deviation 0.0781: 1.92–2.09.
    double[] interval = Load.meanInterval(new double[] {1.93, 1.98, 2.14, 2.02, 2.02, 1.93});
    assertThat(interval[0]).isCloseTo(2.0033, within(1e-4));
    assertThat(interval[1]).isCloseTo(2.0033 - 2.571 * 0.078145 / Math.sqrt(6), within(1e-3));
    assertThat(interval[2]).isCloseTo(2.0033 + 2.571 * 0.078145 / Math.sqrt(6), within(1e-3));
  }

  @Test
  void equalRoundsLeaveNoInterval() {
    assertThat(Load.meanInterval(new double[] {2.1, 2.1, 2.1})).containsExactly(2.1, 2.1, 2.1);
  }

  @Test
  void oneRoundHasNoInterval() {
    assertThatThrownBy(() -> Load.meanInterval(new double[] {2.0})).isInstanceOf(IllegalArgumentException.class);
  }
}
