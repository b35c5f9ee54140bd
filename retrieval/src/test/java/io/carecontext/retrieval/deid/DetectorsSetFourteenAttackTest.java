package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * A second adversarial review of the rules held-out set 14 brought in the fifty-fifth session, after the first
 * ({@link DetectorsSetFourteenReviewTest}): what a real note writes beside each rule's trigger that names nobody, a
 * large dose after "Rx", a variant or a volume after "sample", a mileage after "CDL", a visit after "At ... Fertility",
 * an eponymous guideline after a verb, a department after "Director", a role before a clinician's letters, and a scale
 * after a verb of method that is no town.
 */
class DetectorsSetFourteenAttackTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-14 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // a large dose in units after "Rx"
      "Rx 2400000 units benzathine penicillin IM once.",
      "Rx 1200000 units Bicillin L-A IM today.",
      "Rx 100000 units/mL nystatin swish and swallow qid.",
      "RX 300000 units penicillin G IV q4h.",
      "Rx 1000000 units vitamin A once.",
      "Rx 50000 IU vitamin D weekly x 8.",
      "Rx 1,200,000 units IM given.",
      "Rx 2 mg lorazepam prn.",
      "Rx 90 tabs, 0 refills.",
      // a lab's words after "sample" or "patient ID"
      "Sample 2019-nCoV PCR not detected.",
      "Sample 10-15 mL of CSF sent.",
      "Sample BCR-ABL1 p210 detected.",
      "Sample HPV-16 and 18 negative.",
      "Sample hemolyzed, redraw ordered.",
      "Sample 1 of 2 sent to the reference lab.",
      "Sample CYP2C19 poor metabolizer.",
      "Sample FLT3-ITD negative.",
      "Patient ID verified before 1000 mL bolus.",
      "Patient ID x2 confirmed.",
      "Pt ID band replaced.",
      // a class, an endorsement, a mileage or a period after "CDL"
      "CDL 120000 miles a year, long haul.",
      "CDL 2-year medical card issued.",
      "CDL class B with air brake restriction.",
      "CDL holder, hazmat endorsement.",
      "CDL exam per 49 CFR 391.41.",
      "CDL 12-month card for hypertension.",
      "Registry checked; no prior reports.",
      "Registry no. of cycles: 3.",
      // a visit's words after "At" or "From" and one capitalized word before "Fertility"
      "At Initial Fertility consult, AMH was 1.2.",
      "At Baseline Fertility assessment, AFC 12.",
      "From Prior Fertility records, two failed IUIs.",
      "At Last Fertility visit, FSH was 9.",
      "From Outside Fertility labs, TSH normal.",
      "Fertility preserved with oocyte cryopreservation.",
      "Discussed Fertility Specialists referral options.",
      "Infertility workup ongoing.",
      "Fertility Center referral placed.",
      "Male factor infertility, ICSI planned.",
      // a guideline, a scale or a disease after a capitalized verb and a possessive
      "Discussed Parkinson's Institute exercise guidance.",
      "Reviewed Alzheimer's Institute recommendations.",
      "Follows Crohn's Institute diet handout.",
      "Given Parkinson's Institute handouts.",
      "Meets Alzheimer's Association criteria.",
      "Per Hashimoto's thyroiditis, levothyroxine continued.",
      "Known Graves' disease, on methimazole.",
      "Has Parkinson's disease, on carbidopa-levodopa.",
      // a department, a day or a word of a note after "director"
      "Director Of Nursing notified.",
      "Medical Director\nHospice Services",
      "Program Director\nDialysis Unit",
      "Medical director Review: approved.",
      "Discussed with the medical director Today.",
      "Lab director Signed off on the result.",
      "Funeral director Notified by the family.",
      "Safety director Cleared him for duty.",
      // a role, a shift or a service before clinicians' letters that end a line
      "Report called. Receiving RN",
      "Handoff given. Oncoming RN",
      "Plan reviewed. Covering MD",
      "Note cosigned. Attending MD",
      "Orders placed. Admitting MD",
      "Results sent. Ordering MD",
      "Letter faxed. Referring MD",
      "Handoff done. Night RN",
      "Handoff done. Day RN",
      "Assignment made. Lead RN",
      "Dressing done. Staff RN",
      "Shift covered. Agency RN",
      "Shift covered. Travel RN",
      "Precepted. Student RN",
      "Visit done. Virtual RN",
      "Feeding reviewed. Lactation IBCLC",
      "Dose held / Pharmacist, PharmD",
      "INR 2.4 / Clinic RN",
      "Warfarin held / Anticoagulation CACP",
      "Seen with family. Primary RN",
      "Consent witnessed. Witness RN",
      "Paged. Rapid RN",
      "Seen. Hospice RN",
      "Reviewed. Supervising MD",
      // a scale, a classification or a score after a verb of method whose name is also a town's
      "Bowel prep rated by Boston scale 7.",
      "Sedation measured by Richmond scale, RASS -1.",
      "Bleeding risk assessed by Glasgow-Blatchford score 6.",
      "PE risk stratified by Geneva score, low.",
      "Esophagitis graded by Los Angeles classification B.",
      "Prostate cancer graded by Gleason 3+4.",
      "Lymphoma staged by Lugano criteria.",
      "Breast cancer graded by Nottingham, grade 2.",
      "Dysplasia classified by Vienna criteria.",
      "Fracture classified by Garden as type III.",
      "Gestational age estimated by Ballard score.",
      "Embryos graded by Gardner and Schoolcraft.",
      "Disability scored by Rankin scale 2.");

  /** What the rules were written for, and small changes of its shape. */
  static final List<String> FOUND = List.of(
      "Filled at the pharmacy, Rx no. 6603518.", "Filled at the pharmacy, Rx no. [ID].",
      "Driver, CDL #D4417-20583-11 class A.", "Driver, CDL #[LICENSE] class A.",
      "Results faxed to the Director, Lorna Haines.", "Results faxed to the Director, [PERSON].",
      "Seen at Banner Alzheimer's Institute for memory loss.", "Seen at [FACILITY] for memory loss.");

  DetectorsSetFourteenAttackTest() {
    super(KEPT, FOUND);
  }
}
