package io.carecontext.fhir;

import static io.carecontext.fhir.Validated.issues;
import static io.carecontext.fhir.Validated.only;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * Contained resources are rendered into their container's chunks, under its patient and labels: one
 * inside another contained one (dom-2, which the parser flattened), one with security labels of its
 * own (dom-5, which the store dropped) or one about another patient is refused as a 422 naming the
 * element path, never a value.
 */
class ContainedResourcesTest {

  static final String PANEL = """
      {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
       "hasMember":[{"reference":"#m1"}],"contained":[%s]}""";

  @Test
  void aContainedResourceInsideAContainedOneIsRefusedBeforeTheParserFlattensIt() {
    String nested = PANEL.formatted("""
        {"resourceType":"Observation","id":"m1","status":"final","code":{"text":"a"},
         "contained":[{"resourceType":"Observation","id":"m2","status":"final","code":{"text":"Zyxwquartz"}}]}""");
    assertThatThrownBy(() -> Fhir.parseResource(nested)).isInstanceOfSatisfying(FhirInputException.class, e -> {
      assertThat(e.httpStatus()).isEqualTo(422);
      assertThat(e.issues()).singleElement().satisfies(i -> {
        assertThat(i.code()).isEqualTo("invariant");
        assertThat(i.path()).isEqualTo("Observation.contained[0].contained[0]");
        assertThat(i.message()).contains("dom-2").doesNotContain("Zyxwquartz");
      });
    });
    // in a Bundle entry: that entry's issue, so that a batch refuses it alone
    Bundle bundle = (Bundle) Fhir.parseBundleBody("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1"}},
          {"resource":%s,"request":{"method":"PUT","url":"Observation/o1"}}]}""".formatted(nested));
    assertThat(BundleValidator.validate(bundle)).singleElement().satisfies(i -> {
      assertThat(i.entryIndex()).isEqualTo(1);
      assertThat(i.path()).isEqualTo("Bundle.entry[1].resource.contained[0].contained[0]");
      assertThat(i.isProcessing()).isTrue();
    });
    // one level of contained resources, and an empty list inside one, are as before
    assertThat(issues(PANEL.formatted("""
        {"resourceType":"Observation","id":"m1","status":"final","code":{"text":"a"},"contained":[]}"""))).isEmpty();
  }

  @Test
  void aContainedResourceWithItsOwnSecurityLabelsIsRefused() {
    // the store dropped them, and a restricted result was rendered into the unlabelled panel's chunk
    FhirIssue issue = only(PANEL.formatted("""
        {"resourceType":"Observation","id":"m1","status":"final","code":{"text":"HIV test"},"valueString":"Zyxwquartz",
         "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}"""));
    assertThat(issue.code()).isEqualTo("invariant");
    assertThat(issue.path()).isEqualTo("Observation.contained[0].meta.security");
    assertThat(issue.message()).contains("dom-5").doesNotContain("Zyxwquartz").doesNotContain("HIV");
  }

  @Test
  void aContainedResourceAboutAnotherPatientIsRefused() {
    FhirIssue issue = only(PANEL.formatted("""
        {"resourceType":"Observation","id":"m1","status":"final","code":{"text":"HIV test"},
         "subject":{"reference":"Patient/someone-else"}}"""));
    assertThat(issue.code()).isEqualTo("business-rule");
    assertThat(issue.path()).isEqualTo("Observation.contained[0].subject");
    assertThat(issue.message()).doesNotContain("someone-else");
    // its own patient (with or without a version), no subject, or a subject that is no patient: as before
    for (String subject : List.of(",\"subject\":{\"reference\":\"Patient/p1\"}",
        ",\"subject\":{\"reference\":\"Patient/p1/_history/3\"}", "", ",\"subject\":{\"reference\":\"Device/d1\"}")) {
      assertThat(issues(PANEL.formatted("{\"resourceType\":\"Observation\",\"id\":\"m1\",\"status\":\"final\","
          + "\"code\":{\"text\":\"a\"}" + subject + "}"))).as(subject).isEmpty();
    }
    // a contained Coverage of a Claim names the Claim's patient as its beneficiary
    Resource claim = Fhir.parseResource("""
        {"resourceType":"Claim","status":"active","patient":{"reference":"Patient/p1"},
         "contained":[{"resourceType":"Coverage","id":"cov","status":"active","beneficiary":{"reference":"Patient/p2"},
                       "payor":[{"reference":"Organization/o"}]}]}""");
    assertThat(ResourceValidator.validate(claim)).extracting(FhirIssue::path)
        .contains("Claim.contained[0].beneficiary");
  }

  /**
   * A Consent, CareTeam, Encounter or PractitionerRole decides access only as a resource of its own: a
   * contained deny Consent was stored, rendered into its container's chunk and enforced nowhere.
   */
  @Test
  void aContainedResourceThatWouldDecideAccessIsRefused() {
    for (String[] contained : new String[][] {
        {"Consent", "{\"resourceType\":\"Consent\",\"id\":\"m1\",\"status\":\"active\",\"scope\":{\"text\":\"x\"},"
            + "\"category\":[{\"text\":\"x\"}],\"patient\":{\"reference\":\"Patient/p1\"},"
            + "\"provision\":{\"type\":\"deny\"}}"},
        {"CareTeam", "{\"resourceType\":\"CareTeam\",\"id\":\"m1\",\"subject\":{\"reference\":\"Patient/p1\"},"
            + "\"participant\":[{\"member\":{\"reference\":\"Practitioner/dr\"}}]}"},
        {"Encounter", "{\"resourceType\":\"Encounter\",\"id\":\"m1\",\"status\":\"finished\","
            + "\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/p1\"}}"},
        {"PractitionerRole", "{\"resourceType\":\"PractitionerRole\",\"id\":\"m1\","
            + "\"practitioner\":{\"reference\":\"Practitioner/dr\"}}"}}) {
      FhirIssue issue = only(PANEL.formatted(contained[1]));
      assertThat(issue.code()).as(contained[0]).isEqualTo("business-rule");
      assertThat(issue.path()).isEqualTo("Observation.contained[0]");
      assertThat(issue.message()).contains("a contained " + contained[0] + " is not enforced",
          "send it as a resource of its own");
    }
  }
}
