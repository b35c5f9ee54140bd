package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/** Parse errors: 400 for what is not FHIR JSON, and the entry index and element path of what the parser refuses. */
class ParseErrorsTest {

  private static final String PATIENT_ENTRY = """
      {"resource":{"resourceType":"Patient","id":"zq-6","name":[{"family":"Q"}]},
       "request":{"method":"PUT","url":"Patient/zq-6"}}""";

  private static FhirInputException refused(String json) {
    return catchThrowableOfType(FhirInputException.class, () -> Fhir.parseResource(json));
  }

  private static String batch(String type, String secondEntry) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + PATIENT_ENTRY + "," + secondEntry + "]}";
  }

  private static String observation(String elements) {
    return "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/zq-6\"}," + elements + "},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Observation/o\"}}";
  }

  /**
   * HAPI's own refusals of sound JSON said "not valid FHIR JSON: check the JSON syntax", naming no
   * element: a resource of no R4 type in a Bundle entry or among the contained ones, and a narrative
   * that is not XHTML. Each now names the element and what is wrong, never the value.
   */
  @Test
  void anUnknownTypeInsideAndANarrativeThatIsNotXhtmlAreNamedByTheirPath() {
    FhirInputException inEntry = catchThrowableOfType(FhirInputException.class, () -> Fhir.parseResource(batch("transaction",
        "{\"resource\":{\"resourceType\":\"Zebulon\",\"id\":\"z\"},\"request\":{\"method\":\"PUT\",\"url\":\"Zebulon/z\"}}")));
    assertThat(inEntry.getMessage()).contains("bundle entry 1: unknown resource type at Bundle.entry[1].resource.resourceType")
        .contains("check its spelling and case")
        .doesNotContain("check the JSON syntax").doesNotContain("Zebulon");
    FhirInputException contained = refused("{\"resourceType\":\"Patient\",\"id\":\"p\",\"contained\":[{\"resourceType\":"
        + "\"Quixote\",\"id\":\"c\"}]}");
    assertThat(contained.httpStatus()).isEqualTo(400);
    assertThat(contained.getMessage()).contains("unknown resource type at Patient.contained[0].resourceType")
        .doesNotContain("Quixote");
    FhirInputException div = refused("{\"resourceType\":\"Patient\",\"id\":\"p\",\"text\":{\"status\":\"generated\","
        + "\"div\":\"Zebulon's note <\"}}");
    assertThat(div.httpStatus()).isEqualTo(400);
    assertThat(div.getMessage()).contains("Patient.text.div is not well-formed XHTML").doesNotContain("Zebulon");

    // a tag left open, which HAPI's XHTML parser would close itself: it was told to check the JSON syntax
    // (and HTML's &nbsp;, which XML does not define and HAPI refuses)
    for (String unclosed : new String[] {"<p>Zebulon", "<p>Zebulon</div>", "<p><b>Zebulon</p></b>", "A&nbsp;B</div>"}) {
      FhirInputException open = refused("{\"resourceType\":\"Patient\",\"id\":\"p\",\"text\":{\"status\":"
          + "\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">" + unclosed + "\"}}");
      assertThat(open.getMessage()).as(unclosed).isEqualTo("Patient.text.div is not well-formed XHTML: send the narrative "
          + "as one <div xmlns=\"http://www.w3.org/1999/xhtml\"> element, every tag closed and nested in order");
    }
    // XML's own entities are well-formed
    assertThat(Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"p\",\"text\":{\"status\":\"generated\","
        + "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">A&amp;B &#160;</div>\"}}")).isInstanceOf(Patient.class);
  }

  /**
   * HAPI keeps the last segment of an id that is a URL or a path: a line whose id was another
   * system's https://…/Patient/victim replaced this store's Patient/victim, another person's record.
   */
  @Test
  void anIdThatIsAUrlOrAPathIsRefusedNotShortened() {
    for (String id : new String[] {"https://other-ehr.example/fhir/Patient/victim", "../victim", "Patient/victim",
        "victim/_history/2"}) {
      FhirInputException e = refused("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}");
      assertThat(e.httpStatus()).as(id).isEqualTo(400);
      assertThat(e.getMessage()).as(id).startsWith("element 'Patient.id': must be a FHIR id, [A-Za-z0-9-.]{1,64}")
          .doesNotContain("victim");
    }
    Bundle bundle = (Bundle) Fhir.parseBundleBody("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"https://o.example/fhir/Patient/v\"},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/v\"}}]}");
    assertThat(BundleValidator.validate(bundle)).singleElement()
        .satisfies(i -> assertThat(i.message()).startsWith("bundle entry 0: element 'Bundle.entry[0].resource.id': must be"));
    assertThat(Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"p-1.a\"}").getIdPart()).isEqualTo("p-1.a");
  }

  /** A UTF-8 byte order mark before the JSON, as some Windows feeds send: ignored, as RFC 8259 allows. */
  @Test
  void aByteOrderMarkBeforeTheJsonIsIgnored() {
    assertThat(Fhir.parseResource("\uFEFF{\"resourceType\":\"Patient\",\"id\":\"bom\"}")).isInstanceOf(Patient.class);
  }

  @Test
  void malformedJsonIsA400NotAMissingResourceType() {
    for (String body : List.of("{", "{\"", "{\"resourceType\"", "{\"resourceType\":", "{\"resourceType\":\"Patient\"",
        "{\"resourceType\":\"Patient\"} trailing", "{\"resourceType\":\"Patient\",}")) {
      FhirInputException e = refused(body);
      assertThat(e).as(body).isNotNull();
      assertThat(e.httpStatus()).as(body).isEqualTo(400);
      assertThat(e.getMessage()).as(body).startsWith("the body is not valid FHIR JSON: malformed JSON").doesNotContain("trailing");
    }
  }

  /**
   * Sound JSON past the parser's limits was "malformed JSON; check the JSON syntax": a sender whose
   * syntax was sound had nothing to fix. The message names the limit, never the value.
   */
  @Test
  void soundJsonPastTheParsersLimitsSaysWhichLimitNotMalformedSyntax() {
    String deep = "{\"url\":\"http://x\",\"extension\":[".repeat(600) + "{\"url\":\"http://y\",\"valueString\":\"v\"}"
        + "]}".repeat(600);
    FhirInputException nested = refused("{\"resourceType\":\"Patient\",\"id\":\"p\",\"extension\":[" + deep + "]}");
    assertThat(nested.httpStatus()).isEqualTo(400);
    assertThat(nested.getMessage()).contains("nests objects and arrays deeper than 1000 levels")
        .doesNotContain("check the JSON syntax");
    FhirInputException number = refused("{\"resourceType\":\"Observation\",\"id\":\"o\",\"valueInteger\":"
        + "7".repeat(1200) + "}");
    assertThat(number.getMessage()).contains("a number written with more than 1000 characters")
        .doesNotContain("check the JSON syntax").doesNotContain("777");
  }

  @Test
  void aResourceTypeThatIsNotAStringOrNotAnR4TypeIsA400ThatDoesNotEchoIt() {
    FhirInputException number = refused("{\"resourceType\":5}");
    assertThat(number.httpStatus()).isEqualTo(400);
    assertThat(number.getMessage()).contains("resourceType must be a JSON string");

    FhirInputException unknown = refused("{\"resourceType\":\"Zebulon Quixote\",\"id\":\"zq-9\"}");
    assertThat(unknown.httpStatus()).isEqualTo(400);
    assertThat(unknown.getMessage()).contains("unknown resource type").doesNotContain("Zebulon").doesNotContain("zq-9")
        // what to do next: the walk of a bulk import found the refusal said only what was wrong
        .contains("check its spelling and case").contains("/metadata lists the types");

    // only the top-level resourceType counts, not one of a contained resource
    FhirInputException nested = refused("{\"contained\":[{\"resourceType\":\"Patient\"}],\"resourceType\":\"Zebulon\"}");
    assertThat(nested.getMessage()).contains("unknown resource type");
    // a well-formed object without one is still the 422 it was
    assertThat(refused("{\"id\":\"x\"}").httpStatus()).isEqualTo(422);
  }

  @Test
  void aParseErrorNamesTheElementPathWithListIndexes() {
    assertThat(refused("""
        {"resourceType":"Patient","telecom":[{"system":"phone","value":"1"},{"system":"beeper","value":"2"}]}""")
        .issues().get(0).path()).isEqualTo("Patient.telecom[1].system");
    assertThat(refused("{\"resourceType\":\"Observation\",\"status\":\"final\",\"effectiveDateTime\":\"not-a-date\"}")
        .issues().get(0).path()).isEqualTo("Observation.effectiveDateTime");
    assertThat(refused("{\"resourceType\":\"Patient\",\"name\":[{\"family\":[\"A\",\"B\"]}]}")
        .issues().get(0).path()).isEqualTo("Patient.name[0].family");
    assertThat(refused("{\"resourceType\":\"Patient\",\"name\":\"Zebulon Quixote\"}").issues().get(0))
        .satisfies(i -> assertThat(i.path()).isEqualTo("Patient.name"))
        .satisfies(i -> assertThat(i.message()).doesNotContain("Zebulon"));
    // the same bad value twice: the path both share
    assertThat(refused("""
        {"resourceType":"Patient","telecom":[{"system":"beeper"},{"system":"beeper"}]}""")
        .issues().get(0).path()).isEqualTo("Patient.telecom.system");
  }

  /** A fault HAPI reports: the elements that cause it, the path they are at, what it says and the value sent. */
  private record Reported(String elements, String path, String problem, String value) {}

  private static final List<Reported> REPORTED = List.of(
      new Reported("\"gender\":\"Zebulonish\"", "gender",
          "not a code of the FHIR AdministrativeGender value set", "Zebulonish"),
      new Reported("\"birthDate\":\"1970-13-45\"", "birthDate", "in the form of a FHIR date or dateTime, but no such day", "13-45"),
      new Reported("\"active\":\"Zebulon\"", "active",
          "expected a JSON true or false (a FHIR boolean), found a JSON string", "Zebulon"),
      new Reported("\"photo\":[{\"contentType\":\"text/plain\",\"data\":\"SGVsbG8@V29y\"}]", "photo[0].data",
          "not a valid value for the element's type", "SGVsbG8"),
      new Reported("\"gender\":[\"female\",\"male\"]", "gender", "takes one value, not a list of several", "female"));

  @Test
  void aParseErrorsMessageNamesTheSamePathAsItsExpressionAndNoValue() {
    for (Reported r : REPORTED) {
      FhirInputException e = refused("{\"resourceType\":\"Patient\",\"id\":\"zq-6\"," + r.elements() + "}");
      String path = "Patient." + r.path();
      assertThat(e.issues()).as(r.elements()).singleElement().satisfies(i -> {
        assertThat(i.path()).isEqualTo(path);
        assertThat(i.message()).startsWith("element '" + path + "': " + r.problem()).doesNotContain(r.value());
      });
      assertThat(OperationOutcomes.toJson(e.issues())).contains("\"element '" + path + "': ")
          .doesNotContain(r.value());
    }
  }

  @Test
  void inABatchOrATransactionTheMessageNamesTheEntryAndTheSamePathAsItsExpression() {
    for (Reported r : REPORTED) {
      String entry = "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"zq-7\"," + r.elements() + "},"
          + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/zq-7\"}}";
      String path = "Bundle.entry[1].resource." + r.path();
      Bundle b = (Bundle) Fhir.parseBundleBody(batch("batch", entry));
      assertThat(b.getEntry().get(0).getResource()).as(r.elements()).isInstanceOf(Patient.class);
      List<FhirIssue> inBatch = BundleValidator.validate(b);
      List<FhirIssue> inTransaction = refused(batch("transaction", entry)).issues();
      for (List<FhirIssue> issues : List.of(inBatch, inTransaction)) {
        assertThat(issues).as(r.elements()).singleElement().satisfies(i -> {
          assertThat(i.entryIndex()).isEqualTo(1);
          assertThat(i.path()).isEqualTo(path);
          assertThat(i.message()).startsWith("bundle entry 1: element '" + path + "': " + r.problem())
              .doesNotContain(r.value());
        });
        assertThat(OperationOutcomes.toJson(issues)).doesNotContain(r.value());
      }
    }
  }

  @Test
  void aParseErrorWhosePathIsNotFoundStillNamesTheElement() {
    // the bad value at two paths that differ beyond their list indexes: which one HAPI saw is not known
    FhirInputException e = refused("""
        {"resourceType":"Patient","gender":"Zebulonish","contact":[{"gender":"Zebulonish"}]}""");
    assertThat(e.issues()).singleElement().satisfies(i -> {
      // the resource, not a guess at one of the two paths
      assertThat(i.path()).isEqualTo("Patient");
      assertThat(i.message()).isEqualTo("element 'gender': not a code of the FHIR AdministrativeGender value set");
    });
  }

  @Test
  void aBadEntryInABatchIsKeptApartWithItsIndexAndPathAndTheOthersParse() {
    for (var c : List.of(
        List.of("\"status\":\"finalish\"", "Bundle.entry[1].resource.status"),
        List.of("\"status\":\"final\",\"effectiveDateTime\":\"not-a-date\"", "Bundle.entry[1].resource.effectiveDateTime"))) {
      Bundle b = (Bundle) Fhir.parseBundleBody(batch("batch", observation(c.get(0))));
      assertThat(b.getEntry()).hasSize(2);
      assertThat(b.getEntry().get(0).getResource()).isInstanceOf(Patient.class);
      List<FhirIssue> issues = BundleValidator.validate(b);
      assertThat(issues).singleElement().satisfies(i -> {
        assertThat(i.entryIndex()).isEqualTo(1);
        assertThat(i.path()).isEqualTo(c.get(1));
        assertThat(i.message()).startsWith("bundle entry 1: element '" + c.get(1) + "': ").doesNotContain("finalish")
            .doesNotContain("not-a-date");
      });
      assertThat(new FhirInputException(issues).httpStatus()).isEqualTo(400);
    }
    // an entry whose resource is of no R4 type: refused alone, and the type is not echoed
    Bundle unknown = (Bundle) Fhir.parseBundleBody(batch("batch",
        "{\"resource\":{\"resourceType\":\"Zebulon Quixote\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}"));
    assertThat(BundleValidator.validate(unknown)).singleElement().satisfies(i -> {
      assertThat(i.entryIndex()).isEqualTo(1);
      assertThat(i.path()).isEqualTo("Bundle.entry[1].resource.resourceType");
      assertThat(i.message()).startsWith("bundle entry 1: unknown resource type").doesNotContain("Zebulon");
    });
    String badMethod = PATIENT_ENTRY.replace("\"PUT\"", "\"FETCH\"");
    Bundle b = (Bundle) Fhir.parseBundleBody(batch("batch", badMethod));
    assertThat(BundleValidator.validate(b)).singleElement()
        .satisfies(i -> assertThat(i.path()).isEqualTo("Bundle.entry[1].request.method"))
        .satisfies(i -> assertThat(i.message()).startsWith("bundle entry 1: element 'Bundle.entry[1].request.method': ")
            .doesNotContain("FETCH"));
  }

  @Test
  void aTransactionWithABadEntryIsRefusedWholeNamingTheEntry() {
    String body = batch("transaction", observation("\"status\":\"finalish\""));
    FhirInputException e = refused(body); // parseResource: no entry is kept apart
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(e.issues()).singleElement().satisfies(i -> {
      assertThat(i.entryIndex()).isEqualTo(1);
      assertThat(i.path()).isEqualTo("Bundle.entry[1].resource.status");
      assertThat(i.message()).startsWith("bundle entry 1: element 'Bundle.entry[1].resource.status': ");
    });
    // parsed for the base URL, the entry is kept apart, and validation still refuses the Bundle whole
    Bundle kept = (Bundle) Fhir.parseBundleBody(body);
    assertThat(BundleValidator.validate(kept)).extracting(FhirIssue::entryIndex).containsExactly(1);
  }

  @Test
  void aFaultOutsideTheEntriesRefusesTheWholeBundle() {
    FhirInputException e = catchThrowableOfType(FhirInputException.class, () -> Fhir.parseBundleBody(
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"total\":\"many\",\"entry\":[" + PATIENT_ENTRY + "]}"));
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(e.issues()).singleElement().satisfies(i -> {
      assertThat(i.entryIndex()).isNull();
      assertThat(i.path()).isEqualTo("Bundle.total");
      assertThat(i.message()).startsWith("element 'Bundle.total': ").doesNotContain("many");
    });
  }

  @Test
  void aDecimalWrittenOutWithMoreThanAThousandDigitsIsA400NotAStoredBodyNoParserReadsBack() {
    // HAPI writes a decimal out in full: 1e99999 was stored as 100,000 digits, which the parser refuses
    // on every read (JSON numbers of 1,000 characters at most), so the embedding worker parked it and
    // reading the patient's identifiers for chat failed; a larger exponent would fill the heap.
    for (String value : List.of("1e99999", "-1E+999999999", "1e-99999", "12345.678e998", "1e99999999999")) {
      FhirInputException e = refused("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
          + "\"valueQuantity\":{\"value\":" + value + "}}");
      assertThat(e).as(value).isNotNull();
      assertThat(e.httpStatus()).as(value).isEqualTo(400);
      assertThat(e.issues().get(0).path()).as(value).isEqualTo("Observation.valueQuantity.value");
      assertThat(e.getMessage()).as(value).contains("1,000 digits").doesNotContain(value);
    }
    // a decimal that fits is taken, and what is stored reads back
    for (String value : List.of("1.5e3", "7.9", "1e990", "-0.000001")) {
      String json = Fhir.toJson(Fhir.parseResource("{\"resourceType\":\"Observation\",\"status\":\"final\","
          + "\"code\":{\"text\":\"x\"},\"valueQuantity\":{\"value\":" + value + "}}"));
      assertThat(Fhir.parseResource(json)).as(value).isNotNull();
    }
  }
}
