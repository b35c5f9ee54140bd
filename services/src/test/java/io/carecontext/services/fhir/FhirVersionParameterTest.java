package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class FhirVersionParameterTest {

  private static final String J = "application/fhir+json";

  @Test
  void r4sVersionOrNoneIsRead() {
    for (String header : new String[] {J, J + "; charset=utf-8", J + "; fhirVersion=4.0", J + ";fhirVersion=4.0.1",
        J + "; FHIRVERSION = \"4.0\"", J + "; charset=utf-8; fhirversion=4.0.1", null, "application/fhir+ndjson; fhirVersion=4.0",
        J + "; fhirVersion=4.0; fhirVersion=4.0.1"}) {
      assertThat(FhirVersionParameter.refusal(header)).as(header).isEmpty();
    }
  }

  @Test
  void anotherVersionIsRefusedAndNamedBackOnlyInAVersionsForm() {
    assertThat(FhirVersionParameter.refusal(J + "; fhirVersion=3.0")).get().asString()
        .startsWith("fhirVersion=3.0 is not one this endpoint reads: it takes FHIR R4 only");
    assertThat(FhirVersionParameter.refusal(J + ";fhirVersion=\"5.0\"")).get().asString().startsWith("fhirVersion=5.0 ");
    assertThat(FhirVersionParameter.refusal(J + "; fhirVersion = 4.3")).get().asString().startsWith("fhirVersion=4.3 ");
    assertThat(FhirVersionParameter.refusal(J + "; charset=utf-8; FhirVersion=1.0.2")).get().asString()
        .startsWith("fhirVersion=1.0.2 ");
    // the parsed media type kept the last of two: R4 last hid an STU3 declaration
    assertThat(FhirVersionParameter.refusal(J + "; fhirVersion=3.0; fhirVersion=4.0")).get().asString()
        .startsWith("fhirVersion=3.0 ");
    assertThat(FhirVersionParameter.refusal(J + "; fhirVersion=")).get().asString()
        .startsWith("a fhirVersion without a value is not one");
    assertThat(FhirVersionParameter.refusal(J + "; fhirVersion")).get().asString()
        .startsWith("a fhirVersion without a value is not one");
    // the sender's text is not echoed: only a version's form is named back
    for (String garbage : new String[] {"Smith, John", "\"4.0;Smith\"", "'4.0'", "4.0,3.0", "R4", "\"3.0", "4.0.1.2"}) {
      assertThat(FhirVersionParameter.refusal(J + "; fhirVersion=" + garbage)).as(garbage).get().asString()
          .startsWith("the fhirVersion the Content-Type names is not one").doesNotContain("Smith");
    }
  }

  @Test
  void anAnswerMayBeAskedForInR4OrNoVersion() {
    for (List<String> accepts : List.of(List.<String>of(), List.of(J), List.of("*/*"), List.of(J + "; fhirVersion=4.0"),
        List.of(J + "; fhirVersion=5.0, " + J + "; fhirVersion=4.0; q=0.5"), List.of(J + "; fhirVersion=5.0", "*/*"),
        List.of("text/html, " + J + "; fhirVersion=4.0.1"), List.of(J + "; fhirVersion=\"5.0, 3.0\", " + J))) {
      assertThat(FhirVersionParameter.answerRefusal(accepts)).as(accepts.toString()).isEmpty();
    }
  }

  @Test
  void anAnswerInAnotherVersionIsRefusedAndNamedBackOnlyInAVersionsForm() {
    assertThat(FhirVersionParameter.answerRefusal(List.of(J + "; fhirVersion=5.0"))).get().asString()
        .isEqualTo("the answer cannot be given in fhirVersion=5.0: this endpoint answers FHIR R4 only; "
            + "ask for fhirVersion=4.0, or name no fhirVersion");
    assertThat(FhirVersionParameter.answerRefusal(List.of(J + "; fhirVersion=3.0, " + J + "; fhirVersion=5.0")))
        .get().asString().startsWith("the answer cannot be given in fhirVersion=3.0:");
    // an alternative the client weighs q=0 it refuses: R4 there is no way out
    assertThat(FhirVersionParameter.answerRefusal(List.of(J + "; fhirVersion=5.0, " + J + "; q=0")))
        .get().asString().startsWith("the answer cannot be given in fhirVersion=5.0:");
    assertThat(FhirVersionParameter.answerRefusal(List.of(J + "; fhirVersion=Smith"))).get().asString()
        .startsWith("the answer cannot be given in the fhirVersion asked for:").doesNotContain("Smith");
  }
}
