package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.retrieval.deid.DatePolicy;
import io.carecontext.retrieval.deid.Deidentifier;
import java.time.LocalDate;
import java.util.List;
import java.util.TimeZone;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

class PatientIdentifiersTest {

  static final String PATIENT = """
      {"resourceType":"Patient","id":"p1","name":[{"family":"Vasquez-Whitfield","given":["Eleanor"]}],
       "birthDate":"1931-04-12",
       "contact":[{"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0131","code":"N"}]}],
         "name":{"family":"Okonkwo","given":["Dmitri"]},"telecom":[{"system":"phone","value":"401-555-0123"},
           {"system":"email","value":"d.okonkwo@example.org"}],
         "address":{"line":["77 Larkspur Terrace"],"city":"Warwick","state":"RI","postalCode":"02886"}}]}""";

  // Before: a Patient's contacts (next of kin, emergency contact, the health care proxy), who are
  // Safe Harbor's relatives and household members, were not known: "Dmitri" or his number reached
  // the model wherever a note wrote them without a relation word before them.
  @Test
  void aPatientsContactsAreKnownIdentifiers() {
    KnownIdentifiers known = PatientIdentifiers.extract(List.<Resource>of(Fhir.parseResource(PATIENT)));
    String text = "Spoke with Dmitri at 4015550123 (d.okonkwo@example.org); Mr. Okonkwo lives at 77 Larkspur Terrace, Warwick.";
    String out = Deidentifier.deidentify(List.of(text), known, DatePolicy.TOKEN, 0).texts().get(0);
    for (String leaked : List.of("Dmitri", "Okonkwo", "4015550123", "example.org", "Larkspur", "Warwick")) {
      assertThat(out).doesNotContain(leaked);
    }
    assertThat(out).contains("[PERSON_1]");
  }

  // Before: the birth date was read at midnight in the JVM's zone and converted to UTC: east of UTC,
  // born 1931-04-12 was known as 1931-04-11.
  @Test
  void theBirthDateDoesNotDependOnTheServersTimeZone() {
    TimeZone saved = TimeZone.getDefault();
    try {
      TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
      assertThat(PatientIdentifiers.extract(List.<Resource>of(Fhir.parseResource(PATIENT))).dates())
          .containsExactly(LocalDate.of(1931, 4, 12));
    } finally {
      TimeZone.setDefault(saved);
    }
  }
  // Before: a family history's relative ("name": "Gertrude Okafor") was not known, and renderer 10 serves
  // its notes: "Gertrude had a mastectomy" reached the model, no relation word before the name.
  @Test
  void theRelativeAFamilyHistoryNamesIsKnown() {
    KnownIdentifiers known = PatientIdentifiers.extract(List.<Resource>of(Fhir.parseResource(PATIENT),
        Fhir.parseResource("""
            {"resourceType":"FamilyMemberHistory","id":"f1","status":"completed","patient":{"reference":"Patient/p1"},
             "name":"Gertrude Okafor","relationship":{"coding":[{"code":"MTH"}]}}"""),
        Fhir.parseResource("""
            {"resourceType":"FamilyMemberHistory","id":"f2","status":"completed","patient":{"reference":"Patient/p1"},
             "relationship":{"coding":[{"code":"FTH"}]}}""")));
    assertThat(known.names()).filteredOn(n -> n.kind() == KnownIdentifiers.NameKind.RELATED_PERSON)
        .extracting(KnownIdentifiers.Name::family).containsExactly("Okonkwo", "Okafor");
    String out = Deidentifier.deidentify(List.of("Family history note, mother: Gertrude had a mastectomy; Mrs. Okafor "
        + "is well."), known, DatePolicy.TOKEN, 0).texts().get(0);
    assertThat(out).doesNotContain("Gertrude", "Okafor").contains("mastectomy", "[PERSON_");
  }
}
