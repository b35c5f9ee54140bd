package io.carecontext.retrieval.deid;

import static io.carecontext.retrieval.deid.DetectorsTest.marked;
import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rules held-out sets 8 and 9 brought in the fiftieth session (a weekday with any date, a day-first date with a
 * two-digit year or after a weekday, a holiday's season, short fax labels and a slash after an area code, odd e-mail
 * forms, a GS1 device identifier, a record's number of letters and digit groups, an employee's number, a bare
 * policy's number, a county's hospital, a health department whole, schools by their grade, a
 * trade's shop, a name before its birth date, an eponym's town in quotes), each
 * with sentences a note holds, written for this review and in no held-out set: what is no identifier is kept to the
 * letter, what is one is taken and nothing around it.
 */
class DetectorsSetNineRulesTest {

  /** Clinical text beside each new rule's trigger: nothing of it is an identifier. */
  static final List<String> KEPT = List.of(
      // holidays as a season, not a day
      "Christmas holiday travel planned; flu shot given.",
      "Halloween candy ingestion, no foreign body seen.",
      "Thanksgiving break from school; asthma well controlled.",
      "Worse over the holidays with more salt in the diet.",
      "Christmas season stress, PHQ-9 of 8.",
      // weekdays and day-first forms
      "Dialysis Mon/Wed/Fri.",
      "Pain 13/10 at worst.",
      "Sat 92% on room air.",
      "Wed 2 mg dose held.",
      "On 15/5 pressure support.",
      "Since 20/5 settings, tolerating.",
      "Since 14/3 ratio unchanged.",
      // faxes and phones
      "F: 40 mg furosemide.",
      "Fx of the distal radius, 2 weeks ago.",
      "Fx: 20 deg angulation.",
      "BP 120/80-90 at home.",
      "PEEP 5/10 cm H2O.",
      // e-mails
      "Temp @ 38.2 . com",
      "Seen at clinic . Follow-up in 2 weeks.",
      // record numbers
      "COVID-19 PCR negative, CA-125 of 35.",
      "ICD-10-CM code pending; SARS-CoV-2 negative.",
      "L4-5 and L5-S1 disc bulges; T11-12 normal.",
      "HLA-B27 negative; IL-6 elevated.",
      "BI-RADS 4; NYHA class II; GAD-7 6.",
      "CPT-99213 billed.",
      "Employee health cleared; employee 2 years at plant.",
      "Policy reviewed with family; policy 2 of 3 in packet.",
      // counties, departments, schools, agencies, shops
      "Memorial sign absent; regional anesthesia planned.",
      "Community acquired pneumonia.",
      "Health Department notified of the TB case.",
      "Elementary school aged child; preschool screening done.",
      "Auto Parts not relevant.",
      // a name before a birth date; a signer's line
      "Well Child (DOB verified with guardian).",
      "Down Syndrome (born with AV canal defect).",
      "Foley, RN removed at 06:00.",
      "Wound Care, RN",
      "Triage, RN",
      "Foley catheter placed by RN.",
      // eponyms in quotes
      "Positive \"Murphy\" Sign on exam.",
      "Negative 'Homans' sign.",
      "\"Tinel\" sign positive at the wrist.");

  /** Each new rule's positive, with what it leaves. */
  static final List<String> FOUND = List.of(
      "Visit Thu 12.02.2026 done.", "Visit [DATE] done.",
      "Next visit Mon 16 Feb.", "Next visit [DATE].",
      "Seen Wednesday, 4 March 2026.", "Seen [DATE].",
      "Call back Tues the 17th.", "Call back [DATE].",
      "Follow-up call Mon 23/03.", "Follow-up call [DATE].",
      "Date of surgery: 13 Mar 26", "Date of surgery: [DATE]",
      "Seen on Tuesday 2/20.", "Seen on [DATE].",
      "Fell on Christmas Eve.", "Fell on [DATE].",
      "Cough since Christmas.", "Cough since [DATE].",
      "Fx 4175550166 attn intake.", "Fx [FAX] attn intake.",
      "Faxed to F: 573/555-0121.", "Faxed to F: [FAX].",
      "Call 417/555-0199 with results.", "Call [PHONE] with results.",
      "E-mail ana.r(at)example.net please.", "E-mail [EMAIL] please.",
      "Write to joe_2 @ mail . com today.", "Write to [EMAIL] today.",
      "Mesh UDI (01)00888480590910(17)290630(10)4K27H placed.", "Mesh UDI [DEVICE] placed.",
      "Court order JU-2025-00471 on file.", "Court order [ID] on file.",
      "Specimen held as CB26-00817 in the lab.", "Specimen held as [ID] in the lab.",
      "Badge employee E-20417.", "Badge employee [ID].",
      "Carrier policy MEM 0093 1128.", "Carrier policy [PLAN].",
      "Transported to Wright County Memorial ED.", "Transported to [FACILITY] ED.",
      "Reported to Orange County Health Department.", "Reported to [FACILITY].",
      "Starts at Bissett Elementary in the fall.", "Starts at [FACILITY] in the fall.",
      "Attends Little Acorns Preschool.", "Attends [FACILITY].",
      "Works (O'Reilly Auto Parts) days.", "Works ([EMPLOYER]) days.",
      "Zoey Kandinsky (DOB 9-Mar-2022) here.", "[PERSON] (DOB [DATE]) here.",
      "Outside prescriber\nRamesh Iyengar, DEA on file.", "Outside prescriber\n[PERSON], DEA on file.");

  @Test
  void clinicalTextBesideTheNewRulesTriggersIsKeptToTheLetter() {
    // every sentence changed, named at once
    assertThat(DetectorsTest.changed(KEPT, kept -> marked(kept, KnownIdentifiers.empty()))).isEmpty();
  }

  @Test
  void theNewRulesFindWhatTheyWereWrittenFor() {
    assertThat(DetectorsTest.markedOtherwise(FOUND)).isEmpty();
  }

  /** Ages over 89 through the whole de-identifier: "years young" and an age between commas after its person. */
  @Test
  void agesOverEightyNineInTheNewFormsBecomeTheCategory() {
    assertThat(HeldOutSetsTest.pipelineOutput("He is ninety-three years young and sharp.")).doesNotContain("ninety-three");
    assertThat(HeldOutSetsTest.pipelineOutput("The great-grandmother, ninety-six, drove down.")).doesNotContain("ninety-six")
        .contains("aged 90 or older");
    assertThat(HeldOutSetsTest.pipelineOutput("His widow, 94, lives alone.")).doesNotContain("94");
    // an age under 90, and a number between commas after no person, stay
    assertThat(HeldOutSetsTest.pipelineOutput("His mother, 64, lives alone.")).contains("64");
    assertThat(HeldOutSetsTest.pipelineOutput("Beds 2, 95, and 96 are open.")).contains("95");
    assertThat(HeldOutSetsTest.pipelineOutput("Feels twenty years younger.")).contains("twenty years younger");
  }

  /** Each new repetition is bounded: 64 KiB runs of the new shapes end in time without an error. */
  @Test
  void longRunsOfTheNewShapesEnd() {
    for (String unit : List.of("a @ ", "x(at)", "(01)", "AB-12-", "Fx ", "Mon the ", "Aa Bb (", "Foley, RN ", ". ")) {
      String run = unit.repeat(65_536 / unit.length());
      assertThat(Detectors.find(run, KnownIdentifiers.empty())).isNotNull();
    }
  }
}
