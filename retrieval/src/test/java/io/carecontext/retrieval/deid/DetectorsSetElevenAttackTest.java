package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * An adversarial review of the rules held-out set 11 brought in the fifty-second session: clinical text a note holds,
 * written for the review and in no held-out set, with each rule's trigger beside words that must stay (a score's
 * eponym or a state after "Child", "Patient" or "Pt" before a number, a unit or a service before "ED", a direction or a
 * town of two words after "from", a transit that is no company, a count after "confirmation" or "member", anatomy and a
 * lab's plate before letters and digits, serial exams after a side, a score after an arrival's time, bottles of a
 * culture, products named with a title, services signing with a credential). Each kept sentence marked "was" below
 * was read wrong by the rules as the session first wrote them; the found ones hold each rule to what it was written for.
 */
class DetectorsSetElevenAttackTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-11 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // a score, a state or a service between the patient's word and a number
      "Child Pugh B, 8, decompensated cirrhosis.",
      "Child Pugh C, 11 points.",
      "Patient Education, 2 sessions completed.",
      "Infant Formula, 2 mo supply given.",
      "Patient Safety, 1 event reported.",
      "Child Life, 4 yo, played with the doll.",
      "Patient Belongings, 2 bags.",
      "Baby Aspirin, 81 mg daily.",
      "Resident Council, 12 members.",
      "Client Centered, 3 goals set.",
      // a state after "Pt", a comma, and another
      "Pt Alert, Oriented.",
      "Pt Stable, Afebrile.",
      "Pt Hypotensive, Tachycardic.",
      "Pt Non-Verbal, Calm.",
      "Pt Self-Ambulating, Steady.",
      "Pt Full-Code, Confirmed.",
      // a unit, a service or a kind of ED after a cue
      "Sent to Peds ED for eval.",
      "Transferred to Main ED.",
      "Go to Nearest ED if worse.",
      "Return to Adult ED precautions given.",
      "Transferred from Trauma ED to OR.",
      "Seen at Fast Track ED.",
      "Presented to Psych ED for SI.",
      "Called to Pediatric Emergency Department.",
      "Discharged from Observation ED unit.",
      // a unit, a tower or a service of two words after "from", "to", "at"
      "Moved from East Tower to 5 West.",
      "Went to Cancer Center today.",
      "Transferred from Burn Unit overnight.",
      // a care home's words after "in"
      "Lives in a care home in Assisted Living wing.",
      "Drove her in from Home.",
      // a transit that is no company
      "Medicaid Transit van booked.",
      "Uses Public Transit to clinic.",
      "Rapid Transit pass provided.",
      "County Transit ride scheduled.",
      // counts and words after "confirmation", "requisition" and "member"
      "Confirmation bias discussed.",
      "Confirmation 2 of 3 needed.",
      "Requisition pending, specimen not yet sent.",
      "Team member RN-2 assisted.",
      "Staff member 4 present.",
      "Family member 12345 visited.",
      // anatomy, a lab's plate, hardware after "plate" and "tag"
      "Skin tag 2x3 mm removed.",
      "End plate L4 L5 Modic changes.",
      "Plate A1 B2 on the assay.",
      "Plate 3.5 mm LCP, 8 holes.",
      "Used plate LC-DCP 4.5.",
      "Tag ID 4 placed on the bag.",
      // serial exams after a side
      "Serial L and R exams done.",
      "Serials L 1 and R 2 drawn.",
      "Serial troponins, L 4.5 then 3.2.",
      // a score, a dose or a count after an arrival's or a collection's time; bottles of a culture
      "Arrival 02:14 1/2 tab given.",
      "Arrived 14:00 2/10 pain.",
      "Collected 08:00 3/4 tubes.",
      "Triaged 14:30 4/5 strength.",
      "Blood culture 1/4 bottles positive.",
      "Cultures 2/2 positive.",
      "(anxiety screen 6/10)",
      "F/u call 1/2 tab at night.",
      // products named with a title
      "Mr. Yuk stickers given to mom.",
      "Mr. Clean spray ingestion.",
      "Dr. Reddy's omeprazole 20 mg.",
      // a kind of practice alone
      "Referred to Women's Health.",
      "Orthopedic Associates referral placed.",
      "Call Orthopedic Specialists.",
      // a unit or a shift signing
      "Triage, RN",
      "Charge, RN",
      "Float, RN",
      "Hospice, RN",
      "Agency, RN",
      "Wound Care, RN",
      "Ortho, PA-C",
      "Peds, MD");

  /** What the rules find (held-out sets 10 and 11's shapes, in sentences of the review's own). */
  static final List<String> FOUND = List.of(
      "Patient Nguyen Thi Mai, 88 y/o, with son.", "Patient [PERSON], 88 y/o, with son.",
      "Child Brayden, 3 yo, 14 kg.", "Child [PERSON], 3 yo, 14 kg.",
      "Proband Lucinda, 37, for BRCA1.", "Proband [PERSON], 37, for BRCA1.",
      "Pt Haddad-Ruiz, Samira. Fistula patent.", "Pt [PERSON]. Fistula patent.",
      "Care with CNM Whitcomb.", "Care with CNM [PERSON].",
      "Counselor: Anika Bhattacharya, MS, CGC", "Counselor: [PERSON], MS, CGC",
      "Sent to Mercy Joplin ED.", "Sent to [FACILITY] ED.",
      "Drove him in from Ava.", "Drove him in from [CITY].",
      "Lives in a care home in Seligman.", "Lives in a care home in [CITY].",
      "Takes the Finley River Transit van.", "Takes the [EMPLOYER] van.",
      "Confirmation ZX-4417290 for the ride.", "Confirmation [ID] for the ride.",
      "Lab requisition LQ-55123-AB sent.", "Lab requisition [ID] sent.",
      "biometric ID FP-2201987", "biometric ID [ID]",
      "member QRX 7781 2209", "member [PLAN]",
      "plate 7TY 118 on the car", "plate [VEHICLE] on the car",
      "tag KD4 M27", "tag [VEHICLE]",
      "serials L 88K2M114 and R 88K2M115", "serials L [DEVICE] and R [DEVICE]",
      "choir at First Methodist of Ozark", "choir at [FACILITY]",
      "Arrival 23:50 11/30", "Arrival 23:50 [DATE]",
      "Strep B (culture 10/28).", "Strep B (culture [DATE]).",
      "F/u call 3/9 07:00: stable.", "F/u call [DATE] 07:00: stable.",
      "with Dr. Lindgren Tuesday Dec 8 at 9:00", "with Dr. [PERSON] [DATE] at 9:00",
      "Foley, RN", "[PERSON], RN",
      "Dr. Reddy's note reviewed.", "Dr. [PERSON] note reviewed.",
      "Mr. Yukawa at bedside.", "Mr. [PERSON] at bedside.");

  DetectorsSetElevenAttackTest() {
    super(KEPT, FOUND);
  }
}
