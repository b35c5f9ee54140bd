package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

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
  }
}
