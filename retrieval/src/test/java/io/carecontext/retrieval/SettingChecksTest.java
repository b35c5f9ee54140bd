package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** Whole-number settings as the JSON reader hands them over: int, long, double, BigInteger or BigDecimal. */
class SettingChecksTest {

  @Test
  void aNumberBeyondALongIsOutOfRangeNotItsLowBits() {
    // 2^64 + 50: longValue() is 50, inside 1..100
    BigInteger huge = BigInteger.TWO.pow(64).add(BigInteger.valueOf(50));
    assertThatThrownBy(() -> SettingChecks.wholeNumber("rolePolicies.clinician.kMax", huge, 1, 100))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("rolePolicies.clinician.kMax must be a whole number from 1 to 100");
    assertThatThrownBy(() -> SettingChecks.wholeNumber("llm.dailyTokenBudgetPerKey", huge.add(BigInteger.TWO.pow(63)),
        1, Long.MAX_VALUE)).hasMessageNotContaining(huge.toString());
    assertThatThrownBy(() -> SettingChecks.wholeNumber("llm.dailyTokenBudgetPerKey",
        BigInteger.TWO.pow(63), 1, Long.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void wholeNumbersInRangePassWhateverTheirType() {
    assertThatCode(() -> SettingChecks.wholeNumber("k", 50, 1, 100)).doesNotThrowAnyException();
    assertThatCode(() -> SettingChecks.wholeNumber("k", 50L, 1, 100)).doesNotThrowAnyException();
    assertThatCode(() -> SettingChecks.wholeNumber("k", 50.0, 1, 100)).doesNotThrowAnyException();
    assertThatCode(() -> SettingChecks.wholeNumber("k", new BigDecimal("1E2"), 1, 100)).doesNotThrowAnyException();
    assertThatCode(() -> SettingChecks.wholeNumber("k", BigInteger.valueOf(Long.MAX_VALUE), 1, Long.MAX_VALUE))
        .doesNotThrowAnyException();
  }

  @Test
  void fractionsInfinitiesAndOtherTypesAreRefused() {
    assertThatThrownBy(() -> SettingChecks.wholeNumber("k", 50.5, 1, 100)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SettingChecks.wholeNumber("k", Double.POSITIVE_INFINITY, 1, Long.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SettingChecks.wholeNumber("k", "50", 1, 100)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SettingChecks.wholeNumber("k", 0, 1, 100)).isInstanceOf(IllegalArgumentException.class);
  }
}
