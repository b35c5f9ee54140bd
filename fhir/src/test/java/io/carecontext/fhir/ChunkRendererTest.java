package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkRendererTest {

  final ChunkRenderer renderer = new ChunkRenderer();

  Resource parse(String json) {
    return Fhir.parseResource(json);
  }

  /**
   * A flag sent as a bare v3 code read "(v3-ObservationInterpretation HH)", and of a female and a male
   * range only the first was shown, without saying whose it was.
   */
  @Test
  void interpretationCodesInWordsAndEveryRangeWithWhomItAppliesTo() {
    String text = renderer.render(parse("""
        {"resourceType":"Observation","id":"o2","status":"final",
         "code":{"text":"Hemoglobin"},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-05",
         "valueQuantity":{"value":19.9,"unit":"g/dL"},
         "referenceRange":[{"low":{"value":12,"unit":"g/dL"},"high":{"value":15.5,"unit":"g/dL"},
                            "appliesTo":[{"text":"female"}]},
                           {"low":{"value":13.5,"unit":"g/dL"},"high":{"value":17.5,"unit":"g/dL"},
                            "appliesTo":[{"text":"male"}]}],
         "interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                       "code":"HH"}]}]}""")).get(0).text();
    assertThat(text).isEqualTo("Observation: Hemoglobin 19.9 g/dL (reference range 12 g/dL to 15.5 g/dL for female; "
        + "13.5 g/dL to 17.5 g/dL for male). Interpretation: Critical high.");
    // a code of another system, or one v3 does not have, is shown as sent
    String local = renderer.render(parse("""
        {"resourceType":"Observation","id":"o3","status":"final","code":{"text":"Sodium"},
         "subject":{"reference":"Patient/p1"},"valueQuantity":{"value":150,"unit":"mmol/L"},
         "interpretation":[{"coding":[{"system":"urn:oid:1.2.3","code":"H"}]}]}""")).get(0).text();
    assertThat(local).contains("Interpretation: (urn:oid:1.2.3 H)").doesNotContain("High");
  }

  /** A visit's note signed days later was dated by the signing: it is dated by the visit it documents. */
  @Test
  void aDocumentIsDatedByTheCareItDocuments() {
    String doc = """
        {"resourceType":"DocumentReference","id":"d9","status":"current","subject":{"reference":"Patient/p1"},
         "date":"2024-03-12T09:00:00Z",%s
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""";
    String data = java.util.Base64.getEncoder().encodeToString("Seen for follow-up.".getBytes());
    assertThat(renderer.render(parse(doc.formatted("\"context\":{\"period\":{\"start\":\"2024-03-08T14:00:00-05:00\"}},",
        data))).get(0).effectiveDate()).hasToString("2024-03-08");
    assertThat(renderer.render(parse(doc.formatted("", data))).get(0).effectiveDate()).hasToString("2024-03-12");
  }

  @Test
  void observationWithCodeValueRangeAndInterpretation() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final",
         "category":[{"coding":[{"code":"laboratory"}]}],
         "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
         "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-05",
         "valueQuantity":{"value":7.2,"unit":"%"},
         "referenceRange":[{"low":{"value":4,"unit":"%"},"high":{"value":5.6,"unit":"%"}}],
         "interpretation":[{"coding":[{"code":"H","display":"High"}]}],
         "meta":{"security":[{"code":"R"}]}}"""));
    assertThat(chunks).hasSize(1);
    ClinicalChunk c = chunks.get(0);
    assertThat(c.text()).isEqualTo(
        "Observation: Hemoglobin A1c (LOINC 4548-4) 7.2 % (reference range 4 % to 5.6 %). Interpretation: High.");
    assertThat(c.category()).isEqualTo(Category.LAB);
    assertThat(c.patientId()).isEqualTo("p1");
    assertThat(c.securityLabels()).containsExactly("R");
    assertThat(c.effectiveDate()).hasToString("2024-03-05");
  }

  @Test
  void aPatientWithoutGenderOrBirthDateReadsAsASentence() {
    assertThat(renderer.render(parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"male\"}"))
        .get(0).text()).isEqualTo("Patient: male.");
    assertThat(renderer.render(parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"birthDate\":\"1957-03-14\"}"))
        .get(0).text()).isEqualTo("Patient: born 1957.");
    assertThat(renderer.render(parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":\"Doe\"}]}"))
        .get(0).text()).isEqualTo("Patient.");
    assertThat(renderer.render(parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\","
        + "\"birthDate\":\"1980-01-02\",\"deceasedBoolean\":true}")).get(0).text()).isEqualTo("Patient: female born 1980. Deceased.");
  }

  @Test
  void bloodPressureComponents() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"Observation","id":"bp","status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"}]},
         "subject":{"reference":"Patient/p1"},
         "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic"}]},"valueQuantity":{"value":142,"unit":"mmHg"}},
                      {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic"}]},"valueQuantity":{"value":91,"unit":"mmHg"}}]}"""));
    assertThat(chunks.get(0).text()).contains("Systolic (LOINC 8480-6) 142 mmHg").contains("Diastolic (LOINC 8462-4) 91 mmHg");
    assertThat(chunks.get(0).category()).isEqualTo(Category.CLINICAL);
  }

  @Test
  void anEncountersReasonsAreClinicalAndItsDatesAdministrative() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"Encounter","id":"e1","status":"finished",
         "class":{"code":"AMB","display":"ambulatory"},
         "type":[{"coding":[{"system":"http://snomed.info/sct","code":"185349003","display":"Check-up"}]}],
         "subject":{"reference":"Patient/p1"},"period":{"start":"2024-03-05","end":"2024-03-06"},
         "reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes type 2"}]}]}"""));
    assertThat(chunks).extracting(ClinicalChunk::category).containsExactly(Category.ADMINISTRATIVE, Category.CLINICAL);
    // the type left the administrative chunk too: its text can name a diagnosis, and billing reads that chunk
    assertThat(chunks.get(0).text()).isEqualTo("Encounter: ambulatory from 2024-03-05 to 2024-03-06. status finished.");
    assertThat(chunks.get(0).text()).doesNotContain("Diabetes").doesNotContain("44054006").doesNotContain("Check-up");
    assertThat(chunks.get(1).text()).startsWith("Encounter reason: Diabetes type 2 (SNOMED CT 44054006).")
        .contains("ambulatory Check-up (SNOMED CT 185349003)");
    assertThat(chunks).extracting(ClinicalChunk::effectiveDate).allMatch(d -> d.toString().equals("2024-03-05"));
    assertThat(chunks).extracting(ClinicalChunk::seq).containsExactly(0, 1);
  }

  @Test
  void anEncountersTypeIsNeverInTheChunkBillingReads() {
    // billing received "HIV post-exposure counseling and psychiatric intake for suicidal ideation"
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"Encounter","id":"e3","status":"finished","class":{"code":"AMB","display":"ambulatory"},
         "type":[{"text":"HIV post-exposure counseling"}],
         "subject":{"reference":"Patient/p1"},"period":{"start":"2024-02-02T09:00:00Z"}}"""));
    assertThat(chunks).extracting(ClinicalChunk::category).containsExactly(Category.ADMINISTRATIVE, Category.CLINICAL);
    assertThat(chunks.get(0).text()).isEqualTo("Encounter: ambulatory on 2024-02-02. status finished.");
    assertThat(chunks.get(1).text()).isEqualTo("Encounter: ambulatory HIV post-exposure counseling on 2024-02-02.");
  }

  @Test
  void anEncounterWithoutReasonsIsOneAdministrativeChunk() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"Encounter","id":"e2","status":"in-progress","class":{"code":"EMER","display":"emergency"},
         "subject":{"reference":"Patient/p1"},"period":{"start":"2024-04-01"}}"""));
    assertThat(chunks).hasSize(1);
    assertThat(chunks.get(0).category()).isEqualTo(Category.ADMINISTRATIVE);
    assertThat(chunks.get(0).text()).isEqualTo("Encounter: emergency on 2024-04-01. status in-progress.");
  }

  @Test
  void patientHasNoDirectIdentifiers() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"Patient","id":"p1","name":[{"family":"Okafor","given":["Adaeze"]}],
         "identifier":[{"system":"urn:mrn","value":"MRN-55501"}],"telecom":[{"system":"phone","value":"555-201-3344"}],
         "address":[{"line":["12 Elm St"],"city":"Springfield","postalCode":"62704"}],
         "gender":"female","birthDate":"1961-07-14"}"""));
    assertThat(chunks).hasSize(1);
    String text = chunks.get(0).text();
    assertThat(text).contains("female").contains("1961").doesNotContain("Okafor").doesNotContain("Adaeze")
        .doesNotContain("MRN").doesNotContain("555").doesNotContain("Elm").doesNotContain("62704")
        .doesNotContain("07-14");
    assertThat(chunks.get(0).category()).isEqualTo(Category.DEMOGRAPHIC);
  }

  @Test
  void documentNotesAreDecodedStrippedAndWindowedWithOverlap() {
    String note = "<p>First sentence about dyspnea.</p><script>alert('x')</script> "
        + "Second sentence about the chest X-ray. ".repeat(30) + "Final plan is diuresis.";
    String b64 = java.util.Base64.getEncoder().encodeToString(note.getBytes(StandardCharsets.UTF_8));
    List<ClinicalChunk> chunks = new ChunkRenderer(200).render(parse("""
        {"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},
         "type":{"text":"Progress note"},
         "content":[{"attachment":{"contentType":"text/html","data":"%s"}}]}""".formatted(b64)));
    assertThat(chunks).hasSizeGreaterThan(3);
    assertThat(chunks).allSatisfy(c -> {
      assertThat(c.text().length()).isLessThanOrEqualTo(200 + "Progress note: ".length());
      assertThat(c.text()).doesNotContain("<").doesNotContain("alert");
      assertThat(c.category()).isEqualTo(Category.NOTE);
    });
    // Consecutive windows share a sentence, so no statement loses its context at a boundary.
    String firstTail = chunks.get(0).text().substring(chunks.get(0).text().lastIndexOf("Second"));
    assertThat(chunks.get(1).text()).contains(firstTail.strip());
    assertThat(chunks.get(chunks.size() - 1).text()).endsWith("Final plan is diuresis.");
    assertThat(chunks).extracting(ClinicalChunk::seq).containsExactly(
        java.util.stream.IntStream.range(0, chunks.size()).boxed().toArray(Integer[]::new));
  }

  @Test
  void administrativeResourcesAndUnknownTypes() {
    List<ClinicalChunk> claim = renderer.render(parse("""
        {"resourceType":"Claim","id":"c1","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
         "created":"2024-01-02","type":{"coding":[{"code":"professional","display":"Professional"}]},
         "total":{"value":120.50,"currency":"USD"}}"""));
    assertThat(claim.get(0).category()).isEqualTo(Category.ADMINISTRATIVE);
    assertThat(claim.get(0).text()).contains("Claim:").contains("120.50 USD");
    assertThat(renderer.render(parse("{\"resourceType\":\"Practitioner\",\"id\":\"pr1\"}"))).isEmpty();
  }

  @Test
  void conditionMedicationAllergyImmunization() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},
         "clinicalStatus":{"coding":[{"code":"active"}]},
         "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}}"""))
        .get(0).text()).isEqualTo("Condition: Type 2 diabetes mellitus (SNOMED CT 44054006) (active)");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"860975","display":"Metformin 500 MG"}]},
         "dosageInstruction":[{"text":"500 mg twice daily"}]}"""))
        .get(0).text()).isEqualTo("Medication request: Metformin 500 MG (RxNorm 860975) 500 mg twice daily. status active.");
    assertThat(renderer.render(parse("""
        {"resourceType":"AllergyIntolerance","id":"a","patient":{"reference":"Patient/p1"},
         "code":{"coding":[{"system":"http://snomed.info/sct","code":"91936005","display":"Penicillin allergy"}]},
         "criticality":"high","reaction":[{"manifestation":[{"text":"Hives"}]}]}"""))
        .get(0).text()).contains("Penicillin allergy (SNOMED CT 91936005)").contains("criticality high").contains("Hives");
    assertThat(renderer.render(parse("""
        {"resourceType":"Immunization","id":"i","status":"completed","patient":{"reference":"Patient/p1"},
         "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"140","display":"Influenza"}]},
         "occurrenceDateTime":"2023-10-01"}"""))
        .get(0).text()).isEqualTo("Immunization: Influenza (CVX 140) status completed.");
  }

  // Before: an entered-in-error record of every type rendered as if it were true.
  @ParameterizedTest
  @ValueSource(strings = {
      """
      {"resourceType":"Observation","id":"x","status":"entered-in-error","subject":{"reference":"Patient/p1"},
       "code":{"text":"Potassium"},"valueQuantity":{"value":6.8,"unit":"mmol/L"}}""",
      """
      {"resourceType":"Condition","id":"x","subject":{"reference":"Patient/p1"},"code":{"text":"Lung cancer"},
       "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]}}""",
      """
      {"resourceType":"DocumentReference","id":"x","status":"entered-in-error","subject":{"reference":"Patient/p1"},
       "content":[{"attachment":{"contentType":"text/plain","data":"UGF0aWVudCBpcyBISVYgcG9zaXRpdmUu"}}]}""",
      """
      {"resourceType":"DocumentReference","id":"x","status":"current","docStatus":"entered-in-error",
       "subject":{"reference":"Patient/p1"},
       "content":[{"attachment":{"contentType":"text/plain","data":"UGF0aWVudCBpcyBISVYgcG9zaXRpdmUu"}}]}""",
      """
      {"resourceType":"MedicationRequest","id":"x","status":"entered-in-error","intent":"order",
       "subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"Warfarin 10 mg"}}""",
      """
      {"resourceType":"MedicationStatement","id":"x","status":"entered-in-error",
       "subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"Warfarin 10 mg"}}""",
      """
      {"resourceType":"AllergyIntolerance","id":"x","patient":{"reference":"Patient/p1"},"code":{"text":"Penicillin"},
       "verificationStatus":{"coding":[{"code":"entered-in-error"}]}}""",
      """
      {"resourceType":"Procedure","id":"x","status":"entered-in-error","subject":{"reference":"Patient/p1"},
       "code":{"text":"Appendectomy"}}""",
      """
      {"resourceType":"Immunization","id":"x","status":"entered-in-error","patient":{"reference":"Patient/p1"},
       "vaccineCode":{"text":"Influenza"},"occurrenceDateTime":"2023-10-01"}""",
      """
      {"resourceType":"DiagnosticReport","id":"x","status":"entered-in-error","subject":{"reference":"Patient/p1"},
       "code":{"text":"CT head"},"conclusion":"Subdural hematoma."}""",
      """
      {"resourceType":"Encounter","id":"x","status":"entered-in-error","class":{"code":"EMER"},
       "subject":{"reference":"Patient/p1"},"reasonCode":[{"text":"Overdose"}]}""",
      """
      {"resourceType":"CarePlan","id":"x","status":"entered-in-error","intent":"plan",
       "subject":{"reference":"Patient/p1"},"title":"Chemotherapy"}""",
      """
      {"resourceType":"Coverage","id":"x","status":"entered-in-error","beneficiary":{"reference":"Patient/p1"},
       "payor":[{"display":"Acme"}]}""",
      """
      {"resourceType":"Claim","id":"x","status":"entered-in-error","use":"claim","patient":{"reference":"Patient/p1"},
       "created":"2024-01-02","type":{"text":"Professional"}}""",
      """
      {"resourceType":"ExplanationOfBenefit","id":"x","status":"entered-in-error","use":"claim","outcome":"complete",
       "patient":{"reference":"Patient/p1"},"created":"2024-01-02","type":{"text":"Professional"}}"""})
  void aRecordEnteredInErrorRendersNoChunk(String json) {
    assertThat(renderer.render(parse(json))).isEmpty();
  }

  // Before: the superseded warfarin 10 mg discharge note was served (and ranked) next to the current 1 mg one.
  @Test
  void aSupersededDocumentRendersNoChunk() {
    String note = java.util.Base64.getEncoder().encodeToString("Warfarin 10 mg daily.".getBytes(StandardCharsets.UTF_8));
    assertThat(renderer.render(parse("""
        {"resourceType":"DocumentReference","id":"d1","status":"superseded","subject":{"reference":"Patient/p1"},
         "type":{"text":"Discharge summary"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(note)))).isEmpty();
  }

  // Before: a cancelled observation (no result exists) and a cancelled report rendered like results.
  @Test
  void aCancelledObservationOrReportRendersNoChunk() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"cancelled","subject":{"reference":"Patient/p1"},
         "code":{"text":"Troponin I"},"valueQuantity":{"value":0.5,"unit":"ng/mL"}}"""))).isEmpty();
    assertThat(renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r1","status":"cancelled","subject":{"reference":"Patient/p1"},
         "code":{"text":"Lipid panel"}}"""))).isEmpty();
  }

  // Before: a refuted diagnosis read "Condition: Pulmonary embolism", like one the patient has.
  @Test
  void aRefutedConditionSaysItWasRuledOut() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},
         "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"refuted"}]},
         "code":{"coding":[{"system":"http://snomed.info/sct","code":"59282003","display":"Pulmonary embolism"}]}}"""))
        .get(0).text()).isEqualTo("Condition: Pulmonary embolism (SNOMED CT 59282003) ruled out (refuted)");
  }

  // Before: a provisional or differential diagnosis read like a confirmed one.
  @Test
  void anUnconfirmedConditionSaysSoNextToItsClinicalStatus() {
    for (String v : List.of("provisional", "differential", "unconfirmed")) {
      assertThat(renderer.render(parse("""
          {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},
           "clinicalStatus":{"coding":[{"code":"active"}]},
           "verificationStatus":{"coding":[{"code":"%s"}]},"code":{"text":"Sepsis"}}""".formatted(v)))
          .get(0).text()).isEqualTo("Condition: Sepsis (" + v + ", active)");
    }
  }

  // Before: an allergy's verification and clinical status were not rendered, so a refuted allergy read as real.
  @Test
  void aRefutedAllergySaysItWasRuledOut() {
    assertThat(renderer.render(parse("""
        {"resourceType":"AllergyIntolerance","id":"a","patient":{"reference":"Patient/p1"},"code":{"text":"Penicillin"},
         "clinicalStatus":{"coding":[{"code":"inactive"}]},"verificationStatus":{"coding":[{"code":"refuted"}]}}"""))
        .get(0).text()).isEqualTo("Allergy: Penicillin ruled out (refuted, inactive)");
  }

  // Before: a preliminary, amended or corrected result read exactly like a final one.
  @Test
  void aResultThatIsNotFinalSaysSo() {
    for (String status : List.of("preliminary", "amended", "corrected")) {
      List<ClinicalChunk> chunks = renderer.render(parse("""
          {"resourceType":"Observation","id":"o1","status":"%s","subject":{"reference":"Patient/p1"},
           "code":{"text":"Potassium"},"valueQuantity":{"value":5.9,"unit":"mmol/L"},
           "note":[{"text":"Sample hemolysed."}]}""".formatted(status)));
      assertThat(chunks.get(0).text()).isEqualTo("Observation (" + status + " result): Potassium 5.9 mmol/L.");
      assertThat(chunks.get(1).text()).isEqualTo("Observation note (" + status + " result): Sample hemolysed.");
    }
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Potassium"},"valueQuantity":{"value":4.1,"unit":"mmol/L"}}""")).get(0).text())
        .isEqualTo("Observation: Potassium 4.1 mmol/L.");
  }

  // Before: a note whose docStatus is preliminary read like the signed one.
  @Test
  void aPreliminaryDocumentSaysItIsPreliminary() {
    String text = java.util.Base64.getEncoder().encodeToString("Plan: discharge tomorrow.".getBytes(StandardCharsets.UTF_8));
    assertThat(renderer.render(parse("""
        {"resourceType":"DocumentReference","id":"d1","status":"current","docStatus":"preliminary",
         "subject":{"reference":"Patient/p1"},"type":{"text":"Progress note"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(text)))
        .get(0).text()).isEqualTo("Progress note (preliminary): Plan: discharge tomorrow.");
  }

  // Before: a preliminary report's attached text was a note chunk with nothing saying it was preliminary.
  @Test
  void aPreliminaryReportsTextSaysItIsPreliminary() {
    String text = java.util.Base64.getEncoder().encodeToString("No acute findings.".getBytes(StandardCharsets.UTF_8));
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r1","status":"preliminary","subject":{"reference":"Patient/p1"},
         "code":{"text":"Chest X-ray"},"presentedForm":[{"contentType":"text/plain","data":"%s"}]}""".formatted(text)));
    assertThat(chunks).extracting(ClinicalChunk::text)
        .containsExactly("Diagnostic report: Chest X-ray status preliminary.", "Report (preliminary): No acute findings.");
  }

  // Before: the comparator was dropped, so a troponin "< 0.01 ng/mL" read as a measured 0.01 ng/mL.
  @Test
  void aQuantitysComparatorIsKeptInValuesComponentsAndRanges() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Troponin I"},"valueQuantity":{"value":0.01,"comparator":"<","unit":"ng/mL"}}"""))
        .get(0).text()).isEqualTo("Observation: Troponin I < 0.01 ng/mL.");
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"eGFR panel"},
         "component":[{"code":{"text":"eGFR"},"valueQuantity":{"value":90,"comparator":">","unit":"mL/min/1.73m2"}}]}"""))
        .get(0).text()).isEqualTo("Observation: eGFR panel; eGFR > 90 mL/min/1.73m2.");
  }

  // Before: trailing zeros were stripped (7.0 became "7", 0.50 "0.5"), though FHIR makes a decimal's precision significant.
  @Test
  void aDecimalRendersWithThePrecisionItWasSentWith() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"pH"},"valueQuantity":{"value":7.0,"unit":"[pH]"},
         "referenceRange":[{"low":{"value":7.35,"unit":"[pH]"},"high":{"value":7.450,"unit":"[pH]"}}],
         "component":[{"code":{"text":"Lactate"},"valueQuantity":{"value":0.50,"unit":"mmol/L"}}]}"""))
        .get(0).text()).isEqualTo("Observation: pH 7.0 [pH] (reference range 7.35 [pH] to 7.450 [pH]); Lactate 0.50 mmol/L.");
  }

  // Before: a range or ratio value rendered nothing ("Titer."), and a one-sided reference range read "(reference range 4 % to )".
  @Test
  void rangeAndRatioValuesAndOneSidedReferenceRangesRender() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"ANA titer"},"valueRatio":{"numerator":{"value":1},"denominator":{"value":640}},
         "referenceRange":[{"high":{"value":80}}]}""")).get(0).text())
        .isEqualTo("Observation: ANA titer 1 / 640 (reference range <= 80).");
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Pain score"},"valueRange":{"low":{"value":3},"high":{"value":5}},
         "referenceRange":[{"low":{"value":0}}]}""")).get(0).text())
        .isEqualTo("Observation: Pain score 3 to 5 (reference range >= 0).");
  }

  // Before: only dosageInstruction.text rendered, so an order with a structured dose, route and timing read as the drug's name alone.
  @Test
  void aStructuredDosageRendersItsDoseRouteAndTiming() {
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"Insulin glargine"},
         "dosageInstruction":[{"timing":{"code":{"coding":[{"code":"qHS"}]}},
           "route":{"coding":[{"system":"http://snomed.info/sct","code":"34206005","display":"SC"}]},
           "doseAndRate":[{"doseQuantity":{"value":20,"unit":"U"}}]}]}""")).get(0).text())
        .isEqualTo("Medication request: Insulin glargine dose 20 U, route SC, timing qHS. status active.");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"Methotrexate 2.5 mg tablet"},
         "dosageInstruction":[{"text":"Take as directed",
           "timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"wk","dayOfWeek":["mon"]}},
           "route":{"text":"oral"},"doseAndRate":[{"doseRange":{"low":{"value":3,"unit":"tablet"},"high":{"value":4,"unit":"tablet"}}}]}]}"""))
        .get(0).text())
        .isEqualTo("Medication request: Methotrexate 2.5 mg tablet Take as directed, dose 3 tablet to 4 tablet, route oral,"
            + " timing 1 per 1 wk on mon. status active.");
  }

  // Before: a revoked care plan read as the plan in force, a proposed one as agreed, and a proposed
  // medication as a prescription; a dosage's site, method, instructions and bounds were dropped.
  @Test
  void statusIntentAndTheRestOfADosageAreSaid() {
    assertThat(renderer.render(parse("""
        {"resourceType":"CarePlan","id":"cp","status":"revoked","intent":"proposal","subject":{"reference":"Patient/p1"},
         "title":"Diabetes self-management","period":{"start":"2024-01-10","end":"2024-06-30T12:00:00Z"}}""")).get(0).text())
        .isEqualTo("Care plan: Diabetes self-management status revoked, intent proposal. from 2024-01-10 to 2024-06-30");
    assertThat(renderer.render(parse("""
        {"resourceType":"CarePlan","id":"cp","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},
         "title":"Weight loss"}""")).get(0).text()).isEqualTo("Care plan: Weight loss status active.");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"draft","intent":"proposal","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"Amoxicillin 500 mg capsule"},
         "dosageInstruction":[{"site":{"text":"left eye"},"method":{"text":"instil"},
           "additionalInstruction":[{"text":"with food"}],"patientInstruction":"Finish the course",
           "timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d","count":21,
             "boundsPeriod":{"start":"2024-05-02","end":"2024-05-09"}}}}]}""")).get(0).text())
        .isEqualTo("Medication request: Amoxicillin 500 mg capsule site left eye, method instil, timing 3 per 1 d from"
            + " 2024-05-02 to 2024-05-09 21 times in all, with food, Finish the course. status draft, intent proposal.");
  }

  // Before: a statement's structured dosage was dropped the same way, and "as needed" with it.
  @Test
  void aStatementsDosageRendersTimingRepeatAndAsNeeded() {
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationStatement","id":"s","status":"active","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"Paracetamol 500 mg"},
         "dosage":[{"timing":{"repeat":{"frequency":1,"frequencyMax":2,"period":4,"periodMax":6,"periodUnit":"h"}},
           "asNeededCodeableConcept":{"text":"pain"},
           "doseAndRate":[{"doseQuantity":{"value":500,"unit":"mg"}}],
           "maxDosePerPeriod":{"numerator":{"value":4,"unit":"g"},"denominator":{"value":1,"unit":"d"}}},
          {"text":"Night dose","timing":{"repeat":{"period":1,"periodUnit":"d","when":["HS"]}},"asNeededBoolean":true}]}"""))
        .get(0).text())
        .isEqualTo("Medication statement: Paracetamol 500 mg dose 500 mg, timing 1-2 per 4-6 h, as needed for pain,"
            + " at most 4 g / 1 d; Night dose, timing every 1 d at HS, as needed. status active.");
  }

  // Before: a result with a dataAbsentReason rendered "Observation: Glucose." with no word on why there is no value.
  @Test
  void aMissingValueSaysWhy() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}]},
         "dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason",
           "code":"error","display":"Error"}]},
         "component":[{"code":{"text":"Hemolysis index"},
           "dataAbsentReason":{"coding":[{"code":"not-performed"}]}}]}""")).get(0).text())
        .isEqualTo("Observation: Glucose (LOINC 2345-7) no value: Error; Hemolysis index no value: not-performed.");
  }

  // Before: dates went through UTC, so 23:30 at -05:00 on 30 November became 1 December in the chunk's date and text.
  @Test
  void aDateIsTheDayAsWrittenNotItsUtcDay() {
    ClinicalChunk o = renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Troponin I"},"effectiveDateTime":"2026-11-30T23:30:00-05:00",
         "valueQuantity":{"value":0.02,"unit":"ng/mL"}}""")).get(0);
    assertThat(o.effectiveDate()).hasToString("2026-11-30");
    ClinicalChunk late = renderer.render(parse("""
        {"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Troponin I"},"effectiveDateTime":"2026-12-01T00:30:00+09:00",
         "valueQuantity":{"value":0.02,"unit":"ng/mL"}}""")).get(0);
    assertThat(late.effectiveDate()).hasToString("2026-12-01");
    List<ClinicalChunk> encounter = renderer.render(parse("""
        {"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"EMER","display":"emergency"},
         "subject":{"reference":"Patient/p1"},"period":{"start":"2026-11-30T23:30:00-05:00","end":"2026-12-01T01:10:00-05:00"}}"""));
    assertThat(encounter.get(0).text()).isEqualTo("Encounter: emergency from 2026-11-30 to 2026-12-01. status finished.");
    assertThat(encounter.get(0).effectiveDate()).hasToString("2026-11-30");
    ClinicalChunk condition = renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Chest pain"},
         "onsetDateTime":"2026-11-30T23:30:00-05:00"}""")).get(0);
    assertThat(condition.text()).isEqualTo("Condition: Chest pain onset 2026-11-30.");
    assertThat(condition.effectiveDate()).hasToString("2026-11-30");
  }

  // Before: an onset of 1998-06 read "onset 1998-06-01", a day nobody wrote (and which day depended on the JVM's zone).
  @Test
  void aPartialDateIsKeptAsWrittenInTheTextAndFilesUnderItsFirstDay() {
    ClinicalChunk c = renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Asthma"},
         "onsetDateTime":"1998-06"}""")).get(0);
    assertThat(c.text()).isEqualTo("Condition: Asthma onset 1998-06.");
    assertThat(c.effectiveDate().day()).hasToString("1998-06-01");
    assertThat(c.effectiveDate().asWritten()).isEqualTo("1998-06");
  }

  // Before: a chunk's date was a day, so an onset of "2019", a procedure "performed 1998" and an
  // immunization given "2017-09" were returned as the context's date and led the chat source as
  // 2019-01-01, 1998-01-01 and 2017-09-01 (and under the shift policy moved like real days).
  @Test
  void aChunksDateKeepsTheYearOrMonthItWasWrittenWith() {
    ClinicalChunk condition = renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Type 2 diabetes"},
         "onsetDateTime":"2019"}""")).get(0);
    assertThat(condition.effectiveDate().asWritten()).isEqualTo("2019");
    assertThat(condition.effectiveDate().precision()).isEqualTo(ClinicalDate.Precision.YEAR);
    ClinicalChunk procedure = renderer.render(parse("""
        {"resourceType":"Procedure","id":"p","status":"completed","subject":{"reference":"Patient/p1"},
         "code":{"text":"Appendectomy"},"performedDateTime":"1998"}""")).get(0);
    assertThat(procedure.effectiveDate().asWritten()).isEqualTo("1998");
    ClinicalChunk immunization = renderer.render(parse("""
        {"resourceType":"Immunization","id":"i","status":"completed","patient":{"reference":"Patient/p1"},
         "vaccineCode":{"text":"PPSV23"},"occurrenceDateTime":"2017-09"}""")).get(0);
    assertThat(immunization.effectiveDate().asWritten()).isEqualTo("2017-09");
    ClinicalChunk statement = renderer.render(parse("""
        {"resourceType":"MedicationStatement","id":"m","status":"active","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"aspirin 81 mg"},"effectivePeriod":{"start":"2018"}}""")).get(0);
    assertThat(statement.effectiveDate().asWritten()).isEqualTo("2018");
    // a time and its offset are not part of the date as written; the day is the local one
    ClinicalChunk timed = renderer.render(parse("""
        {"resourceType":"Immunization","id":"j","status":"completed","patient":{"reference":"Patient/p1"},
         "vaccineCode":{"text":"Influenza"},"occurrenceDateTime":"2023-10-12T23:30:00-07:00"}""")).get(0);
    assertThat(timed.effectiveDate().asWritten()).isEqualTo("2023-10-12");
    assertThat(timed.effectiveDate().precision()).isEqualTo(ClinicalDate.Precision.DAY);
  }

  // Before: the birth date was read at midnight in the JVM's zone and converted to UTC: east of UTC, born 1980-01-01 read "born 1979".
  @Test
  void theBirthYearDoesNotDependOnTheServersTimeZone() {
    java.util.TimeZone saved = java.util.TimeZone.getDefault();
    try {
      java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Europe/Berlin"));
      assertThat(renderer.render(parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"birthDate\":\"1980-01-01\"}"))
          .get(0).text()).isEqualTo("Patient: born 1980.");
    } finally {
      java.util.TimeZone.setDefault(saved);
    }
  }

  // Before: every DiagnosticReport was filed under lab, an imaging report (category RAD) included.
  @Test
  void anImagingReportIsClinicalAndALabReportLab() {
    assertThat(renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r1","status":"final","subject":{"reference":"Patient/p1"},
         "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"RAD","display":"Radiology"}]}],
         "code":{"text":"CT head"},"conclusion":"No acute intracranial abnormality."}""")).get(0).category())
        .isEqualTo(Category.CLINICAL);
    assertThat(renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r2","status":"final","subject":{"reference":"Patient/p1"},
         "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"HM"}]}],
         "code":{"text":"Complete blood count"}}""")).get(0).category()).isEqualTo(Category.LAB);
    assertThat(renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r3","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Basic metabolic panel"}}""")).get(0).category()).isEqualTo(Category.LAB);
  }

  // Before: a document with only attachment.url (a PDF) made no chunk, so its type, title, description and date were lost.
  @Test
  void aDocumentWithoutTextContentIsAChunkOfItsMetadata() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},
         "type":{"coding":[{"system":"http://loinc.org","code":"18842-5","display":"Discharge summary"}]},
         "description":"Warfarin reduced to 1 mg daily","date":"2026-11-30T23:30:00-05:00",
         "author":[{"reference":"Practitioner/pr1","display":"Dr. Ana Silva"}],
         "content":[{"attachment":{"contentType":"application/pdf","url":"https://ehr.example.org/docs/MRN-55501.pdf",
           "title":"Discharge summary, cardiology"}}]}"""));
    assertThat(chunks).hasSize(1);
    assertThat(chunks.get(0).text()).isEqualTo("Document: Discharge summary (LOINC 18842-5). Title: Discharge summary, cardiology."
        + " Warfarin reduced to 1 mg daily. Dated 2026-11-30. Author: Dr. Ana Silva."
        + " Its content (application/pdf) is not included here.");
    assertThat(chunks.get(0).text()).doesNotContain("MRN").doesNotContain("http");
    assertThat(chunks.get(0).category()).isEqualTo(Category.NOTE);
    assertThat(chunks.get(0).effectiveDate()).hasToString("2026-11-30");
  }

  // A document with a text version and a PDF of the same needs no metadata chunk: its text says more.
  @Test
  void aDocumentWithTextContentIsNotAlsoAMetadataChunk() {
    String text = java.util.Base64.getEncoder().encodeToString("Warfarin 1 mg daily.".getBytes(StandardCharsets.UTF_8));
    assertThat(renderer.render(parse("""
        {"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},
         "type":{"text":"Discharge summary"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}},
                    {"attachment":{"contentType":"application/pdf","url":"https://ehr.example.org/d1.pdf"}}]}""".formatted(text))))
        .extracting(ClinicalChunk::text).containsExactly("Discharge summary: Warfarin 1 mg daily.");
  }

  private static String b64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  // Before: plain text went through the HTML tag stripper (twice), so everything between a "<" and a
  // later ">" vanished: "troponin <0.01 ng/mL ... age >90" read "troponin 90", and a note's medication
  // list between them was lost.
  @Test
  void lessAndGreaterThanInPlainTextAreKept() {
    String note = "Troponin <0.01 ng/mL x2. Meds: apixaban 2.5 mg BID. BP goal <130/80. Goal A1c <7.5% given age >90.";
    List<ClinicalChunk> doc = renderer.render(parse("""
        {"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},
         "content":[{"attachment":{"contentType":"text/plain; charset=utf-8","data":"%s"}}]}""".formatted(b64(note))));
    assertThat(doc).extracting(ClinicalChunk::text).containsExactly(note);
    List<ClinicalChunk> report = renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"CBC"},"presentedForm":[{"contentType":"text/plain","data":"%s"}]}""".formatted(
        b64("Blasts <1 %. Platelets <100 confirmed on smear. Values >10.5 flagged."))));
    assertThat(report.get(1).text()).isEqualTo("Blasts <1 %. Platelets <100 confirmed on smear. Values >10.5 flagged.");
    List<ClinicalChunk> obs = renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Potassium"},"valueQuantity":{"value":5.9,"unit":"mmol/L"},
         "note":[{"text":"Hemolysis index <50; result valid. Repeat if K >6.0 or ECG changes."}]}"""));
    assertThat(obs.get(1).text()).isEqualTo("Observation note: Hemolysis index <50; result valid. Repeat if K >6.0 or ECG changes.");
    // HTML still loses its tags, and an escaped "<" in it is a "<" in the chunk, not the start of a tag
    List<ClinicalChunk> html = renderer.render(parse("""
        {"resourceType":"DocumentReference","id":"d2","status":"current","subject":{"reference":"Patient/p1"},
         "content":[{"attachment":{"contentType":"text/html","data":"%s"}}]}""".formatted(
        b64("<p>Troponin &lt;0.01 ng/mL; age &gt;90.</p>"))));
    assertThat(html).extracting(ClinicalChunk::text).containsExactly("Troponin <0.01 ng/mL; age >90.");
  }

  // Before: a component's own interpretation and reference range were dropped: a systolic of 168
  // flagged High against a limit of 130 read as a bare 168 mmHg.
  @Test
  void aComponentKeepsItsReferenceRangeAndInterpretation() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"bp","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Blood pressure"},
         "component":[{"code":{"text":"Systolic"},"valueQuantity":{"value":168,"unit":"mmHg"},
             "interpretation":[{"coding":[{"code":"H","display":"High"}]}],"referenceRange":[{"high":{"value":130,"unit":"mmHg"}}]},
           {"code":{"text":"Diastolic"},"valueQuantity":{"value":72,"unit":"mmHg"},
             "interpretation":[{"coding":[{"code":"N","display":"Normal"}]}]}]}""")).get(0).text())
        .isEqualTo("Observation: Blood pressure; Systolic 168 mmHg (reference range <= 130 mmHg), interpretation High;"
            + " Diastolic 72 mmHg, interpretation Normal.");
  }

  // Before: the date was the issued instant (when the result was released, often in UTC): a blood
  // pressure taken at 21:40 on 14 March (-04:00), issued 02:05Z, was dated 15 March.
  @Test
  void aResultIsDatedWhenItWasTakenNotWhenItWasIssued() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Troponin"},"effectiveDateTime":"2025-02-27T23:50:00-05:00","issued":"2025-02-28T06:10:00Z",
         "valueQuantity":{"value":0.01,"comparator":"<","unit":"ng/mL"}}""")).get(0).effectiveDate()).hasToString("2025-02-27");
    assertThat(renderer.render(parse("""
        {"resourceType":"DiagnosticReport","id":"r1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"CBC"},"effectivePeriod":{"start":"2025-03-01T22:00:00-05:00"},"issued":"2025-03-03T10:00:00Z",
         "conclusion":"Normal."}""")).get(0).effectiveDate()).hasToString("2025-03-01");
    // without an effective time, the issued one is all there is
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Sodium"},"issued":"2025-02-28T06:10:00Z","valueQuantity":{"value":139,"unit":"mmol/L"}}"""))
        .get(0).effectiveDate()).hasToString("2025-02-28");
  }

  // Before: "do not give spironolactone" (doNotPerform) read "Medication request: spironolactone ... status active."
  @Test
  void aDoNotPerformRequestSaysSo() {
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","doNotPerform":true,
         "subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"spironolactone"},
         "reasonCode":[{"text":"Hyperkalemia"}]}""")).get(0).text())
        .isEqualTo("Medication request: do NOT give spironolactone status active (an order NOT to give it). "
            + "Reason not to give: Hyperkalemia.");
  }

  // Before: an immunization or procedure not done read "Immunization: Influenza (CVX 140) status not-done." with
  // the reason dropped, and a statement stopped for a reason gave neither the reason nor when it ended.
  @Test
  void whatWasNotDoneSaysSoAndWhy() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Immunization","id":"i","status":"not-done","patient":{"reference":"Patient/p1"},
         "statusReason":{"coding":[{"code":"PATOBJ","display":"patient objection"}]},
         "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"140","display":"Influenza"}]},
         "occurrenceDateTime":"2024-10-15"}""")).get(0).text())
        .isEqualTo("Immunization not given: Influenza (CVX 140) status not-done. Reason: patient objection.");
    assertThat(renderer.render(parse("""
        {"resourceType":"Procedure","id":"p","status":"not-done","subject":{"reference":"Patient/p1"},
         "statusReason":{"text":"Procedure refused"},"code":{"text":"Colonoscopy"}}""")).get(0).text())
        .isEqualTo("Procedure not done: Colonoscopy status not-done. Reason: Procedure refused.");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationStatement","id":"s","status":"stopped","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"spironolactone 25 MG"},"statusReason":[{"text":"hyperkalemia"}],
         "effectivePeriod":{"start":"2024-01-10","end":"2025-03-14"},"dosage":[{"text":"25 mg once daily"}]}""")).get(0).text())
        .isEqualTo("Medication statement: spironolactone 25 MG 25 mg once daily. status stopped. Reason: hyperkalemia."
            + " from 2024-01-10 to 2025-03-14");
  }

  // Before: only an onset given as a dateTime was said; an onset period or age, and when a condition
  // ended (abatement), were dropped, so a resolved pneumonia did not say when it resolved.
  @Test
  void aConditionsOnsetInAnyFormAndItsAbatementAreSaid() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Pneumonia"},
         "clinicalStatus":{"coding":[{"code":"resolved"}]},
         "onsetDateTime":"2024-11-02","abatementDateTime":"2024-12-01T10:00:00-05:00"}""")).get(0).text())
        .isEqualTo("Condition: Pneumonia (resolved) onset 2024-11-02. abated 2024-12-01.");
    assertThat(renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Heart failure"},
         "onsetPeriod":{"start":"2019-06"}}""")).get(0).text()).isEqualTo("Condition: Heart failure onset from 2019-06.");
    assertThat(renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Asthma"},
         "onsetAge":{"value":7,"unit":"years"},"abatementString":"in adolescence"}""")).get(0).text())
        .isEqualTo("Condition: Asthma onset age 7 years. abated in adolescence.");
  }

  // Before: a reaction's severity was dropped: anaphylaxis and a mild rash read alike.
  @Test
  void anAllergysReactionSeverityIsSaid() {
    assertThat(renderer.render(parse("""
        {"resourceType":"AllergyIntolerance","id":"a","patient":{"reference":"Patient/p1"},"code":{"text":"Penicillin G"},
         "criticality":"high","reaction":[{"manifestation":[{"text":"Anaphylaxis"}],"severity":"severe"},
           {"manifestation":[{"text":"Hives"}]}]}""")).get(0).text())
        .isEqualTo("Allergy: Penicillin G criticality high. Reaction: Anaphylaxis (severe), Hives.");
  }

  // Before: a payor reference without a display read "payor null.", and an encounter class sent as a
  // code alone (Synthea's {"code":"AMB"}) left the administrative chunk without its kind.
  @Test
  void aPayorWithoutANameAndAClassWithoutADisplay() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Coverage","id":"c","status":"active","beneficiary":{"reference":"Patient/p1"},
         "type":{"text":"Medicare Part B"},"payor":[{"reference":"Organization/cms"}]}""")).get(0).text())
        .isEqualTo("Coverage: Medicare Part B status active.");
    assertThat(renderer.render(parse("""
        {"resourceType":"Encounter","id":"e","status":"finished","subject":{"reference":"Patient/p1"},
         "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
         "period":{"start":"2025-03-14T15:40:00-04:00"}}""")).get(0).text())
        .isEqualTo("Encounter: ambulatory on 2025-03-14. status finished.");
  }

  // Before: a medication named by reference (Epic sends a contained Medication, "#med1") rendered as
  // "medication": the drug was lost unless the reference carried a display.
  @Test
  void aMedicationByReferenceIsNamedFromItsContainedMedication() {
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
         "contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm",
           "code":"1364445","display":"apixaban 2.5 MG Oral Tablet"}]}}],
         "medicationReference":{"reference":"#med1"}}""")).get(0).text())
        .isEqualTo("Medication request: apixaban 2.5 MG Oral Tablet (RxNorm 1364445) status active.");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationStatement","id":"s","status":"active","subject":{"reference":"Patient/p1"},
         "medicationReference":{"reference":"Medication/m9"}}""")).get(0).text())
        .isEqualTo("Medication statement: medication (not named here) status active.");
  }

  // Before: the first coding was named whatever its system: an Epic-style code whose local coding
  // comes first read "Potassium (urn:oid:1.2.840.114350.1.13.0.1.7.2.768282 1558)", and the LOINC
  // code a clinician (and a search) knows was left out.
  @Test
  void aStandardCodingIsNamedBeforeALocalOne() {
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"coding":[{"system":"urn:oid:1.2.840.114350.1.13.0.1.7.2.768282","code":"1558","display":"POTASSIUM"},
           {"system":"http://loinc.org","code":"2823-3","display":"Potassium [Moles/volume] in Serum or Plasma"}],
           "text":"Potassium"},
         "valueQuantity":{"value":5.9,"unit":"mmol/L"}}""")).get(0).text())
        .isEqualTo("Observation: Potassium (LOINC 2823-3) 5.9 mmol/L.");
  }

  // Before: "2012-04-03: Allergy: Penicillin G ... Anaphylaxis" led by its recorded date read as when it
  // began (the onset, 2005, was not shown); a condition led by its recorded date likewise; metformin
  // "status stopped" did not say it was stopped for kidney failure; a Tdap given "around 2010"
  // (occurrenceString) had no date at all.
  @Test
  void recordedDatesOnsetsStatusReasonsAndRecalledDatesAreSaid() {
    assertThat(renderer.render(parse("""
        {"resourceType":"AllergyIntolerance","id":"a","patient":{"reference":"Patient/p1"},"code":{"text":"Penicillin G"},
         "onsetDateTime":"2005","recordedDate":"2012-04-03T10:00:00-07:00",
         "reaction":[{"manifestation":[{"text":"Anaphylaxis"}],"severity":"severe"}]}""")).get(0).text())
        .isEqualTo("Allergy: Penicillin G onset 2005. recorded 2012-04-03. Reaction: Anaphylaxis (severe).");
    assertThat(renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"text":"Type 2 diabetes"},
         "onsetDateTime":"2019","recordedDate":"2024-03-06"}""")).get(0).text())
        .isEqualTo("Condition: Type 2 diabetes onset 2019. recorded 2024-03-06.");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"stopped","intent":"order","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"metformin 500 mg tablet"},
         "statusReason":{"coding":[{"system":"http://snomed.info/sct","code":"236425005","display":"Chronic kidney disease stage 4"}]},
         "reasonCode":[{"text":"Type 2 diabetes"}]}""")).get(0).text())
        .isEqualTo("Medication request: metformin 500 mg tablet status stopped. Status reason: Chronic kidney disease "
            + "stage 4. Reason: Type 2 diabetes.");
    ClinicalChunk tdap = renderer.render(parse("""
        {"resourceType":"Immunization","id":"i","status":"completed","patient":{"reference":"Patient/p1"},
         "vaccineCode":{"text":"Tdap"},"occurrenceString":"around 2010","primarySource":false}""")).get(0);
    assertThat(tdap.text()).isEqualTo("Immunization: Tdap status completed. Given: around 2010.");
    assertThat(tdap.effectiveDate()).isNull();
  }

  // Before: UCUM codes sent as the unit read "WBC 7.2 10*3/uL" (7.2 times thirty?), "38.4 Cel", "168 mm[Hg]".
  @Test
  void ucumCodesSentAsUnitsReadAsTheUnitsAReaderKnows() {
    String text = renderer.render(parse("""
        {"resourceType":"Observation","id":"o","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Vitals and counts"},
         "component":[
          {"code":{"text":"WBC"},"valueQuantity":{"value":7.2,"unit":"10*3/uL","system":"http://unitsofmeasure.org","code":"10*3/uL"}},
          {"code":{"text":"Temperature"},"valueQuantity":{"value":38.4,"unit":"Cel"}},
          {"code":{"text":"Systolic"},"valueQuantity":{"value":168,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
          {"code":{"text":"Weight"},"valueQuantity":{"value":154.3,"unit":"[lb_av]"}},
          {"code":{"text":"Potassium"},"valueQuantity":{"value":5.9,"unit":"mmol/L"}}]}""")).get(0).text();
    assertThat(text).contains("WBC 7.2 x10^3/µL", "Temperature 38.4 °C", "Systolic 168 mmHg", "Weight 154.3 lb",
        "Potassium 5.9 mmol/L").doesNotContain("10*3", "Cel", "[Hg]", "[lb_av]");
  }

  // Before, seen on Cerner-style notes: "Temp 38.4&deg;C &plusmn; 0.1, &#8805;2 episodes, dose &frac12; tab"
  // reached the reader as written, and a Latin-1 note ("charset=ISO-8859-1") read "38.4" + U+FFFD + "C".
  @Test
  void htmlCharacterReferencesAndAnAttachmentsCharsetAreRead() {
    String html = "<p>Temp 38.4&deg;C &plusmn; 0.1, glucose &gt;400&nbsp;mg/dL, &#8805;2 episodes; B12 300&#160;pg/mL; "
        + "dose &frac12; tab; &amp;lt; stays &unknown; as written.</p>";
    String doc = """
        {"resourceType":"DocumentReference","id":"d","status":"current","subject":{"reference":"Patient/p1"},
         "type":{"text":"ED note"},"content":[{"attachment":{"contentType":"%s","data":"%s"}}]}""";
    assertThat(renderer.render(parse(doc.formatted("text/html",
        java.util.Base64.getEncoder().encodeToString(html.getBytes(StandardCharsets.UTF_8))))).get(0).text())
        .isEqualTo("ED note: Temp 38.4°C ± 0.1, glucose >400 mg/dL, ≥2 episodes; B12 300 pg/mL; dose ½ tab; &lt; stays "
            + "&unknown; as written.");
    assertThat(renderer.render(parse(doc.formatted("text/plain; charset=ISO-8859-1", java.util.Base64.getEncoder()
        .encodeToString("Temp 38.4°C, febrile.".getBytes(StandardCharsets.ISO_8859_1))))).get(0).text())
        .isEqualTo("ED note: Temp 38.4°C, febrile.");
  }

  // Before: a lactose intolerance read "Allergy: Lactose", a food allergy like a drug's, and a colonoscopy
  // stopped with bleeding read "status stopped" without its outcome or complication.
  @Test
  void intolerancesCategoriesOutcomesAndComplicationsAreSaid() {
    assertThat(renderer.render(parse("""
        {"resourceType":"AllergyIntolerance","id":"a","type":"intolerance","category":["food"],
         "patient":{"reference":"Patient/p1"},"code":{"text":"Lactose"},
         "reaction":[{"manifestation":[{"text":"bloating"}],"severity":"mild"}]}""")).get(0).text())
        .isEqualTo("Allergy: Lactose Type intolerance (not an allergy). Category food. Reaction: bloating (mild).");
    assertThat(renderer.render(parse("""
        {"resourceType":"Procedure","id":"p","status":"stopped","subject":{"reference":"Patient/p1"},
         "code":{"text":"Colonoscopy"},"statusReason":{"text":"poor bowel prep"},"outcome":{"text":"incomplete"},
         "complication":[{"text":"bleeding"}]}""")).get(0).text())
        .isEqualTo("Procedure: Colonoscopy status stopped. Reason: poor bowel prep. Outcome: incomplete. "
            + "Complication: bleeding.");
    assertThat(Texts.unit("{INR}")).isEqualTo("INR");
    assertThat(Texts.unit("{cells}/uL")).isEqualTo("cells/uL");
  }
  // Before: a FamilyMemberHistory rendered nothing: a mother's breast cancer at 45 never reached a prompt.
  @Test
  void aFamilyMemberHistorySaysWhoWhatWhenAndHowItEnded() {
    List<ClinicalChunk> chunks = renderer.render(parse("""
        {"resourceType":"FamilyMemberHistory","id":"f1","status":"completed","patient":{"reference":"Patient/p1"},
         "date":"2024-05-02","name":"Gertrude Quixotefield","bornDate":"1941-02-03",
         "relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"MTH"}]},
         "sex":{"coding":[{"code":"female"}]},"deceasedAge":{"value":67,"unit":"a"},
         "condition":[
          {"code":{"coding":[{"system":"http://snomed.info/sct","code":"254837009","display":"Breast cancer"}]},
           "onsetAge":{"value":45,"system":"http://unitsofmeasure.org","code":"a"},"outcome":{"text":"remission"},
           "note":[{"text":"Treated with mastectomy."}]},
          {"code":{"text":"Myocardial infarction"},"onsetRange":{"low":{"value":60,"unit":"a"},"high":{"value":65,"unit":"a"}},
           "contributedToDeath":true}],
         "note":[{"authorString":"Dr. Alvarez","text":"Mother's sister also had breast cancer."}]}"""));
    assertThat(chunks).extracting(ClinicalChunk::text).containsExactly(
        "Family history, mother: Breast cancer (SNOMED CT 254837009), onset at age 45 years, outcome remission; "
            + "Myocardial infarction, onset at age 60 to 65 years, contributed to death. Deceased at age 67 years.",
        "Family history note, mother: Mother's sister also had breast cancer.",
        "Family history note, mother, Breast cancer: Treated with mastectomy.");
    // the history is clinical, its free text a note; each chunk is the FamilyMemberHistory's, the class a Consent names
    assertThat(chunks).extracting(ClinicalChunk::category).containsExactly(Category.CLINICAL, Category.NOTE, Category.NOTE);
    assertThat(chunks).extracting(ClinicalChunk::resourceType).containsOnly("FamilyMemberHistory");
    assertThat(chunks).extracting(ClinicalChunk::patientId).containsOnly("p1");
    assertThat(chunks.get(0).effectiveDate()).hasToString("2024-05-02");
    // the relative's name and birth date, and who wrote the note, are not said
    assertThat(chunks).extracting(ClinicalChunk::text).noneMatch(t -> t.contains("Gertrude") || t.contains("Quixotefield")
        || t.contains("1941") || t.contains("Alvarez"));
    // a sibling's sex is said (the relationship does not), a history the record does not know says so
    assertThat(renderer.render(parse("""
        {"resourceType":"FamilyMemberHistory","id":"f2","status":"health-unknown","patient":{"reference":"Patient/p1"},
         "relationship":{"text":"Sibling"},"sex":{"coding":[{"code":"male","display":"Male"}]},"deceasedBoolean":false,
         "ageAge":{"value":52,"unit":"years"}}""")).get(0).text())
        .isEqualTo("Family history, sibling (male): Living. Relative's age: age 52 years. Health unknown.");
    assertThat(renderer.render(parse("""
        {"resourceType":"FamilyMemberHistory","id":"f3","status":"partial","patient":{"reference":"Patient/p1"},
         "relationship":{"coding":[{"code":"PGRFTH"}]},"deceasedDate":"1998",
         "condition":[{"code":{"text":"Colon cancer"},"onsetString":"in his seventies"}]}""")).get(0).text())
        .isEqualTo("Family history, paternal grandfather: Colon cancer, onset in his seventies. Deceased 1998. History partial.");
    assertThat(renderer.render(parse("""
        {"resourceType":"FamilyMemberHistory","id":"x","status":"entered-in-error","patient":{"reference":"Patient/p1"},
         "relationship":{"coding":[{"code":"FTH"}]},"condition":[{"code":{"text":"Huntington disease"}}]}"""))).isEmpty();
  }

  // Before: a condition's and an allergy's notes (note[].text) were dropped: "stopped lisinopril for angioedema,
  // do not rechallenge" never reached a prompt.
  @Test
  void conditionAndAllergyNotesAreNoteChunksLedByWhatTheyAreAbout() {
    List<ClinicalChunk> condition = renderer.render(parse("""
        {"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"recordedDate":"2024-03-06",
         "code":{"text":"Type 2 diabetes"},"note":[{"text":"Diet controlled until 2023."},{"text":" "}]}"""));
    assertThat(condition).extracting(ClinicalChunk::text).containsExactly("Condition: Type 2 diabetes recorded 2024-03-06.",
        "Condition note, Type 2 diabetes: Diet controlled until 2023.");
    assertThat(condition).extracting(ClinicalChunk::category).containsExactly(Category.CLINICAL, Category.NOTE);
    assertThat(condition.get(1).effectiveDate()).hasToString("2024-03-06");
    List<ClinicalChunk> allergy = renderer.render(parse("""
        {"resourceType":"AllergyIntolerance","id":"a","patient":{"reference":"Patient/p1"},"code":{"text":"Lisinopril"},
         "verificationStatus":{"coding":[{"code":"refuted"}]},
         "note":[{"text":"Tolerated a rechallenge in clinic."}]}"""));
    assertThat(allergy).extracting(ClinicalChunk::text).containsExactly("Allergy: Lisinopril ruled out (refuted)",
        "Allergy note, Lisinopril (ruled out): Tolerated a rechallenge in clinic.");
    assertThat(allergy).extracting(ClinicalChunk::category).containsExactly(Category.CLINICAL, Category.NOTE);
  }

  // Before: a panel said nothing of its members ("Observation: Lipid panel (LOINC 57698-3)."), though the
  // members were what it reported.
  @Test
  void aPanelNamesItsMembers() {
    String text = renderer.render(parse("""
        {"resourceType":"Observation","id":"lp","status":"final","subject":{"reference":"Patient/p1"},
         "contained":[{"resourceType":"Observation","id":"hdl","status":"final","code":{"text":"HDL cholesterol"},
           "valueQuantity":{"value":38,"unit":"mg/dL"}}],
         "code":{"coding":[{"system":"http://loinc.org","code":"57698-3","display":"Lipid panel"}]},
         "hasMember":[{"reference":"Observation/chol-1","display":"Total cholesterol 212 mg/dL"},{"reference":"#hdl"},
           {"reference":"Observation/ldl-1"},{"reference":"Observation/tg-1"}]}""")).get(0).text();
    assertThat(text).isEqualTo("Observation: Lipid panel (LOINC 57698-3). Panel members: Total cholesterol 212 mg/dL; "
        + "HDL cholesterol 38 mg/dL; and 2 more results not named here, recorded on their own.");
    // ids are not named: a record's id identifies the record
    assertThat(text).doesNotContain("ldl-1").doesNotContain("tg-1");
    assertThat(renderer.render(parse("""
        {"resourceType":"Observation","id":"bp","status":"final","subject":{"reference":"Patient/p1"},
         "code":{"text":"Vital signs"},"hasMember":[{"reference":"Observation/bp-1"}]}""")).get(0).text())
        .isEqualTo("Observation: Vital signs. Panel members: 1 result not named here, recorded on its own.");
  }

  // Before: "Medication statement: warfarin 5 MG 5 mg daily. status not-taken." led with the drug and its dose
  // like a medication the patient takes.
  @Test
  void aMedicationNotTakenReadsAsNotTaken() {
    String text = renderer.render(parse("""
        {"resourceType":"MedicationStatement","id":"s","status":"not-taken","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"warfarin 5 MG"},"dosage":[{"text":"5 mg daily"}],
         "statusReason":[{"coding":[{"display":"Patient refused"}]}],"effectiveDateTime":"2024-06-01"}""")).get(0).text();
    assertThat(text).isEqualTo("Medication NOT taken: warfarin 5 MG. The patient is not taking this medication (status "
        + "not-taken). Dosage not taken: 5 mg daily. Reason not taken: Patient refused.");
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationStatement","id":"s","status":"not-taken","subject":{"reference":"Patient/p1"},
         "medicationCodeableConcept":{"text":"aspirin 81 MG"}}""")).get(0).text())
        .isEqualTo("Medication NOT taken: aspirin 81 MG. The patient is not taking this medication (status not-taken).");
    // an order not to give a drug leads with it, before the drug and its dose, and its status is the prohibition's
    assertThat(renderer.render(parse("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","doNotPerform":true,
         "subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"ibuprofen 400 MG"},
         "dosageInstruction":[{"text":"400 mg every 6 hours"}]}""")).get(0).text())
        .isEqualTo("Medication request: do NOT give ibuprofen 400 MG 400 mg every 6 hours. status active (an order NOT "
            + "to give it).");
  }

  /**
   * A primitive sent with extensions alone has no value: US Core sends a birthDate it does not know as
   * {@code "_birthDate":{"extension":[data-absent-reason]}}. The renderer took it for a date (a
   * StringIndexOutOfBoundsException) or unboxed it (a NullPointerException), so the worker failed on
   * the resource until it was parked, and it was never retrievable.
   */
  @Test
  void aPrimitiveWithExtensionsAloneRendersAsAbsent() {
    String absent = "{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\","
        + "\"valueCode\":\"unknown\"}]}";
    assertThat(renderer.render(Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"female\","
        + "\"_birthDate\":" + absent + ",\"_deceasedBoolean\":" + absent + "}")).get(0).text())
        .isEqualTo("Patient: female.");
    assertThat(renderer.render(Fhir.parseResource("""
        {"resourceType":"FamilyMemberHistory","id":"f","status":"completed","patient":{"reference":"Patient/p"},
         "relationship":{"text":"mother"},"_deceasedBoolean":%s}""".formatted(absent)))).isNotEmpty()
        .allSatisfy(c -> assertThat(c.text()).doesNotContain("Deceased").doesNotContain("Living"));
    assertThat(renderer.render(Fhir.parseResource("""
        {"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p"},
         "medicationCodeableConcept":{"text":"ibuprofen"},
         "dosageInstruction":[{"text":"400 mg","_asNeededBoolean":%s}]}""".formatted(absent))).get(0).text())
        .doesNotContain("as needed");
  }
}
