package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

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
}
