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
}
