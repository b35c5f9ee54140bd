package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shapes held-out set 10 missed, and the known over-removals after set 9: initials after "Pt" and before a signer's
 * letters, an initial before a surname after "Pt" or a role, a name after a cue that says what a person is called, a
 * stepparent's short word, a report called to or a result discussed with someone, a dental specialist's practice and
 * a funeral home, a day before a clock time or after a date's label, a month with an apostrophe's year, a decade's word
 * over 89; and what must stay: a document's number of a year and a month, an eponym's town before a chart, a stool or a
 * hump. Each rule's trigger beside clinical words, asserted kept to the letter by the detectors and the whole
 * de-identifier.
 */
class DetectorsSetTenRulesTest extends ClinicalSentencesTest {

  /** Each new rule's trigger beside what a note puts there that names no one and is no date. */
  static final List<String> KEPT = List.of(
      // initials after Pt: an abbreviation written with periods, an organism
      "Pt A.O. x3, calm and cooperative.",
      "Pt A.O.x3 on arrival.",
      "Pt N.P.O. after midnight.",
      "Pt D.C.'d home with family.",
      "Pt S.O.B. on exertion.",
      "Pt C. Diff positive, on contact precautions.",
      "Pt H. Pylori breath test pending.",
      "Pt A. Fib with RVR overnight.",
      // initials before the letters at a line's start
      "P.O., RN to give with food.",
      "N.P.O. RN aware.",
      "B.I.D., RN to check levels.",
      // an initial before a word after a role
      "RN A. Line placed in the radial artery.",
      "PT C. Diff precautions observed.",
      "pharmacist E. Coli sensitivities reviewed.",
      // a cue that says what someone is called, before a way of travel, a service, a condition or a drug
      "goes by Medicaid cab; goes by bus; called 911.",
      "goes by Lyft to dialysis on MWF.",
      "goes by the name on her ID.",
      "also known as Lou Gehrig disease.",
      "Known to family as stubborn.",
      "nickname: unknown.",
      "legal name on file with Registration.",
      // a report or a discussion with a service, a team or a role
      "report given to Pharmacy.",
      "report called to ICU charge nurse.",
      "Discussed with Cardiology fellow.",
      "Discussed by phone with Radiology.",
      "handed off to Night shift.",
      // a stepparent's word before a condition
      "stepdad Hypertension, stepmom Diabetes.",
      // dental and funeral words without a name before them
      "referred to Endodontics for RCT.",
      "Oral Surgery consult for extraction #17.",
      "Pediatric Dentistry clinic follow-up.",
      "Funeral Home notified by charge RN.",
      "Periodontics recall in 3 months.",
      // a score, a ratio or a strength before a clock time; a count after a date's label
      "pain 7/10 14:00 after meds.",
      "GCS 3/15 08:00, improved to 14.",
      "Strength 4/5 10:30 recheck.",
      "BP 120/80 08:00 sitting.",
      "Tylenol 1/2 tab 08:00.",
      "DOS 2-3 days ago per pt.",
      // a document's number of a year and a month, not a date
      "Policy 2019-04 on visitors reviewed.",
      "per SOP 2021-11, restraint checks q2h.",
      "Form 2020-07 completed by the family.",
      "See Protocol 2018-02 for dosing.",
      // a month's word with an apostrophe that is no year
      "May 'be' allergic, per mother.",
      // an eponym's town before a chart, a stool, a hump or lines
      "Stool per Bristol chart, type 4.",
      "Bristol stool form 6 x2.",
      "No Hampton hump or Westermark sign.",
      // an age's decade that is no age over 89
      "An octogenarian with CHF.",
      "the nonagenarian cohort in the trial");

  /** The shapes each rule was written for, with how the detectors should mark them. */
  static final List<String> FOUND = List.of(
      "Pt D.W. walked in with pain.", "Pt [PERSON] walked in with pain.",
      "Vitals stable. Pt J.R.K. resting.", "Vitals stable. Pt [PERSON] resting.",
      "Pt M. Okonkwo-Bell, 58M, inferior STEMI.", "Pt [PERSON], 58M, inferior STEMI.",
      "J.R.K., NP", "[PERSON], NP",
      "-- A.B. RN", "-- [PERSON] RN",
      "school counselor K. Ricketts at the school", "school counselor [PERSON] at the school",
      "adjuster D. Strunk called back.", "adjuster [PERSON] called back.",
      "with endodontist Oyelaran-Fitch next week", "with endodontist [PERSON] next week",
      "(goes by Dot) walked in", "(goes by [PERSON]) walked in",
      "Client is 16 and goes by Jax (legal name on file)", "Client is 16 and goes by [PERSON] (legal name on file)",
      "known to everyone as Buddy, is here", "known to everyone as [PERSON], is here",
      "legal name Jaxon Pruitt-Vance); lives with mom", "legal name [PERSON]); lives with mom",
      "prefers to be called \"Jax\".", "prefers to be called \"[PERSON]\".",
      "stepdad Earl in person", "stepdad [PERSON] in person",
      "report called to Brandi.", "report called to [PERSON].",
      "funeral home is Hammond-Leach Funeral Chapel.", "funeral home is [FACILITY].",
      "at Ozark Endodontics.", "at [FACILITY].",
      "RCT completion 5/3 8:00 with the endodontist", "RCT completion [DATE] 8:00 with the endodontist",
      "DOI 4-28. Claim open.", "DOI [DATE]. Claim open.",
      "LMP 3/2, G2P1.", "LMP [DATE], G2P1.",
      "Comparison: CT chest Jan '25 and today.", "Comparison: CT chest [DATE] and today.",
      "employee since 2015-06", "employee since [DATE]");

  @Test
  void aDecadesWordOver89BecomesTheCategory() {
    assertThat(HeldOutSetsTest.pipelineOutput("Patient is a nonagenarian with dementia."))
        .isEqualTo("Patient is a person aged 90 or older with dementia.");
    assertThat(HeldOutSetsTest.pipelineOutput("Two centenarians and an octogenarian."))
        .isEqualTo("Two people aged 90 or older and an octogenarian.");
  }

  DetectorsSetTenRulesTest() {
    // "the nonagenarian cohort" too, since the adversarial review (DetectorsSetTenAttackTest) left research prose alone
    super(KEPT, FOUND);
  }
}
