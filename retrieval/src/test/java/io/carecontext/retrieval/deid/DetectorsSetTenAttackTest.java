package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An adversarial review of the rules held-out set 10 brought in the fifty-first session: clinical text a note holds,
 * written for the review and in no held-out set, with each rule's trigger beside words that must stay (abbreviations
 * written with periods after "Pt" and at a line's start before a credential, a side's body part or an organism after an
 * initial, a way of travel, an answer or a temperament after "goes by", "known to staff as", "Nickname:", "AKA" as an
 * above-knee amputation, a stepparent before a condition, a service after "report called to" or "discussed with",
 * scores, grades and shares written before a clock time, a range of weeks after "LMP", an amount after a month's
 * apostrophe, a decade's word in research prose). Each kept sentence marked "was" below was read wrong by the rules as
 * the session first wrote them; the found ones hold each narrowed rule to what it was written for.
 */
class DetectorsSetTenAttackTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-10 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // abbreviations after "Pt" (each was taken for initials)
      "Pt D.N.R. per POLST on file.",
      "Pt H.O.H., speak into the left ear.",
      "Pt N.W.B. left leg per ortho.",
      "Pt U.T.D. on vaccines.",
      "Pt D.M. type 2 on metformin.",
      "Pt C.P. free since 0300.",
      "Pt S.I./H.I. denied.",
      "Pt A.D.L. independent.",
      "Pt R.A. sats 95%.",
      "Pt C.O. chest pain.",
      "Pt N.V.D. since Sunday.",
      "Pt A.A.O. times three.",
      "Pt T.W.B. on the right.",
      // a side's body part or an organism after an initial (each but the knee, the side and "T. Max" was a surname)
      "Vitals stable. Pt R. Knee pain worse.",
      "Pt L. Hip pain after the fall.",
      "Pt R. Sided weakness noted.",
      "Pt N. Meningitidis exposure, prophylaxis given.",
      "Pt C. Auris screen negative.",
      "Pt T. Max 38.9 overnight.",
      "Pt B. Pertussis vaccine due.",
      "Pt S. Epi in 1 of 2 bottles.",
      "Pt K. Pneumoniae in urine.",
      "PT R. Knee ROM 0-90.",
      "RN L. Arm IV started.",
      "OT R. Hand splint fitted.",
      // a study, a specimen or an order before the one who acted on it, at a line's start (each was a signer)
      "C.T., PA reviewed the scan.",
      "X.R., MD read as negative.",
      "I.C.U. RN aware of the transfer.",
      "U.A., RN collected at 0800.",
      "C.B.C. RN drew at 0600.",
      "L.P., MD performed at bedside.",
      "M.R.I., MD to read.",
      "E.K.G., RN placed leads.",
      "T.O., RN read back.",
      "V.O., MD signed.",
      // a dental role or an adjuster before a capitalized word
      "dentist Appointment next week.",
      "orthodontist Referral placed.",
      "adjuster Denied the claim.",
      "endodontist Root canal planned.",
      "periodontist Scaling done.",
      "Sees dentist Monday.",
      // a time, a way of travel, a condition, an answer or a temperament after a nickname's cue
      "Swelling goes by Evening.",
      "Pain goes by Noon most days.",
      "Patient goes by Paratransit.",
      "goes by Uber to dialysis.",
      "went by Ambulance.",
      "also known as Shingles.",
      "Legal Name Change pending.",
      "legal name change pending, no new name on file.",
      "Preferred name: Same.",
      "Known to staff as Pleasant.",
      "s/p L AKA Stump.",
      "Nickname: None.",
      "legal name: Unknown.",
      // a stepparent in a family history
      "stepdad with HTN.",
      "Stepdad: HTN, DM.",
      "stepmom Breast cancer at 50.",
      "stepdad Deceased.",
      // a service, a team or a title after a report's or a discussion's cue
      "report called to Radiology.",
      "report called to Floor.",
      "report given to Oncoming RN.",
      "discussed by phone with Pharmacy.",
      "discussed with Family at bedside.",
      "discussed with Hospice.",
      "discussed with Palliative.",
      "report called to Cath Lab.",
      "handed off to Day shift.",
      "discussed with Patient and wife.",
      "report called to Charge RN.",
      // a dental practice, an oral surgery service and a funeral home in prose
      "Works at a funeral home.",
      "Body released to the Hospital Mortuary.",
      "Department of Periodontics consult.",
      "Referred to Pediatric Oral Surgery.",
      "Dental practice closed Fridays.",
      "OMFS (Oral and Maxillofacial Surgery) consult.",
      // a score, a grade or a share before a clock time (each from "Murmur" on was a date)
      "Tylenol 1/2 tab 8:00 given",
      "BP 120/80 08:00 sitting",
      "Took 2/3 doses 9:00 and stopped",
      "Murmur 2/6 08:00 unchanged",
      "Nausea 3/10 08:00 after Zofran",
      "Breakfast 1/2 08:00 with help",
      "Ate 3/4 12:30 lunch",
      "Motor 4/5 14:00 both legs",
      "Anxiety 5/10 20:00 then slept",
      "Edema 1/4 12:00 ankles",
      "Pulses 2/4 10:00 pedal",
      "Dyspnea 4/10 18:00 on 2 L",
      "I:E 1/2 08:00 on the vent",
      "Itching 6/10 22:00 after morphine",
      // a count or a range after a date's label (the ranges before a unit were dates)
      "DOS 2 days.",
      "DOS 3-4 d.",
      "LMP 6-8 wks ago.",
      "LMP unknown.",
      "DOA 1-2 hrs.",
      "EDD 1-2 wks.",
      // an amount after a month's apostrophe, a decade's word in research prose
      "Jan '25 mg dose.",
      "Data from centenarian studies suggest this.",
      "The nonagenarian cohort was small.");

  /** What the narrowed rules still find, and what the review found the session's first rules let through. */
  static final List<String> FOUND = List.of(
      "Pt D.W. (goes by Dot) walked in", "Pt [PERSON] (goes by [PERSON]) walked in",
      "J.R.K., NP", "[PERSON], NP",
      "J.R.K., NP 5/3 14:00", "[PERSON], NP [DATE] 14:00",
      "-- A.B. RN", "-- [PERSON] RN",
      "RCT completion 5/3 8:00 with the endodontist", "RCT completion [DATE] 8:00 with the endodontist",
      "callback 11/14 14:30 confirmed", "callback [DATE] 14:30 confirmed",
      "Seen Sat 1/2 09:00 for INR.", "Seen [DATE] 09:00 for INR.",
      "LMP 3/2, G2P1.", "LMP [DATE], G2P1.",
      "DOS 5-7 per the claim.", "DOS [DATE] per the claim.",
      "Comparison: CT chest Jan '25 and today.", "Comparison: CT chest [DATE] and today.",
      // a patient's surgery in its month after "section" and "revision", which the document-number rule had kept
      "s/p C-section 2021-03, uncomplicated.", "s/p C-section [DATE], uncomplicated.",
      "s/p L hip revision 2019-04.", "s/p L hip revision [DATE].",
      "Policy 2019-04 on visitors reviewed.", "Policy 2019-04 on visitors reviewed.",
      "John Smith AKA Johnny.", "John Smith AKA [PERSON].",
      "stepdad Earl in person", "stepdad [PERSON] in person",
      "report called to Brandi.", "report called to [PERSON].",
      "Pt M. Okonkwo-Bell, 58M, inferior STEMI.", "Pt [PERSON], 58M, inferior STEMI.");

  @Test
  void aDecadesWordOfThePatientIsStillTheCategory() {
    assertThat(HeldOutSetsTest.pipelineOutput("An active nonagenarian is our patient."))
        .isEqualTo("An active person aged 90 or older is our patient.");
  }

  DetectorsSetTenAttackTest() {
    super(KEPT, FOUND);
  }
}
