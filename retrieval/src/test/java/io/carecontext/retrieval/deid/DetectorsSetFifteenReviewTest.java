package io.carecontext.retrieval.deid;

import java.util.List;

/**
 * An adversarial review of the rules held-out set 15 brought in the fifty-sixth session: clinical text written against
 * each new rule's shape after the rules, in no held-out set. {@link #FOUND} holds what each rule was written for, and
 * small changes of its shape.
 */
class DetectorsSetFifteenReviewTest extends ClinicalSentencesTest {

  /** Clinical text beside a set-15 rule's trigger: nothing of it is an identifier, through the detectors or the pipeline. */
  static final List<String> KEPT = List.of(
      // the word of the one a note is about, or of a public-health worker, before what the note says
      "Client Education provided on TB medicines.",
      "Client Denies night sweats.",
      "Decedent Identified by fingerprints.",
      "Recipient Blood Type O pos.",
      "Investigator Brochure reviewed with the team.",
      "Outreach worker Unable to reach by phone.",
      "Responder Status per RECIST criteria.",
      // capitals after the word of the one named, which are tests
      "Recipient ABO, RH confirmed.",
      "Donor CMV, EBV negative.",
      "Recipient HLA, DSA pending.",
      // a bridge or a market of a drug's, a dentist's or money's
      "Plan: the Lovenox Bridge to warfarin.",
      "Stressed by the Stock Market losses.",
      "Bridge to transplant discussed.",
      // a tattoo without quoted words
      "Tattoo removal consult, laser.",
      "Tattoos on both forearms, healed.",
      // a band's or a case's count
      "Bands 12%, segs 70%.",
      "Gastric band 10 mL removed.",
      "Case 2 of 3 on the OR schedule.",
      "Case 2019-2020 flu season.",
      "ID band 2 applied.",
      // "user" before a use or a frequency
      "IV drug user x2 years.",
      "Tobacco user, 1 ppd.",
      "CPAP user nightly.",
      "Cannabis user since 2019.",
      // a count after "due"
      "Doses due 3/4 tabs left.",
      "Series due 2/3 doses.",
      "Lovenox due 1/2 of the usual dose.",
      // a scale named for a town before its score in a list
      "CIWA 6, Glasgow 15.",
      "Vitals stable; Glasgow 14/15; pupils equal.",
      "GCS:\nGlasgow 15\nRASS 0");

  /** What the rules were written for, and small changes of its shape. */
  static final List<String> FOUND = List.of(
      "Client Anh Thu Lam-Pereira, 29 F.", "Client [PERSON] [PERSON], 29 F.",
      "Decedent Florentino Arce Villalobos, age 71.", "Decedent [PERSON], age 71.",
      "Outreach worker Desmond brings her Ensure.", "Outreach worker [PERSON] brings her Ensure.",
      "Designated crisis responder M. Okonkwo evaluated at 03:10.", "Designated crisis responder [PERSON] evaluated at 03:10.",
      "Investigator Tomasz Wierzbicki, D-ABMDI", "Investigator [PERSON], D-ABMDI",
      "Fitted by Caspian Reyes-Holloway, CPO", "Fitted by [PERSON], CPO",
      "Recipient LARKSPUR, ODED, MRN 7730419.", "Recipient [PERSON], MRN [MRN].",
      "Brought from the Narrows Bridge walkway.", "Brought from the [ADDRESS] walkway.",
      "Fish stall at\nLexington Market, daily.", "Fish stall at\n[ADDRESS], daily.",
      "Tattoo \"MARISOL\" on the left forearm.", "Tattoo \"[ID]\" on the left forearm.",
      "Typenex band ZX-884120 matched.", "Typenex band [ID] matched.",
      "Protection order, case 23-2-04418-7; duty weighed.", "Protection order, case [ID]; duty weighed.",
      "RBC unit W0368 26 118844 stopped.", "RBC unit [ID] stopped.",
      "Doses by video, user alam.pereira96, daily.", "Doses by video, user [USERNAME], daily.",
      "Lives at 4410 Greenmount Ave, Baltimore\n21218.", "Lives at [ADDRESS], [CITY]\n[ZIP].",
      "5-day MDS due 12/9.", "5-day MDS due [DATE].",
      "Moved to Glasgow 2 years ago.", "Moved to [CITY] 2 years ago.");

  DetectorsSetFifteenReviewTest() {
    super(KEPT, FOUND);
  }
}
