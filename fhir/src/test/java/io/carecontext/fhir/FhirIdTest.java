package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The one definition of a FHIR id that every path checks against. */
class FhirIdTest {

  @Test
  void takesWhatR4AllowsAndNothingElse() {
    assertThat(FhirId.isValid("a")).isTrue();
    assertThat(FhirId.isValid("Pat-1.2")).isTrue();
    assertThat(FhirId.isValid("x".repeat(64))).isTrue();

    assertThat(FhirId.isValid(null)).isFalse();
    assertThat(FhirId.isValid("")).isFalse();
    assertThat(FhirId.isValid("x".repeat(65))).isFalse();
    assertThat(FhirId.isValid("a_b")).isFalse();
    assertThat(FhirId.isValid("a/b")).isFalse();
    assertThat(FhirId.isValid("a b")).isFalse();
    assertThat(FhirId.isValid("a\n")).isFalse();
    assertThat(FhirId.isValid("é")).isFalse();
    // dot segments: URLs lose them on the way, so no one could read or delete what is stored under one
    assertThat(FhirId.isValid(".")).isFalse();
    assertThat(FhirId.isValid("..")).isFalse();
    assertThat(FhirId.isValid("...")).isTrue();
    assertThat(FhirId.isValid(".a")).isTrue();
  }

  @Test
  void referencesUseTheSameRule() {
    assertThat(ResourceValidator.wellFormed("Patient/" + "x".repeat(64))).isTrue();
    assertThat(ResourceValidator.wellFormed("Patient/" + "x".repeat(65))).isFalse();
    assertThat(ResourceValidator.wellFormed("Patient/p-1/_history/2")).isTrue();
    assertThat(ResourceValidator.wellFormed("Patient/p_1")).isFalse();
    assertThat(ResourceValidator.wellFormed("https://ehr.example/fhir/Patient/p-1")).isTrue();
  }
}
