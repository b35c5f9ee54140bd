package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An update that takes a resource out of a patient's record (a result filed to the wrong patient,
 * corrected) or gives it a security label the reader may not see: the chunks the worker made of
 * the earlier version carry the earlier patient and labels, and the read policies decide by them.
 * Until the worker has chunked the new version (seconds, or never for a row it parks after five
 * failures) those chunks must not be served as they were.
 */
class UpdatedChunksIT {

  static ReadPathTenant chart;
  static Requester clinician;
  static Requester coordinator;
  static final TenantPolicy POLICY = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in"));

  @BeforeAll
  static void setUp() {
    chart = new ReadPathTenant("restamp");
    clinician = chart.requester("dr-lee", "clinician", "pr-1");
    coordinator = chart.requester("cora", "care-coordinator", null);
    for (String p : List.of("pa", "pb")) {
      chart.put("{\"resourceType\":\"Patient\",\"id\":\"" + p + "\",\"gender\":\"female\"}");
      chart.put("""
          {"resourceType":"Consent","id":"c-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
           "provision":{"type":"permit"}}""".formatted(p));
      chart.put("""
          {"resourceType":"Encounter","id":"e-%1$s","status":"finished","class":{"code":"AMB"},
           "period":{"start":"%2$s"},"subject":{"reference":"Patient/%1$s"},
           "participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""".formatted(p,
          // yesterday: an encounter's care link ends with it and the tenant's follow-up (tenant migration 44)
          java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(1)));
    }
    chart.put(observation("pa"));
    chart.put(note(""));
    chart.drain();
  }

  @AfterAll
  static void tearDown() {
    chart.close();
  }

  static String observation(String patient) {
    return """
        {"resourceType":"Observation","id":"o-filed","status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
         "subject":{"reference":"Patient/%s"},"valueQuantity":{"value":9.1,"unit":"%%"}}""".formatted(patient);
  }

  static String note(String meta) {
    return """
        {"resourceType":"DocumentReference","id":"d-note","status":"current","subject":{"reference":"Patient/pa"}%s,
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(meta,
        java.util.Base64.getEncoder().encodeToString("Session notes: anxiety, blood sugar worries.".getBytes()));
  }

  static List<String> resources(Requester who, String patient, String purpose) {
    try {
      return chart.service.context(chart.tenant, POLICY, who, patient, new ContextQuery("blood sugar control",
          ReadPathTenant.embed("blood sugar control"), 20, purpose, null), "context")
          .chunks().stream().map(ContextChunk::resource).toList();
    } catch (AccessDenied d) {
      return List.of();
    }
  }

  @Test
  void anUpdateThatMovesOrRelabelsAResourceStopsServingItsEarlierChunks() {
    assertThat(resources(clinician, "pa", "TREAT")).contains("Observation/o-filed");
    assertThat(resources(coordinator, "pa", "TREAT")).contains("DocumentReference/d-note");

    // the result belonged to pb; the note is psychotherapy (PSY), which a coordinator reads only with consent
    chart.put(observation("pb"));
    chart.put(note(",\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
        + "\"code\":\"PSY\"}]}"));
    assertThat(resources(clinician, "pa", "TREAT")).doesNotContain("Observation/o-filed");
    assertThat(resources(coordinator, "pa", "TREAT")).doesNotContain("DocumentReference/d-note");

    // once the worker has chunked the new versions, each is where it now belongs
    chart.drain();
    assertThat(resources(clinician, "pb", "TREAT")).contains("Observation/o-filed");
    assertThat(resources(clinician, "pa", "TREAT")).doesNotContain("Observation/o-filed")
        .contains("DocumentReference/d-note");
    assertThat(resources(coordinator, "pa", "TREAT")).doesNotContain("DocumentReference/d-note");
  }

  /**
   * A version that says the earlier text was wrong (entered in error, a corrected result) takes the
   * earlier chunks out before the write returns; any other update keeps them until the worker has
   * embedded the new text, so the record is never missing meanwhile.
   */
  @Test
  void anUpdateThatVoidsOrCorrectsTheEarlierTextStopsServingItAtOnce() {
    String allergy = """
        {"resourceType":"AllergyIntolerance","id":"a-1","patient":{"reference":"Patient/pb"},
         "code":{"text":"penicillin"},"verificationStatus":{"coding":[{"code":"%s"}]}}""";
    String glucose = """
        {"resourceType":"Observation","id":"o-glu","status":"%s","subject":{"reference":"Patient/pb"},
         "code":{"text":"Blood glucose"},"valueQuantity":{"value":%s,"unit":"mg/dL"}}""";
    chart.put(allergy.formatted("confirmed"));
    chart.put(glucose.formatted("final", "310"));
    chart.drain();
    assertThat(resources(clinician, "pb", "TREAT")).contains("AllergyIntolerance/a-1", "Observation/o-glu");

    chart.put(glucose.formatted("final", "311")); // an ordinary update: served as it was until re-embedded
    assertThat(resources(clinician, "pb", "TREAT")).contains("Observation/o-glu");

    chart.put(allergy.formatted("entered-in-error"));
    chart.put(glucose.formatted("corrected", "131"));
    assertThat(resources(clinician, "pb", "TREAT")).doesNotContain("AllergyIntolerance/a-1", "Observation/o-glu");
    chart.drain();
    // the correction is served once embedded; the allergy that never existed is not
    assertThat(resources(clinician, "pb", "TREAT")).contains("Observation/o-glu").doesNotContain("AllergyIntolerance/a-1");
  }
}
