package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link ChunkRenderer#categoriesOf} is what a tenant admin's role policy is judged by (types filed under none of
 * its categories: a 400). Builder.add asserts each chunk against it, but only for the paths a test renders; this
 * renders every path that files a chunk (notes of each type that has them, a lab and a non-lab observation and
 * report, a report's and a document's text, a document without text, an encounter with and without a reason, a
 * medication not taken) and holds the table to exactly what they file: a category it lacked would fail here, and
 * one it named but no path files would let a policy through that reads nothing.
 */
class ChunkRendererCategoriesTest {

  private static final String SUBJECT = "\"subject\":{\"reference\":\"Patient/p1\"}";
  private static final String PATIENT = "\"patient\":{\"reference\":\"Patient/p1\"}";
  private static final String NOTE = "\"note\":[{\"text\":\"Seen with her daughter.\"}]";

  private static String text(String s) {
    return "{\"contentType\":\"text/plain\",\"data\":\"" + Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)) + "\"}";
  }

  private static final List<String> EVERY_PATH = List.of(
      "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\",\"birthDate\":\"1970-01-01\"}",
      "{\"resourceType\":\"Condition\",\"id\":\"c1\"," + SUBJECT + ",\"code\":{\"text\":\"asthma\"}," + NOTE + "}",
      "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\"," + SUBJECT + ",\"category\":[{\"coding\":[{\"code\":\"laboratory\"}]}],"
          + "\"code\":{\"text\":\"potassium\"},\"valueQuantity\":{\"value\":4.1,\"unit\":\"mmol/L\"}," + NOTE + "}",
      "{\"resourceType\":\"Observation\",\"id\":\"o2\",\"status\":\"final\"," + SUBJECT + ",\"category\":[{\"coding\":[{\"code\":\"vital-signs\"}]}],"
          + "\"code\":{\"text\":\"heart rate\"},\"valueQuantity\":{\"value\":72,\"unit\":\"/min\"}}",
      "{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\",\"status\":\"active\",\"intent\":\"order\"," + SUBJECT
          + ",\"medicationCodeableConcept\":{\"text\":\"albuterol\"}}",
      "{\"resourceType\":\"MedicationStatement\",\"id\":\"m2\",\"status\":\"active\"," + SUBJECT + ",\"medicationCodeableConcept\":{\"text\":\"albuterol\"}}",
      "{\"resourceType\":\"MedicationStatement\",\"id\":\"m3\",\"status\":\"not-taken\"," + SUBJECT + ",\"medicationCodeableConcept\":{\"text\":\"warfarin\"}}",
      "{\"resourceType\":\"AllergyIntolerance\",\"id\":\"a1\"," + PATIENT + ",\"code\":{\"text\":\"peanut\"}," + NOTE + "}",
      "{\"resourceType\":\"Procedure\",\"id\":\"pr1\",\"status\":\"completed\"," + SUBJECT + ",\"code\":{\"text\":\"spirometry\"}}",
      "{\"resourceType\":\"Immunization\",\"id\":\"i1\",\"status\":\"completed\"," + PATIENT
          + ",\"vaccineCode\":{\"text\":\"influenza\"},\"occurrenceDateTime\":\"2024-10-01\"}",
      "{\"resourceType\":\"FamilyMemberHistory\",\"id\":\"f1\",\"status\":\"completed\"," + PATIENT
          + ",\"relationship\":{\"text\":\"mother\"},\"condition\":[{\"code\":{\"text\":\"asthma\"}," + NOTE + "}]," + NOTE + "}",
      "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"}," + SUBJECT
          + ",\"reasonCode\":[{\"text\":\"wheeze\"}],\"period\":{\"start\":\"2024-03-01\"}}",
      "{\"resourceType\":\"Encounter\",\"id\":\"e2\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"}," + SUBJECT
          + ",\"type\":[{\"text\":\"follow-up\"}],\"period\":{\"start\":\"2024-03-08\"}}",
      "{\"resourceType\":\"DiagnosticReport\",\"id\":\"d1\",\"status\":\"final\"," + SUBJECT + ",\"code\":{\"text\":\"basic panel\"},"
          + "\"conclusion\":\"normal\",\"presentedForm\":[" + text("All values within range.") + "]}",
      "{\"resourceType\":\"DiagnosticReport\",\"id\":\"d2\",\"status\":\"final\"," + SUBJECT
          + ",\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0074\",\"code\":\"RAD\"}]}],"
          + "\"code\":{\"text\":\"chest x-ray\"},\"conclusion\":\"clear\"}",
      "{\"resourceType\":\"DocumentReference\",\"id\":\"dr1\",\"status\":\"current\"," + SUBJECT
          + ",\"date\":\"2024-03-01T10:00:00Z\",\"content\":[{\"attachment\":" + text("Visit note: doing well.") + "}]}",
      "{\"resourceType\":\"DocumentReference\",\"id\":\"dr2\",\"status\":\"current\"," + SUBJECT
          + ",\"date\":\"2024-03-01T10:00:00Z\",\"content\":[{\"attachment\":{\"contentType\":\"application/pdf\",\"url\":\"https://example.org/d.pdf\"}}]}",
      "{\"resourceType\":\"CarePlan\",\"id\":\"cp1\",\"status\":\"active\",\"intent\":\"plan\"," + SUBJECT + ",\"title\":\"asthma plan\"}",
      "{\"resourceType\":\"Coverage\",\"id\":\"cv1\",\"status\":\"active\",\"beneficiary\":{\"reference\":\"Patient/p1\"},"
          + "\"payor\":[{\"display\":\"Acme Health\"}]}",
      "{\"resourceType\":\"Claim\",\"id\":\"cl1\",\"status\":\"active\"," + PATIENT + ",\"created\":\"2024-03-02\",\"type\":{\"text\":\"professional\"}}",
      "{\"resourceType\":\"ExplanationOfBenefit\",\"id\":\"eob1\",\"status\":\"active\"," + PATIENT
          + ",\"created\":\"2024-03-05\",\"outcome\":\"complete\",\"type\":{\"text\":\"professional\"}}");

  @Test
  void theTableNamesExactlyTheCategoriesEveryPathFilesUnder() {
    ChunkRenderer renderer = new ChunkRenderer();
    Map<String, Set<String>> filed = new TreeMap<>();
    for (String json : EVERY_PATH) {
      List<ClinicalChunk> chunks = renderer.render(Fhir.parseResource(json));
      assertThat(chunks).as(json).isNotEmpty();
      for (ClinicalChunk c : chunks) {
        filed.computeIfAbsent(c.resourceType(), t -> new TreeSet<>()).add(c.category().code());
      }
    }
    Map<String, Set<String>> table = new TreeMap<>();
    for (String type : filed.keySet()) {
      table.put(type, new TreeSet<>(ChunkRenderer.categoriesOf(type).stream().map(Category::code).toList()));
    }
    assertThat(filed).isEqualTo(table);
    assertThat(filed).as("every type the table names was rendered here").hasSize(16);
  }

  @Test
  void aTypeThatRendersNothingIsFiledUnderNothing() {
    assertThat(ChunkRenderer.categoriesOf("Practitioner")).isEmpty();
    assertThat(ChunkRenderer.categoriesOf("Consent")).isEmpty();
  }
}
