package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeidentifierTest {

  static final KnownIdentifiers KNOWN = new KnownIdentifiers(
      List.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, "Kowalski", List.of("Grace"), null),
          new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PRACTITIONER, "Haddad", List.of("Farid"), null)),
      List.of("MRN4455667"), List.of("(312) 555-0142"),
      List.of(new KnownIdentifiers.Address(List.of("12 Elm Street"), "Riverton", null, "IL", "60601", null)),
      List.of(LocalDate.of(1961, 7, 14)));

  @Test
  void knownIdentifiersInVariantsBecomeConsistentTokens() {
    DeidResult r = Deidentifier.deidentify(List.of(
        "GRACE KOWALSKI (mrn4455667), DOB July 14, 1961, call 312.555.0142; Dr. Haddad saw Kowalski's labs.",
        "G. Kowalski lives at 12 Elm Street, Riverton IL 60601. Kowalksi agreed."), KNOWN, DatePolicy.TOKEN, 0);
    String all = String.join("\n", r.texts());
    for (String leaked : List.of("Grace", "GRACE", "Kowalski", "Kowalksi", "4455667", "555", "Elm", "Riverton", "60601",
        "1961", "Haddad")) {
      assertThat(all).doesNotContainIgnoringCase(leaked);
    }
    // one patient is one token, however a text writes the name: in capitals, possessive, by initial
    // (they were [PATIENT_1] to [PATIENT_3], three patients to the model, the labs another's); a word
    // one edit from the name keeps its own, as it may be another person (DistinctPeopleTokenTest)
    assertThat(r.texts()).containsExactly(
        "[PATIENT_1] ([MRN_1]), DOB [DATE_1], call [PHONE_1]; Dr. [PROVIDER_1] saw [PATIENT_1]'s labs.",
        "[PATIENT_1] lives at [ADDRESS_1], [CITY_1] IL [ZIP_1]. [PATIENT_2] agreed.");
    assertThat(r.tokens().toString()).doesNotContain("Kowalski");
    // an answer reads as the source first wrote each
    assertThat(Reidentifier.reidentify("[PATIENT_1] and [PROVIDER_1], [DATE_1].", r.tokens()))
        .isEqualTo("GRACE KOWALSKI and Haddad, July 14, 1961.");
    // consistent: an identifier written another way in another text of the request is the same token
    // (upper or lower case, other separators, a known date in another format), and each token stands
    // for one identifier only
    DeidResult again = Deidentifier.deidentify(List.of(
        "MRN4455667, phone (312) 555-0142, seen by Dr. Haddad on July 14, 1961.",
        "mrn 4455667; 312.555.0142; HADDAD; 1961-07-14."), KNOWN, DatePolicy.TOKEN, 0);
    assertThat(again.texts()).containsExactly("[MRN_1], phone [PHONE_1], seen by Dr. [PROVIDER_1] on [DATE_1].",
        "[MRN_1]; [PHONE_1]; [PROVIDER_1]; [DATE_1].");
    assertThat(again.tokens().size()).isEqualTo(4);
  }

  @Test
  void clinicalValuesAndOrdinaryWordsSurvive() {
    String text = "BP 142/91 mmHg, HbA1c 7.2 % (LOINC 4548-4), metformin 500 mg, grade 2 edema, ICD-10 E11.9.";
    assertThat(Deidentifier.deidentify(List.of(text), KNOWN, DatePolicy.SHIFT, 30).texts().get(0)).isEqualTo(text);
  }

  @Test
  void datesShiftOrKeepTheYearAndTokensAreReidentifiedOrDropped() {
    DeidResult shifted = Deidentifier.deidentify(List.of("Seen 2024-03-05 by Dr. Haddad."), KNOWN, DatePolicy.SHIFT, 10);
    assertThat(shifted.texts().get(0)).contains("2024-03-15").contains("[PROVIDER_1]");
    assertThat(Deidentifier.deidentify(List.of("Seen 03/05/2024."), KNOWN, DatePolicy.YEAR, 0).texts().get(0))
        .isEqualTo("Seen 2024.");
    assertThat(Reidentifier.reidentify("Ask [PROVIDER_1] and [PATIENT_7], [PROVIDER 1].", shifted.tokens()))
        .isEqualTo("Ask Haddad and [unresolved], [unresolved].");
    assertThat(Reidentifier.keepTokens("Ask [PROVIDER_1] and [PATIENT_7].", shifted.tokens()))
        .isEqualTo("Ask [PROVIDER_1] and [unresolved].");
  }

  /**
   * Under shift the model sees every date moved by the patient's offset, so the dates of its answer
   * are in that frame: a clinician was told the first HbA1c was on the shifted date. Each is moved
   * back; a date a token stood for is the record's own and stays.
   */
  @Test
  void shiftedDatesInAnAnswerAreMovedBackAndTokenDatesStay() {
    DeidResult shifted = Deidentifier.deidentify(List.of("HbA1c 8.1 % on 2024-01-10, seen by Dr. Haddad.",
        "Follow-up on the 3rd."), KNOWN, DatePolicy.SHIFT, 257);
    assertThat(shifted.texts().get(0)).contains("2024-09-23").doesNotContain("2024-01-10");
    assertThat(Reidentifier.reidentify("First HbA1c on 2024-09-23 (Sep 23, 2024) per [PROVIDER_1]; next 10/2/2024.",
        shifted.tokens(), 257)).isEqualTo("First HbA1c on 2024-01-10 (2024-01-10) per Haddad; next 2024-01-19.");
    DeidResult tokens = Deidentifier.deidentify(List.of("Seen 2024-01-10."), KNOWN, DatePolicy.TOKEN, 0);
    assertThat(Reidentifier.reidentify("Seen on [DATE_1].", tokens.tokens(), 257)).isEqualTo("Seen on 2024-01-10.");
    assertThat(Reidentifier.reidentify("No date, 8.1 %, LOINC 4548-4.", shifted.tokens(), -30))
        .isEqualTo("No date, 8.1 %, LOINC 4548-4.");
  }

  /**
   * A day without its year has no year to keep and no day to shift into a known year: it is a token
   * under every policy, the clinician's answer gets it back as written, a researcher's answer and a
   * researcher's question never do.
   */
  @Test
  void aDayWithoutItsYearIsATokenUnderEveryPolicy() {
    for (DatePolicy policy : DatePolicy.values()) {
      DeidResult r = Deidentifier.deidentify(List.of("Admitted March 3, seen again on 2/13."), KNOWN, policy, 30);
      assertThat(r.texts().get(0)).as(policy.name()).isEqualTo("Admitted [DATE_1], seen again on [DATE_2].");
      assertThat(Reidentifier.reidentify("Admitted [DATE_1]; [DATE_2] follow-up.", r.tokens(), 30))
          .isEqualTo("Admitted March 3; 2/13 follow-up.");
    }
    assertThat(Reidentifier.keepTokens("The model says March 3 and 2024-03-05.", new TokenMap()))
        .isEqualTo("The model says [DATE] and 2024.");
    assertThat(Deidentifier.blind("Admitted on March 3 with CP?").texts().get(0)).isEqualTo("Admitted on [REDACTED] with CP?");
  }

  /** A researcher's question: the same treatment whether what it names is the patient's or not. */
  @Test
  void aBlindQuestionTreatsThePatientsNameLikeAnyOther() {
    assertThat(Deidentifier.blind("Glucose for Kowalski after 2024-03-05? SSN 123-45-6789.").texts().get(0))
        .isEqualTo("Glucose for [NAME] after 2024? SSN [REDACTED].");
    assertThat(Deidentifier.blind("Glucose for Zebulon after 2024-03-05? SSN 987-65-4321.").texts().get(0))
        .isEqualTo("Glucose for [NAME] after 2024? SSN [REDACTED].");
    // a word that begins a sentence is kept, whoever it names; acronyms and lower case stay
    assertThat(Deidentifier.blind("Metformin and HbA1c trends in T2DM. Any LDL for kowalski?").texts().get(0))
        .isEqualTo("Metformin and HbA1c trends in T2DM. Any LDL for kowalski?");
  }

  @Test
  void theOutputFilterRedactsWhatTheModelWasNeverGiven() {
    OutputPhiFilter.Filtered f = OutputPhiFilter.filter("SSN 123-45-6789, mail x.y@host.org, [PATIENT_1] is fine.", KNOWN);
    assertThat(f.text()).isEqualTo("SSN [REDACTED], mail [REDACTED], [PATIENT_1] is fine.");
    assertThat(f.redactions()).containsEntry(IdentifierClass.SSN, 1).containsEntry(IdentifierClass.EMAIL, 1);
  }

  @Test
  void oneEditApart() {
    assertThat(Detectors.oneEditApart("kowalksi", "kowalski")).isTrue();
    assertThat(Detectors.oneEditApart("kowalki", "kowalski")).isTrue();
    assertThat(Detectors.oneEditApart("kowallski", "kowalski")).isTrue();
    assertThat(Detectors.oneEditApart("kovalsky", "kowalski")).isFalse();
  }

  // "A 93-year-old" used to become "A aged 90 or older": the article now reads "An".
  @Test
  void agesOver89BecomeOneCategoryAndYoungerOnesStay() {
    assertThat(Deidentifier.agesOver89("Patient: female born 1931.", 2026)).isEqualTo("Patient: female aged 90 or older.");
    assertThat(Deidentifier.agesOver89("Patient: male born 1942.", 2026)).isEqualTo("Patient: male born 1942.");
    assertThat(Deidentifier.agesOver89("A 93-year-old, aged 91; Age: 102. A 45 year old sibling, age 89.", 2026))
        .isEqualTo("An aged 90 or older, aged 90 or older; Age: 90 or older. A 45 year old sibling, age 89.");
    assertThat(Deidentifier.agesOver89("93 years old and 12 yrs old", 2026))
        .isEqualTo("aged 90 or older and 12 yrs old");
  }

  /**
   * Blanks between "age" (or "she is") and what follows: "age" and 8 KiB of blanks took the de-identifier 5 s, and
   * the re-identifier's keepTokens as much, since each way of sharing the run between the blanks around the colon
   * was tried. A guard against that shape of cost, with a bound some fifty times what it takes now, and the ages
   * written with blanks still found.
   */
  @Test
  void aLongRunOfBlanksAfterAnAgesWordIsScannedOnce() {
    for (String word : List.of("age", "aged", "she is", "she is now", "age 95", "age 95 to", "age 95 years")) {
      String text = word + " \t".repeat(32 * 1024) + "x";
      String out = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
          () -> Deidentifier.agesOver89(text, 2026), word);
      assertThat(out).as(word).endsWith("x");
    }
    assertThat(Deidentifier.agesOver89("Age :  94; she is   now  92 today; age  91  to  95  years  or  older.", 2026))
        .isEqualTo("Age :  90 or older; she is   now  90 or older today; age  90 or older.");
  }

  // Before: a clinician's shorthand of age and sex ("91M with CHF") and an age after "she is" passed.
  @Test
  void agesOver89InShorthandAndAfterSheIs() {
    assertThat(Deidentifier.agesOver89("91M with CHF. Seen: 93 F, PMH AF. 45M with CP.", 2026))
        .isEqualTo("Aged 90 or older M with CHF. Seen: aged 90 or older F, PMH AF. 45M with CP.");
    assertThat(Deidentifier.agesOver89("She is 95. He is now ninety-one and lives alone. Pt is 92 today.", 2026))
        .isEqualTo("She is 90 or older. He is now 90 or older and lives alone. Pt is 90 or older today.");
    // a temperature, a room, a saturation and a younger age stay
    String kept = "Temp 99F, febrile to 101F, room 95F. She is 95% on RA. He is 45, his father born 1899.";
    assertThat(Deidentifier.agesOver89(kept, 2026)).isEqualTo(kept.replace("born 1899", "aged 90 or older"));
  }

  // Before: the renderer's "onset at age 94 years" read "onset at aged 90 or older years", and its
  // ranges kept their upper end or said "or older" twice.
  @Test
  void anAgeAfterAWordKeepsTheWordAndLosesItsUnit() {
    assertThat(Deidentifier.agesOver89("Breast cancer, onset at age 94 years, contributed to death.", 2026))
        .isEqualTo("Breast cancer, onset at age 90 or older, contributed to death.");
    assertThat(Deidentifier.agesOver89("onset age 91 to 95 years; age 92 years or older; aged 93 yrs; Age: 96", 2026))
        .isEqualTo("onset age 90 or older; age 90 or older; aged 90 or older; Age: 90 or older");
    String younger = "onset at age 45 years; age 60 to 70 years; age 18 years or older";
    assertThat(Deidentifier.agesOver89(younger, 2026)).isEqualTo(younger);
  }

  // A person the age describes comes first: "a 94 yo male" is "a male aged 90 or older", "An 93-year-old
  // inpatient" "An inpatient aged 90 or older"; after a word, or without such a noun, the age stands alone.
  @Test
  void theCategoryFollowsThePersonItDescribes() {
    assertThat(Deidentifier.agesOver89("A 93-year-old inpatient; a 94 yo male; 91-year-old man; turned 92 patient "
        + "reports; a 45-year-old woman.", 2026))
        .isEqualTo("An inpatient aged 90 or older; a male aged 90 or older; man aged 90 or older; turned 90 or older "
            + "patient reports; a 45-year-old woman.");
  }

  // Before: "is a 96-year-old woman" read "is a aged 90 or older woman", and ages in words, "turned",
  // "yo" and "born in" passed.
  @Test
  void anAgeOver89InWordsOrAfterAnArticleIsTheCategoryInEnglish() {
    assertThat(Deidentifier.agesOver89("She is a 96-year-old woman; born in 1930; she turned ninety-three, is "
        + "a ninety-three-year-old, one hundred and two years of age, 94 yo, 95yo, turning 100.", 2026))
        .isEqualTo("She is a woman aged 90 or older; aged 90 or older; she turned 90 or older, is an aged 90 or older, "
            + "aged 90 or older, aged 90 or older, aged 90 or older, turning 90 or older.");
    String younger = "A 45-year-old, born in 1950, turned eighty-nine, one hundred mg, ninety days, born 1950-05-06.";
    assertThat(Deidentifier.agesOver89(younger, 2026)).isEqualTo(younger);
  }

  // Checked: an age over 89 in words with no "is", "aged" or "turned" before it was already found by its unit
  // alone ("year old", "y/o", "yo"); these pin that down. Only the capital of a sentence's first word was lost
  // ("Ninety-two y/o male" read "male aged 90 or older"); ages of 89 and under in words stay.
  @Test
  void anAgeOver89InWordsNeedsNoWordBeforeItAndKeepsItsSentencesCapital() {
    assertThat(Deidentifier.agesOver89("A ninety-one year old woman with CHF; a ninety one-year-old woman presents.",
        2026)).isEqualTo("A woman aged 90 or older with CHF; a woman aged 90 or older presents.");
    assertThat(Deidentifier.agesOver89("Ninety-two y/o male, fall. Ninety-three-year-old man. ninety four yo female; "
        + "one hundred one year old.", 2026))
        .isEqualTo("Male aged 90 or older, fall. Man aged 90 or older. female aged 90 or older; aged 90 or older.");
    String younger = "An eighty-nine year old woman; a seventy-five y/o man. Eighty-nine-year-old man; ninety days.";
    assertThat(Deidentifier.agesOver89(younger, 2026)).isEqualTo(younger);
  }

  // Before: "seen by Dr Ortiz 12/12" was "seen by Dr [PERSON_1] 12/12": no word before the day called it a date.
  // After a name the day is a token under every policy, like any day without its year, and comes back to a
  // clinician as written; a researcher's answer that writes it after the name's token gets no day either.
  @Test
  void aDayAfterAPersonsNameIsATokenAndAnAmountAfterOneStays() {
    for (DatePolicy policy : DatePolicy.values()) {
      DeidResult r = Deidentifier.deidentify(List.of("Seen by Dr Ortiz 12/12; Kowalski 3/4 f/u. Dr Haddad 3/4 tablet, "
          + "5/5 strength."), KNOWN, policy, 30);
      assertThat(r.texts().get(0)).as(policy.name())
          .isEqualTo("Seen by Dr [PERSON_1] [DATE_1]; [PATIENT_1] [DATE_2] f/u. Dr [PROVIDER_1] 3/4 tablet, 5/5 strength.");
      assertThat(Reidentifier.reidentify("Next after [DATE_1] with [PERSON_1].", r.tokens(), 30))
          .isEqualTo("Next after 12/12 with Ortiz.");
    }
    assertThat(Reidentifier.keepTokens("Seen by [PROVIDER_1] 12/12, then 1/2 NS.", new TokenMap()))
        .isEqualTo("Seen by [unresolved] [DATE], then 1/2 NS.");
    assertThat(Deidentifier.blind("Was Dr Ortiz 12/12 the last visit?").texts().get(0))
        .isEqualTo("Was Dr [REDACTED] [REDACTED] the last visit?");
  }

  // Before: for a patient born 96 years ago, "born in 1930", "DOB: 1930" and the date's year (year
  // policy) or a shifted date within a year of it (shift policy) were left in the text.
  @Test
  void aPatientOver89KeepsNoBirthYearUnderAnyDatePolicy() {
    int born = LocalDate.now(ZoneOffset.UTC).getYear() - 96;
    KnownIdentifiers old = new KnownIdentifiers(KNOWN.names(), KNOWN.identifiers(), KNOWN.telecoms(), KNOWN.addresses(),
        List.of(LocalDate.of(born, 5, 6)));
    String text = "DOB: " + born + "; DOB " + born + "-05-06 (05/06/" + born + "); NT-proBNP " + born
        + " pg/mL; seen 2024-03-05.";
    for (DatePolicy policy : DatePolicy.values()) {
      String out = Deidentifier.deidentify(List.of(text), old, policy, 30).texts().get(0);
      assertThat(out.replace("NT-proBNP " + born + " pg/mL", "")).as(policy.name())
          .doesNotContain(Integer.toString(born)).doesNotContain(Integer.toString(born + 1))
          .doesNotContain(Integer.toString(born - 1)).contains("DOB: [YEAR]; DOB [DATE_1] ([DATE_1])");
    }
    // the same date in the answer of a clinician is the record's own again
    DeidResult shifted = Deidentifier.deidentify(List.of(text), old, DatePolicy.SHIFT, 30);
    assertThat(Reidentifier.reidentify("Born [DATE_1].", shifted.tokens(), 30)).isEqualTo("Born " + born + "-05-06.");
  }

  // Before: each research subject's texts had their own token map, and two patients were both [PATIENT_1].
  @Test
  void tokensOfSeveralSubjectsInOneResponseDiffer() {
    KnownIdentifiers other = new KnownIdentifiers(
        List.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, "Okafor", List.of("Adaeze"), null)),
        List.of(), List.of(), List.of(), List.of());
    String first = Deidentifier.deidentify(List.of("Grace Kowalski, thirst."), KNOWN, DatePolicy.YEAR, 0, "S1").texts().get(0);
    String second = Deidentifier.deidentify(List.of("Adaeze Okafor, thirst."), other, DatePolicy.YEAR, 0, "S2").texts().get(0);
    assertThat(first).isEqualTo("[S1_PATIENT_1], thirst.");
    assertThat(second).isEqualTo("[S2_PATIENT_1], thirst.");
  }

  // Before: "(312)555-0142" left "(" before the token, "(312-555-0142)" took "(" into it, and "MRN
  // MRN4455667" took the label into it (an answer's "MRN [MRN_1]" read "MRN MRN MRN4455667").
  @Test
  void anAnswerQuotingATokenReadsAsTheSourceDid() {
    for (String source : List.of("Call (312)555-0142; MRN MRN4455667.", "Call (312-555-0142); MRN MRN4455667.")) {
      DeidResult r = Deidentifier.deidentify(List.of(source), KNOWN, DatePolicy.SHIFT, 5);
      String answer = source.contains(")555") ? "Call [PHONE_1]; MRN [MRN_1]." : "Call ([PHONE_1]); MRN [MRN_1].";
      assertThat(r.texts().get(0)).isEqualTo(answer);
      assertThat(Reidentifier.reidentify(answer, r.tokens(), 5)).isEqualTo(source);
    }
  }

  // A researcher's source names no facility, and a clinician's answer gets it back from its token; a
  // facility the model names itself is advice, not the record's, and is not redacted from the answer.
  @Test
  void facilitiesBecomeTokensThatAreReidentifiedAndAModelsOwnAreLeft() {
    DeidResult r = Deidentifier.deidentify(List.of("Care plan: diabetes self management. Diabetes care plan at "
        + "Banner Health Clinic - Oro Valley.", "Repeat drawn at Tucson Medical Center lab."), KNOWN, DatePolicy.YEAR, 0);
    assertThat(r.texts()).containsExactly("Care plan: diabetes self management. Diabetes care plan at [FACILITY_1].",
        "Repeat drawn at [FACILITY_2] lab.");
    assertThat(Reidentifier.reidentify("Managed at [FACILITY_1] [S1].", r.tokens()))
        .isEqualTo("Managed at Banner Health Clinic - Oro Valley [S1].");
    assertThat(OutputPhiFilter.filter("Consider referral to a transplant centre such as Mayo Clinic.", KNOWN).text())
        .isEqualTo("Consider referral to a transplant centre such as Mayo Clinic.");
  }

  // Before: the output filter skipped every facility, so a store or a facility the model wrote itself ("pick it
  // up at Walgreens #4521") reached a researcher, whose answer is never re-identified. Decided: for an answer that
  // stays de-identified, facilities and a store's number after a facility's or an employer's token are redacted
  // (the model cannot tell advice from a place it recalls); for one that is re-identified, a facility the model
  // offers is advice and stays, and the record's own came back as tokens either way.
  @Test
  void aDeidentifiedAnswerLosesFacilitiesAndStoreNumbersAReidentifiedOneKeepsTheModelsAdvice() {
    String answer = "Pick it up at Walgreens #4521 or [FACILITY_1] #88; consider a transplant centre such as Mayo "
        + "Clinic. [EMPLOYER_1] store 12 is near. [PATIENT_1] 3/4 f/u.";
    OutputPhiFilter.Filtered researcher = OutputPhiFilter.filter(answer, KNOWN, true);
    assertThat(researcher.text()).isEqualTo("Pick it up at [REDACTED] or [FACILITY_1] [REDACTED]; consider a "
        + "transplant centre such as [REDACTED]. [EMPLOYER_1] [REDACTED] is near. [PATIENT_1] 3/4 f/u.");
    assertThat(researcher.redactions()).containsExactly(Map.entry(IdentifierClass.FACILITY, 4));
    assertThat(OutputPhiFilter.filter(answer, KNOWN, false).text()).isEqualTo(answer);
    assertThat(OutputPhiFilter.filter(answer, KNOWN).text()).isEqualTo(answer);
  }
}
