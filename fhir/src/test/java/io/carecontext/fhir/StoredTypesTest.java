package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StoredTypesTest {

  @Test
  void everyR4TypeAnEhrSendsIsStoredButBundleAndParameters() {
    assertThat(StoredTypes.all()).contains("Patient", "Observation", "Location", "Medication", "Provenance",
        "Specimen", "Binary").doesNotContain("Bundle", "Parameters", "DomainResource", "Resource")
        .isSorted().doesNotHaveDuplicates().hasSize(Fhir.supportedTypes().size() - 2);
    assertThat(StoredTypes.all()).allMatch(StoredTypes::contains);
    assertThat(StoredTypes.contains("Bundle")).isFalse();
    assertThat(StoredTypes.contains("Parameters")).isFalse();
    assertThat(StoredTypes.contains("Patent")).isFalse();
    assertThat(StoredTypes.contains(null)).isFalse();
  }

  @Test
  void aRefusalSaysWhatToDoAndNamesOnlyR4Types() {
    assertThat(StoredTypes.refusal("Location")).isEmpty();
    assertThat(StoredTypes.refusal("Bundle")).get().asString().contains("base URL");
    assertThat(StoredTypes.refusal("Parameters")).get().asString().contains("not stored");
    assertThat(StoredTypes.refusal("Smith John")).get().asString().contains("unknown resource type")
        .doesNotContain("Smith");
  }
}
