package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * A second adversarial review of the rules held-out set 11 brought in the fifty-second session, by another hand than
 * {@link DetectorsSetElevenAttackTest}'s: clinical text written against each rule's shape, in no held-out set and in
 * none of that class's sentences. Each kept sentence marked "was" was read wrong by the rules as committed (35 of 114;
 * 9 of them, marked so, already before the session); all are kept now. {@link #FOUND} holds what slipped past a rule by
 * a small change of its shape and a general rule now covers.
 */
class DetectorsSetElevenReviewTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-11 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // a role, a service or a measure between the patient's word and a number
      "Patient Care Plan, 84 y/o, reviewed with team.",
      "Pt Temp, 101 F, tachycardic.", // was, through the de-identifier's age rule (before the session too)
      "Patient Weight, 72, stable.",
      "Infant Hearing Screen, 2 mo, passed.",
      "Baby Boy, 3 days, jaundice.",
      "Child Development, 18 mo, on track.",
      "Patient Advocate, 3 yrs on staff.", // was
      "Resident Physician, 2 yrs training.", // was
      "Client Goals, 6 mo, reviewed.",
      "Patient Declined, 2 times, refused.",
      "Toddler Formula, 12 mo+.",
      "Infant Tylenol, 2 mo dosing card given.",
      "Patient Height, 64, BMI 31.",
      "Child Wellness, 4 yo visit.",
      "Patient Hope Scale, 40, moderate.",
      // states after "Pt", a comma, and another
      "Pt Young, Healthy.",
      "Pt Short, Stocky.",
      "Pt Weak, Pale.",
      "Pt Bright, Alert.",
      "Pt Soft-Spoken, Pleasant.",
      "Pt Sleep-Deprived, Tearful.",
      "Pt Hard-Working, Anxious.",
      "Pt Little, Eating.",
      "Pt Stout, Cooperative.",
      "Pt Pleasant, Cooperative.",
      "Pt Tolerating diet, voiding.",
      "Pt Hale, Hearty.",
      "Pt Strong, Steady.",
      "Pt Moody, Irritable.",
      // "CNM" and "proband" before what is no name
      "CNM Home Visit scheduled.",
      "Seen by CNM Service today.",
      "Proband Negative for the familial variant.",
      "Proband Affected with HCM.",
      "Proband Mother, Father unaffected.",
      // "MS" and "BS" as a disease, a stenosis and a blood sugar before a credential
      "Labs: Vitals, BS, RN notified.",
      "PMH: Asthma, MS, RN to educate.",
      "Hx Migraine, MS, NP following.",
      "Dx: Optic Neuritis, MS, MD aware.",
      "Murmur, MS, MD to review.",
      "Valve disease: Rheumatic, MS, MD aware.",
      // a kind of ED, of patient or of animal before "ED" or "ER"
      "Sent to Obstetric ED.", // was
      "Transferred to Cardiac ED.",
      "Dog taken to Animal ER.", // was
      "Brought to Veterinary ER.", // was
      "Sent to Minors ED.", // was
      "Moved to Majors ED.", // was (before the session too)
      "Seen at Standalone ED.", // was (before the session too)
      "Taken to Stroke ED.",
      "Sent to Eye ED for the abrasion.",
      "Went to Dental ER.",
      "Transferred to Burn ED.",
      "Sent to Geriatric ED.",
      "Went to Other ED last night.", // was
      // a level of independence before a town's word
      "Progressed from Min Assist to Modified Independence.",
      "Goal: Return to Full Independence.", // was
      // a word after a care home or a ride that is no town
      "Drove her in from Work.",
      "Drove him back from Dialysis.",
      "Lives in a nursing home in Memory Care.",
      "Drove them in from Church.",
      // a gut's transit and a way of riding
      "Dx: Slow Transit Constipation.", // was
      "Colon Transit Study ordered.", // was
      "Small Bowel Transit Time 6 h.", // was
      "Gastric Transit Scan scheduled.", // was
      "Whole Gut Transit study normal.", // was
      "Uses Wheelchair Transit.", // was
      "Takes Stretcher Transit.", // was
      "Uses Local Taxi Company.", // was (before the session too)
      // (no First Baptist sentence: none clinical found)
      // a test, a gene or a germ after "confirmation", "requisition" or "member"
      "Confirmation of COVID-19 infection by PCR.", // was
      "Confirmation of BRCA2 variant by Sanger.", // was (before the session too)
      "Lab requisition: HbA1c, lipid panel.", // was
      "Confirmation HbA1c 6.8 pending.", // was
      "Household member COVID-19 positive.", // was
      "Crew member H1N1 vaccinated.",
      "Requisition CMP-14 printed.", // was
      "Confirmation SARS-CoV-2 PCR negative.", // was
      "Member of AA since 2019.",
      "Awaiting confirmation PCR.",
      // hardware, a line, a lab's plate and a spine's levels after "plate" or "tag"
      "Compression plate DCP 10H used.", // was
      "Locking plate LCP 8H applied.",
      "Line tag RIJ 7FR dated today.", // was
      "Plate A1-H12 loaded on the analyzer.", // was (before the session too)
      "Agar plate BAP 48H growth.", // was
      "Tag: EJ 18G placed.", // was
      "Anterior plate C5-C6 intact.", // was (before the session too)
      "Plate T12-L1 hardware stable.", // was (before the session too)
      "Dental plate UR 3 loose.",
      // a grade, a sequence or a segment after a side in serial imaging
      "Serial MRIs: L T2-FLAIR hyperintensity stable.",
      "Serial imaging: R MCA-M2 occlusion unchanged.",
      "Serial EEGs: L FP1-F7 sharp waves.",
      "Serial ultrasounds, R TIRADS-3 nodule stable.", // was
      "Serial exams and R CN-VI palsy noted.",
      // a count, a dose or a share after a time, a culture or a call (the day-read ones, "Called 14:10 2/3," or "BCx drawn
      // 0600 2/2.", are dates read either way and left out)
      "Called 3x 14:10, no answer.",
      "Arrival 02:14 via EMS, GCS 15.",
      "Arrived 14:00 1/2 hr late.",
      "Collected 08:00 2/3 tubes, 1 hemolyzed.",
      "F/u call 1/2 of dose at 08:00.",
      "Blood culture 2/2 sets positive.",
      // a role, a service or a shift signing
      "Day, RN",
      "Bedside, RN",
      "Cardiology, MD",
      "Hospitalist, MD",
      "Anesthesia, CRNA",
      "Pharmacy, PharmD",
      "Nutrition, RDN",
      "Respiratory, RRT",
      "Surgery, PA-C",
      "Night, RN",
      "Primary, RN",
      "Travel, RN",
      "Resource, RN", // was (before the session too)
      "Rapid, RN",
      "Stroke, RN",
      "Lactation, RN",
      "Dialysis, RN");

  /** Identifiers a small change of a set-11 shape took past its rule (each passed, or left a part, as committed). */
  static final List<String> FOUND = List.of(
      "Patient: Nguyen Thi Mai, 88 y/o.", "Patient: [PERSON], 88 y/o.",
      "Patient Nguyen Thi Mai, age 88.", "Patient [PERSON], age 88.",
      "Child Brayden, 18 months.", "Child [PERSON], 18 months.",
      "Infant Kaeden, 10 days old.", "Infant [PERSON], 10 days old.",
      "Neonate Kaeden, 3 days old.", "Neonate [PERSON], 3 days old.",
      "serial L: 88K2M114; R: 88K2M115", "serial L: [DEVICE]; R: [DEVICE]",
      "with Dr. Lindgren Tues Dec 8 at 9:00", "with Dr. [PERSON] [DATE] at 9:00",
      // and the thresholds the review set still let an identifier through
      "Confirmation ZX-4417290 for the ride.", "Confirmation [ID] for the ride.",
      "Household member QRX 7781 2209", "Household member [PLAN]",
      "Lab requisition LQ-55123-AB sent.", "Lab requisition [ID] sent.",
      "serials R 2219H0KX9", "serials R [DEVICE]",
      "tag KD4 M27", "tag [VEHICLE]",
      "Patient Renata, 41 yo F.", "Patient [PERSON], 41 yo F.");

  DetectorsSetElevenReviewTest() {
    super(KEPT, FOUND);
  }
}
