package io.carecontext.retrieval.research;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What of a research query reaches the embedding model: the query de-identified on its own, so that a
 * name, record number, phone or date typed into it cannot steer the ranking towards the notes that
 * name that person (chunks are embedded from identified text).
 */
class ResearchQueryTest {

  @Test
  void aFullNameAtTheStartIsNoLongerEmbeddedAsTyped() {
    // blind alone keeps a capitalized word that begins a sentence: the first name steered the search
    assertThat(ResearchService.embeddedQuery("Zebulon Quartermaine cough")).isEqualTo("[NAME] [NAME] cough");
    assertThat(ResearchService.embeddedQuery("Zebulon Quartermaine cough"))
        .isEqualTo(ResearchService.embeddedQuery("Abigail Fontaine cough"));
    assertThat(ResearchService.embeddedQuery("Quartermaine, Zebulon cough")).isEqualTo("[NAME], [NAME] cough");
    assertThat(ResearchService.embeddedQuery("Cough at night. Zebulon Quartermaine")).doesNotContain("Zebulon");
  }

  @Test
  void otherIdentifiersAreRedactedAndDatesCutToTheYear() {
    String embedded = ResearchService.embeddedQuery("cough in patient MRN 12345678, phone 617-555-0199, seen 03/02/2024");
    assertThat(embedded).doesNotContain("12345678").doesNotContain("617-555-0199").doesNotContain("03/02")
        .contains("cough");
  }

  @Test
  void aQueryWithoutIdentifiersIsEmbeddedAsTyped() {
    assertThat(ResearchService.embeddedQuery("thirst and fatigue")).isEqualTo("thirst and fatigue");
    assertThat(ResearchService.embeddedQuery("Hemoglobin A1c")).isEqualTo("Hemoglobin A1c");
  }
}
