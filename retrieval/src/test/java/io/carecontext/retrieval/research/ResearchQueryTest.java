package io.carecontext.retrieval.research;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import java.util.List;
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
        .isEqualTo(ResearchService.embeddedQuery("Abigail Quixotefield cough"));
    // two names of the detectors' names dictionary are a person's before blind's capitalized words: one [REDACTED]
    assertThat(ResearchService.embeddedQuery("Abigail Fontaine cough")).isEqualTo("[REDACTED] cough");
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

  /**
   * Why de-identifying the query could not be enough: the in-process model's tokenizer lower-cases
   * (an uncased vocabulary), so a name typed in lower case, which no detector can tell from a word,
   * is the same vector as the capitalized name. Research therefore ranks on embeddings of
   * de-identified chunk text (tenant migration 64), which holds no name to match.
   */
  @Test
  void theInProcessModelIsCaseBlindSoALowerCaseNameIsTheNameToIt() {
    var model = new InProcessMiniLmProvider();
    List<float[]> v = model.embedAll(List.of("Zebulon Quartermaine cough", "zebulon quartermaine cough"));
    assertThat(v.get(1)).containsExactly(v.get(0));
    assertThat(ResearchService.embeddedQuery("zebulon quartermaine cough")).isEqualTo("zebulon quartermaine cough");
  }

  @Test
  void twoPatientsIdenticalNotesAreEmbeddedForResearchAsTheSameTextWithoutTheirNames() {
    KnownIdentifiers zebulon = new KnownIdentifiers(List.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT,
        "Quartermaine", List.of("Zebulon"), null)), List.of(), List.of(), List.of(), List.of());
    KnownIdentifiers abigail = new KnownIdentifiers(List.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT,
        "Fontaine", List.of("Abigail"), null)), List.of(), List.of(), List.of(), List.of());
    String his = ResearchEmbeddings.deidentified("Zebulon Quartermaine reports a dry cough since 03/02/2024.", zebulon);
    String hers = ResearchEmbeddings.deidentified("Abigail Fontaine reports a dry cough since 03/02/2024.", abigail);
    assertThat(his).isEqualTo(hers).doesNotContain("Zebulon", "Quartermaine", "03/02").contains("dry cough");
    // tokens carry no subject code: the embedded text is the same whatever code the patient has
    assertThat(his).doesNotContainPattern("R[0-9A-F]{15}");
  }
}
