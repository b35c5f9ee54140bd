package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * A second adversarial review of the rules held-out set 13 brought in the fifty-fourth session, after the first
 * ({@link DetectorsSetThirteenReviewTest}): what a real note writes beside each rule's trigger that names nobody, a
 * resident physician, a service before its clinician's letters, a twin's letter, a gestation after "born", a shift
 * after "job at", a vital sign between commas and a relative's share.
 */
class DetectorsSetThirteenAttackTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-13 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // "Resident" as a resident physician, "Patient" and "Client" as a service, at a line's start
      "Resident on call notified of K 5.9.",
      "Resident Physician aware of the labs.",
      "Resident notified, will see the patient.",
      "Resident Physician, Cardiology, consulted.",
      "Resident Team, Medicine, paged at 0300.",
      "Resident Night Float, Surgery, at bedside.",
      "Patient Transport, Escort arranged.",
      "Patient Education, Discharge teaching done.",
      "Resident Aware, Plan unchanged.",
      // a service or a discipline after with/per/by before a clinician's letters
      "Plan per Cardiology MD.",
      "Sedation by Anesthesia CRNA.",
      "Discussed with Nursing RN.",
      "Gait training with PT DPT.",
      "Reviewed by Pharmacy PharmD.",
      "Admitted per Hospitalist MD.",
      "Seen with Psychiatry NP.",
      "Intubated by ED MD.",
      "Consent by Surgery PA.",
      "Chemo per Oncology APRN.",
      "Cleared per Neurology DO.",
      "Catheter per Urology PA-C.",
      "Dressing with Wound RN.",
      "Visit with Hospice RN.",
      "Goals per Palliative NP.",
      "Line placed by IR MD.",
      "Treatment with Respiratory RT.",
      "Insulin teaching by Endocrine CDCES.",
      "Counted by OR RN.",
      "Transfusion per Hematology MD.",
      "Reviewed with Peds MD.",
      "Seen with Trauma MD.",
      "Discussed with Renal MD.",
      "Plan per GI MD.",
      "Feeding plan with Lactation Consultant IBCLC.",
      // a twin's letter, or the nursery's words, after a newborn's placeholder
      "Baby Boy A stable in the NICU.",
      "Baby Girl B Apgars 7 and 9.",
      "Baby Boy B Transferred to level II.",
      "Baby Girl Twin B Feeding well.",
      "Baby Girl Phototherapy started.",
      "Baby Boy Meconium passed.",
      "Baby Girl Skin to skin with mom.",
      "Baby Boy Pediatrician notified.",
      "Baby Girl Breastfeeding every 3 hours.",
      "Baby Boy Swaddled, Sleeping.",
      "Baby Girl Temp 36.8.",
      "Baby Boy Suctioned at delivery.",
      "Baby Girl Spitting up after feeds.",
      // a gestation, a count or a duration after "born" or "seen bedside"
      "Born at 32 weeks by C-section.",
      "Born at 37/40 by SVD.",
      "Infant born 34 weeks gestation.",
      "Born 2 weeks early.",
      "Seen bedside 2 times today.",
      "Seen bedside 10 minutes after the fall.",
      "Seen bedside 3/10 pain at rest.",
      "Seen bedside 1/2 hour later.",
      // a shift, a place of work or the kind of job after "job at"
      "Works his job at night.",
      "Lost her job at the plant.",
      "Stress from his job at work.",
      "Injured at his job at Night.",
      "Back to her job at Home.",
      "Wants to return to his job at Full Duty.",
      // a vital sign, a score or a count between commas after a relative's or a person's word
      "Her mother, 120/80, was calm.",
      "His father, 98, 97 and 99 on the pulse ox.",
      "Mother is 90 minutes away.",
      "Father is 92 kg and diabetic.",
      "Her sister is 100 miles away.",
      "His wife is 91% adherent.",
      // a dose or a code near a numbered road's word
      "Gave 4410 mg total Route IV.",
      "Give 500 mg Route PO.",
      "Road rash, CPT 12002 for repair.",
      // a doctor's title before a drink with no other drink after it
      "Drinks 3 Dr Pepper cans a day.",
      // a detainee's or a WIC word before no number
      "Inmate no. longer on watch.",
      "Baby Boy Pulse 140 and regular.",
      "Baby Girl Tone good.",
      "Baby Boy Color pink.",
      "Baby Girl Head circumference 34 cm.",
      "Baby Boy Heart rate 150.",
      "Baby Girl Sats 98% on room air.",
      "Baby Boy Resp 40.",
      "Baby Boy Skin intact.",
      "Born 1/2 hour after rupture.",
      "Patient Services, Billing called.",
      "Return to his job at Light Duty next week.",
      "Stressed by her job at School.",
      "Called Telemetry RN.",
      "Paged Stroke NP.",
      "Report to Receiving RN.",
      "Handed to PACU RN.",
      "Per Dialysis RN.",
      "Seen by Sleep MD.",
      "Per Heme MD.",
      "Told Sitter CNA.",
      "Per Psych NP.",
      "Asked Unit RN.",
      "Informed Staff RN.",
      "Grandmother is 98 pounds.",
      "Check Kidney & Liver function.",
      "Strong Heart & Lung sounds bilaterally.",
      "Regular Heart & Lung sounds.",
      "Mild Foot & Ankle swelling.",
      "Ortho Bone & Joint follow-up.",
      "Fetal Heart & Lung development normal.",
      "Unremarkable Heart & Lung exam.",
      "Cardiac Heart & Vascular risk.",
      "Patient Identification, Verified x2.",
      "Patient Position, Supine.",
      "Patient Consent, Signed.",
      "Client Goals, Reviewed.",
      "Resident Supervision, Attending present.",
      "Inmate Status, Cleared for housing.",
      "Detainee Property, Logged.",
      "Patient Family, Updated.",
      "Patient Teaching, Completed.",
      "Resident Coverage, Cross-cover team.",
      "Patient Mobility, Independent.",
      "WIC no. show for the visit.");

  /** What the rules were written for, and small changes of its shape. */
  static final List<String> FOUND = List.of(
      "Resident Dr. Okafor at bedside.", "Resident Dr. [PERSON] at bedside.",
      "Baby Boy Jones, 1 day old.", "Baby Boy [PERSON], 1 day old.",
      "Baby Girl B Castellanos in the NICU.", "Baby Girl B [PERSON] in the NICU.",
      "Inmate Whitfield, Darnell, DOB pending.", "Inmate [PERSON], DOB pending.",
      "Discussed with Maribel RN.", "Discussed with [PERSON] RN.",
      "Plan per Tamsin IBCLC.", "Plan per [PERSON] IBCLC.",
      "Detainee no. 5512-0930.", "Detainee no. [ID].",
      "Lives at 2201 N Farm Road 94.", "Lives at [ADDRESS].",
      "CABG at Freeman Heart & Vascular in May.", "CABG at [FACILITY] in May.");

  DetectorsSetThirteenAttackTest() {
    super(KEPT, FOUND);
  }
}
