package io.carecontext.retrieval.deid;

import static io.carecontext.retrieval.deid.DetectorsTest.marked;
import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The three checks of a review's sentences, for a class that lists them: its clinical text comes out of the detectors
 * and of the whole de-identifier to the letter (every sentence changed named at once), and what the rules were written
 * for is found as the class gives it ({@link DetectorsTest#markedOtherwise}). Each review spelt out the same three.
 */
abstract class ClinicalSentencesTest {

  /** Clinical text beside the rules' triggers: nothing of it is an identifier. */
  private final List<String> kept;
  /** What the rules must find, as {@link DetectorsTest#markedOtherwise} takes it. */
  private final List<String> found;

  ClinicalSentencesTest(List<String> kept, List<String> found) {
    this.kept = kept;
    this.found = found;
  }

  @Test
  void clinicalTextIsKeptByTheDetectors() {
    assertThat(DetectorsTest.changed(kept, k -> marked(k, KnownIdentifiers.empty()))).isEmpty();
  }

  @Test
  void clinicalTextIsKeptByTheWholeDeidentifier() {
    assertThat(DetectorsTest.changed(kept, HeldOutSetsTest::pipelineOutput)).isEmpty();
  }

  @Test
  void theRulesFindWhatTheyWereWrittenFor() {
    assertThat(DetectorsTest.markedOtherwise(found)).isEmpty();
  }
}
