package io.carecontext.fhir.synthetic;

import io.carecontext.fhir.KnownIdentifiers;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import org.hl7.fhir.r4.model.*;

/**
 * Realistic, entirely made-up R4 patients for tests, the demo and the benchmarks: about fifty
 * resources each as one transaction Bundle with urn:uuid fullUrls, a conditional create of the
 * practitioner and conditional references to it, clinical notes that mention names, dates, MRNs,
 * phone numbers and addresses (material for de-identification), Consents and security labels.
 * Deterministic: the same seed gives the same patients, byte for byte.
 */
public final class SyntheticPatients {

  static final LocalDate BASE = LocalDate.of(2024, 6, 1);
  static final String MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5";
  static final String NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi";
  private static final String[] GIVEN = {"Adaeze", "Bjorn", "Carmen", "Dmitri", "Eleanor", "Farid", "Grace", "Hiroshi",
      "Ingrid", "Jamal", "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Priya", "Quentin", "Rosa", "Samuel", "Tamsin"};
  private static final String[] FAMILY = {"Okafor", "Lindqvist", "Alvarez", "Petrov", "Whitfield", "Haddad",
      "Nakamura", "Brennan", "Kowalski", "Osei", "Fitzgerald", "Moreau", "Castellano", "Abernathy", "Varga"};
  private static final String[] STREETS = {"Elm Street", "Harbor Road", "Maple Avenue", "Linden Lane", "Quarry Way"};
  private static final String[] CITIES = {"Springfield", "Riverton", "Fairhaven", "Millbrook", "Ashford"};
  private static final String[][] CONDITIONS = {
      {"44054006", "Type 2 diabetes mellitus"}, {"38341003", "Essential hypertension"}, {"55822004", "Hyperlipidemia"},
      {"195967001", "Asthma"}, {"35489007", "Depressive disorder"}, {"399211009", "History of myocardial infarction"}};
  private static final String[][] MEDS = {
      {"860975", "Metformin 500 MG Oral Tablet", "500 mg twice daily with meals"},
      {"314076", "Lisinopril 10 MG Oral Tablet", "10 mg once daily"},
      {"617312", "Atorvastatin 20 MG Oral Tablet", "20 mg at bedtime"},
      {"745752", "Albuterol 90 MCG Inhaler", "2 puffs every 4 hours as needed"}};

  private SyntheticPatients() {}

  /** One generated patient: its transaction Bundle and the ground truth of its identifiers. */
  public record GeneratedPatient(String patientFullUrl, Bundle bundle, KnownIdentifiers identifiers,
                                 List<PlantedIdentifier> planted) {}

  /** An identifier written into a note, with its class, for de-identification evaluation. */
  public record PlantedIdentifier(String identifierClass, String value) {}

  public static List<GeneratedPatient> generate(long seed, int count) {
    List<GeneratedPatient> out = new ArrayList<>(count);
    stream(seed, count).forEachRemaining(out::add);
    return out;
  }

  /** Patients one at a time, so large loads keep memory flat. */
  public static Iterator<GeneratedPatient> stream(long seed, int count) {
    return new Iterator<>() {
      int i = 0;

      @Override
      public boolean hasNext() {
        return i < count;
      }

      @Override
      public GeneratedPatient next() {
        return one(new Random(seed * 1_000_003L + i), i++);
      }
    };
  }

  static GeneratedPatient one(Random rng, int index) {
    Builder b = new Builder(rng);
    String given = pick(rng, GIVEN);
    String family = pick(rng, FAMILY);
    String mrn = "MRN" + (1_000_000 + rng.nextInt(8_999_999));
    String phone = String.format(Locale.ROOT, "(%03d) 555-%04d", 200 + rng.nextInt(700), rng.nextInt(10_000));
    String street = (10 + rng.nextInt(980)) + " " + pick(rng, STREETS);
    String city = pick(rng, CITIES);
    String zip = String.format(Locale.ROOT, "%05d", 10_000 + rng.nextInt(89_999));
    LocalDate birth = BASE.minusYears(25 + rng.nextInt(60)).minusDays(rng.nextInt(365));
    String practitionerGiven = pick(rng, GIVEN);
    String practitionerFamily = pick(rng, FAMILY);
    String npi = Long.toString(1_000_000_000L + rng.nextInt(900_000_000));

    Practitioner pr = new Practitioner();
    pr.addIdentifier().setSystem(NPI_SYSTEM).setValue(npi);
    pr.addName().setFamily(practitionerFamily).addGiven(practitionerGiven).addPrefix("Dr.");
    String prRef = "Practitioner?identifier=" + NPI_SYSTEM + "|" + npi;
    b.add(pr, "identifier=" + NPI_SYSTEM + "|" + npi);

    Patient p = new Patient();
    p.addIdentifier().setSystem(MRN_SYSTEM).setValue(mrn);
    p.addName().setFamily(family).addGiven(given);
    p.addTelecom().setSystem(ContactPoint.ContactPointSystem.PHONE).setValue(phone);
    p.addAddress().addLine(street).setCity(city).setState("IL").setPostalCode(zip);
    p.setGender(rng.nextBoolean() ? Enumerations.AdministrativeGender.FEMALE : Enumerations.AdministrativeGender.MALE);
    p.setBirthDate(date(birth));
    p.addGeneralPractitioner(new Reference(prRef));
    String patient = b.add(p, null);

    List<String> conditions = new ArrayList<>();
    int nConditions = 2 + rng.nextInt(3);
    for (int i = 0; i < nConditions; i++) {
      String[] c = CONDITIONS[(index + i) % CONDITIONS.length];
      Condition cond = new Condition();
      cond.setSubject(new Reference(patient));
      cond.getClinicalStatus().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/condition-clinical").setCode("active");
      cond.getCode().addCoding().setSystem("http://snomed.info/sct").setCode(c[0]).setDisplay(c[1]);
      cond.setOnset(new DateTimeType(date(BASE.minusDays(200 + rng.nextInt(2000)))));
      if (c[0].equals("35489007")) {
        label(cond, "PSY");
      }
      b.add(cond, null);
      conditions.add(c[1]);
    }
    for (int e = 0; e < 8; e++) {
      LocalDate when = BASE.minusDays(30L * e + rng.nextInt(20));
      Encounter enc = new Encounter();
      enc.setStatus(Encounter.EncounterStatus.FINISHED);
      enc.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"));
      enc.addType().addCoding().setSystem("http://snomed.info/sct").setCode("185349003").setDisplay("Encounter for check up");
      enc.setSubject(new Reference(patient));
      enc.addParticipant().setIndividual(new Reference(prRef));
      enc.getPeriod().setStart(date(when));
      b.add(enc, null);
      Observation a1c = lab(patient, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 5.6 + rng.nextInt(40) / 10.0, "%",
          when, 4.0, 5.6);
      b.add(a1c, null);
      Observation glucose = lab(patient, "2345-7", "Glucose [Mass/volume] in Serum or Plasma", 80 + rng.nextInt(120), "mg/dL",
          when, 70, 99);
      b.add(glucose, null);
      b.add(bloodPressure(patient, 110 + rng.nextInt(50), 70 + rng.nextInt(30), when), null);
    }
    for (int m = 0; m < 3; m++) {
      String[] med = MEDS[(index + m) % MEDS.length];
      MedicationRequest mr = new MedicationRequest();
      mr.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE).setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
      mr.setSubject(new Reference(patient)).setRequester(new Reference(prRef));
      mr.getMedicationCodeableConcept().addCoding().setSystem("http://www.nlm.nih.gov/research/umls/rxnorm")
          .setCode(med[0]).setDisplay(med[1]);
      mr.addDosageInstruction().setText(med[2]);
      mr.setAuthoredOn(date(BASE.minusDays(rng.nextInt(400))));
      b.add(mr, null);
    }
    AllergyIntolerance allergy = new AllergyIntolerance();
    allergy.setPatient(new Reference(patient));
    allergy.getCode().addCoding().setSystem("http://snomed.info/sct").setCode("91936005").setDisplay("Allergy to penicillin");
    allergy.setCriticality(AllergyIntolerance.AllergyIntoleranceCriticality.HIGH);
    allergy.addReaction().addManifestation().setText("Hives");
    b.add(allergy, null);
    Immunization flu = new Immunization();
    flu.setStatus(Immunization.ImmunizationStatus.COMPLETED).setPatient(new Reference(patient));
    flu.getVaccineCode().addCoding().setSystem("http://hl7.org/fhir/sid/cvx").setCode("140").setDisplay("Influenza, seasonal");
    flu.setOccurrence(new DateTimeType(date(BASE.minusDays(240))));
    b.add(flu, null);
    Procedure proc = new Procedure();
    proc.setStatus(Procedure.ProcedureStatus.COMPLETED).setSubject(new Reference(patient));
    proc.getCode().addCoding().setSystem("http://snomed.info/sct").setCode("252779009").setDisplay("Retinal photography");
    proc.setPerformed(new DateTimeType(date(BASE.minusDays(90))));
    b.add(proc, null);

    List<PlantedIdentifier> planted = new ArrayList<>();
    LocalDate visit = BASE.minusDays(rng.nextInt(30));
    String note = String.format(Locale.ROOT,
        "Progress note %s. %s %s (MRN %s, DOB %s) seen today by Dr. %s for follow-up of %s. "
            + "Patient reports improved energy and adherence to diet. Lives at %s, %s IL %s; best contact %s. "
            + "A1c trending down since last visit. Plan: continue current medications, recheck labs in 3 months. "
            + "Mr./Ms. %s was counselled on foot care and hypoglycemia symptoms.",
        visit.format(DateTimeFormatter.ofPattern("MM/dd/yyyy")), given, family, mrn,
        birth.format(DateTimeFormatter.ISO_LOCAL_DATE), practitionerFamily, String.join(" and ", conditions), street,
        city, zip, phone, family);
    planted.add(new PlantedIdentifier("NAME", given));
    planted.add(new PlantedIdentifier("NAME", family));
    planted.add(new PlantedIdentifier("NAME", practitionerFamily));
    planted.add(new PlantedIdentifier("MRN", mrn));
    planted.add(new PlantedIdentifier("DATE", birth.format(DateTimeFormatter.ISO_LOCAL_DATE)));
    planted.add(new PlantedIdentifier("DATE", visit.format(DateTimeFormatter.ofPattern("MM/dd/yyyy"))));
    planted.add(new PlantedIdentifier("ADDRESS", street));
    planted.add(new PlantedIdentifier("CITY", city));
    planted.add(new PlantedIdentifier("ZIP", zip));
    planted.add(new PlantedIdentifier("PHONE", phone));
    b.add(document(patient, "11506-3", "Progress note", note, visit, null), null);
    b.add(document(patient, "11488-4", "Consult note", "Behavioral health consult. Patient describes low mood for "
        + "several months; screening PHQ-9 score 12. Started counselling; no safety concerns today.", visit.minusDays(40),
        "PSY"), null);
    DiagnosticReport report = new DiagnosticReport();
    report.setStatus(DiagnosticReport.DiagnosticReportStatus.FINAL).setSubject(new Reference(patient));
    report.getCode().addCoding().setSystem("http://loinc.org").setCode("24323-8").setDisplay("Comprehensive metabolic panel");
    report.setConclusion("Electrolytes within normal limits. Mildly elevated fasting glucose.");
    report.setEffective(new DateTimeType(date(BASE.minusDays(14))));
    b.add(report, null);
    CarePlan plan = new CarePlan();
    plan.setStatus(CarePlan.CarePlanStatus.ACTIVE).setIntent(CarePlan.CarePlanIntent.PLAN).setSubject(new Reference(patient));
    plan.setTitle("Diabetes self-management plan");
    plan.setDescription("Target A1c below 7 percent, 150 minutes of activity per week, annual eye exam.");
    plan.getPeriod().setStart(date(BASE.minusDays(100)));
    b.add(plan, null);
    Coverage coverage = new Coverage();
    coverage.setStatus(Coverage.CoverageStatus.ACTIVE).setBeneficiary(new Reference(patient));
    coverage.addPayor().setDisplay("Acme Health Plan");
    coverage.getType().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("HIP")
        .setDisplay("health insurance plan policy");
    b.add(coverage, null);
    Claim claim = new Claim();
    claim.setStatus(Claim.ClaimStatus.ACTIVE).setUse(Claim.Use.CLAIM).setPatient(new Reference(patient));
    claim.setCreated(date(BASE.minusDays(10)));
    claim.getType().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/claim-type").setCode("professional")
        .setDisplay("Professional");
    claim.getTotal().setValue(135.00).setCurrency("USD");
    claim.addItem().setSequence(1).getProductOrService().addCoding().setSystem("http://www.ama-assn.org/go/cpt")
        .setCode("99213").setDisplay("Office visit, established patient");
    b.add(claim, null);
    b.add(consent(patient, index), null);

    KnownIdentifiers ids = new KnownIdentifiers(
        List.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, family, List.of(given), null),
            new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PRACTITIONER, practitionerFamily,
                List.of(practitionerGiven), null)),
        List.of(mrn, npi), List.of(phone),
        List.of(new KnownIdentifiers.Address(List.of(street), city, null, "IL", zip, null)), List.of(birth));
    return new GeneratedPatient(patient, b.bundle, ids, planted);
  }

  /** Most patients permit AI use; every seventh denies; every fifth excludes notes; a few exclude PSY. */
  static Consent consent(String patient, int index) {
    Consent c = new Consent();
    c.setStatus(Consent.ConsentState.ACTIVE);
    c.getScope().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/consentscope").setCode("patient-privacy");
    c.addCategory().addCoding().setSystem("http://loinc.org").setCode("59284-0");
    c.setPatient(new Reference(patient));
    c.setDateTime(date(BASE.minusDays(365)));
    boolean deny = index % 7 == 6;
    c.getProvision().setType(deny ? Consent.ConsentProvisionType.DENY : Consent.ConsentProvisionType.PERMIT);
    if (!deny && index % 5 == 4) {
      c.getProvision().addProvision().setType(Consent.ConsentProvisionType.DENY)
          .addClass_(new Coding("http://hl7.org/fhir/resource-types", "DocumentReference", null));
    } else if (!deny && index % 3 == 2) {
      c.getProvision().addProvision().setType(Consent.ConsentProvisionType.DENY)
          .addSecurityLabel(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "PSY", null));
    }
    return c;
  }

  static Observation lab(String patient, String loinc, String display, double value, String unit, LocalDate when,
                         double low, double high) {
    Observation o = new Observation();
    o.setStatus(Observation.ObservationStatus.FINAL);
    o.addCategory().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/observation-category").setCode("laboratory");
    o.getCode().addCoding().setSystem("http://loinc.org").setCode(loinc).setDisplay(display);
    o.setSubject(new Reference(patient));
    o.setEffective(new DateTimeType(date(when)));
    o.getValueQuantity().setValue(Math.round(value * 10) / 10.0).setUnit(unit);
    o.addReferenceRange().setLow(new Quantity().setValue(low).setUnit(unit)).setHigh(new Quantity().setValue(high).setUnit(unit));
    if (value > high) {
      o.addInterpretation().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation")
          .setCode("H").setDisplay("High");
    }
    return o;
  }

  static Observation bloodPressure(String patient, int sys, int dia, LocalDate when) {
    Observation o = new Observation();
    o.setStatus(Observation.ObservationStatus.FINAL);
    o.addCategory().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/observation-category").setCode("vital-signs");
    o.getCode().addCoding().setSystem("http://loinc.org").setCode("85354-9").setDisplay("Blood pressure panel");
    o.setSubject(new Reference(patient));
    o.setEffective(new DateTimeType(date(when)));
    o.addComponent().setValue(new Quantity().setValue(sys).setUnit("mmHg")).getCode().addCoding()
        .setSystem("http://loinc.org").setCode("8480-6").setDisplay("Systolic blood pressure");
    o.addComponent().setValue(new Quantity().setValue(dia).setUnit("mmHg")).getCode().addCoding()
        .setSystem("http://loinc.org").setCode("8462-4").setDisplay("Diastolic blood pressure");
    return o;
  }

  static DocumentReference document(String patient, String loinc, String title, String text, LocalDate when, String label) {
    DocumentReference d = new DocumentReference();
    d.setStatus(Enumerations.DocumentReferenceStatus.CURRENT).setSubject(new Reference(patient));
    d.getType().addCoding().setSystem("http://loinc.org").setCode(loinc).setDisplay(title);
    d.setDate(date(when));
    d.addContent().getAttachment().setContentType("text/plain").setData(text.getBytes(StandardCharsets.UTF_8));
    if (label != null) {
      label(d, label);
    }
    return d;
  }

  static void label(Resource r, String code) {
    r.getMeta().addSecurity().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode(code);
  }

  static Date date(LocalDate d) {
    return Date.from(d.atStartOfDay(ZoneOffset.UTC).toInstant());
  }

  static String pick(Random rng, String[] values) {
    return values[rng.nextInt(values.length)];
  }

  /** Builds the transaction Bundle; urn:uuid fullUrls come from the seeded generator. */
  private static final class Builder {
    final Bundle bundle = new Bundle().setType(Bundle.BundleType.TRANSACTION);
    final Random rng;

    Builder(Random rng) {
      this.rng = rng;
    }

    String add(Resource r, String ifNoneExist) {
      String fullUrl = "urn:uuid:" + new UUID(rng.nextLong(), rng.nextLong());
      var e = bundle.addEntry().setFullUrl(fullUrl).setResource(r);
      e.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl(r.fhirType());
      if (ifNoneExist != null) {
        e.getRequest().setIfNoneExist(ifNoneExist);
      }
      return fullUrl;
    }
  }
}
