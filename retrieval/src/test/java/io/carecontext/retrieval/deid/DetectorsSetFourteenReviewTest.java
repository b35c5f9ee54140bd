package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * An adversarial review of the rules held-out set 14 brought in the fifty-fifth session: clinical text written against
 * each new rule's shape after the rules, in no held-out set. {@link #FOUND} holds what each rule was written for, and
 * small changes of its shape.
 */
class DetectorsSetFourteenReviewTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-14 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // "Rx" before a dose's count, a "patient ID" or a "sample" before a word, a test or a short count
      "Rx 2 tabs po bid.",
      "Rx 500 mg amoxicillin tid.",
      "Rx 30 day supply, 3 refills.",
      "Patient ID band checked x2.",
      "Patient ID verified with two identifiers.",
      "Pt ID bracelet on the left wrist.",
      "Sample COVID-19 negative.",
      "Sample 24 h urine sent.",
      "Sample 2 of 3 hemolyzed.",
      "Sample A1c 7.2 today.",
      "Stool sample x3 for O&P.",
      // a "CDL" or a "registry" before a class, a year or a short count
      "CDL class A, no restrictions.",
      "Holds a CDL since 2009.",
      "CDL 2 years, wants to renew.",
      "Tumor registry 2019 entry made.",
      "Registry no. 12 of the trial arm.",
      "Vaccine registry checked; up to date.",
      // "Fertility" or "Institute" after words that name no practice
      "Discussed Fertility preservation before chemo.",
      "Male Fertility workup: semen analysis.",
      "Female Fertility evaluation pending.",
      "Referred to Reproductive Fertility for oocyte banking.",
      "Affects Fertility; counseled.",
      "Seen at Male Fertility clinic last year.",
      "Seen at Reproductive Fertility clinic? No, at the ED.",
      "Children's Institute guidelines reviewed.",
      "Per the Alzheimer's Institute criteria.",
      // a role's word before a word of a note
      "Medical director Approved the transfer.",
      "Program director Reviewed the chart.",
      "Reviewed with the medical director Monday.",
      "Reviewed with the director Of nursing.",
      "Program director Dialysis unit aware.",
      // a grading or a staging system after a verb of method and "by", whose author's surname is also a town
      "Blastocysts graded by Gardner, PGT-A on day 5.",
      "Tumor staged by Ann Arbor criteria.",
      "Fracture classified by Weber as type B.",
      "Gestational age estimated by Ballard.",
      // one word before a credential that ends a line, which is no given name
      "Charge RN",
      "Wound care per Wound RN",
      "Signed. Charge RN",
      "Pt will follow up. Will RN",
      "Discussed with Pharmacy, PharmD",
      "Triage RN, BSN",
      "Per protocol. Anticoagulation, PharmD, CACP",
      "Dressing changed / Float RN",
      "Seen by Ortho, PT");

  /** What the rules were written for, and small changes of its shape. */
  static final List<String> FOUND = List.of(
      "Meds from the pharmacy, Rx 6603518.", "Meds from the pharmacy, Rx [ID].",
      "Home monitor patient ID AC-77120459; next INR soon.", "Home monitor patient ID [ID]; next INR soon.",
      "Partner's sample SP-0412-TY frozen.", "Partner's sample [ID] frozen.",
      "Driver Sam Ortiz, CDL D4417-20583-11 class A.", "Driver [PERSON], CDL [LICENSE] class A.",
      "Examiner, National Registry no. 3349187520", "Examiner, National Registry no. [LICENSE]",
      "Retrieval at Pinnacle Fertility tomorrow.", "Retrieval at [FACILITY] tomorrow.",
      "Retrieval likely Thursday at\nPinnacle Fertility.", "Retrieval likely Thursday at\n[FACILITY].",
      "Transferred from Bluebonnet Fertility Center.", "Transferred from [FACILITY].",
      "Referred by Dr. Ng at Banner Alzheimer's Institute for memory loss.",
      "Referred by Dr. [PERSON] at [FACILITY] for memory loss.",
      "Results faxed to the safety director Lorna at work.", "Results faxed to the safety director [PERSON] at work.",
      "Booklet updated. Rosalind, PharmD, CACP", "Booklet updated. [PERSON], PharmD, CACP",
      "Dr. Hadley Voss / Kimberlee RN", "Dr. [PERSON] / [PERSON] RN",
      "Margaret RN", "[PERSON] RN",
      "Sutures placed by Madison in clinic.", "Sutures placed by [CITY_OR_NAME] in clinic.");

  DetectorsSetFourteenReviewTest() {
    super(KEPT, FOUND);
  }
}
