package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What an answer becomes on its way back: dates moved back for a clinician, years only for a researcher. */
class ReidentifierTest {

  static final int SHIFT = 67;

  // Before: a date-time, dd-Mon-yyyy, yyyymmdd, dd.mm.yyyy or "Mon dd yy" in a source was not shifted,
  // and the answer's undoing moved every date it knew: one day could come back under two offsets.
  @Test
  void aDayInEveryFormIsShiftedInTheSourceAndMovedBackInTheAnswer() {
    DetectorsTest.forms().forEach((form, day) -> {
      String time = Dates.whole(form).orElseThrow().time();
      String shifted = day.plusDays(SHIFT) + time;
      DeidResult r = Deidentifier.deidentify(List.of("Seen " + form + " by Dr. Haddad."), DeidentifierTest.KNOWN,
          DatePolicy.SHIFT, SHIFT);
      assertThat(r.texts().get(0)).as(form).isEqualTo("Seen " + shifted + " by Dr. [PROVIDER_1].");
      assertThat(Reidentifier.reidentify("It was on " + shifted + " per [PROVIDER_1].", r.tokens(), SHIFT)).as(form)
          .isEqualTo("It was on " + day + time + " per Haddad.");
    });
  }

  /**
   * A date in a form no detector knows reaches the model as written, so the answer's copy is the record's ("the first of
   * July" was that form until the forty-ninth session made a day in words a date; a week is no day).
   */
  @Test
  void aDateTheDetectorDoesNotKnowIsNeitherShiftedNorMovedBack() {
    DeidResult r = Deidentifier.deidentify(List.of("Fell on the first week of July, seen 2023-07-01, in 2023 and Q3 2023."),
        DeidentifierTest.KNOWN, DatePolicy.SHIFT, SHIFT);
    assertThat(r.texts().get(0)).isEqualTo("Fell on the first week of July, seen 2023-09-06, in 2023 and Q3 2023.");
    assertThat(Reidentifier.reidentify("She fell on the first week of July (seen 2023-09-06), in 2023 and Q3 2023.",
        r.tokens(), SHIFT)).isEqualTo("She fell on the first week of July (seen 2023-07-01), in 2023 and Q3 2023.");
  }

  // Before: a researcher's answer kept the model's whole dates ("1957-03-19", "2023-06-14").
  @Test
  void aResearchersAnswerKeepsOnlyTheYearsOfItsDates() {
    DeidResult r = Deidentifier.deidentify(List.of("Seen 2023-06-14 by Dr. Haddad."), DeidentifierTest.KNOWN,
        DatePolicy.YEAR, 0);
    assertThat(r.texts().get(0)).isEqualTo("Seen 2023 by Dr. [PROVIDER_1].");
    int oldYear = LocalDate.now(ZoneOffset.UTC).getYear() - 96;
    assertThat(Reidentifier.keepTokens("Born 1957-03-19 (19-Mar-1957), seen 2023-06-14T10:00 and in March 2024 by "
        + "[PROVIDER_1]; the other was born " + oldYear + "-05-06, a 96-year-old.", r.tokens()))
        .isEqualTo("Born 1957 (1957), seen 2023 and in 2024 by [PROVIDER_1]; the other was born [YEAR], "
            + "an aged 90 or older.");
  }

  // Before: the re-identifier matched a hand-written list of prefixes, which a new prefix had to be
  // added to by hand; a token of one it missed reached the caller as the model wrote it.
  @Test
  void aTokenOfEveryPrefixTheModelInventedIsMarkedUnresolved() {
    for (String prefix : Detectors.TOKEN_PREFIXES) {
      assertThat(Reidentifier.reidentify("See [" + prefix + "_97].", new TokenMap())).as(prefix)
          .isEqualTo("See " + Reidentifier.UNRESOLVED + ".");
      assertThat(Reidentifier.keepTokens("See [" + prefix + "_97].", new TokenMap())).as(prefix)
          .isEqualTo("See " + Reidentifier.UNRESOLVED + ".");
    }
  }
}
