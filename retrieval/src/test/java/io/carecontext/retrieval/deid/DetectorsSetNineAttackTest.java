package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An adversarial review of the rules held-out sets 8 and 9 brought in the fiftieth session: clinical text a note holds,
 * written for the review and in no held-out set, with each rule's trigger beside words that must stay (codes and
 * staging shaped as lettered record numbers, "F:" and "Fx" as a form's label and a fracture, "policy" in prose,
 * weekdays in dosing schedules, day-first fractions, "Elementary" and "Day Care" in prose, a generic health department,
 * "years young", numbers between commas, quoted words before "sign", "(at)" and a spaced "@" in prose, the medication
 * administration record's "2 MAR doses"). The kept sentences were each read wrong by the detectors or the de-identifier
 * before the review's fixes where the commit says so; the found ones hold each fixed rule to what it was written for.
 */
class DetectorsSetNineAttackTest extends ClinicalSentencesTest {

  /** Clinical text beside a new rule's trigger: nothing of it is an identifier, through the detectors or the whole pipeline. */
  static final List<String> KEPT = List.of(
      "HLA-B27 positive; ICD-10-CM M45.9 coded.",
      "Billed CPT 99213-25 with modifier.",
      "NDC 0002-8215-01 dispensed from stock.",
      "Staged T2-N1-M0 adenocarcinoma.",
      "COVID-19 and BRCA1 negative; G6PD normal.",
      "L4-L5 herniation and C5-C6 fusion.",
      "Vaccine Lot AB-12-345 exp 2027.",
      "Influenza vaccine Lot FK-5127-033 given left deltoid.",
      "Enrolled on IRB-2024-0137 after consent.",
      "Trial NCT-0412-3456 screening visit.",
      "Filed form VA-21-4138 with the social worker.",
      "Implant per ISO-1099-2018 standard.",
      "Fever, F: 98.6 orally.",
      "F: 2 M: 1 in the household.",
      "Fx of the distal radius, casted.",
      "Fx: 2019, healed without ORIF.",
      "Hx Fx 2015 L wrist.",
      "Restraints per hospital policy 4 times daily review.",
      "Per hospital policy NUR-12-045, sitter at bedside.",
      "Dialysis Mon/Wed/Fri 3/week.",
      "Lantus Tuesday 5 units extra.",
      "Warfarin 5 mg daily except Sat 1/2 tab.",
      "Coumadin 2.5 mg Mon, Wed; Tue 1/2 tab.",
      "Insulin Fri 20/10 units am/pm.",
      "Visual acuity Thu 20/10 both eyes.",
      "BP 23/03? likely a typo.",
      "Ratio 15/5 on the vent.",
      "Mother is an elementary school teacher.",
      "Preschool-age child with otitis.",
      "Attends Adult Day Care three days a week.",
      "Referred to the Patient Learning Center for insulin teaching.",
      "Attends a Montessori program.",
      "Referred to the Behavioral Health Department.",
      "Public Health Department guidance on TB followed.",
      "Notified the County Health Department.",
      "Feels ten years young after rehab.",
      "The dose, 100, was given.",
      "Sats for the patient, 94, 95 and 97 on 2 L.",
      "Positive 'string' sign on upper GI.",
      "Positive \"Murphy\" sign, RUQ tender.",
      "Seen (at) home by the nurse.",
      "BP 140/90 @ home. US of the abdomen ordered.",
      "Seen (at) clinic. Us too, said the son.",
      "Meds @ bedtime. Info sheet given.",
      "Missed 2 Mar doses per the MAR.",
      "Given 2 MAR doses overnight.",
      "Prescriber Aware of the change.",
      "Outside prescriber Contacted by fax.",
      "Identity Confirmed (DOB and name).",
      "Patient Name, DOB and MRN verified.",
      "Two Identifiers (DOB, name) used.",
      "Works in Commercial Roofing.",
      "Exposure to Treated Lumber dust.",
      "Badge reader at the door; badge 12 days late.",
      "Christmas time is hard; Easter break travel.",
      "Memorial sign negative.",
      "Platelets 150/400-1000 normal range.",
      "CA 19-9 of 40; HbA1c 7.2 and MTHFR C677T heterozygous.",
      "Per policy 2 visitors at a time.",
      "Employee Assistance Program offered; badge access for the parent.",
      "Cardiac rehab Mon/Wed/Fri, Sat 92% on room air.",
      "Lives near the Joplin sign.",
      "Tx for Fx; F/u 2 wks.",
      "Grandfather, 88, uses a walker.",
      "Needs Sun 24/7 supervision after discharge.",
      "Eye exam Thu 20/20 OU.",
      "Pt, 92, 94, 96 on serial pulse ox.",
      "Prescriber Notified of the INR.",
      "Positive \"Lachman\" sign, ACL tear.",
      "Protocol CB26-00817 enrollment.");

  /** What the fixed rules still find, with what they leave. */
  static final List<String> FOUND = List.of(
      "Report APS-26-03318 filed with the county.", "Report [ID] filed with the county.",
      "Serial SN-4471-90211 on the pump.", "Serial [ID] on the pump.",
      "Seen Sat 1/2 for INR check.", "Seen [DATE] for INR check.",
      "Return Fri 20/10 for suture removal.", "Return [DATE] for suture removal.",
      "Missed 2 Mar, seen 3 Mar.", "Missed [DATE], seen [DATE].",
      "Write mary.k @ gmail . com with the plan.", "Write [EMAIL] with the plan.",
      "Portal mail bob(at)aol.com only.", "Portal mail [EMAIL] only.",
      "Faxed to F: 314/555-0188 today.", "Faxed to F: [FAX] today.",
      "Call 314/555-0188 with results.", "Call [PHONE] with results.",
      "Fx 3145550123 attn records.", "Fx [FAX] attn records.",
      "Insurer policy XK 4471 902 on card.", "Insurer policy [PLAN] on card.",
      "Insurance policy ABC123456 on card.", "Insurance policy [PLAN] on card.",
      "Maria Lopez (DOB 3/4/2019) brought by aunt.", "[PERSON] (DOB [DATE]) brought by aunt.",
      "Works at Ozark Commercial Roofing days.", "Works at [EMPLOYER] days.",
      "Lives near the \"Welcome to Joplin\" sign.", "Lives near the \"Welcome to [CITY]\" sign.",
      "Transported to Greene County Memorial Hospital.", "Transported to [FACILITY].",
      // a county is a place smaller than a state, and Memorial Day the day of the fall: not "[FACILITY] Day"
      "Fell at the Greene County Memorial Day parade.", "Fell at the [COUNTY] [DATE] parade.",
      "Seen Sun 24/6 in clinic.", "Seen [DATE] in clinic.");

  @Test
  void anAgeBetweenCommasAfterItsPersonIsStillTheCategory() {
    assertThat(HeldOutSetsTest.pipelineOutput("The grandmother, 96, lives alone.")).doesNotContain("96")
        .contains("aged 90 or older");
    assertThat(HeldOutSetsTest.pipelineOutput("Frail widower, 93, lives alone.")).doesNotContain("93");
  }

  DetectorsSetNineAttackTest() {
    // the de-identifier adds the age rules ("the patient, 94, 95 and 97" is a list of saturations, not an age)
    super(KEPT, FOUND);
  }
}
