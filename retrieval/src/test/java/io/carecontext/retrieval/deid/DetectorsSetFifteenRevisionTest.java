package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * A third adversarial review of the rules held-out set 15 brought in the fifty-sixth session, by a reviewer who did not
 * write them (after {@link DetectorsSetFifteenReviewTest} and {@link DetectorsSetFifteenAttackTest}): clinical text of
 * each rule's shape that names nobody (a finding in title case after "Client", "Decedent" or "Recipient"; an antigen,
 * an organ or an examiner's finding in capitals after "Donor" or "Decedent"; a device's, a drug's or a tooth's bridge;
 * a medical-alert tattoo; a dose's frequency after "user"; a lot's number by another word; counts on the line after a
 * town; half a tablet due at bedtime; a score of a scale named for a town), and identifiers of each shape written
 * otherwise.
 */
class DetectorsSetFifteenRevisionTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-15 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // a finding or a form in title case after the word of the one a note is about
      "Client Reports Good Sleep.",
      "Client Safety Plan reviewed.",
      "Client Progress Notes reviewed.",
      "Client Goals Met this month.",
      "Client Housing Status: unstable.",
      "Client Intake Packet completed.",
      "Client Mood Stable, Affect Bright.",
      "Client Hope Scale score 32.",
      "Decedent Rigor Mortis present in the jaw.",
      "Decedent Livor Mortis fixed posteriorly.",
      "Decedent Personal Effects inventoried.",
      "Decedent Scene Photos taken.",
      "Decedent Body Bag sealed.",
      "Recipient Vital Signs stable throughout.",
      "Recipient Post Transfusion vitals normal.",
      "Recipient Hemolysis Workup negative.",
      "Investigator Site File updated.",
      "Investigator Brochure Version 5 reviewed.",
      "First responder Naloxone Given x2.",
      "Outreach worker Home Visit completed.",
      "Community health worker Bus Pass provided.",
      // an antigen, an organ, a finding or a diet in capitals after "Donor", "Recipient", "Decedent", "Resident"
      "Donor CHAGAS, ZIKA NAT negative.",
      "Recipient KELL, DUFFY antigen negative units requested.",
            "Decedent MALE, WHITE, appears 45-50 years.",
      "Donor FEMALE, ADULT, 34 years.",
      "Donor HEART, LUNGS recovered by the OPO.",
      "Donor KIDNEY, LEFT shipped on ice.",
      "Decedent RIGOR, LIVOR fixed.",
      "Client CALM, PLEASANT this session.",
      "Client SAFE, STABLE at discharge.",
      "Client DIET, PUREED; thin liquids.",
      "Decedent SKIN, INTACT on receipt.",
      "Decedent BODY, INTACT.",
      "Donor LIVING, UNRELATED kidney donor.",
      // a device's, a drug's, a tooth's or a programme's bridge, a market of no place
      "CTA showed the Myocardial Bridge over the LAD.",
      "Fractured the Porcelain Bridge; dental referral.",
      "Cemented the Cantilever Bridge.",
      "Continued on the Cangrelor Bridge until surgery.",
      "Remains on the Impella Bridge to recovery.",
      "Started on the Argatroban Bridge.",
      "Tapering off the Steroid Bridge.",
      "Referred to the Recovery Bridge program.",
      "Referred to the Crisis Bridge team.",
      "Bought pills on the Darknet Market.",
      "Drug withdrawn from the Canadian Market.",
      "Buys cut flowers at the Flower Market.",
      // a medical-alert tattoo, a soldier's blood group, a pigment, a laser
      "Medical alert tattoo \"DIABETIC\" on the left wrist.",
      "Tattoo \"DNR\" across the chest; ethics consulted.",
      "Tattoo \"DO NOT RESUSCITATE\" on the chest, no POLST found.",
      "Tattoo \"T1D\" on the wrist.",
      "Tattoo \"O POS\" on the left ribs.",
      "Tattoo \"A NEG\" under the dog-tag chain.",
      "Tattoo \"ALLERGIC TO PCN\" on the forearm.",
      "Tattoo \"EPILEPSY\" on the wrist.",
      "Tattoo ink allergy: \"Red\" pigment.",
      "Tattoo removal by \"Q-switched\" Nd:YAG laser.",
      // a frequency, a duration or a device after "user"
      "Ambien user q.h.s. for years.",
      "Alprazolam user p.r.n. only.",
      "Benzo user b.i.d. at home.",
      "Heroin user x10yrs, last use today.",
      "Cocaine user q2weeks per pt.",
      "Tobacco user x20yrs, quit 2019.",
      "Meth user daily.Denies IV use.",
      "Kratom user qd.Wants to taper.",
      "CGM user Libre2 since May.",
      // a count after "band" or "case"
      "In case 1500-2000 kcal/day is not met, add tube feeds.",
      "Band 12000-15000/uL on the smear.",
      "In case 100-200 mL blood loss, type and cross.",
      // a lot's or a batch's number of a donation number's shape by another word
      "Lot number W1234 56 789012 on the vial.",
      "Lot no. A0001 23 456789 recorded.",
      "Batch W1234 56 789012 used.",
      "Lot/Exp W1234 56 789012 on the bag.",
      // half a tablet or a share after "due"
      "Next Ambien due 1/2 at bedtime.",
      "Trazodone due 1/2 at HS.",
      "Remaining Keppra due 1/2 with dinner.",
      "Copay due 1/2 by patient, 1/2 by Medicaid.",
      // a score of a scale named for a town
      "Glasgow 15 on arrival.",
      "Glasgow coma scale 15.",
      "Transferred with Glasgow 8 at the scene.",
      "Scores today Glasgow 13 and RASS -1.",
      "Rockall 4, Glasgow-Blatchford 12.",
      // a service before a prosthetist's letters
      "Per Prosthetics Lab, CPO",
      "Per Bracing Service, CPO");

  /** What the rules were written for, written otherwise. */
  static final List<String> FOUND = List.of(
      "Client Rosalind Vasquez Ortega, 34 F.", "Client [PERSON], 34 F.",
      "Decedent Juan Carlos Mendoza found supine.", "Decedent [PERSON] found supine.",
      "Recipient Hope Castellanos, MRN 7730419.", "Recipient [PERSON], MRN [MRN].",
      "Investigator Ana Lucia Ferreira, D-ABMDI", "Investigator [PERSON], D-ABMDI",
      "Outreach worker Tamika Johnson called.", "Outreach worker [PERSON] called.",
      "Donor KOWALCZYK, AGNIESZKA, unit 2.", "Donor [PERSON], unit 2.",
      "Recipient HERNANDEZ-LOPEZ, MARISOL on 4 East.", "Recipient [PERSON] on 4 East.",
      "Decedent MCALLISTER, JOANNE, age 58.", "Decedent [PERSON], age 58.",
      "Tattoo \"LUCIA 3-14-09\" on the right calf.", "Tattoo \"[ID]\" on the right calf.",
      "Tattoo reads “DESTINY” on the neck.", "Tattoo reads “[ID]” on the neck.",
      "Tattoo \"Abuela Carmen\" over the heart.", "Tattoo \"[ID]\" over the heart.",
      "Unit W1234 23 456789 transfused.", "Unit [ID] transfused.",
      "Unit W123423456789 hung at 14:10.", "Unit [ID] hung at 14:10.",
      "Wristband #88412093 scanned.", "Wristband #[ID] scanned.",
      "Custody case 24-CV-00817 noted.", "Custody case [ID] noted.",
      "App user: dmartinez_77 logged doses.", "App user: [USERNAME] logged doses.",
      "Video DOT app, user jr.okafor.", "Video DOT app, user [USERNAME].",
      "Found under the Hawthorne Bridge.", "Found under the [ADDRESS].",
      "Panhandles at the Eastfield Mall.", "Panhandles at the [ADDRESS].",
      "Lives at 12 Oak St, Dayton\n45402.", "Lives at [ADDRESS], [CITY]\n[ZIP].",
      // counts on the line after a town are no ZIP code, the town is taken
      "Platelets since transfer from Boston\n50000, 42000, 38000.", "Platelets since transfer from [CITY]\n50000, 42000, 38000.",
      "Steps per day since moving to Denver\n12000; at goal.", "Steps per day since moving to [CITY_OR_NAME]\n12000; at goal.",
      "Recert due 3/7.", "Recert due [DATE].",
      "PPD read due 9/4 at clinic.", "PPD read due [DATE] at clinic.");

  DetectorsSetFifteenRevisionTest() {
    super(KEPT, FOUND);
  }
}
