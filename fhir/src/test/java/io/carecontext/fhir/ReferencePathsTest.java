package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Collectors;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

class ReferencePathsTest {

  private static Map<String, String> pathsByReference(String json) {
    Resource r = Fhir.parseResource(json);
    return ReferencePaths.of(r).entrySet().stream()
        .collect(Collectors.toMap(e -> e.getKey().getReference(), Map.Entry::getValue));
  }

  @Test
  void eachReferenceIsNamedByItsElementWithListIndexes() {
    assertThat(pathsByReference("""
        {"resourceType":"CareTeam","id":"t1","subject":{"reference":"Patient/p1"},
         "participant":[{"member":{"reference":"Practitioner/a"}},{"member":{"reference":"Practitioner?identifier=s|b"},
           "onBehalfOf":{"reference":"Organization/o"}}]}"""))
        .containsExactlyInAnyOrderEntriesOf(Map.of("Patient/p1", "subject", "Practitioner/a", "participant[0].member",
            "Practitioner?identifier=s|b", "participant[1].member", "Organization/o", "participant[1].onBehalfOf"));
  }

  @Test
  void aChoiceIsNamedForItsTypeAndAnExtensionsByItsIndex() {
    assertThat(pathsByReference("""
        {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},
         "subject":{"reference":"Patient/p1"},"focus":[{"reference":"Condition/c1"}],
         "extension":[{"url":"http://example.org/a","valueString":"x"},
                      {"url":"http://example.org/b","valueReference":{"reference":"Device/d1"}}]}"""))
        .containsExactlyInAnyOrderEntriesOf(Map.of("Patient/p1", "subject", "Condition/c1", "focus[0]",
            "Device/d1", "extension[1].valueReference"));
  }

  @Test
  void aContainedResourcesReferencesKeepTheirIndexes() {
    // the terser lists a contained resource twice in the path it hands over: the steps below it lost their indexes
    // (both performers were contained[0].performer)
    assertThat(pathsByReference("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p"},
         "contained":[{"resourceType":"Practitioner","id":"c0"},
           {"resourceType":"Observation","id":"c1","status":"final","code":{"text":"x"},
            "performer":[{"reference":"Practitioner/a"},{"reference":"urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"}],
            "note":[{"authorReference":{"reference":"Practitioner/n"},"text":"x"}]}]}"""))
        .containsExactlyInAnyOrderEntriesOf(Map.of("Patient/p", "subject", "Practitioner/a", "contained[1].performer[0]",
            "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", "contained[1].performer[1]",
            "Practitioner/n", "contained[1].note[0].authorReference"));
  }

  @Test
  void anExtensionOfAnExtensionOrOfAPrimitiveIsNamedByItsSteps() {
    assertThat(pathsByReference("""
        {"resourceType":"Patient","id":"p","_gender":{"extension":[{"url":"http://e/g","valueReference":{"reference":"Basic/b"}}]},
         "modifierExtension":[{"url":"http://e/m","extension":[{"url":"a","valueString":"x"},
           {"url":"b","valueReference":{"reference":"Group/g"}}]}],
         "generalPractitioner":[{"reference":"Practitioner/g","extension":[{"url":"http://e/r","valueReference":{"reference":"Location/l"}}]}]}"""))
        .containsExactlyInAnyOrderEntriesOf(Map.of("Basic/b", "gender.extension[0].valueReference",
            "Group/g", "modifierExtension[0].extension[1].valueReference", "Practitioner/g", "generalPractitioner[0]",
            "Location/l", "generalPractitioner[0].extension[0].valueReference"));
  }

  @Test
  void allListsEveryReferenceInOrderThoseInAPrimitivesExtensionToo() {
    // the terser's getAllPopulatedChildElementsOfType leaves out the one in _gender: a urn:uuid there was stored as sent
    Resource r = Fhir.parseResource("""
        {"resourceType":"Patient","id":"p","_gender":{"extension":[{"url":"http://e/g","valueReference":{"reference":"urn:uuid:1"}}]},
         "gender":"other","generalPractitioner":[{"reference":"Practitioner/g"},{"display":"no reference"}],
         "managingOrganization":{"reference":"Organization?identifier=s|1"}}""");
    assertThat(ReferencePaths.all(r)).extracting(Reference::getReference)
        .containsExactly("urn:uuid:1", "Practitioner/g", "Organization?identifier=s|1");
  }

  @Test
  void aReferenceWithoutAReferenceIsLeftOut() {
    Map<Reference, String> paths = ReferencePaths.of(Fhir.parseResource("""
        {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},
         "subject":{"display":"someone"}}"""));
    assertThat(paths).isEmpty();
  }
}
