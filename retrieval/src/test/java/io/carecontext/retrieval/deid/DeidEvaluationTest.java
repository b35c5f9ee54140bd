package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.synthetic.SyntheticPatients;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The evaluation's targets, on a small corpus, so a regression fails the build. */
class DeidEvaluationTest {

  @Test
  void meetsTheRecallAndPrecisionTargets() {
    DeidEvaluation.Report r = DeidEvaluation.run(20, 7);
    DeidEvaluation.print(r, System.out);
    assertThat(r.knownRecall()).isGreaterThanOrEqualTo(0.99);
    assertThat(r.recall()).isGreaterThanOrEqualTo(0.95);
    assertThat(r.precision()).isGreaterThanOrEqualTo(0.90);
    // the outside reviewer's family: its identifiers found, and none of its clinical look-alikes touched
    assertThat(r.reviewer().recall()).isGreaterThanOrEqualTo(0.95);
    assertThat(r.reviewer().precision()).isEqualTo(1.0);
    assertThat(r.reviewer().lookalikesTouched()).isZero();
  }

  /**
   * The seventeenth family has as many clinical look-alikes as identifiers, and draws from its own generator: the
   * sixteen templates before it make the same notes with it as without it.
   */
  @Test
  void theReviewersFamilyHasAsManyLookAlikesAsIdentifiersAndLeavesTheOtherNotesAsTheyWere() {
    var known = SyntheticPatients.generate(7, 1).get(0).identifiers();
    List<DeidEvaluation.Annotated> reviewer = DeidEvaluation.reviewerNotes(known);
    int planted = reviewer.stream().mapToInt(a -> a.planted().size()).sum();
    int lookalikes = reviewer.stream().mapToInt(a -> a.lookalikes().size()).sum();
    assertThat(lookalikes).isEqualTo(planted).isEqualTo(DeidEvaluation.LOOKALIKES.size());
    List<DeidEvaluation.Annotated> all = DeidEvaluation.notes(known, new Random(3));
    assertThat(all).hasSize(16 + reviewer.size());
    assertThat(all.subList(16, all.size()).stream().map(DeidEvaluation.Annotated::text))
        .containsExactlyElementsOf(reviewer.stream().map(DeidEvaluation.Annotated::text).toList());
    assertThat(all.subList(0, 16)).noneMatch(DeidEvaluation.Annotated::reviewer);
  }
}
