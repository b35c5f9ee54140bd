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
  void aReferenceWithoutAReferenceIsLeftOut() {
    Map<Reference, String> paths = ReferencePaths.of(Fhir.parseResource("""
        {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},
         "subject":{"display":"someone"}}"""));
    assertThat(paths).isEmpty();
  }
}
