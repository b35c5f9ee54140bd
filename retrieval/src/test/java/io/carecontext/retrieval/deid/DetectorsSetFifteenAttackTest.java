package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * A second adversarial review of the rules held-out set 15 brought in the fifty-sixth session, after the first
 * ({@link DetectorsSetFifteenReviewTest}): what a real note writes beside each rule's trigger that names nobody, a
 * verb or a finding after "Client", "Decedent", "Recipient" or a responder, a blood bank's words in capitals after
 * "Recipient", a drug's or a programme's bridge and a market of no place, a patient's own words in quotes after
 * "tattoo", a count after "band" or "case", a product's lot in a donation number's shape, a use after "user", a count
 * after "due", a score after a scale named for a town, a dose on the line after a town, and a service before a
 * prosthetist's or a death investigator's letters.
 */
class DetectorsSetFifteenAttackTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-15 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // a verb, a finding or a programme after the word of the one a note is about or of a worker
      "Client Reports adherence to all doses.",
      "Client Tolerating RIPE well.",
      "Client Will return Monday.",
      "Client Agrees with the plan.",
      "Client Centered Care model explained.",
      "Client Grace period for missed doses.",
      "Client Hope to finish therapy by May.",
      "Decedent Found supine on the floor.",
      "Decedent Height 70 in, weight 180 lb.",
      "Decedent Rigor fixed in all extremities.",
      "Recipient Antibody screen negative.",
      "Recipient Temperature rose to 39.1.",
      "Recipient Hemoglobin 7.2 before the unit.",
      "Recipient Rh negative, RhIG given.",
      "Investigator Notes reviewed.",
      "Principal investigator Approval on file.",
      "First responder Narcan given at the scene.",
      "First responders Arrived at 02:10.",
      "Outreach worker Visit completed.",
      "Community health worker Home visit done.",
      "Health worker Mask fit tested.",
      // a blood bank's words in capitals after "Recipient", "Donor" or "Resident"
      "Recipient TYPE, SCREEN ordered.",
      "Recipient ABORH, ANTIBODY SCREEN pending.",
      "Donor UNIT, IRRADIATED.",
      "Resident NOTE, ADMISSION.",
      "Client INTAKE, INITIAL.",
      "Donor HBSAG, HCV negative.",
      // a bridge of a drug or a programme, a market of no place
      "Heparin held: the Enoxaparin Bridge ends today.",
      "Discussed the Medication Bridge program.",
      "Stopped the Fentanyl Bridge.",
      "Buys produce at the Farmers Market.",
      "Enrolled on the Health Insurance Market.",
      "Referred to the Transplant Bridge clinic.",
      // a patient's own words in quotes after "tattoo"
      "Tattoo of a rose, \"healed well\" per pt.",
      "Tattoo site \"itchy\" per pt.",
      "Tattoos: none.",
      "Tattoo removal: \"3 sessions left\".",
      "New tattoo \"hurts a lot\", no erythema.",
      // a count after "band" or "case"
      "Gastric band 10 mL saline added.",
      "Band neutrophils 12% today.",
      "Lap band 2012, removed 2019.",
      "Case 2021-22 flu season.",
      "Allergy band 2 applied.",
      "In case 100000 units is given, monitor.",
      "Case 2020-2021 was the worst year.",
      "Band 3 protein deficiency suspected.",
      "Case 10-12 weeks gestation.",
      // a product's lot or a kit's number in a donation number's shape
      "Lot W1234 56 789012 on the vial.",
      "Kit A0001 23 456789 used for the crossmatch.",
      // a use after "user"
      "Heavy user of the ED, 12 visits.",
      "Meth user, 3x/week.",
      "Alcohol user 2-3 drinks/day.",
      "Insulin pump user t:slim X2.",
      "Opioid user e.g. oxycodone.",
      "Wheelchair user since 2015.",
      "CGM user Dexcom G7.",
      "App user v2.3 crashed twice.",
      // a count or a share after "due"
      "Next dose due 1/2 tab.",
      "Payment due 1/3 now.",
      "Due 4/5 strength at discharge.",
      "Infusion due 2/4 bags.",
      // a scale named for a town before its score
      "Wells 4, Geneva 3.",
      "Ottawa 1; Canadian 2.",
      "RASS: Richmond 0.",
      "Padua 5, Caprini 6.",
      // a service or a device before a prosthetist's or a death investigator's letters
      "Brace by Ortho, CPO",
      "Left Foot Orthosis, CPO",
      "Per Medical Examiner, D-ABMDI",
      "Investigator Field Notes, D-ABMDI");

  /** What the rules were written for in other words. */
  static final List<String> FOUND = List.of(
      "Decedent Mary Ann Kowalczyk, age 71.", "Decedent [PERSON], age 71.",
      // a dose on the line after a town is no ZIP code, the town is taken
      "Sent to Boston\n50000 units heparin.", "Sent to [CITY]\n50000 units heparin.",
      "Seen in Denver.\n10000 steps daily.", "Seen in [CITY_OR_NAME].\n10000 steps daily.",
      "Recipient Rose Kline, MRN 7730419.", "Recipient [PERSON], MRN [MRN].",
      "Recipient NAKAMURA, HIROSHI on 5 West.", "Recipient [PERSON] on 5 West.",
      "ID band 4471209 replaced.", "ID band [ID] replaced.",
      "Lives in Glasgow; 15 min away.", "Lives in [CITY]; 15 min away.",
      "Rent due 12/1.", "Rent due [DATE].",
      "Tattoo reading \"Abuela Rosa 1961\" on the chest.", "Tattoo reading \"[ID]\" on the chest.");

  DetectorsSetFifteenAttackTest() {
    super(KEPT, FOUND);
  }
}
