package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.fhir.ClinicalChunk;
import io.carecontext.fhir.Fhir;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The free text the renderer says since version 10 (a condition's, an allergy's and a family history's
 * notes) goes through the prompt's de-identification as every chunk's text does: rendered here, then
 * de-identified as the chat and research paths do it, with the patient's known identifiers.
 */
class RenderedNotesDeidentificationTest {

  @Test
  void notesOfConditionsAllergiesAndFamilyHistoriesAreDeidentifiedAndTheirClinicalWordsKept() {
    ChunkRenderer renderer = new ChunkRenderer();
    List<String> texts = Stream.of("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Gout"},
         "note":[{"text":"Zebulon reports flares; seen at Mercy Hospital, Springfield on 03/02/2024. Call 508-555-0142."}]}""",
        """
        {"resourceType":"AllergyIntolerance","id":"a","patient":{"reference":"Patient/p1"},"code":{"text":"Penicillin"},
         "note":[{"text":"Anaphylaxis treated at Cedars-Sinai by Dr. Priya Raghunathan."}]}""",
        """
        {"resourceType":"FamilyMemberHistory","id":"f","status":"completed","patient":{"reference":"Patient/p1"},
         "relationship":{"coding":[{"code":"MTH"}]},"condition":[{"code":{"text":"Breast cancer"},
         "onsetAge":{"value":45,"unit":"a"}}],"note":[{"text":"Her daughter Keisha lives in Oro Valley."}]}""")
        .map(Fhir::parseResource).flatMap(r -> renderer.render(r).stream()).map(ClinicalChunk::text).toList();
    assertThat(texts).hasSize(6);
    DeidResult d = Deidentifier.deidentify(texts, DetectorsTest.ZEBULON, DatePolicy.TOKEN, 0);
    String all = String.join("\n", d.texts());
    assertThat(all).doesNotContain("Zebulon", "Mercy", "Springfield", "03/02/2024", "508-555-0142", "Cedars",
        "Raghunathan", "Keisha", "Oro Valley");
    assertThat(d.texts()).containsExactly("Condition: Gout",
        "Condition note, Gout: [PATIENT_1] reports flares; seen at [FACILITY_1], [CITY_1] on [DATE_1]. Call [PHONE_1].",
        "Allergy: Penicillin",
        "Allergy note, Penicillin: Anaphylaxis treated at [FACILITY_2] by Dr. [PERSON_1].",
        "Family history, mother: Breast cancer, onset at age 45 years.",
        "Family history note, mother: Her daughter [PERSON_2] lives in [CITY_2].");
  }
}
