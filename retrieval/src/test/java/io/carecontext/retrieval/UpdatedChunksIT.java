package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An update: the chunks the worker made of the earlier version carry its text, patient and labels, and the read
 * policies decide by them. Until the worker has chunked the new version (seconds, or never for a row it parks after
 * five failures) those chunks must not be served as they were: not a result filed to the wrong patient, not a note
 * given a label the reader may not see, not a corrected diagnosis.
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
   * Every update that changes a record takes its earlier chunks out before the write returns, whether or not the
   * new version says the earlier one was wrong: an amendment (HIPAA 164.526) that corrects a Condition's code
   * says nothing of the kind, and its earlier chunks named the diagnosis the EHR had corrected until the worker
   * embedded the new version (seconds; for good if it parked the row). Meanwhile the answer counts the record in
   * {@code pending}; a write that changes nothing keeps the chunks.
   */
  @Test
  void anUpdateStopsServingTheEarlierTextAtOnceAndCountsTheRecordPending() {
    String allergy = """
        {"resourceType":"AllergyIntolerance","id":"a-1","patient":{"reference":"Patient/pb"},
         "code":{"text":"penicillin"},"verificationStatus":{"coding":[{"code":"%s"}]}}""";
    String glucose = """
        {"resourceType":"Observation","id":"o-glu","status":"%s","subject":{"reference":"Patient/pb"},
         "code":{"text":"Blood glucose"},"valueQuantity":{"value":%s,"unit":"mg/dL"}}""";
    String condition = """
        {"resourceType":"Condition","id":"c-dx","subject":{"reference":"Patient/pb"},
         "clinicalStatus":{"coding":[{"code":"active"}]},"code":{"text":"%s"}}""";
    chart.put(allergy.formatted("confirmed"));
    chart.put(glucose.formatted("final", "310"));
    chart.put(condition.formatted("Type 2 diabetes mellitus"));
    chart.drain();
    assertThat(resources(clinician, "pb", "TREAT")).contains("AllergyIntolerance/a-1", "Observation/o-glu",
        "Condition/c-dx");

    chart.put(glucose.formatted("final", "310")); // the same content again: nothing changed, nothing goes
    assertThat(resources(clinician, "pb", "TREAT")).contains("Observation/o-glu");
    assertThat(pending(clinician, "pb")).isZero();

    // the amendment: the same status, another diagnosis
    chart.put(condition.formatted("Steroid-induced hyperglycemia"));
    chart.put(glucose.formatted("final", "311")); // an ordinary update
    chart.put(allergy.formatted("entered-in-error"));
    assertThat(texts(clinician, "pb")).noneMatch(t -> t.contains("Type 2 diabetes") || t.contains("310")
        || t.contains("penicillin"));
    assertThat(resources(clinician, "pb", "TREAT")).doesNotContain("AllergyIntolerance/a-1", "Observation/o-glu",
        "Condition/c-dx");
    assertThat(pending(clinician, "pb")).isEqualTo(3);
    chart.drain();
    // each new version is served once embedded; the allergy that never existed is not
    assertThat(resources(clinician, "pb", "TREAT")).contains("Observation/o-glu", "Condition/c-dx")
        .doesNotContain("AllergyIntolerance/a-1");
    assertThat(texts(clinician, "pb")).anyMatch(t -> t.contains("Steroid-induced hyperglycemia"))
        .noneMatch(t -> t.contains("Type 2 diabetes"));
    assertThat(pending(clinician, "pb")).isZero();
  }

  static ContextResult read(Requester who, String patient) {
    try {
      return chart.service.context(chart.tenant, POLICY, who, patient, new ContextQuery("blood sugar control",
          ReadPathTenant.embed("blood sugar control"), 20, "TREAT", null), "context");
    } catch (AccessDenied d) {
      throw new AssertionError(d);
    }
  }

  static List<String> texts(Requester who, String patient) {
    return read(who, patient).chunks().stream().map(ContextChunk::text).toList();
  }

  static int pending(Requester who, String patient) {
    return read(who, patient).pending();
  }
}
