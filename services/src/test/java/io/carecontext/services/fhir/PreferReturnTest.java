package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PreferReturnTest {

  @Test
  void withoutTheHeaderOrTheReturnPreferenceTheResourceIsAnswered() {
    assertThat(PreferReturn.of(null)).isEqualTo(PreferReturn.REPRESENTATION);
    assertThat(PreferReturn.of(List.of())).isEqualTo(PreferReturn.REPRESENTATION);
    assertThat(PreferReturn.of(List.of("handling=strict"))).isEqualTo(PreferReturn.REPRESENTATION);
  }

  @Test
  void readsTheValueAsRfc7240WritesIt() {
    assertThat(PreferReturn.of(List.of("return=OperationOutcome"))).isEqualTo(PreferReturn.OPERATION_OUTCOME);
    assertThat(PreferReturn.of(List.of("handling=lenient, RETURN=\"operationoutcome\""))).isEqualTo(PreferReturn.OPERATION_OUTCOME);
    assertThat(PreferReturn.of(List.of("handling=strict", "return=minimal; x=1"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.of(List.of("return=representation"))).isEqualTo(PreferReturn.REPRESENTATION);
  }

  @Test
  void twoDifferentOrAnUnknownValueAreAnsweredAsTheDefault() {
    assertThat(PreferReturn.of(List.of("return=minimal", "return=OperationOutcome"))).isEqualTo(PreferReturn.REPRESENTATION);
    assertThat(PreferReturn.of(List.of("return=minimal,return=minimal"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.of(List.of("return=everything"))).isEqualTo(PreferReturn.REPRESENTATION);
  }

  @Test
  void bundleEntriesAnswerAsBeforeUnlessAReturnIsAsked() {
    assertThat(PreferReturn.forEntries(null)).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.forEntries(List.of("handling=strict"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.forEntries(List.of("return=everything"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.forEntries(List.of("return=minimal", "return=representation"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.forEntries(List.of("return=Representation"))).isEqualTo(PreferReturn.REPRESENTATION);
    assertThat(PreferReturn.forEntries(List.of("handling=strict, return=OperationOutcome")))
        .isEqualTo(PreferReturn.OPERATION_OUTCOME);
  }
  /**
   * The combinations a review tried, as RFC 7240 reads them: case and whitespace around the name, the '=' and
   * the value; a quoted value; one header or several; a parameter after ';' belongs to the preference before it
   * (respond-async's "return" parameter asks for no return); the same value twice is that value; a value FHIR
   * does not define beside one it does is two different answers asked, so none (the default of each).
   */
  @Test
  void preferHeaderCombinationsAReviewTried() {
    assertThat(PreferReturn.of(List.of(" RETURN = Minimal "))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.of(List.of("return=\"OperationOutcome\""))).isEqualTo(PreferReturn.OPERATION_OUTCOME);
    assertThat(PreferReturn.forEntries(List.of("handling=strict", "return=minimal", "Return=MINIMAL")))
        .isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.of(List.of("respond-async; return=minimal"))).isEqualTo(PreferReturn.REPRESENTATION);
    assertThat(PreferReturn.forEntries(List.of("respond-async; return=representation"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.of(List.of("return=minimal, return=everything"))).isEqualTo(PreferReturn.REPRESENTATION);
    assertThat(PreferReturn.forEntries(List.of("return=representation", "return=everything")))
        .isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.forEntries(List.of("return=", "return"))).isEqualTo(PreferReturn.MINIMAL);
    assertThat(PreferReturn.of(List.of("return=operationoutcome, handling=strict")))
        .isEqualTo(PreferReturn.OPERATION_OUTCOME);
  }
}
