package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

class ValidationTest {

  @Test
  void malformedXmlAndUnknownTypesAreRefusedWithoutEchoingThePayload() {
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Observation\", \"status\": Smith}"))
        .isInstanceOf(FhirInputException.class).hasMessageNotContaining("Smith");
    assertThatThrownBy(() -> Fhir.parseResource("<Patient xmlns=\"http://hl7.org/fhir\"/>"))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("XML");
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patent\"}"))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("unknown resource type")
        .hasMessageNotContaining("Patent");
    assertThatThrownBy(() -> Fhir.parseResource("{\"id\":\"x\"}"))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("resourceType is required");
  }

  @Test
  void aValueItsElementCannotHoldNamesTheElementAndWhatItNeedsNotTheValue() {
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"birthDate\":\"1970/01/05\"}"))
        .isInstanceOf(FhirInputException.class)
        .hasMessage("element 'Patient.birthDate': not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or "
            + "YYYY-MM-DDThh:mm:ss with a time zone)");
    // the right form, but no such day: it was told its form was wrong
    for (String day : List.of("1947-02-30", "1970-13-45")) {
      assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"birthDate\":\"" + day + "\"}"))
          .isInstanceOf(FhirInputException.class)
          .hasMessage("element 'Patient.birthDate': in the form of a FHIR date or dateTime, but no such day or time "
              + "exists (check the month's days and the hours and minutes)")
          .hasMessageNotContaining(day);
    }
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"gender\":\"Zebulonish\"}"))
        .isInstanceOf(FhirInputException.class)
        .hasMessage("element 'Patient.gender': not a code of the FHIR AdministrativeGender value set");
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"active\":\"Zebulon\"}"))
        .isInstanceOf(FhirInputException.class)
        .hasMessage("element 'Patient.active': expected a JSON true or false (a FHIR boolean), found a JSON string");
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"multipleBirthInteger\":\"Zeb\"}"))
        .isInstanceOf(FhirInputException.class)
        .hasMessage("element 'Patient.multipleBirthInteger': expected a JSON number (a FHIR integer), found a JSON string");
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"multipleBirthInteger\":2.75}"))
        .isInstanceOf(FhirInputException.class).hasMessageStartingWith("element 'Patient.multipleBirthInteger': not a valid value")
        .hasMessageNotContaining("2.75");
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Observation\",\"status\":\"\"}"))
        .isInstanceOf(FhirInputException.class)
        .hasMessage("element 'Observation.status': an empty string is not a FHIR value: leave the element out instead")
        .satisfies(e -> assertThat(((FhirInputException) e).httpStatus()).isEqualTo(400));
    // inside a Bundle too: the whole Bundle is refused, naming the entry and the element
    assertThatThrownBy(() -> Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation",
          "status":"final","effectiveDateTime":"Zebulon"},"request":{"method":"POST","url":"Observation"}}]}"""))
        .isInstanceOf(FhirInputException.class)
        .hasMessageStartingWith("bundle entry 0: element 'Bundle.entry[0].resource.effectiveDateTime': not a FHIR date")
        .hasMessageNotContaining("Zebulon");
  }

  /**
   * HAPI takes a time of day in a FHIR date ({@code "birthDate": "1961-03-04T10:00:00Z"}) and a dateTime
   * whose time has no zone or no seconds, and stores them as sent: values their elements cannot hold
   * (R4: a date has no time; "if hours and minutes are specified, a time zone SHALL be populated"), which
   * the message for a bad date already told feeds. Refused, naming the element, never the value.
   */
  @Test
  void aDateWithATimeAndADateTimeWithoutItsZoneAreRefused() {
    for (String sent : List.of("1961-03-04T10:00:00Z", "1961-03-04T10:00:00", "1961-03-04T00:00:00+01:00")) {
      assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"birthDate\":\"" + sent + "\"}"))
          .isInstanceOf(FhirInputException.class)
          .hasMessage("element 'Patient.birthDate': a FHIR date takes no time of day (YYYY, YYYY-MM or YYYY-MM-DD)")
          .hasMessageNotContaining("1961");
    }
    for (String sent : List.of("2024-01-02T10:00:00", "2024-01-02T10:00", "2024-01-02T10:00Z", "2024-01-02T10:00:00.5")) {
      assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Observation\",\"status\":\"final\","
          + "\"code\":{\"text\":\"x\"},\"effectiveDateTime\":\"" + sent + "\"}"))
          .isInstanceOf(FhirInputException.class)
          .hasMessage("element 'Observation.effectiveDateTime': a FHIR dateTime with a time of day needs its seconds and "
              + "a time zone (YYYY-MM-DDThh:mm:ss followed by Z or +hh:mm/-hh:mm)")
          .hasMessageNotContaining("2024");
    }
    // what FHIR allows is taken as before
    for (String sent : List.of("2024", "2024-01", "2024-01-02", "2024-01-02T10:00:00Z", "2024-01-02T10:00:00.123-05:00")) {
      assertThat(Fhir.parseResource("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
          + "\"effectiveDateTime\":\"" + sent + "\"}")).isNotNull();
    }
    for (String sent : List.of("1961", "1961-03", "1961-03-04")) {
      assertThat(Fhir.parseResource("{\"resourceType\":\"Patient\",\"birthDate\":\"" + sent + "\"}")).isNotNull();
    }
    // a character outside the BMP, sent as its escaped surrogate pair, is one character and is kept
    assertThat(((org.hl7.fhir.r4.model.Patient) Fhir.parseResource(
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zeb\\ud83d\\ude00\"}]}")).getNameFirstRep().getFamily())
        .isEqualTo("Zeb" + new String(Character.toChars(0x1F600)));
    // the element's other spellings: in a list, inside a Bundle entry
    assertThatThrownBy(() -> Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient",
          "birthDate":"1961-03-04T10:00:00Z"},"request":{"method":"POST","url":"Patient"}}]}"""))
        .isInstanceOf(FhirInputException.class)
        .hasMessageStartingWith("bundle entry 0: element 'Bundle.entry[0].resource.birthDate': a FHIR date takes no time");
  }

  @Test
  void whatHapiWouldDropIsRefusedWhatItRepairsIsKept() {
    // HAPI's lenient parser keeps the first value and drops the rest, and drops a scalar where an
    // object belongs: refused, so nothing is stored with data silently missing
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"gender\":[\"male\",\"female\"]}"))
        .isInstanceOf(FhirInputException.class).hasMessage("element 'Patient.gender': takes one value, not a list of several");
    assertThatThrownBy(() -> Fhir.parseResource("{\"resourceType\":\"Patient\",\"name\":\"Zebulon\"}"))
        .isInstanceOf(FhirInputException.class)
        .hasMessage("element 'Patient.name': expected a JSON object, found a JSON string");
    // repaired without loss: an object for an array of them, one value in an array
    Patient p = (Patient) Fhir.parseResource(
        "{\"resourceType\":\"Patient\",\"name\":{\"family\":\"Zebulon\"},\"birthDate\":[\"1970\"]}");
    assertThat(p.getNameFirstRep().getFamily()).isEqualTo("Zebulon");
    assertThat(p.getBirthDateElement().getValueAsString()).isEqualTo("1970");
  }

  @Test
  void unknownElementsAreStillSkipped() {
    assertThat(Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"nickname\":\"Zeb\"}").getIdPart())
        .isEqualTo("p1");
  }

  @Test
  void requiredElementsNameThePath() {
    List<FhirIssue> issues = ResourceValidator.validate(Fhir.parseResource(
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}"));
    assertThat(issues).extracting(FhirIssue::path).containsExactly("Observation.subject");
    assertThat(issues.get(0).message()).startsWith("Observation.subject is required here, though R4 leaves it optional");
    assertThat(new FhirInputException(issues).httpStatus()).isEqualTo(422);
  }

  /**
   * An R5 Encounter's {@code class} (a list of CodeableConcepts) parses as an R4 Coding whose every key is
   * skipped, and an R5 Consent names its patient {@code subject}: both were answered "is required" alone,
   * which told the feed to add what it had sent. The message says where something was skipped, and never
   * the skipped element's name.
   */
  /**
   * The hint names where something was skipped, never what: a sender's key can be a patient's name, and its value
   * anything. Keys and values chosen by a sender, at the resource's top, inside the missing element, in a Bundle
   * entry and in a contained resource, appear in no message.
   */
  @Test
  void theSkippedHintCarriesNoKeyOrValueTheSenderChose() {
    List<String> messages = new java.util.ArrayList<>();
    for (String json : List.of(
        "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"Zintlemayer\":\"Wexmoor 1947-02-03\"}",
        "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"Zintlemayer\":\"Wexmoor\"}}",
        "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":[{\"Zintlemayer\":{\"Wexmoor\":1}}]}",
        "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"text\":\"s\"},\"category\":[{\"text\":\"c\"}],"
            + "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"c\",\"Zintlemayer\":\"Wexmoor\"}],\"Zintlemayer\":1}")) {
      ResourceValidator.validate(Fhir.parseResource(json)).forEach(i -> messages.add(i.path() + " " + i.message()));
    }
    BundleValidator.validate((Bundle) Fhir.parseBundleBody("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:6a1f0c3e-0d6b-4c55-9d7e-2f4a1b9c8e01","resource":{"resourceType":"Encounter",
           "status":"in-progress","Zintlemayer":"Wexmoor","class":{"Zintlemayer":"Wexmoor"}},
           "request":{"method":"POST","url":"Encounter"}}]}""")).forEach(i -> messages.add(i.path() + " " + i.message()));
    assertThat(messages).hasSize(5).allSatisfy(m -> assertThat(m).contains("were skipped in")
        .doesNotContain("Zintlemayer").doesNotContain("Wexmoor").doesNotContain("1947"));
  }

  @Test
  void aRequiredElementMissingWhereSomethingWasSkippedSaysItMayBeInAnotherShape() {
    List<FhirIssue> encounter = ResourceValidator.validate(Fhir.parseResource("""
        {"resourceType":"Encounter","status":"in-progress","class":[{"coding":[{"code":"AMB"}]}]}"""));
    assertThat(encounter).extracting(FhirIssue::path).containsExactly("Encounter.class");
    assertThat(encounter.get(0).message()).startsWith("Encounter.class is required; elements FHIR R4 does not define "
        + "were skipped in Encounter.class[0]: if Encounter.class was sent, it was sent in another shape than R4's "
        + "(a resource of FHIR R5 or STU3?)").doesNotContain("coding");
    List<FhirIssue> consent = ResourceValidator.validate(Fhir.parseResource("""
        {"resourceType":"Consent","status":"active","scope":{"text":"s"},"category":[{"text":"c"}],
         "subject":{"reference":"Patient/p1"},"decision":"permit"}"""));
    assertThat(consent).extracting(FhirIssue::path).containsExactly("Consent.patient");
    assertThat(consent.get(0).message()).contains("were skipped in Consent: if Consent.patient was sent")
        .doesNotContain("subject").doesNotContain("decision");
    // nothing skipped near it: the message is as before
    List<FhirIssue> plain = ResourceValidator.validate(Fhir.parseResource("""
        {"resourceType":"Encounter","status":"in-progress","period":{"start":"2024","nickname":"x"}}"""));
    assertThat(plain.get(0).message()).isEqualTo("Encounter.class is required");
    // in a Bundle entry, the entry's own skipped paths are read from the resource
    List<FhirIssue> entry = BundleValidator.validate((Bundle) Fhir.parseBundleBody("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","nickname":"x"},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Encounter","status":"in-progress","class":[{"coding":[{"code":"AMB"}]}]},
           "request":{"method":"POST","url":"Encounter"}}]}"""));
    assertThat(entry).extracting(FhirIssue::path).containsExactly("Bundle.entry[1].resource.class");
    assertThat(entry.get(0).message()).startsWith("bundle entry 1: Encounter.class is required; elements FHIR R4 "
        + "does not define were skipped in Encounter.class[0]:");
  }

  /**
   * A record about a device, a location, a group or a practitioner, or naming its patient by an
   * identifier alone, was stored under no patient (201) and could never be retrieved, though the
   * README said it was refused.
   */
  @Test
  void theElementThatFilesARecordUnderItsPatientMustNameAPatient() {
    for (String[] bad : new String[][] {
        {"{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Device/d1\"}}", "Observation.subject"},
        {"{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Location/l1\"}}", "Observation.subject"},
        {"{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Group/g1\"}}", "Observation.subject"},
        {"{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Practitioner/pr-lee\"}}", "Condition.subject"},
        {"{\"resourceType\":\"Condition\",\"subject\":{\"identifier\":{\"system\":\"urn:mrn\",\"value\":\"MRN-1\"}}}",
            "Condition.subject"},
        {"{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Organization?identifier=x|1\"}}",
            "Condition.subject"},
        {"{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"text\":\"x\"},\"category\":[{\"text\":\"x\"}],"
            + "\"patient\":{\"reference\":\"Practitioner/pz-1\"}}", "Consent.patient"}}) {
      List<FhirIssue> issues = ResourceValidator.validate(Fhir.parseResource(bad[0]));
      assertThat(issues).as(bad[0]).extracting(FhirIssue::path).containsExactly(bad[1]);
      assertThat(issues.get(0).message()).as(bad[0]).startsWith(bad[1] + " must reference a Patient")
          .doesNotContain("d1").doesNotContain("pr-lee").doesNotContain("MRN-1");
      assertThat(new FhirInputException(issues).httpStatus()).isEqualTo(422);
    }
    // a clinical note names its patient too (US Core requires it; R4 leaves it optional)
    List<FhirIssue> note = ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"DocumentReference\","
        + "\"status\":\"current\",\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"aGk=\"}}]}"));
    assertThat(note).extracting(FhirIssue::path).containsExactly("DocumentReference.subject");
    assertThat(note.get(0).message()).contains("R4 leaves it optional");
    // what names a patient: Patient/<id> (with a version), a conditional reference, a Patient entry of the transaction
    for (String ok : List.of("Patient/p-1", "Patient/p-1/_history/2", "Patient?identifier=urn:mrn|MRN-1")) {
      assertThat(ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"Condition\",\"subject\":"
          + "{\"reference\":\"" + ok + "\"}}"))).as(ok).extracting(FhirIssue::path).doesNotContain("Condition.subject");
    }
    // in a transaction, a urn:uuid names a Patient only as the fullUrl of one of its Patient entries
    String urn = "urn:uuid:11111111-1111-1111-1111-111111111111";
    String byUrn = "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"" + urn + "\"}}";
    assertThat(ResourceValidator.validate(Fhir.parseResource(byUrn), java.util.Map.of(urn, "Patient"))).isEmpty();
    assertThat(ResourceValidator.validate(Fhir.parseResource(byUrn), java.util.Map.of(urn, "Device")))
        .extracting(FhirIssue::path).containsExactly("Condition.subject");
    // an optional link (R4's own) is not required to name one: an Encounter's subject is read where it is a Patient
    assertThat(ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
        + "\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Group/g1\"}}"))).isEmpty();
  }

  @Test
  void bundleIssuesCarryTheEntryIndex() {
    Bundle bundle = (Bundle) Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient"},
           "request":{"method":"POST","url":"Patient"}},
          {"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient"},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},
           "request":{"method":"POST","url":"Observation"}},
          {"resource":{"resourceType":"Bundle","type":"collection"},"request":{"method":"POST","url":"Bundle"}}]}""");
    List<FhirIssue> issues = BundleValidator.validate(bundle);
    assertThat(issues).extracting(FhirIssue::code).containsExactly("duplicate", "required", "not-supported");
    assertThat(issues).extracting(FhirIssue::entryIndex).containsExactly(1, 2, 3);
    assertThat(issues.get(1).path()).isEqualTo("Bundle.entry[2].resource.subject");
    assertThat(issues.get(1).message()).startsWith("bundle entry 2: Observation.subject is required here");
    assertThat(OperationOutcomes.toJson(issues)).contains("OperationOutcome").contains("Bundle.entry[2].resource.subject");
  }

  /**
   * https://other.example/fhir/Patient/123 is a patient of another server: filed under this store's
   * Patient/123 it joined another person's record. Refused where it files a record under a patient;
   * a transaction's own Patient entry named by its fullUrl is taken.
   */
  @Test
  void anAbsolutePatientUrlFilesNoRecordUnlessItIsAnEntryOfTheTransaction() {
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"https://other.example/fhir/Patient/p9\"}}";
    assertThat(PatientCompartment.patientIdOf(Fhir.parseResource(obs))).isEmpty();
    List<FhirIssue> issues = ResourceValidator.validate(Fhir.parseResource(obs));
    assertThat(issues).singleElement().satisfies(i -> {
      assertThat(i.path()).isEqualTo("Observation.subject");
      assertThat(i.message()).startsWith("Observation.subject names a Patient by an absolute URL").doesNotContain("p9")
          .doesNotContain("other.example");
    });
    assertThat(new FhirInputException(issues).httpStatus()).isEqualTo(422);
    // relative, with or without a version, is this store's patient; other shapes are no patient
    assertThat(PatientCompartment.patientIdOf(Fhir.parseResource(obs.replace("https://other.example/fhir/", ""))))
        .contains("p9");
    assertThat(PatientCompartment.patientIdOf(Fhir.parseResource(
        obs.replace("https://other.example/fhir/Patient/p9", "Patient/p9/_history/2")))).contains("p9");
    assertThat(PatientCompartment.patientIdOf(Fhir.parseResource(
        obs.replace("https://other.example/fhir/Patient/p9", "Group/Patient/p9")))).isEmpty();
    // a Consent's patient too: a permit of another server's patient granted AI use to this one's
    assertThat(ResourceValidator.validate(Fhir.parseResource("""
        {"resourceType":"Consent","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
         "patient":{"reference":"http://other.example/fhir/Patient/p9"},"provision":{"type":"permit"}}""")))
        .extracting(FhirIssue::path).containsExactly("Consent.patient");
    String tx = """
        {"resourceType":"Bundle","type":"%s","entry":[
          {"fullUrl":"https://ehr.example/fhir/Patient/p9","resource":{"resourceType":"Patient"},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":%s,"request":{"method":"POST","url":"Observation"}}]}""";
    assertThat(BundleValidator.validate((Bundle) Fhir.parseResource(tx.formatted("transaction",
        obs.replace("other.example", "ehr.example"))))).isEmpty();
    assertThat(BundleValidator.validate((Bundle) Fhir.parseResource(tx.formatted("transaction", obs))))
        .extracting(FhirIssue::path).containsExactly("Bundle.entry[1].resource.subject");
    // a batch writes each entry on its own: another entry's fullUrl names nothing it can resolve
    assertThat(BundleValidator.validate((Bundle) Fhir.parseResource(tx.formatted("batch",
        obs.replace("other.example", "ehr.example"))))).extracting(FhirIssue::path)
        .containsExactly("Bundle.entry[1].resource.subject");
  }

  @Test
  void anEntryWithAnEmptyResourceIsValidAsThatResourceAloneIsAndOneWithoutAResourceIsNot() {
    // {"resourceType":"Patient"} is valid R4, and POST /fhir/{tenant}/Patient takes it
    assertThat(ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"Patient\"}"))).isEmpty();
    for (String type : List.of("batch", "transaction")) {
      Bundle bundle = (Bundle) Fhir.parseBundleBody("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
          + "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
          + "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/e\"}},"
          + "{\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}");
      assertThat(BundleValidator.validate(bundle)).as(type).singleElement().satisfies(i -> {
        assertThat(i.entryIndex()).isEqualTo(2);
        assertThat(i.path()).isEqualTo("Bundle.entry[2].resource");
        assertThat(i.message()).isEqualTo("bundle entry 2: resource is required for POST");
      });
    }
  }

  @Test
  void referencesMustBeWellFormed() {
    assertThat(ResourceValidator.wellFormed("Patient/123")).isTrue();
    assertThat(ResourceValidator.wellFormed("urn:uuid:11111111-1111-1111-1111-111111111111")).isTrue();
    assertThat(ResourceValidator.wellFormed("Practitioner?identifier=http://npi|123")).isTrue();
    assertThat(ResourceValidator.wellFormed("not a reference")).isFalse();
    // the type must be one of R4's: a record whose subject named another was filed under no patient
    assertThat(ResourceValidator.wellFormed("Zzyzxbottom/Quentin")).isFalse();
    assertThat(ResourceValidator.wellFormed("Zzyzxbottom?identifier=a|b")).isFalse();
    assertThat(ResourceValidator.wellFormed("https://ehr.example/fhir/Zzyzxbottom/q-1")).isFalse();
    assertThat(ResourceValidator.wellFormed("https://ehr.example/fhir/Practitioner/q-1")).isTrue();
    assertThat(ResourceValidator.wellFormed("PractitionerRole/r-1/_history/3")).isTrue();
  }

  /** A reference below the top level is held to the same form: only the resource's own elements were. */
  @Test
  void nestedReferencesMustBeWellFormedToo() {
    List<FhirIssue> issues = ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"Encounter\","
        + "\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/p-1\"},"
        + "\"participant\":[{\"individual\":{\"reference\":\"Zzyzxbottom/Quentin\"}}]}"));
    assertThat(issues).singleElement().satisfies(i -> {
      assertThat(i.path()).isEqualTo("Encounter.participant.individual");
      assertThat(i.message()).contains("is not a valid reference").doesNotContain("Zzyzx", "Quentin");
    });
  }

  /**
   * The identifier index hashes system|value: a system "urn:a|b" with value "c" hashed as system
   * "urn:a" with value "b|c", and a conditional create of the one matched the other's resource.
   */
  @Test
  void anIdentifierSystemWithABarIsRefusedNamingTheElementNotTheSystem() {
    List<FhirIssue> issues = ResourceValidator.validate(Fhir.parseResource("""
        {"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"A|B"},
          {"system":"urn:zeb|ulon","value":"Quentin"}],
         "generalPractitioner":[{"identifier":{"system":"urn:npi|x","value":"1"}}],
         "contained":[{"resourceType":"Practitioner","id":"p","identifier":[{"system":"urn:q|r","value":"2"}]}]}"""));
    assertThat(issues).extracting(FhirIssue::path).containsExactlyInAnyOrder("Patient.identifier[1].system",
        "Patient.generalPractitioner[0].identifier.system", "Patient.contained[0].identifier[0].system");
    assertThat(issues).allSatisfy(i -> {
      assertThat(i.code()).isEqualTo("invalid");
      assertThat(i.message()).contains("cannot contain '|'").doesNotContain("zeb", "ulon", "Quentin", "npi", "urn:q");
    });
    assertThat(new FhirInputException(issues).httpStatus()).isEqualTo(400);
    // a '|' in a value is a value's own: its criteria send it escaped (\|)
    assertThat(ResourceValidator.validate(Fhir.parseResource(
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"A|B\"}]}"))).isEmpty();
  }
}
