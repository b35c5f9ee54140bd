package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.ClinicalDate;
import io.carecontext.retrieval.ContextChunk;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {

  static ContextChunk chunk(long id, String text, String resource, double score) {
    return new ContextChunk(id, text, resource, score, "clinical", List.of(), LocalDate.of(2025, 3, 14));
  }

  // Before: any chunk scoring 0.15 or more went into the prompt, which with the in-process model is
  // nearly every chunk of the patient: "What was the last potassium?" (best match 0.56) carried the
  // whole progress note (names, phone numbers and addresses tokenized, but its content all there),
  // the allergies and the CBC, up to the token budget. Minimum necessary: a chunk far below the best
  // match is not what the question asks about.
  @Test
  void chunksFarBelowTheBestMatchStayOut() {
    PromptBuilder.Selection s = PromptBuilder.select(List.of(
        chunk(1, "Observation: Potassium 5.9 mmol/L. Interpretation: High.", "Observation/k", 0.561),
        chunk(2, "Encounter reason: Heart failure.", "Encounter/e", 0.293),
        chunk(3, "Observation note: Hemolysis index <50.", "Observation/k", 0.257),
        chunk(4, "Progress note: Patient: Eleanor ... lives at ...", "DocumentReference/n", 0.187),
        chunk(5, "Allergy: Penicillin G (confirmed, active).", "AllergyIntolerance/a", 0.185)), 2000);
    assertThat(s.handles().values()).containsExactly("Observation/k", "Encounter/e", "AllergyIntolerance/a");
  }

  // An allergy far below the best match still goes in: "start amoxicillin?" must not be answered
  // without the penicillin allergy. Below the absolute floor it stays out like any chunk.
  @Test
  void anAllergyIsKeptBelowTheRelativeCutOff() {
    PromptBuilder.Selection s = PromptBuilder.select(List.of(
        chunk(1, "MedicationRequest: amoxicillin 500 mg proposed.", "MedicationRequest/m", 0.62),
        chunk(2, "Allergy: Penicillin G (high criticality). Reaction: anaphylaxis.", "AllergyIntolerance/p", 0.21),
        chunk(3, "Allergy: latex.", "AllergyIntolerance/l", 0.11)), 2000);
    assertThat(s.handles().values()).containsExactly("MedicationRequest/m", "AllergyIntolerance/p");
  }

  // A question whose sources all match about as well (a trend, a summary) keeps them all.
  @Test
  void sourcesThatMatchAlikeAreAllKept() {
    PromptBuilder.Selection s = PromptBuilder.select(List.of(
        chunk(1, "HbA1c 7.2 %", "Observation/a1", 0.31), chunk(2, "HbA1c 7.9 %", "Observation/a2", 0.29),
        chunk(3, "HbA1c 8.4 %", "Observation/a3", 0.24), chunk(4, "Unrelated", "Observation/x", 0.12)), 2000);
    assertThat(s.handles()).hasSize(3);
  }

  // Before: a source was led by its date as a day, so a diabetes with onset "2019" read
  // "2019-01-01: Condition: ... onset 2019.", and one recorded "2019-03" sorted as if on the 1st.
  @Test
  void aSourceIsLedByItsDateAsWrittenAndSortedByIt() {
    PromptBuilder.Selection s = PromptBuilder.select(List.of(
        new ContextChunk(1, "Condition: Type 2 diabetes (active) onset 2019.", "Condition/dm", 0.5, "clinical",
            List.of(), ClinicalDate.parse("2019")),
        new ContextChunk(2, "Medication request: metformin 500 mg.", "MedicationRequest/m", 0.5, "medication",
            List.of(), ClinicalDate.parse("2019-03-12")),
        new ContextChunk(3, "Encounter: ambulatory.", "Encounter/e", 0.5, "clinical", List.of(),
            ClinicalDate.parse("2019-03"))), 2000);
    assertThat(s.texts()).containsExactly("2019: Condition: Type 2 diabetes (active) onset 2019.",
        "2019-03: Encounter: ambulatory.", "2019-03-12: Medication request: metformin 500 mg.");
  }

  // Before: "What was her potassium and when was her last colonoscopy?" was one embedding between two
  // topics; the colonoscopy matched it best (0.70) and the potassium result (0.30), under half of it,
  // was cut, so the model answered that the record held no potassium. Each topic now has its own cut-off.
  @Test
  void eachTopicOfATwoTopicQuestionKeepsItsOwnSources() {
    List<ContextChunk> chunks = List.of(
        chunk(1, "Procedure: Colonoscopy, status completed.", "Procedure/colo", 0.70),
        chunk(2, "Observation: Potassium 5.9 mmol/L. Interpretation: High.", "Observation/k", 0.30),
        chunk(3, "Condition: Hypertensive disorder (active).", "Condition/htn", 0.29),
        chunk(4, "Immunization: influenza vaccine.", "Immunization/flu", 0.20));
    assertThat(PromptBuilder.select(chunks, 2000).handles().values()).containsExactly("Procedure/colo");
    List<double[]> topics = List.of(
        new double[] {0.21, 0.64, 0.27, 0.18},   // "What was her potassium"
        new double[] {0.77, 0.12, 0.19, 0.22});  // "when was her last colonoscopy?"
    assertThat(PromptBuilder.select(chunks, topics, 2000).handles().values())
        .containsExactly("Procedure/colo", "Observation/k");
  }

  @Test
  void aQuestionIsSplitIntoTopicsOnlyWhenItNamesSeveral() {
    assertThat(QuestionTopics.of("What was her potassium and when was her last colonoscopy?"))
        .containsExactly("What was her potassium", "when was her last colonoscopy");
    assertThat(QuestionTopics.of("potassium and her penicillin allergy?")).containsExactly("potassium", "her penicillin allergy");
    assertThat(QuestionTopics.of("What was her last potassium?")).isEmpty();
    assertThat(QuestionTopics.of("What was the latest and the most recent value?")).isEmpty();
    assertThat(QuestionTopics.of("a, b1x, c2y, d3z, e4w and f5v")).hasSize(QuestionTopics.MAX_TOPICS);
  }
}
