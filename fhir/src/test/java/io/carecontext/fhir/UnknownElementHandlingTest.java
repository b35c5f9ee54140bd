package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * Elements R4 does not define, under {@code Prefer: handling=strict} and lenient (the default). Every
 * unknown key sent here is "JohnSmith" (a name, as a careless feed might key a map by) and every value
 * "Quixote": strict refuses naming the parent's path and lenient reports that path, and neither ever
 * repeats the key or the value.
 */
class UnknownElementHandlingTest {

  private static final String TOP = "{\"resourceType\":\"Patient\",\"JohnSmith\":\"Quixote\",\"gender\":\"male\"}";
  private static final String NESTED = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Lee\"},"
      + "{\"family\":\"Lee\",\"JohnSmith\":{\"v\":\"Quixote\"}}]}";

  @Test
  void strictRefusesNamingTheParentNeverTheElement() {
    FhirIssue top = refusal(TOP);
    assertThat(top.code()).isEqualTo("structure");
    assertThat(top.path()).isEqualTo("Patient");
    FhirIssue nested = refusal(NESTED);
    assertThat(nested.path()).isEqualTo("Patient.name[1]");
    assertThat(nested.message()).startsWith("Patient.name[1] holds an element that FHIR R4 does not define")
        .contains("extension").contains("remove it");
    for (FhirIssue i : List.of(top, nested)) {
      assertThat(i.message() + i.path()).doesNotContain("JohnSmith").doesNotContain("Quixote");
    }
  }

  @Test
  void strictRefusesAMisspeltElementAndAnUnknownOneInAnExtensionOrContainedResource() {
    assertThat(refusal("{\"resourceType\":\"Patient\",\"birthdate\":\"1970-01-01\"}").path()).isEqualTo("Patient");
    assertThat(refusal("{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://x\",\"valueString\":\"a\","
        + "\"JohnSmith\":\"Quixote\"}]}").path()).isEqualTo("Patient.extension[0]");
    assertThat(refusal("{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\","
        + "\"JohnSmith\":\"Quixote\"}]}").path()).isEqualTo("Patient.contained[0]");
  }

  @Test
  void anUnknownElementInAPrimitivesUnderscoreObjectIsPlacedThereNotAtTheResource() {
    String birthDate = "{\"resourceType\":\"Patient\",\"birthDate\":\"1970-01-01\",\"_birthDate\":{\"JohnSmith\":\"Quixote\"}}";
    String given = "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Lee\",\"Ann\"],"
        + "\"_given\":[null,{\"JohnSmith\":{\"v\":\"Quixote\"}}]}]}";
    String inExtension = "{\"resourceType\":\"Patient\",\"gender\":\"male\",\"_gender\":{\"extension\":"
        + "[{\"url\":\"http://x\",\"valueString\":\"a\",\"JohnSmith\":\"Quixote\"}]}}";
    FhirIssue top = refusal(birthDate);
    assertThat(top.path()).isEqualTo("Patient._birthDate");
    assertThat(top.message()).startsWith("Patient._birthDate holds an element");
    assertThat(refusal(given).path()).isEqualTo("Patient.name[0]._given[1]");
    assertThat(refusal(inExtension).path()).isEqualTo("Patient._gender.extension[0]");
    // lenient: the same paths are what the warnings name
    assertThat(Fhir.skipped(Fhir.parseResource(birthDate, Handling.LENIENT))).containsExactly("Patient._birthDate");
    assertThat(Fhir.skipped(Fhir.parseResource(given, Handling.LENIENT))).containsExactly("Patient.name[0]._given[1]");
    // in a Bundle's entry: strict refuses that entry, lenient leaves the entry's path for its warning
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Patient\",\"gender\":\"male\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
        + "{\"resource\":" + birthDate + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
    Bundle strict = (Bundle) Fhir.parseBundleBody(bundle, 10, Handling.STRICT);
    assertThat(BundleEntries.issuesOf(strict.getEntry().get(0))).isEmpty();
    assertThat(BundleEntries.issuesOf(strict.getEntry().get(1))).singleElement()
        .satisfies(i -> assertThat(i.path()).isEqualTo("Bundle.entry[1].resource._birthDate"));
    Bundle lenient = (Bundle) Fhir.parseBundleBody(bundle, 10, Handling.LENIENT);
    assertThat(Fhir.skipped(lenient.getEntry().get(1))).containsExactly("Bundle.entry[1].resource._birthDate");
  }

  /**
   * A '_' key before an element that is not a primitive ({@code _name} before a HumanName, {@code _contained},
   * {@code _extension}) names nothing R4 defines, and HAPI drops what it holds without calling its error handler:
   * strict took such a body whole and lenient stored it without a warning, the unknown key and its value lost
   * unseen. Placed at that key, as an unknown key in a primitive's '_' object is.
   */
  @Test
  void anUnknownKeyUnderAnUnderscoreBeforeAnElementThatIsNotAPrimitiveIsPlacedThere() {
    String name = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Lee\"}],\"_name\":[{\"JohnSmith\":\"Quixote\"}]}";
    String contained = "{\"resourceType\":\"Patient\",\"_contained\":{\"JohnSmith\":\"Quixote\"}}";
    String extension = "{\"resourceType\":\"Patient\",\"gender\":\"male\",\"_extension\":{\"JohnSmith\":\"Quixote\"}}";
    assertThat(refusal(name).path()).isEqualTo("Patient._name[0]");
    assertThat(refusal(contained).path()).isEqualTo("Patient._contained");
    assertThat(refusal(extension).path()).isEqualTo("Patient._extension");
    assertThat(Fhir.skipped(Fhir.parseResource(name, Handling.LENIENT))).containsExactly("Patient._name[0]");
    assertThat(Fhir.skipped(Fhir.parseResource(extension, Handling.LENIENT))).containsExactly("Patient._extension");
    // in a Bundle's entry, as the entry's own
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":" + name
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
    Bundle strict = (Bundle) Fhir.parseBundleBody(bundle, 10, Handling.STRICT);
    assertThat(BundleEntries.issuesOf(strict.getEntry().get(0))).singleElement()
        .satisfies(i -> assertThat(i.path()).isEqualTo("Bundle.entry[0].resource._name[0]"));
    assertThat(Fhir.skipped(((Bundle) Fhir.parseBundleBody(bundle, 10, Handling.LENIENT)).getEntry().get(0)))
        .containsExactly("Bundle.entry[0].resource._name[0]");
  }

  @Test
  void strictTakesWhatR4Defines() {
    Resource r = Fhir.parseResource("{\"resourceType\":\"Patient\",\"birthDate\":\"1970-01-01\",\"_birthDate\":"
        + "{\"extension\":[{\"url\":\"http://x\",\"valueString\":\"a\"}]},\"deceasedBoolean\":false,"
        + "\"extension\":[{\"url\":\"http://x\",\"valueString\":\"a\"}]}", Handling.STRICT);
    assertThat(((Patient) r).getBirthDateElement().getValueAsString()).isEqualTo("1970-01-01");
    assertThat(Fhir.skipped(r)).isEmpty();
  }

  @Test
  void lenientSkipsAsBeforeAndKeepsOnlyTheParentsPaths() {
    Patient top = (Patient) Fhir.parseResource(TOP);
    assertThat(top.getGender().toCode()).isEqualTo("male");
    assertThat(Fhir.skipped(top)).containsExactly("Patient");
    assertThat(Fhir.toJson(top)).doesNotContain("JohnSmith").doesNotContain("Quixote");
    Patient nested = (Patient) Fhir.parseResource(NESTED, Handling.LENIENT);
    assertThat(nested.getName()).hasSize(2);
    assertThat(Fhir.skipped(nested)).containsExactly("Patient.name[1]");
    assertThat(Fhir.skipped(Fhir.parseResource("{\"resourceType\":\"Patient\",\"gender\":\"male\"}"))).isEmpty();
  }

  @Test
  void aBundleEntryCarriesItsOwnSkippedPathsAndStrictRefusesOnlyThatEntry() {
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/a\"}},"
        + "{\"resource\":" + NESTED.replace("\"resourceType\":\"Patient\",", "\"resourceType\":\"Patient\",\"id\":\"b\",")
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/b\"}}]}";
    Bundle lenient = (Bundle) Fhir.parseBundleBody(bundle, 10, Handling.LENIENT);
    assertThat(Fhir.skipped(lenient.getEntry().get(0))).isEmpty();
    assertThat(Fhir.skipped(lenient.getEntry().get(1))).containsExactly("Bundle.entry[1].resource.name[1]");
    assertThat(Fhir.skipped(lenient)).isEmpty();

    Bundle strict = (Bundle) Fhir.parseBundleBody(bundle, 10, Handling.STRICT);
    assertThat(BundleEntries.issuesOf(strict.getEntry().get(0))).isEmpty();
    List<FhirIssue> refused = BundleEntries.issuesOf(strict.getEntry().get(1));
    assertThat(refused).singleElement().satisfies(i -> {
      assertThat(i.entryIndex()).isEqualTo(1);
      assertThat(i.path()).isEqualTo("Bundle.entry[1].resource.name[1]");
      assertThat(i.message()).startsWith("bundle entry 1: Bundle.entry[1].resource.name[1] holds an element")
          .doesNotContain("JohnSmith").doesNotContain("Quixote");
    });
  }

  @Test
  void theLenientWarningNamesThePathOnly() {
    FhirIssue w = Fhir.skippedWarning(2, "Bundle.entry[2].resource");
    assertThat(w.severity()).isEqualTo(FhirIssue.Severity.WARNING);
    assertThat(w.path()).isEqualTo("Bundle.entry[2].resource");
    assertThat(w.message()).contains("skipped").contains("extension").contains("handling=strict");
  }

  @Test
  void preferHeaderFollowsRfc7240() {
    assertThat(Handling.of(null)).isEqualTo(Handling.LENIENT);
    assertThat(Handling.of(List.of())).isEqualTo(Handling.LENIENT);
    assertThat(Handling.of(List.of("handling=strict"))).isEqualTo(Handling.STRICT);
    assertThat(Handling.of(List.of("return=minimal, Handling=\"STRICT\""))).isEqualTo(Handling.STRICT);
    assertThat(Handling.of(List.of("return=minimal", "handling=strict"))).isEqualTo(Handling.STRICT);
    assertThat(Handling.of(List.of("handling=lenient"))).isEqualTo(Handling.LENIENT);
    // both at once: treated as neither
    assertThat(Handling.of(List.of("handling=strict, handling=lenient"))).isEqualTo(Handling.LENIENT);
    assertThat(Handling.of(List.of("respond-async"))).isEqualTo(Handling.LENIENT);
  }

  private static FhirIssue refusal(String json) {
    FhirInputException e = catchThrowableOfType(() -> Fhir.parseResource(json, Handling.STRICT),
        FhirInputException.class);
    assertThat(e).as("strict refuses %s", json).isNotNull();
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(e.getMessage()).doesNotContain("JohnSmith").doesNotContain("Quixote");
    return e.issues().get(0);
  }
}
