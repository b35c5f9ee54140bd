package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.retrieval.chat.PatientIdentifiers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A FamilyMemberHistory (rendered since renderer 10) on the read path: its chunks are clinical and its
 * notes notes, filed under its own resource type, which is the class a Consent names and a role's
 * resource types list; the relative it names is known to de-identification (tenant migration 51).
 */
class FamilyHistoryIT {

  static ReadPathTenant chart;
  static Requester clinician;
  static Requester billing;
  static final TenantPolicy POLICY = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in"));

  @BeforeAll
  static void setUp() {
    chart = new ReadPathTenant("family");
    clinician = chart.requester("dr-lee", "clinician", "pr-1");
    billing = chart.requester("billy", "billing", null);
    patient("pf", "");
    // the patient keeps family histories out of AI use: a nested deny of the class
    patient("pf-deny", ",\"provision\":[{\"type\":\"deny\",\"class\":[{\"code\":\"FamilyMemberHistory\"}]}]");
    chart.drain();
  }

  @AfterAll
  static void tearDown() {
    chart.close();
  }

  static void patient(String id, String nested) {
    chart.patientInCare(id, nested);
    chart.put("""
        {"resourceType":"Condition","id":"cond-%1$s","subject":{"reference":"Patient/%1$s"},
         "code":{"text":"Fibrocystic breast disease"}}""".formatted(id));
    chart.put("""
        {"resourceType":"FamilyMemberHistory","id":"fh-%1$s","status":"completed","patient":{"reference":"Patient/%1$s"},
         "name":"Gertrude Okafor","relationship":{"coding":[{"code":"MTH"}]},
         "condition":[{"code":{"text":"Breast cancer"},"onsetAge":{"value":45,"unit":"a"}}],
         "note":[{"text":"Gertrude had a mastectomy and is well."}]}""".formatted(id));
  }

  static ContextResult ask(Requester who, String patient, String purpose) {
    float[] vector = ReadPathTenant.embed("family history of breast cancer");
    return chart.service.context(chart.tenant, POLICY, who, patient,
        new ContextQuery("family history of breast cancer", () -> vector, 20, purpose, null, false), "context");
  }

  @Test
  void aFamilyHistoryIsServedAsClinicalTextAndItsNoteAsANote() {
    List<ContextChunk> family = ask(clinician, "pf", "TREAT").chunks().stream()
        .filter(c -> c.resource().equals("FamilyMemberHistory/fh-pf")).toList();
    assertThat(family).extracting(ContextChunk::category).containsExactlyInAnyOrder("clinical", "note");
    assertThat(family).extracting(ContextChunk::text).contains(
        "Family history, mother: Breast cancer, onset at age 45 years.",
        "Family history note, mother: Gertrude had a mastectomy and is well.");
  }

  @Test
  void aConsentDenyingTheClassAndARoleWithoutTheTypeNeverReadIt() {
    List<String> denied = ask(clinician, "pf-deny", "TREAT").chunks().stream().map(ContextChunk::resource).toList();
    assertThat(denied).contains("Condition/cond-pf-deny").noneMatch(r -> r.startsWith("FamilyMemberHistory/"));
    assertThat(ask(billing, "pf", "HPAYMT").chunks()).extracting(ContextChunk::resource)
        .noneMatch(r -> r.startsWith("FamilyMemberHistory/"));
  }

  @Test
  void theRelativeItNamesIsKnownToDeidentificationUnderTheIdentityRole() {
    KnownIdentifiers known = PatientIdentifiers.load(chart.platform.tx, chart.platform.keys, chart.tenant, clinician, "pf");
    assertThat(known.names()).filteredOn(n -> n.kind() == KnownIdentifiers.NameKind.RELATED_PERSON)
        .extracting(KnownIdentifiers.Name::text).containsExactly("Gertrude Okafor");
  }
}
