package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.carecontext.fhir.synthetic.SyntheticPatients;
import java.util.List;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * What HAPI's lenient parser drops without calling its error handler is refused, naming the
 * element's path and never a value: every value sent here carries "Zebulon" or "Quixote", and no
 * message may.
 */
class SilentDropsTest {

  /** A body HAPI would store without one of its values, the path of that value, and the status. */
  private record Drop(String body, String path, String code, int status) {}

  private static Drop drop(String body, String path) {
    return new Drop(body, path, "structure", 400);
  }

  private static final List<Drop> DROPS = List.of(
      // an object where FHIR wants a primitive: HAPI reads it as nothing
      drop("{\"resourceType\":\"Patient\",\"gender\":{\"code\":\"Zebulon\"}}", "Patient.gender"),
      drop("{\"resourceType\":\"Patient\",\"birthDate\":{}}", "Patient.birthDate"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"family\":{\"text\":\"Zebulon\"}}]}", "Patient.name[0].family"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":{\"text\":\"Zebulon\"}}]}", "Patient.name[0].given"),
      drop("{\"resourceType\":\"Patient\",\"active\":{\"v\":true}}", "Patient.active"),
      drop("{\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":{\"v\":\"Zebulon\"}}}",
          "Observation.valueQuantity.value"),
      drop("{\"resourceType\":\"Observation\",\"valueString\":{\"text\":\"Zebulon\"}}", "Observation.valueString"),
      drop("{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://x\",\"valueString\":{\"v\":\"Zebulon\"}}]}",
          "Patient.extension[0].valueString"),
      drop("{\"resourceType\":\"Patient\",\"modifierExtension\":[{\"url\":\"http://x\",\"valueCode\":{\"v\":\"Zebulon\"}}]}",
          "Patient.modifierExtension[0].valueCode"),
      drop("{\"resourceType\":\"Patient\",\"extension\":[{\"url\":{\"v\":\"Zebulon\"},\"valueString\":\"Quixote\"}]}",
          "Patient.extension[0].url"),
      drop("{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\","
          + "\"name\":{\"text\":\"Zebulon\"}}]}", "Patient.contained[0].name"),
      drop("{\"resourceType\":\"Patient\",\"_birthDate\":{\"extension\":[{\"url\":\"http://x\","
          + "\"valueString\":{\"v\":\"Zebulon\"}}]}}", "Patient._birthDate.extension[0].valueString"),
      // the extensions of a primitive's '_' object that are not a list of objects: HAPI dropped one
      // object (not a list) and everything in it without a word, and threw a NullPointerException (a 500)
      // on a list item that is not an object
      drop("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"_gender\":{\"extension\":{\"url\":\"http://x\","
          + "\"valueString\":\"Zebulon\"}}}", "Patient._gender.extension"),
      drop("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"_gender\":{\"extension\":\"Zebulon\"}}",
          "Patient._gender.extension"),
      drop("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"_gender\":{\"extension\":[\"Zebulon\"]}}",
          "Patient._gender.extension[0]"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Quixote\"],\"_given\":[{\"extension\":"
          + "[{\"url\":\"http://x\",\"valueString\":\"Zebulon\"},null]}]}]}", "Patient.name[0]._given[0].extension[1]"),
      // an object or a list in the list of a primitive: HAPI drops that item
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Quixote\",{\"text\":\"Zebulon\"}]}]}",
          "Patient.name[0].given[1]"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"family\":[{\"text\":\"Zebulon\"}]}]}", "Patient.name[0].family[0]"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[[\"Zebulon\"]]}]}", "Patient.name[0].given[0]"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"_given\":[null,\"Zebulon\"]}]}", "Patient.name[0]._given[1]"),
      // HAPI threw a NullPointerException on this one (a 500), on the next it dropped the resource
      drop("{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":{\"p\":\"Zebulon\"}}}",
          "Patient.text.div"),
      drop("{\"resourceType\":\"Patient\",\"contained\":[\"Zebulon\"]}", "Patient.contained[0]"),
      drop("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"Zebulon\",\"resource\":null}]}",
          "Parameters.parameter[0].resource"),
      new Drop("{\"resourceType\":\"Patient\",\"contained\":[{\"id\":\"Zebulon\"}]}", "Patient.contained[0]", "required", 422),
      // the id and extensions of a primitive that HAPI drops: a '_' list longer than its values,
      // an object where a list of them belongs, an id without extensions (which HAPI does not write),
      // and any at all on an element's id, an extension's url or the narrative's div
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Quixote\"],\"_given\":[null,{\"extension\":[{\"url\":"
          + "\"http://x\",\"valueString\":\"Zebulon\"}]}]}]}", "Patient.name[0]._given"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Quixote\"],\"_given\":{\"extension\":[{\"url\":"
          + "\"http://x\",\"valueString\":\"Zebulon\"}]}}]}", "Patient.name[0]._given"),
      drop("{\"resourceType\":\"Patient\",\"birthDate\":[\"1970-01-01\"],\"_birthDate\":{\"extension\":[{\"url\":"
          + "\"http://x\",\"valueString\":\"Zebulon\"}]}}", "Patient._birthDate"),
      new Drop("{\"resourceType\":\"Patient\",\"birthDate\":\"1970-01-01\",\"_birthDate\":{\"id\":\"Zebulon\"}}",
          "Patient._birthDate", "not-supported", 400),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Quixote\",\"_id\":{\"extension\":[{\"url\":"
          + "\"http://x\",\"valueString\":\"Zebulon\"}]}}]}", "Patient.name[0]._id"),
      drop("{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://x\",\"_url\":{\"extension\":[{\"url\":"
          + "\"http://y\",\"valueString\":\"Zebulon\"}]},\"valueString\":\"Quixote\"}]}", "Patient.extension[0]._url"),
      drop("{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"
          + "x</div>\",\"_div\":{\"extension\":[{\"url\":\"http://y\",\"valueString\":\"Zebulon\"}]}}}", "Patient.text._div"),
      drop("{\"resourceType\":\"Patient\",\"extension\":[{\"url\":[\"http://x/Zebulon\"],\"valueString\":\"Quixote\"}]}",
          "Patient.extension[0].url"),
      // two types of one choice element: HAPI keeps the last in an extension
      drop("{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://x\",\"valueString\":\"Zebulon\","
          + "\"valueCode\":\"Quixote\"}]}", "Patient.extension[0].valueCode"),
      // base64 that HAPI's decoder cuts short: after the padding, or a last group of one character
      new Drop("{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"WmVi=dWxvbg==\"}",
          "Binary.data", "value", 400),
      new Drop("{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"WmVidWxvb\"}",
          "Binary.data", "value", 400),
      // a control character in a string: FHIR allows none, and PostgreSQL refused a NUL with a 500
      new Drop("{\"resourceType\":\"Patient\",\"meta\":{\"security\":[{\"code\":\"Zeb\\u0000ulon\"}]}}",
          "Patient.meta.security[0].code", "value", 400),
      new Drop("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zebulon\\u001b[0m\"}]}",
          "Patient.name[0].family", "value", 400),
      // a lone UTF-16 surrogate escape is no character: it was stored as "?", the name silently changed
      new Drop("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zeb\\ud800ulon\"}]}",
          "Patient.name[0].family", "value", 400),
      new Drop("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Zebulon\\udc00\"]}]}",
          "Patient.name[0].given[0]", "value", 400),
      // a key twice in one object: HAPI keeps the last
      drop("{\"resourceType\":\"Patient\",\"birthDate\":\"1970-01-01\",\"birthDate\":\"1980-02-02\"}",
          "Patient.birthDate"),
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zebulon\",\"family\":\"Quixote\"}]}",
          "Patient.name[0].family"),
      drop("{\"resourceType\":\"Patient\",\"resourceType\":\"Patient\"}", "Patient.resourceType"),
      // a key R4 does not define is not named: it is whatever the sender wrote
      drop("{\"resourceType\":\"Patient\",\"name\":[{\"Zebulon\":1,\"Zebulon\":2}]}", "Patient.name[0]"),
      // resourceType after the other keys: the object is read twice, and walked all the same
      drop("{\"gender\":{\"code\":\"Zebulon\"},\"resourceType\":\"Patient\"}", "Patient.gender"));

  /** A primitive sent as another JSON type than FHIR's JSON format gives it, its path and what it needs. */
  private record WrongType(String body, String path, String needs) {}

  private static WrongType wrong(String type, String elements, String path, String needs) {
    return new WrongType("{\"resourceType\":\"" + type + "\"," + elements + "}", type + "." + path, needs);
  }

  private static final String STRING = "expected a JSON string (a FHIR ";
  private static final String NUMBER = "expected a JSON number (a FHIR ";
  private static final String BOOLEAN = "expected a JSON true or false (a FHIR boolean), found ";
  private static final String OBSERVATION = "\"status\":\"final\",\"code\":{\"text\":\"x\"},";

  // HAPI took each of these, turning the value into the element's type (1980 into "1980", "true"
  // into true, "1980.50" into 1980.50, 1980 into <div>1980</div>) or, for a few, refusing it
  // with a value error that did not say the JSON type was wrong or where (a primitive's id)
  private static final List<WrongType> WRONG_TYPES = List.of(
      wrong("Patient", "\"name\":[{\"family\":1980}]", "name[0].family", STRING + "string), found a JSON number"),
      wrong("Patient", "\"name\":[{\"family\":true}]", "name[0].family", STRING + "string), found a JSON boolean"),
      wrong("Patient", "\"name\":[{\"given\":[\"Quixote\",null,1980]}]", "name[0].given[2]",
          STRING + "string), found a JSON number in the list"),
      wrong("Patient", "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"c\",\"name\":[{\"family\":1980}]}]",
          "contained[0].name[0].family", STRING + "string), found a JSON number"),
      wrong("Patient", "\"id\":1980", "id", STRING + "id), found a JSON number"),
      wrong("Patient", "\"gender\":1980", "gender", STRING + "code), found a JSON number"),
      wrong("Observation", OBSERVATION + "\"category\":[{\"coding\":[{\"code\":1980}]}]", "category[0].coding[0].code",
          STRING + "code), found a JSON number"),
      wrong("Patient", "\"identifier\":[{\"system\":1980,\"value\":\"Zebulon\"}]", "identifier[0].system",
          STRING + "uri), found a JSON number"),
      wrong("Patient", "\"extension\":[{\"url\":1980,\"valueString\":\"Zebulon\"}]", "extension[0].url",
          STRING + "uri), found a JSON number"),
      wrong("Patient", "\"birthDate\":1980", "birthDate", STRING + "date), found a JSON number"),
      wrong("Patient", "\"deceasedDateTime\":1980", "deceasedDateTime", STRING + "dateTime), found a JSON number"),
      wrong("Patient", "\"meta\":{\"lastUpdated\":19800101}", "meta.lastUpdated", STRING + "instant), found a JSON number"),
      wrong("Observation", OBSERVATION + "\"valueTime\":1980", "valueTime", STRING + "time), found a JSON number"),
      wrong("Observation", OBSERVATION + "\"note\":[{\"text\":1980}]", "note[0].text", STRING + "markdown), found a JSON number"),
      wrong("Binary", "\"contentType\":\"text/plain\",\"data\":1980", "data", STRING + "base64Binary), found a JSON number"),
      wrong("Patient", "\"text\":{\"status\":\"generated\",\"div\":1980}", "text.div", STRING + "xhtml), found a JSON number"),
      wrong("Patient", "\"active\":\"true\"", "active", BOOLEAN + "a JSON string"),
      wrong("Patient", "\"active\":1", "active", BOOLEAN + "a JSON number"),
      wrong("Patient", "\"multipleBirthInteger\":\"1980\"", "multipleBirthInteger", NUMBER + "integer), found a JSON string"),
      wrong("Patient", "\"multipleBirthInteger\":true", "multipleBirthInteger", NUMBER + "integer), found a JSON boolean"),
      wrong("Patient", "\"telecom\":[{\"system\":\"phone\",\"value\":\"1\",\"rank\":\"1980\"}]", "telecom[0].rank",
          NUMBER + "positiveInt), found a JSON string"),
      wrong("Bundle", "\"type\":\"searchset\",\"total\":\"1980\"", "total", NUMBER + "unsignedInt), found a JSON string"),
      wrong("Observation", OBSERVATION + "\"valueQuantity\":{\"value\":\"1980.50\"}", "valueQuantity.value",
          NUMBER + "decimal), found a JSON string"),
      // in extensions, in the id and extensions of a primitive, and in a primitive's id
      wrong("Patient", "\"extension\":[{\"url\":\"http://x\",\"valueDecimal\":\"1980.5\"}]", "extension[0].valueDecimal",
          NUMBER + "decimal), found a JSON string"),
      wrong("Patient", "\"extension\":[{\"url\":\"http://x\",\"valueInteger\":\"1980\"}]", "extension[0].valueInteger",
          NUMBER + "integer), found a JSON string"),
      wrong("Patient", "\"extension\":[{\"url\":\"http://x\",\"valueString\":1980}]", "extension[0].valueString",
          STRING + "string), found a JSON number"),
      wrong("Patient", "\"extension\":[{\"url\":\"http://x\",\"valueBoolean\":\"false\"}]", "extension[0].valueBoolean",
          BOOLEAN + "a JSON string"),
      wrong("Patient", "\"birthDate\":\"1970\",\"_birthDate\":{\"extension\":[{\"url\":\"http://x\","
          + "\"valueInteger\":\"1980\"}]}", "_birthDate.extension[0].valueInteger", NUMBER + "integer), found a JSON string"),
      wrong("Patient", "\"birthDate\":\"1970\",\"_birthDate\":{\"id\":1980,\"extension\":[{\"url\":\"http://x\","
          + "\"valueString\":\"Zebulon\"}]}", "_birthDate.id", STRING + "string), found a JSON number"));

  @Test
  void aPrimitiveOfAnotherJsonTypeIsRefusedNamingItsPathAndTheTypeItNeeds() {
    for (WrongType w : WRONG_TYPES) {
      FhirInputException e = refused(w.body());
      assertThat(e).as(w.body()).isNotNull();
      assertThat(e.httpStatus()).as(w.body()).isEqualTo(400);
      assertThat(e.issues()).as(w.body()).singleElement().satisfies(i -> {
        assertThat(i.code()).isEqualTo("structure");
        assertThat(i.path()).isEqualTo(w.path());
        assertThat(i.message()).isEqualTo("element '" + w.path() + "': " + w.needs());
      });
      assertNoValue(OperationOutcomes.toJson(e.issues()));
    }
  }

  private static FhirInputException refused(String json) {
    return catchThrowableOfType(FhirInputException.class, () -> Fhir.parseResource(json));
  }

  private static void assertNoValue(String text) {
    assertThat(text).doesNotContain("Zebulon").doesNotContain("Quixote").doesNotContain("1980").doesNotContain("WmVi");
  }

  @Test
  void aValueHapiWouldDropSilentlyIsRefusedNamingItsPath() {
    for (Drop d : DROPS) {
      FhirInputException e = refused(d.body());
      assertThat(e).as(d.body()).isNotNull();
      assertThat(e.httpStatus()).as(d.body()).isEqualTo(d.status());
      assertThat(e.issues()).as(d.body()).singleElement().satisfies(i -> {
        assertThat(i.code()).isEqualTo(d.code());
        assertThat(i.path()).isEqualTo(d.path());
        assertThat(i.entryIndex()).isNull();
        assertThat(i.message()).startsWith("element '" + d.path() + "': ");
        assertNoValue(i.message());
      });
      assertNoValue(OperationOutcomes.toJson(e.issues()));
    }
  }

  @Test
  void theMessageSaysWhatTheElementTakes() {
    assertThat(refused("{\"resourceType\":\"Patient\",\"gender\":{\"code\":\"Zebulon\"}}").getMessage())
        .isEqualTo("element 'Patient.gender': expected a JSON string (a FHIR code), found a JSON object; "
            + "its id and extensions go in '_gender'");
    assertThat(refused("{\"resourceType\":\"Patient\",\"active\":[{\"v\":true}]}").getMessage())
        .isEqualTo("element 'Patient.active[0]': expected a JSON true or false (a FHIR boolean), found a JSON object "
            + "in the list; its id and extensions go in '_active'");
    assertThat(refused("{\"resourceType\":\"Patient\",\"birthDate\":\"1970-01-01\",\"birthDate\":\"1980-02-02\"}")
        .getMessage()).isEqualTo("element 'Patient.birthDate': appears more than once in its JSON object: send it once");
    assertThat(refused("{\"resourceType\":\"Patient\",\"contained\":[{\"id\":\"Zebulon\"}]}").getMessage())
        .isEqualTo("element 'Patient.contained[0]': resourceType is required");
  }

  @Test
  void whatLosesNothingStillParses() {
    // null and empty lists carry nothing; a one-item list for one value and unpadded base64 are repaired whole
    Patient p = (Patient) Fhir.parseResource("""
        {"resourceType":"Patient","gender":null,"telecom":[],"birthDate":["1970-01-01"],
         "name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://x","valueCode":"masked"}]},null]}],
         "unknownElement":{"any":{"shape":[1,{"x":2}]}},
         "_birthDate":[{"id":"b","extension":[{"url":"http://x","valueString":"kept"}]}]}""");
    assertThat(p.getBirthDateElement().getValueAsString()).isEqualTo("1970-01-01");
    assertThat(p.getNameFirstRep().getGiven()).hasSize(3);
    assertThat(Fhir.toJson(p)).contains("\"_birthDate\":{\"id\":\"b\",\"extension\"");
    for (String data : List.of("WmVidWxvbg==", "WmVidWxvbg", " WmVi\ndWxv bg== ")) {
      Binary b = (Binary) Fhir.parseResource("{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\""
          + data.replace("\n", "\\n") + "\"}");
      assertThat(new String(b.getData())).as(data).isEqualTo("Zebulon");
    }
    // what the platform writes, it reads back: every generated Bundle passes the walk
    for (var g : SyntheticPatients.generate(11, 3)) {
      assertThat(((Bundle) Fhir.parseBundleBody(Fhir.toJson(g.bundle()))).getEntry())
          .hasSameSizeAs(g.bundle().getEntry());
    }
  }

  /** Valid R4 in the shapes EHRs send, none of which the walk may refuse. */
  @Test
  void validResourcesOfEveryCommonShapePass() {
    List<String> valid = List.of("""
        {"resourceType":"Observation","id":"o1","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/vitalsigns"],
          "security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},
         "text":{"status":"generated","div":"<div xmlns='http://www.w3.org/1999/xhtml'>BP</div>"},
         "contained":[{"resourceType":"Practitioner","id":"p1","name":[{"family":"Lee"}]}],
         "extension":[{"url":"http://x/ext","valueCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"1"}]}},
                      {"url":"http://x/nested","extension":[{"url":"a","valueReference":{"reference":"#p1"}},
                                                            {"url":"b","valuePeriod":{"start":"2020-01-01"}}]}],
         "modifierExtension":[{"url":"http://x/mod","valueBoolean":false}],
         "status":"final","_status":{"extension":[{"url":"http://x/why","valueString":"checked"}]},
         "category":[{"coding":[{"id":"c1","system":"http://terminology.hl7.org/CodeSystem/observation-category",
           "code":"vital-signs","_code":{"extension":[{"url":"http://x/c","valueInteger":3}]}}]}],
         "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}],"text":"BP"},
         "subject":{"reference":"Patient/pt"},"effectivePeriod":{"start":"2020-01-01T10:00:00Z"},
         "performer":[{"reference":"#p1"}],
         "component":[{"code":{"text":"sys"},"valueQuantity":{"value":120.5,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
                      {"code":{"text":"dia"},"valueQuantity":{"value":80,"comparator":"<"}}],
         "referenceRange":[{"low":{"value":1},"high":{"value":2},"text":"ok"}],
         "identifier":[{"id":"i1","use":"official","system":"urn:x","value":"123","period":{"end":"2030-01-01"}}]}""", """
        {"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",
         "medicationCodeableConcept":{"text":"metformin"},"subject":{"reference":"Patient/pt"},
         "dosageInstruction":[{"sequence":1,"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d",
           "when":["MORN","EVE"],"_when":[null,{"extension":[{"url":"http://x/w","valueString":"late"}]}]}},
           "doseAndRate":[{"doseQuantity":{"value":500,"unit":"mg"}}]}],
         "note":[{"authorString":"dr","time":"2020-01-01T00:00:00Z","text":"with food"}]}""", """
        {"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/pt"},
         "content":[{"attachment":{"contentType":"text/plain","data":"WmVidWxvbg==","title":"note","size":7}}]}""", """
        {"resourceType":"Patient","id":"pt","active":true,"birthDate":"1970","_birthDate":{"extension":[
           {"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:00:00Z"}]},
         "name":[{"use":"official","family":"Q","given":["A","B"],"_given":[{"id":"g1","extension":[{"url":"http://x/g","valueString":"x"}]},null],"period":{"start":"2000"}}],
         "telecom":[{"system":"phone","value":"555","rank":1}],"deceasedBoolean":false,"multipleBirthInteger":2,
         "address":[{"line":["1 Main St","Apt 2"],"city":"X","postalCode":"1"}],
         "contact":[{"relationship":[{"text":"mother"}],"name":{"family":"Q"}}],
         "generalPractitioner":[{"reference":"Practitioner/pr","display":"Dr"}],
         "managingOrganization":{"identifier":{"system":"urn:o","value":"1"}}}""", """
        {"resourceType":"Patient","id":"every-primitive","extension":[
           {"url":"http://x/base64Binary","valueBase64Binary":"WmVidWxvbg=="},{"url":"http://x/boolean","valueBoolean":true},
           {"url":"http://x/canonical","valueCanonical":"http://x/StructureDefinition/y|1.0"},
           {"url":"http://x/code","valueCode":"a-b"},{"url":"http://x/date","valueDate":"2020-02"},
           {"url":"http://x/dateTime","valueDateTime":"2020-02-03T04:05:06.789+01:00"},
           {"url":"http://x/decimal","valueDecimal":-1.50},{"url":"http://x/exponent","valueDecimal":1.5e3},
           {"url":"http://x/id","valueId":"a.b-1"},{"url":"http://x/instant","valueInstant":"2020-02-03T04:05:06Z"},
           {"url":"http://x/integer","valueInteger":-2147483648},{"url":"http://x/markdown","valueMarkdown":"**x**"},
           {"url":"http://x/oid","valueOid":"urn:oid:1.2.3"},{"url":"http://x/positiveInt","valuePositiveInt":1},
           {"url":"http://x/string","valueString":"x"},{"url":"http://x/time","valueTime":"10:00:00"},
           {"url":"http://x/unsignedInt","valueUnsignedInt":0},{"url":"http://x/uri","valueUri":"urn:x"},
           {"url":"http://x/url","valueUrl":"http://x/y"},
           {"url":"http://x/uuid","valueUuid":"urn:uuid:c757873d-ec9a-4326-a141-556f43239520"}],
         "active":false,"_active":{"extension":[{"url":"http://x/why","valueInteger":0}]},"gender":"other",
         "name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x/g","valueBoolean":false}]}]}],
         "photo":[{"contentType":"text/plain","data":"WmVidWxvbg==","size":7,"hash":"WmVi","creation":"2020"}],
         "communication":[{"language":{"text":"en"},"preferred":true}]}""");
    for (String json : valid) {
      assertThat(Fhir.parseResource(json)).as(json).isNotNull();
    }
    // a decimal is a JSON number, and its text is kept: 1.50 stays 1.50
    assertThat(Fhir.toJson(Fhir.parseResource(valid.get(valid.size() - 1)))).contains("\"valueDecimal\":-1.50");
    assertThat(((Bundle) Fhir.parseResource("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}"))
        .getTotal()).isZero();
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + valid.stream().map(r -> "{\"fullUrl\":\"urn:uuid:" + java.util.UUID.randomUUID() + "\",\"resource\":" + r
            + ",\"request\":{\"method\":\"POST\",\"url\":\"" + r.substring(r.indexOf(':') + 2, r.indexOf('"', r.indexOf(':') + 2))
            + "\",\"ifNoneExist\":\"identifier=urn:x|123\"}}").collect(java.util.stream.Collectors.joining(","))
        + "]}";
    assertThat(((Bundle) Fhir.parseBundleBody(bundle)).getEntry()).hasSize(valid.size());
  }

  private static final String GOOD = """
      {"resource":{"resourceType":"Patient","id":"zq-1","name":[{"family":"Q"}]},"request":{"method":"PUT","url":"Patient/zq-1"}}""";

  private static String bundle(String type, String secondEntry) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + GOOD + "," + secondEntry + "]}";
  }

  private static String entry(String patientElements) {
    return "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"zq-2\"," + patientElements + "},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/zq-2\"}}";
  }

  private static final List<Drop> ENTRY_DROPS = List.of(
      drop(entry("\"gender\":{\"code\":\"Zebulon\"}"), "Bundle.entry[1].resource.gender"),
      drop(entry("\"name\":[{\"given\":[\"Quixote\",{\"text\":\"Zebulon\"}]}]"), "Bundle.entry[1].resource.name[0].given[1]"),
      drop(entry("\"birthDate\":\"1970-01-01\",\"birthDate\":\"1980-02-02\""), "Bundle.entry[1].resource.birthDate"),
      drop(entry("\"name\":[{\"family\":1980}]"), "Bundle.entry[1].resource.name[0].family"),
      drop(entry("\"extension\":[{\"url\":\"http://x\",\"valueInteger\":\"1980\"}]"),
          "Bundle.entry[1].resource.extension[0].valueInteger"),
      drop("{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"zq-2\"},\"resource\":{\"resourceType\":\"Patient\","
          + "\"id\":\"zq-3\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/zq-2\"}}", "Bundle.entry[1].resource"),
      // HAPI dropped the whole entry (and so the batch answered one entry fewer) or threw a NullPointerException
      new Drop("{\"resource\":{\"id\":\"zq-2\",\"gender\":\"male\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/zq-2\"}}",
          "Bundle.entry[1].resource", "required", 422),
      drop("{\"resource\":[{\"resourceType\":\"Patient\",\"id\":\"zq-2\"}],\"request\":{\"method\":\"PUT\","
          + "\"url\":\"Patient/zq-2\"}}", "Bundle.entry[1].resource"),
      drop("{\"resource\":\"Zebulon\",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/zq-2\"}}", "Bundle.entry[1].resource"),
      // HAPI threw a NullPointerException on a null resource (a 500)
      drop("{\"resource\":null,\"request\":{\"method\":\"PUT\",\"url\":\"Patient/zq-2\"}}", "Bundle.entry[1].resource"));

  @Test
  void inABatchOnlyTheEntryWithTheDropFailsNamingTheEntryAndPath() {
    for (Drop d : ENTRY_DROPS) {
      Bundle b = (Bundle) Fhir.parseBundleBody(bundle("batch", d.body()));
      assertThat(b.getEntry()).as(d.body()).hasSize(2);
      assertThat(b.getEntry().get(0).getResource()).as(d.body()).isInstanceOf(Patient.class);
      List<FhirIssue> issues = BundleValidator.validate(b);
      assertThat(issues).as(d.body()).singleElement().satisfies(i -> {
        assertThat(i.entryIndex()).isEqualTo(1);
        assertThat(i.code()).isEqualTo(d.code());
        assertThat(i.path()).isEqualTo(d.path());
        assertThat(i.message()).startsWith("bundle entry 1: element '" + d.path() + "': ");
        assertNoValue(i.message());
      });
      assertThat(new FhirInputException(issues).httpStatus()).as(d.body()).isEqualTo(d.status());
    }
  }

  @Test
  void aTransactionWithADropIsRefusedWholeNamingTheEntry() {
    for (Drop d : ENTRY_DROPS) {
      FhirInputException e = refused(bundle("transaction", d.body()));
      assertThat(e).as(d.body()).isNotNull();
      assertThat(e.httpStatus()).as(d.body()).isEqualTo(d.status());
      assertThat(e.issues()).as(d.body()).singleElement().satisfies(i -> {
        assertThat(i.entryIndex()).isEqualTo(1);
        assertThat(i.path()).isEqualTo(d.path());
        assertNoValue(i.message());
      });
    }
    // a drop in one entry and a HAPI-reported fault in another: both entries are named
    String two = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + entry("\"gender\":\"Zebulonish\"") + "," + entry("\"gender\":{\"code\":\"Zebulon\"}") + "]}";
    assertThat(refused(two).issues()).extracting(FhirIssue::entryIndex).containsExactly(0, 1);
    assertThat(refused(two).issues()).extracting(FhirIssue::path)
        .containsExactly("Bundle.entry[0].resource.gender", "Bundle.entry[1].resource.gender");
  }

  @Test
  void aDropOutsideTheEntriesRefusesTheWholeBundle() {
    for (String outside : List.of("\"total\":{\"v\":1}", "\"type\":\"transaction\",\"type\":\"batch\"",
        "\"identifier\":{\"value\":{\"v\":\"Zebulon\"}}")) {
      FhirInputException e = catchThrowableOfType(FhirInputException.class, () -> Fhir.parseBundleBody(
          "{\"resourceType\":\"Bundle\"," + (outside.startsWith("\"type\"") ? "" : "\"type\":\"batch\",") + outside
              + ",\"entry\":[" + GOOD + "]}"));
      assertThat(e).as(outside).isNotNull();
      assertThat(e.httpStatus()).isEqualTo(400);
      assertThat(e.issues()).singleElement().satisfies(i -> {
        assertThat(i.entryIndex()).isNull();
        assertThat(i.path()).startsWith("Bundle.").doesNotContain("entry");
        assertNoValue(i.message());
      });
    }
  }

  @Test
  void malformedJsonAfterADropIsStillAMalformedJson400() {
    FhirInputException e = refused("{\"resourceType\":\"Patient\",\"gender\":{\"code\":\"Zebulon\"},}");
    assertThat(e.getMessage()).startsWith("the body is not valid FHIR JSON: malformed JSON");
  }
}
