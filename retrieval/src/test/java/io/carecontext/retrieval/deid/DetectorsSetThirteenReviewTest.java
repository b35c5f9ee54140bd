package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * An adversarial review of the rules held-out set 13 brought in the fifty-fourth session: clinical text written against
 * each new rule's shape after the rules, in no held-out set. {@link #FOUND} holds what each rule was written for, and
 * small changes of its shape.
 */
class DetectorsSetThirteenReviewTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-13 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // a newborn's placeholder before a word of the nursery, a drug, a product, a reflex or a test
      "Baby Boy Born at 39 weeks by SVD.",
      "Baby Girl Apgars 8 and 9.",
      "Baby Boy Circumcision done today.",
      "Baby Girl Jaundice, bili 12.",
      "Infant Boy Term, AGA.",
      "Baby Girl NICU admit for TTN.",
      "Baby Boy Hep B given.",
      "Baby Girl Vitamin K given.",
      "Baby Boy Ballard 38 weeks.",
      "Baby Girl Weight 3.2 kg.",
      "Baby Boy GBS negative mother.",
      "Newborn Girl Pink and vigorous.",
      "Baby Girl Feeding well.",
      "Baby Boy Voided x2.",
      "Baby Girl Cried at delivery.",
      "Baby Boy A Transferred to NICU.",
      "Baby Girl Similac 20 mL q3h.",
      "Baby Boy Erythromycin ointment given.",
      "Baby Girl Dextrose gel given.",
      "Baby Boy Coombs negative.",
      "Baby Girl Moro reflex intact.",
      "Baby Boy Tylenol given for circ.",
      "Baby Girl Glucose 52.",
      "Baby Boy Hearing screen passed.",
      // two organs or services joined by "&" with no owner's name before them and no kind's word before "of the"
      "Heart & Vascular Clinic follow-up in 3 months.",
      "Normal Heart & Lung exam.",
      "Brain & Spine MRI ordered.",
      "MRI Brain & Spine without contrast.",
      "Comprehensive Heart & Vascular Center referral placed.",
      "Pediatric Heart & Lung Center consult.",
      "Cardiology Heart & Vascular Institute referral.",
      "Skin & Laser treatment of the scar.",
      "Sleep & Wellness Center study.",
      "Bone & Joint pain in the knee.",
      "Chronic Heart & Lung disease noted.",
      "Heart & Lung exam of the Newborn normal.",
      "Left Foot & Ankle pain.",
      "Foot & Ankle exam normal.",
      "Sees the Ear & Throat team.",
      // a role, a shift, a service or a unit after a cue before a clinician's letters
      "Report given to Charge RN.",
      "Handed off to Night RN.",
      "Discussed with Day RN.",
      "Care per Primary RN.",
      "Paged Resource RN.",
      "Med given by Triage RN.",
      "Informed Bedside RN.",
      "Told Oncoming RN.",
      "Orders from Renal NP.",
      "Per Ortho PA-C.",
      "Teaching by Diabetes CDCES.",
      "Follow-up with Lactation IBCLC.",
      "Spoke with Cardiology NP.",
      "Per Neuro MD recommendations.",
      "Dressing by Ostomy RN.",
      "Reviewed with Attending MD.",
      "Escalated to House MD.",
      "Per Agency RN.",
      "Covered by Travel RN.",
      "Signed by Student NP.",
      "Per Admitting MD.",
      "Verified with Pharmacist RPh.",
      "Assisted by Float RN.",
      // another word for the person before a state, a comma and another
      "Inmate Hypotensive, Responsive to fluids.",
      "Client Calm, Cooperative today.",
      "Detainee Tearful, Anxious in cell.",
      "Inmate Compliant, Cooperative with exam.",
      "Patient Stable, Comfortable.",
      "Offender Ambulatory, Independent with ADLs.",
      "Client Afebrile, Eating well today.",
      "Patient Drowsy, Arousable is noted.",
      "Detainee Intoxicated, Combative at booking.",
      // a score or a fraction after "born" or "seen bedside"
      "Infant born 3/7 weeks early.",
      "Seen bedside 2/4 trials passed.",
      "Pt seen bedside 4/5 strength in LUE.",
      // a relative's "is" before a share, and numbers between commas after a name's word that is no age
      "Her mother is 95% sure of the dates.",
      "His father is 100 percent compliant.",
      "Sats for the patient, 94, 95 and 97.",
      // a job's word before a season or a shift
      "Back to her job at Night Shift.",
      // a doctor's title before a drink that is a person's name when no drink follows
      "Cut out Dr. Pepper and sweet tea.",
      "Drinks Dr Pepper or coffee daily.");

  /** What the rules were written for, and small changes of its shape. */
  static final List<String> FOUND = List.of(
      "Infant Baby Boy Raghunathan, born 12/3 at 04:12", "Infant Baby Boy [PERSON], born [DATE] at 04:12",
      "Baby Girl Smith, 2 days old.", "Baby Girl [PERSON], 2 days old.",
      "Baby Girl A Okonkwo-Bell in the NICU.", "Baby Girl A [PERSON] in the NICU.",
      "Detainee Rutledge, Corbin, DOB pending.", "Detainee [PERSON], DOB pending.",
      "Resident Delacroix, Ambrose seen today.", "Resident [PERSON] seen today.",
      "Follow up per Tamsin IBCLC.", "Follow up per [PERSON] IBCLC.",
      "Reviewed with Kelly RN today.", "Reviewed with [PERSON] RN today.",
      "Inmate no. 4471-0082.", "Inmate no. [ID].",
      "WIC no. 0029184471.", "WIC no. [ID].",
      "Delivered to 4410 S Farm Road 141.", "Delivered to [ADDRESS].",
      "s/p CABG at Freeman Heart & Vascular.", "s/p CABG at [FACILITY].",
      "referred to Heart & Vascular Institute of the Ozarks", "referred to [FACILITY]",
      "to return to his job at Leggett & Platt in the spring", "to return to his job at [EMPLOYER] in the spring",
      "Pt seen bedside 12/04 at request of Dr. Mahadevan.", "Pt seen bedside [DATE] at request of Dr. [PERSON].",
      "Seen by Dr. Pepper and the team.", "Seen by Dr. [PERSON] and the team.");

  DetectorsSetThirteenReviewTest() {
    super(KEPT, FOUND);
  }
}
