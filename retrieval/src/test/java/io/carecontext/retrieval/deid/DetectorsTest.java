package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** What the detectors take from a text, and what they must leave. */
class DetectorsTest {

  static final KnownIdentifiers ZEBULON = new KnownIdentifiers(
      List.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, "Quixotefield", List.of("Zebulon"), null)),
      List.of("MRNQX77123"), List.of("508-555-0142"),
      List.of(new KnownIdentifiers.Address(List.of("4417 Wobblecrest Lane"), "Pawtucket", null, "RI", "02917", null)),
      List.of(LocalDate.of(1957, 3, 19)));

  /** The text with each span replaced by its class prefix in brackets, as a reader can check it. */
  static String marked(String text, KnownIdentifiers known) {
    StringBuilder b = new StringBuilder();
    int at = 0;
    for (Detectors.Span s : Detectors.find(text, known)) {
      b.append(text, at, s.start()).append('[').append(s.prefix()).append(']');
      at = s.end();
    }
    return b.append(text.substring(at)).toString();
  }

  /** The sentences {@code deidentify} changes, each as "sentence -> what it became": empty when it keeps every one. */
  static List<String> changed(List<String> kept, UnaryOperator<String> deidentify) {
    return kept.stream().filter(k -> !deidentify.apply(k).equals(k)).map(k -> k + " -> " + deidentify.apply(k)).toList();
  }

  /** Of {@code pairs} (a text, then how the detectors should mark it), those marked otherwise, as "text -> got". */
  static List<String> markedOtherwise(List<String> pairs) {
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i += 2) {
      String got = marked(pairs.get(i), KnownIdentifiers.empty());
      if (!got.equals(pairs.get(i + 1))) {
        wrong.add(pairs.get(i) + " -> " + got);
      }
    }
    return wrong;
  }

  /**
   * A chat answer is the model's, and a prompt can steer it: 64 KiB of "1-1-1-…" took the output filter 24 s,
   * since the e-mail rule began a search at every word boundary of a run without an @ and scanned to its end.
   * A guard against that shape of cost, with a bound some fifty times what the filter takes now.
   */
  @Test
  void aLongRunOfAnEmailsCharactersWithoutAnAtIsScannedOnce() {
    String run = "1-".repeat(64 * 1024);
    List<Detectors.Span> spans = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        java.time.Duration.ofSeconds(20), () -> Detectors.find(run, KnownIdentifiers.empty()));
    assertThat(spans).noneMatch(s -> s.prefix().equals("EMAIL"));
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("1-1-1 write to j.doe+cc@mail.example.org or x_y@host.org.", none))
        .isEqualTo("1-1-1 write to [EMAIL] or [EMAIL].");
    assertThat(marked("(jdoe@example.org)", none)).isEqualTo("([EMAIL])");
  }

  /**
   * Blanks between a label and its value ("Fax:", "account", "login", "CVS store", "plate" and 2 KiB of them, then no
   * value) took 50 s: each way of sharing the run among the optional blanks around the label's punctuation was tried,
   * and a run of "MRN-MRN-…" was scanned to its end for a digit from each label. A guard against that shape of cost,
   * with a bound some fifty times what the detectors take now, and the labelled values still found.
   */
  @Test
  void aLongRunOfBlanksAfterALabelIsScannedOnce() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String label : List.of("fax", "SSN", "social security number", "MRN", "member id", "account", "license",
        "serial", "license plate", "plate RI", "login", "twitter", "CVS store", "pharmacy #")) {
      String text = label + " \t".repeat(32 * 1024) + "x";
      List<Detectors.Span> spans = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
          java.time.Duration.ofSeconds(10), () -> Detectors.find(text, none), label);
      assertThat(spans).as(label).isEmpty();
    }
    String run = "MRN-".repeat(32 * 1024);
    assertThat(org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        java.time.Duration.ofSeconds(10), () -> Detectors.find(run, none))).isEmpty();
    assertThat(marked("Fax:  (508) 555-0142; fax # 508.555.0143; SSN :  078-05-1120; MRN  -  QX-77123; account "
        + "number   44556677; login :  jsmith; twitter   @jdoe42; CVS store  # 4521; License plate  RI 7GH-221.", none))
        .isEqualTo("Fax:  [FAX]; fax # [FAX]; SSN :  [SSN]; MRN  -  [MRN]; account number   [ACCOUNT]; login :  "
            + "[USERNAME]; twitter   [USERNAME]; [FACILITY]; License plate  RI [VEHICLE].");
  }

  /** The forms of one day (and time) the review saw pass, with the day each stands for. */
  static Map<String, LocalDate> forms() {
    Map<String, LocalDate> f = new LinkedHashMap<>();
    for (String s : List.of("2023-07-01", "2023-07-01T10:00", "2023-07-01T10:00:30Z", "2023-07-01T10:00:30.250+02:00",
        "07/01/2023", "7/1/23", "07-01-2023", "2023/07/01", "01.07.2023", "20230701", "202307011000", "01-Jul-2023",
        "01-JUL-23", "Jul 1 23", "Jul 1, 23", "July 1, 2023", "Jul. 1st, 2023", "JULY 1 2023", "1 July 2023",
        "1st of July, 2023")) {
      f.put(s, LocalDate.of(2023, 7, 1));
    }
    for (String s : List.of("19-Mar-1957", "19570319", "19.03.1957", "Mar 19 57", "March 19, 1957", "1957-03-19")) {
      f.put(s, LocalDate.of(1957, 3, 19));
    }
    return f;
  }

  // Before (a security review's finding): these Safe Harbor identifiers of people the store does not
  // know passed into research results, researcher answers and every prompt.
  @Test
  void identifiersOfStrangersAreFoundByTheirShapeOrLabel() {
    KnownIdentifiers none = new KnownIdentifiers(List.of(), List.of(), List.of(), List.of(), List.of());
    assertThat(marked("SSN 078 05 1120; ssn 078051120; Social Security number: 078-05-1120", none))
        .isEqualTo("SSN [SSN]; ssn [SSN]; Social Security number: [SSN]");
    assertThat(marked("health plan beneficiary number HPB998877; certificate number C-123987; plate number 8ABC456; "
        + "vehicle 9DEF789; license plate 7XYZ123", none))
        .isEqualTo("health plan beneficiary number [PLAN]; certificate number [LICENSE]; plate number [VEHICLE]; "
            + "vehicle [VEHICLE]; license plate [VEHICLE]");
    assertThat(marked("Lives with daughter Bartholomina Fenwick-Smythe at 12 Elm Street, works at Acme Widgets Inc. "
        + "Emergency contact wife Gertrude Oldcastleton; sister Hortensia visits.", none))
        .isEqualTo("Lives with daughter [PERSON] at [ADDRESS], works at [EMPLOYER] "
            + "Emergency contact wife [PERSON]; sister [PERSON] visits.");
    // and what they must leave: family history, a phone, doses, clinical words after a relation
    String clinical = "Mother: Diabetes type 2. Father had MI at 60. Son is well. 2 Tablets daily; 10 Units at night. "
        + "Call 508-555-0199. Works at night shifts.";
    assertThat(marked(clinical, none)).isEqualTo(clinical.replace("508-555-0199", "[PHONE]"));
  }

  // Before: ISO date-times, dd-Mon-yyyy, yyyymmdd, dd.mm.yyyy and "Mon dd yy" were no dates, and a
  // shifted prompt showed them as written beside shifted ones.
  @Test
  void everyFormOfADayIsFoundWithThatDay() {
    forms().forEach((form, day) -> {
      assertThat(Dates.whole(form)).as(form).hasValueSatisfying(d -> assertThat(d.date()).isEqualTo(day));
      assertThat(marked("Seen " + form + ".", KnownIdentifiers.empty())).as(form).isEqualTo("Seen [DATE].");
    });
    assertThat(Dates.whole("2023-07-01T10:00").orElseThrow().time()).isEqualTo("T10:00");
    assertThat(Dates.whole("202307011000").orElseThrow().time()).isEqualTo("T10:00");
  }

  // Before: "Mar 19 47" would have been read (M/d/yy) as 2047, and shifted and moved back as such.
  @Test
  void aTwoDigitYearIsNeverMoreThanTenYearsAhead() {
    assertThat(Dates.fourDigitYear(47, 2026)).isEqualTo(1947);
    assertThat(Dates.fourDigitYear(23, 2026)).isEqualTo(2023);
    assertThat(Dates.fourDigitYear(36, 2026)).isEqualTo(2036);
    assertThat(Dates.fourDigitYear(37, 2026)).isEqualTo(1937);
  }

  // Before: "March 2024" and "2024-03" were no dates, and reached a researcher, or a shifted prompt, as written.
  @Test
  void aMonthAndYearAloneIsADateWithoutADay() {
    for (String form : List.of("March 2024", "Mar 2024", "MAR 2024", "3/2024", "2024-03")) {
      assertThat(Dates.whole(form)).as(form).hasValueSatisfying(d -> {
        assertThat(d.date()).isNull();
        assertThat(d.year()).isEqualTo(2024);
      });
      assertThat(Deidentifier.deidentify(List.of("Onset " + form + "."), KnownIdentifiers.empty(), DatePolicy.SHIFT, 9)
          .texts().get(0)).as(form).isEqualTo("Onset [DATE_1].");
      assertThat(Deidentifier.deidentify(List.of("Onset " + form + "."), KnownIdentifiers.empty(), DatePolicy.YEAR, 0)
          .texts().get(0)).as(form).isEqualTo("Onset 2024.");
    }
    // a range of years, a code and a month name without a year are not
    String text = "In 2019-2020, code 2024-13, in may 2024 we may.";
    assertThat(marked(text, KnownIdentifiers.empty())).isEqualTo(text);
  }

  /** Eight digits are a date only when they could be one, and not as a code or within a longer number. */
  @Test
  void numbersThatOnlyLookLikeDatesStay() {
    String text = "Codes (SNOMED 20110307), 12345678, 19571319, 20230230, 2023070112, 1.2.3.4 and 10.5.2023.5; "
        + "pain 3/10, BP 142/91, LOINC 4548-4, Jun 5 12:30.";
    // "Jun 5" is a day without its year ("12:30" is its time, not a two-digit year), which Safe Harbor counts
    assertThat(marked(text, KnownIdentifiers.empty())).isEqualTo(text.replace("1.2.3.4", "[IP]").replace("Jun 5", "[DATE]"));
  }

  // Before: a day without its year ("admitted March 3", "seen on 2/13", "the 3rd of March") reached the
  // model as written; Safe Harbor counts every element of a date but the year.
  @Test
  void aDayWithoutItsYearIsADate() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Admitted March 3, seen on 2/13 and Tuesday 2/20; the 3rd of April. Then 4 May.", none))
        .isEqualTo("Admitted [DATE], seen on [DATE] and [DATE]; the [DATE]. Then [DATE].");
    // a score, a ratio or a strength without a word for a date before it, a day that does not exist, a
    // month in lower case, and a month with its year (the longer date) stay as they were
    for (String kept : List.of("Pain 7/10, strength 4/5, reflexes 2/4.", "Since 2/30 unchanged.", "It may 3 times.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
    assertThat(marked("Seen March 2024 and Mar 19, 1947.", none)).isEqualTo("Seen [DATE] and [DATE].");
  }

  // Before: only "4417 Wobblecrest Lane" was found; the number, the type and its abbreviation were needed.
  @Test
  void aKnownStreetIsFoundShortenedAndWithItsTypeAbbreviated() {
    assertThat(marked("4417 Wobblecrest, Wobblecrest Lane, Wobblecrest Ln, wobblecrest ln. Visited 4417 Wobblecrest Ln.",
        ZEBULON)).isEqualTo("[ADDRESS], [ADDRESS], [ADDRESS], [ADDRESS]. Visited [ADDRESS].");
    // the street name alone, with no number or type beside it, is not taken
    assertThat(marked("Wobblecrest is a name.", ZEBULON)).isEqualTo("Wobblecrest is a name.");
    List<String> kinds = Detectors.streetVariants("12 N Elm Street Apt 4").stream().map(p -> p.pattern()).toList();
    assertThat(kinds).hasSize(2);
    assertThat(marked("Lives on North Elm St, at 12 Elm.", new KnownIdentifiers(List.of(), List.of(), List.of(),
        List.of(new KnownIdentifiers.Address(List.of("12 N Elm Street Apt 4"), null, null, null, null, null)), List.of())))
        .isEqualTo("Lives on [ADDRESS], at [ADDRESS].");
  }

  // Before: "02917-1234" became "[ZIP_1]-1234".
  @Test
  void aZipIsTakenWithItsPlusFour() {
    assertThat(marked("Pawtucket RI 02917-1234; mail to 02917-1234 or 02917.", ZEBULON))
        .isEqualTo("[CITY] RI [ZIP]; mail to [ZIP] or [ZIP].");
  }

  // Before: "QX77123" (the MRN without its letters "MRN") stayed in the text.
  @Test
  void aKnownIdentifierIsFoundWithoutItsLetterPrefix() {
    assertThat(marked("MRNQX77123, MRN-QX-77123, QX77123, qx-77123 and X77123.", ZEBULON))
        .isEqualTo("[MRN], [MRN], [MRN], [MRN] and [MRN].");
    // what remains is too short, or no longer mixed letters and digits: ordinary numbers and words
    assertThat(Detectors.identifierVariants("MRNQX77123")).doesNotContain("77123");
    assertThat(Detectors.identifierVariants("AB1234")).containsExactly("AB1234");
    assertThat(Detectors.identifierVariants("MRN4455667")).contains("4455667");
    assertThat(marked("Potassium 77123 and QX7712.", ZEBULON)).isEqualTo("Potassium 77123 and QX7712.");
  }

  // Before: "Zeb Q.", "Zeb Quixotefield", "Zebby Quixotefield", "Z.Q." and "Quixotefield, Z." kept part of the name.
  @Test
  void aShortenedGivenNameBesideTheFamilyNameAndInitialsAreNames() {
    assertThat(marked("QUIXOTEFIELD; quixotefield; Zeb Q. said; Zeb Quixotefield; Zebby Quixotefield; Z.Q.; Z. Q.; "
        + "Quixotefield, Z.; Zebulon Q.", ZEBULON))
        .isEqualTo("[PATIENT]; [PATIENT]; [PATIENT] said; [PATIENT]; [PATIENT]; [PATIENT]; [PATIENT]; [PATIENT].; "
            + "[PATIENT]");
  }

  /** Short forms stand only beside the family name, and initials only dotted and not as a common abbreviation. */
  @Test
  void ordinaryWordsAndAbbreviationsAreNotNames() {
    KnownIdentifiers vitaly = new KnownIdentifiers(List.of(
        new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, "Kowalski", List.of("Vitaly"), null),
        new KnownIdentifiers.Name(KnownIdentifiers.NameKind.RELATED_PERSON, "Miller", List.of("Paul"), null),
        new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PRACTITIONER, "Grant", List.of("Margaret"), null)),
        List.of(), List.of(), List.of(), List.of());
    String text = "Vitamin K given; vital signs stable at 3 P.M.; seen Mar 3, 2024 at the MS clinic. Grade 2.";
    assertThat(marked(text, vitaly)).isEqualTo(text.replace("Mar 3, 2024", "[DATE]"));
    assertThat(marked("Zeb and Zebby came; zebra q.", ZEBULON)).isEqualTo("Zeb and Zebby came; zebra q.");
  }

  // Before: "(508-555-0142)" became "[PHONE_1])": the opening parenthesis went into the token.
  @Test
  void aPhoneNumbersParenthesesStayBalanced() {
    assertThat(marked("Call (508-555-0142), (508) 555-0142, (508)555-0142 or (617) 555-0100 (home).", ZEBULON))
        .isEqualTo("Call ([PHONE]), [PHONE], [PHONE] or [PHONE] (home).");
  }

  // Before: the label went into the token ("MRN MRN-QX-77123" → "[MRN_1]"), and a word after it was a number.
  @Test
  void aLabelStaysInTheTextAndItsValueNeedsADigit() {
    assertThat(marked("MRN MRN-QX-77123; MRN: 4455667; member ID XK123456; Device: pacemaker serial number PM1234567; "
        + "MRN reviewed; account # AC-12345.", ZEBULON))
        .isEqualTo("MRN [MRN]; MRN: [MRN]; member ID [PLAN]; Device: pacemaker serial number [DEVICE]; MRN reviewed; "
            + "account # [ACCOUNT].");
  }

  // Before: a name of punctuation such as "(.*)" matched runs of punctuation, a stray [PATIENT_1] at a text's end.
  @Test
  void aNameThatLooksLikeAPatternIsMatchedAsWritten() {
    KnownIdentifiers odd = new KnownIdentifiers(List.of(
        new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, "(.*)", List.of("[a-z]+", " ", ""), "(.*)"),
        new KnownIdentifiers.Name(KnownIdentifiers.NameKind.RELATED_PERSON, "-", List.of("."), ". - ,")),
        List.of(), List.of(), List.of(), List.of());
    String text = "Glucose 5.4 mmol/L. Plan: recheck - soon, ok.\n";
    assertThat(marked(text, odd)).isEqualTo(text);
    assertThat(marked("Named [a-z]+ here, a z and az.", odd)).isEqualTo("Named [PATIENT] here, a z and az.");
  }

  // Before: a clinician the record does not link to the patient (a note's author, a consultant, the
  // pathologist) kept the name: "Follow up with Dr. Priya Raghunathan", "Reviewed by: J. Okafor, MD"
  // reached the model. A title before a name, or a degree after it, now marks it.
  @Test
  void aNameBehindDrOrBeforeADegreeIsAName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Follow up in 6 weeks with Dr. Priya Raghunathan. Call with questions.", none))
        .isEqualTo("Follow up in 6 weeks with Dr. [PERSON]. Call with questions.");
    assertThat(marked("Electronically signed: Priya Raghunathan, MD, NPI on file.", none))
        .isEqualTo("Electronically signed: [PERSON], MD, NPI on file.");
    assertThat(marked("Reviewed by: J. Okafor, MD (Pathology). Seen by Dr Haddad today; Doctor O'Brien agreed.", none))
        .isEqualTo("Reviewed by: [PERSON], MD (Pathology). Seen by Dr [PERSON] today; Doctor [PERSON] agreed.");
    assertThat(marked("Note by Maria Lopez-Garcia, NP and Sam Lee, PA-C.", none))
        .isEqualTo("Note by [PERSON], NP and [PERSON], PA-C.");
    // a degree or title without a name, and a drive, are left
    for (String kept : List.of("Discussed with the MD on call.", "Dr. on call notified.", "Lives on Oak Dr. in town.",
        "Seen by the NP today.", "BP 142/91, MD follow-up.")) {
      assertThat(marked(kept, none)).isEqualTo(kept);
    }
  }

  // Before: only "Dr." marked an unknown name; a neighbour, an employer or a relative named with a
  // courtesy title ("Mrs. Gonzalez", "Mr. Abernathy") reached the model, and the gazetteer skips a
  // town's name after a title, so "Mrs. Madison" passed as written.
  @Test
  void aNameBehindACourtesyTitleIsAName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Brought in by Mrs. Gonzalez from next door; Mr Abernathy (employer) called. Mrs. Madison too.", none))
        .isEqualTo("Brought in by Mrs. [PERSON] from next door; Mr [PERSON] (employer) called. Mrs. [PERSON] too.");
    assertThat(marked("Ms. Jane Q. Doe and Miss O'Hara visited.", none))
        .isEqualTo("Ms. [PERSON] and Miss [PERSON] visited.");
    for (String kept : List.of("Mrs. is hard of hearing.", "Mr. on the phone today.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  // Before: an employer was "[ID]" and took the sentence's full stop ("works for Cook County Health."
  // lost it); a verb that began the sentence was taken into a facility's name ("Attended the Mayo
  // Clinic" became one token, and the note no longer said what happened there).
  @Test
  void anEmployerIsSaidForWhatItIsAndAFacilityLeavesTheVerbBeforeIt() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Works for Cook County Health. Employed by Acme Widgets Inc. since 2019.", none))
        .isEqualTo("Works for [EMPLOYER]. Employed by [EMPLOYER] since 2019.");
    assertThat(marked("Attended the Mayo Clinic last year. Visited Mercy Hospital. Recently seen at Tucson Medical Center.", none))
        .isEqualTo("Attended the [FACILITY] last year. Visited [FACILITY]. Recently seen at [FACILITY].");
    // the job between the verb and the employer, and homes where patients live in care
    assertThat(marked("Works as cashier at the Fry's on Baseline. Works as a night nurse for Banner Health.", none))
        .isEqualTo("Works as cashier at the [EMPLOYER] on Baseline. Works as a night nurse for [EMPLOYER].");
    assertThat(marked("Brought in from Sunrise Senior Living. Resides at Desert Cove Memory Care. Moved to assisted living.", none))
        .isEqualTo("Brought in from [FACILITY]. Resides at [FACILITY]. Moved to assisted living.");
  }

  // Before: a neighbour, a roommate or a boyfriend named beside the relation, a relative after a comma
  // ("her sister, Maria") and a clinician before a degree without a comma ("Jennifer Alvarez NP") passed.
  @Test
  void householdMembersRelativesAfterACommaAndNamesBeforeADegree() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Pt's neighbor Bob Jenkins found her. Lives with roommate Sam and her boyfriend, Derek Stone.", none))
        .isEqualTo("Pt's neighbor [PERSON] found her. Lives with roommate [PERSON] and her boyfriend, [PERSON].");
    assertThat(marked("Spoke with her sister, Maria, by phone. PCP is Jennifer Alvarez NP.", none))
        .isEqualTo("Spoke with her sister, [PERSON], by phone. PCP is [PERSON] NP.");
    // a family history's list, a service before a degree and a relation without a name stay
    for (String kept : List.of("FAMILY HISTORY: Mother, Diabetes. Sister, Breast cancer at 45.",
        "Seen by Peds Cardiology NP and Pain Management NP.", "Her friend drove her. Neighbor found her.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  // Before: a number was found only right after its label ("MRN: 00123456"); "MRN is 00123456",
  // "account number was 44556677" and a serial behind "SN:" or "S/N" passed.
  @Test
  void aLabelMayStandApartFromItsNumber() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Pt's MRN is 00123456; account number was 44556677; MRN = 4711-22.", none))
        .isEqualTo("Pt's MRN is [MRN]; account number was [ACCOUNT]; MRN = [MRN].");
    assertThat(marked("Ventilator serial SN: 7731-AX. S/N 88AB12.", none))
        .isEqualTo("Ventilator serial SN: [DEVICE]. S/N [DEVICE].");
    for (String kept : List.of("The MRN is pending.", "Plan of care discussed; member of 2 clubs.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  // Before: the unit after a street ("Apt 3B", "Unit 12", "#2R"), a numbered street ("55 W 4th St") and a
  // post office box passed as written.
  @Test
  void unitsNumberedStreetsAndPostOfficeBoxesAreAddresses() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Lives at 1420 N. Campbell Ave Apt 3B; mail to PO Box 4471 or P.O. Box 12.", none))
        .isEqualTo("Lives at [ADDRESS]; mail to [ADDRESS] or [ADDRESS].");
    assertThat(marked("Address: 77 Elm Street, Unit 12. Formerly 55 W 4th St #2R and 300 Main St Suite 200.", none))
        .isEqualTo("Address: [ADDRESS]. Formerly [ADDRESS] and [ADDRESS].");
    // a hospital's room after a street stays the room
    assertThat(marked("Seen at 12 Elm St. Room 412 was assigned.", none)).isEqualTo("Seen at [ADDRESS]. Room 412 was assigned.");
  }

  // Before: a relation with "-in-law" or "step" before the name, a street with a direction before its
  // name, and a known birth date with a two-digit year (read as 2031 by the date pattern, so shifted
  // as a future date instead of being the patient's birth date) passed as written.
  @Test
  void inLawsDirectionsAndTwoDigitBirthYears() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Brought by daughter-in-law Keisha Abernathy-Moss and stepson Marcus today.", none))
        .isEqualTo("Brought by daughter-in-law [PERSON] and stepson [PERSON] today.");
    assertThat(marked("Lives alone at 45 W. Pembroke Ave Apt 3B and visits 9 NE Harbor Road.", none))
        .isEqualTo("Lives alone at [ADDRESS] and visits [ADDRESS]."); // the unit "Apt 3B" is the address's too
    KnownIdentifiers born1931 = new KnownIdentifiers(List.of(), List.of(), List.of(), List.of(),
        List.of(LocalDate.of(1931, 4, 12)));
    assertThat(marked("DOB 4/12/31, also written 04/12/31.", born1931)).isEqualTo("DOB [DATE], also written [DATE].");
    // a researcher's year policy wrote "DOB 2031", a 95-year-old's birth year plus a century
    for (DatePolicy policy : DatePolicy.values()) {
      assertThat(Deidentifier.deidentify(List.of("DOB 4/12/31."), born1931, policy, 30).texts().get(0))
          .isEqualTo("DOB [DATE_1].");
    }
  }

  // Before: "License plate RI 7GH-221" kept the plate: the state's code stood where the value was looked for.
  @Test
  void aPlateAfterItsStatesCodeIsAVehicleIdentifier() {
    assertThat(marked("License plate RI 7GH-221. Plate: MA 4KX992 on file. Plate number 8TRV221.", KnownIdentifiers.empty()))
        .isEqualTo("License plate RI [VEHICLE]. Plate: MA [VEHICLE] on file. Plate number [VEHICLE].");
  }

  // Before: the patient's SSN, known from Patient.identifier, was marked [MRN] wherever it stood.
  @Test
  void aKnownIdentifierWrittenAsASocialSecurityNumberIsOne() {
    KnownIdentifiers known = new KnownIdentifiers(List.of(), List.of("078-05-1120", "MRNQX77123"), List.of(), List.of(),
        List.of());
    assertThat(marked("SSN 078-05-1120 (078051120), chart MRNQX77123.", known))
        .isEqualTo("SSN [SSN] ([SSN]), chart [MRN].");
  }

  // Before: hospital and laboratory names passed de-identification, so a researcher read "Diabetes care
  // plan at Banner Health Clinic - Oro Valley" and "Performed at: Sonora Quest Laboratories, ... Tempe AZ":
  // Safe Harbor's geographic subdivisions smaller than a state. A kind of service alone names no place.
  @Test
  void facilitiesByNameAreFoundAndKindsOfServiceAreLeft() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Diabetes care plan at Banner Health Clinic - Oro Valley", none))
        .isEqualTo("Diabetes care plan at [FACILITY]");
    assertThat(marked("Performed at: Sonora Quest Laboratories, 1255 W Washington St, Tempe AZ 85281.", none))
        .isEqualTo("Performed at: [FACILITY], [ADDRESS], [CITY] AZ [ZIP].");
    assertThat(marked("Admitted to St. Joseph’s Hospital; transferred from Banner - University Medical Center "
        + "to Mayo Clinic. Quest Diagnostics drew labs. Seen in Cardiology Clinic at Mercy Hospital of Springfield.", none))
        .isEqualTo("Admitted to [FACILITY]; transferred from [FACILITY] to [FACILITY]. [FACILITY] drew labs. "
            + "Seen in Cardiology Clinic at [FACILITY].");
    String generic = "Follow up in the Diabetes Clinic and Primary Care Clinic; Walk-In Clinic as needed. Hospital Course: "
        + "uneventful. Emergency Department visit. CBC Labs pending. University Hospital policy. Imaging Center visit.";
    assertThat(marked(generic, none)).isEqualTo(generic);
  }
  // Before: "seen at Mercy Hospital, Springfield" kept the town (no state and ZIP after it), and a hospital
  // called by its name alone ("transferred to Cedars-Sinai") or the town a patient lives in passed as written.
  @Test
  void aTownAfterAFacilityAndPlacesNamedWithoutAWordForAPlaceAreFound() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Seen at Mercy Hospital, Springfield for chest pain; transferred to Cedars-Sinai, then treated "
        + "at St. Luke's. Outside labs from Quest Diagnostics (Tempe). Lives in Oro Valley with her sister; moved here "
        + "from Winston-Salem. Followed at Mayo; admitted to Mercy ICU.", none))
        .isEqualTo("Seen at [FACILITY], [CITY] for chest pain; transferred to [FACILITY], then treated at [FACILITY]. "
            + "Outside labs from [FACILITY] ([CITY]). Lives in [CITY] with her sister; moved here from [CITY]. "
            + "Followed at [FACILITY]; admitted to [FACILITY] ICU.");
    // units, services, headings, a state and a country after the same words name no place, and stay
    String kept = "Admitted to ICU, transferred to Telemetry, then to Step Down Unit; discharged to Home with Home "
        + "Health. Followed at Cardiology Clinic; presented to Emergency Department; evaluated at Sports Medicine; "
        + "seen at Bedside; seen at Follow Up. Lives in Section 8 housing in New York; moved from Mexico; resident of "
        + "Assisted Living. Mercy Hospital staff: see Hospital Course, Discharge Plan.";
    assertThat(marked(kept, none)).isEqualTo(kept.replace("Mercy Hospital", "[FACILITY]"));
    String more = "Transferred to Hospice; admitted to Psych; seen at Annual Wellness Visit; presented to Pre-Op Holding; "
        + "lives in Independent Living in New England.";
    assertThat(marked(more, none)).isEqualTo(more);
    // a direction alone after a facility is part of the campus, a direction before a name a town
    assertThat(marked("Seen at Mercy Hospital, North Campus. Lives in South Bend.", none))
        .isEqualTo("Seen at [FACILITY], North Campus. Lives in [CITY].");
    // a heading after a facility's comma is no town, and a clinic for a condition names no place
    assertThat(marked("Drawn at Quest Diagnostics, Result: potassium 5.1. Seen at Heart Failure Clinic.", none))
        .isEqualTo("Drawn at [FACILITY], Result: potassium 5.1. Seen at Heart Failure Clinic.");
    // after a facility, a heading or a kind of service is no town
    assertThat(marked("Seen at Mercy Hospital, Cardiology; Good Samaritan Hospital, Hospital Course: stable.", none))
        .isEqualTo("Seen at [FACILITY], Cardiology; [FACILITY], Hospital Course: stable.");
  }

  // Before: a day after a name with no word before it ("Dr Ortiz 12/12") passed; only "on", "since", "seen"
  // and weekdays made "12/12" a date. Now a day right after any name the detectors find, or before a word of a
  // visit ("3/4 f/u", "12/12 appt"), is one; after a name a dose, a score or a strength stays ("3/4 tablet",
  // "5/5 strength", "2/3 of dose", "1/2 NS"), and without a name or a visit every fraction and ratio stays.
  @Test
  void aDayAfterANameOrBeforeAVisitIsADateAndFractionsAndRatiosStay() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Seen by Dr Ortiz 12/12. Mrs. Ortiz, 3/12 called. Ortiz 3/4 f/u; back 12/20 appt.", none))
        .isEqualTo("Seen by Dr [PERSON] [DATE]. Mrs. [PERSON], [DATE] called. Ortiz [DATE] f/u; back [DATE] appt.");
    assertThat(marked("Quixotefield 3/4 f/u; Zebulon 2/13 phoned.", ZEBULON))
        .isEqualTo("[PATIENT] [DATE] f/u; [PATIENT] [DATE] phoned.");
    String kept = "BP 120/80, 3/4 tablet, 2/3 of dose, 5/5 strength, 1/2 NS, pain 7/10, reflexes 2/4. Dr Ortiz 3/4 "
        + "tablet; Dr Ortiz 1/2 NS; Dr Ortiz 5/5 strength; Dr Ortiz 2/3 of dose; Dr Ortiz 120/80; Dr Ortiz 7/10 pain.";
    assertThat(marked(kept, none)).isEqualTo(kept.replace("Ortiz", "[PERSON]"));
  }

  // Before: a street without its house number passed ("lives on Maple Street"). Decided: a street with a type
  // that names nothing else (Street, St, Avenue, Road, Boulevard, Parkway, Highway) is one after any capitalized
  // name; a type that is a word of other names too (Drive, Lane, Court, Place, Way, Circle, Terrace, Trail) only
  // after "on", "off", "near", "of"... ("Sex Drive", "Family Court", "Dr Lane" stay). "St" before a capitalized
  // word is a saint ("Visited St. Louis" is a town's), and a newspaper named after a street is the paper's.
  @Test
  void aStreetWithoutItsNumberIsAnAddressButNotASaintANewspaperOrAnotherName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Lives on Maple Street with son; walks near Oak Avenue; corner of Elm St and 5th Ave. Moved off "
        + "Birch Lane to Pine Court. Old Mill Road is steep; lives on Main St, Apt 4B.", none))
        .isEqualTo("Lives on [ADDRESS] with son; walks near [ADDRESS]; corner of [ADDRESS] and [ADDRESS]. Moved off "
            + "[ADDRESS] to [ADDRESS]. [ADDRESS] is steep; lives on [ADDRESS].");
    String kept = "Reads the Wall Street Journal. Sex Drive: decreased. Family Court hearing. Spoke with Dr Lane. "
        + "ST elevation, St elevation. Head Ct negative. The Way forward. Visited St Paul.";
    assertThat(marked(kept, none)).isEqualTo(kept.replace("Dr Lane", "Dr [PERSON]").replace("St Paul", "[CITY]"));
  }

  // Before: a verb or a preposition that began a title-case sentence was taken into the street's name ("Walks
  // Maple Street daily." became "[ADDRESS_1] daily.", and the note no longer said what the patient does there).
  // Decided: as for a facility ("Visited Mercy Hospital"), the leading words of NOT_A_NAME are left out; a
  // street's own name that begins sentences elsewhere ("Main", "Old") stays in it.
  @Test
  void aStreetLeavesTheVerbThatBeginsItsSentence() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Walks Maple Street daily. Lives Oak Avenue side. Drove Elm St home. Near Birch Lane. "
        + "Walks Main Street. Old Mill Road is steep. Maple Street is busy.", none))
        .isEqualTo("Walks [ADDRESS] daily. Lives [ADDRESS] side. Drove [ADDRESS] home. Near [ADDRESS]. "
            + "Walks [ADDRESS]. [ADDRESS] is steep. [ADDRESS] is busy.");
    DeidResult r = Deidentifier.deidentify(List.of("Walks Maple Street daily."), none, DatePolicy.TOKEN, 0);
    assertThat(r.texts().get(0)).isEqualTo("Walks [ADDRESS_1] daily.");
  }

  // Decided: a facility named after its street is a facility, like any other by name ("Main Street Clinic" was
  // "Main [FACILITY]": "Main" begins sentences and was left out of the name); the street is in its token.
  @Test
  void aFacilityNamedAfterItsStreetIsOneFacilityToken() {
    assertThat(marked("Seen at Main Street Clinic; labs at Elm St Pharmacy.", KnownIdentifiers.empty()))
        .isEqualTo("Seen at [FACILITY]; labs at [FACILITY].");
  }

  // Before: user names and handles passed. They are Safe Harbor's "any other unique identifying code", in the
  // class of other identifiers (OTHER_ID) with a token of their own, [USERNAME_n]; the word before stays. A
  // handle alone needs a digit, an underscore or a dot, as notes write "@rest", "@home", "@HS" for "at".
  @Test
  void userNamesAndHandlesAreTokensAndAnAtOfANoteIsNot() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Portal username: jdoe; user id jdoe42; login jsmith; texts from @jdoe42 and @jane_doe; "
        + "twitter @janedoe; user name is j.doe.", none))
        .isEqualTo("Portal username: [USERNAME]; user id [USERNAME]; login [USERNAME]; texts from [USERNAME] and "
            + "[USERNAME]; twitter [USERNAME]; user name is [USERNAME].");
    String kept = "SpO2 92% @rest, 88% @exertion, @home, @HS; Lasix 40 mg @0800; login issues resolved; login from "
        + "the clinic; unable to handle stress; mail jdoe@example.org.";
    assertThat(marked(kept, none)).isEqualTo(kept.replace("jdoe@example.org", "[EMAIL]"));
    assertThat(Detectors.find("login jsmith", none)).singleElement()
        .satisfies(s -> assertThat(s.cls()).isEqualTo(IdentifierClass.OTHER_ID));
  }

  // Before: a store's number passed ("Walgreens #4521"), and after a pharmacy by name it stayed beside the token
  // ("[FACILITY] #1234"). A store's number names one shop and so its street: a facility with its name.
  @Test
  void aStoresNumberIsAFacilityWithTheStoresName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Filled at Walgreens #4521, then CVS store 1234, pharmacy #12, CVS Pharmacy #1234, Target store "
        + "#88 and Riverbend Family Pharmacy No. 7.", none))
        .isEqualTo("Filled at [FACILITY], then [FACILITY], [FACILITY], [FACILITY], [FACILITY] and [FACILITY].");
    String kept = "BP target #1 is 130/80; Target 3/4 doses; store 2 bottles in the fridge; CVS refill due.";
    assertThat(marked(kept, none)).isEqualTo(kept);
  }

  // Before: an employer's store number stayed beside its token ("works at Apple Store #12" became "[EMPLOYER_1] #12"):
  // only a facility by its kind of place and a chain took theirs. Decided: a number right after an employer or a
  // facility found by any detector ("#12", "store 12", "No. 12") is the one shop, and in its token; "no 2" without
  // its period, and a number on the next line, are the sentence's.
  @Test
  void aStoreNumberAfterAnEmployerOrAFacilityBelongsToItsToken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Works at Apple Store #12. Works at Apple store 12 nights. Employed by Acme Widgets No. 7. "
        + "Followed at Mayo #3.", none))
        .isEqualTo("Works at [EMPLOYER]. Works at [EMPLOYER] nights. Employed by [EMPLOYER]. Followed at [FACILITY].");
    DeidResult r = Deidentifier.deidentify(List.of("Works at Apple Store #12."), none, DatePolicy.TOKEN, 0);
    assertThat(r.texts().get(0)).isEqualTo("Works at [EMPLOYER_1].");
    String kept = "Works at Acme no 2 shifts alike. Works at Acme\n#2 priority: BP.";
    assertThat(marked(kept, none)).isEqualTo(kept.replace("Acme", "[EMPLOYER]"));
  }

  // Asked: is a capitalized word right before a visit's day ("Ortiz 3/4 f/u") a person when neither the record
  // nor a title says so? Measured: of 52 clinical phrases of that shape (drugs, services, tests, "Return", "Call"),
  // 27 would have become [PERSON] even after the GENERIC, NOT_A_NAME and NOT_A_PLACE stoplists ("Lasix",
  // "Podiatry", "Colonoscopy", "Eliquis", "Holter"...); the project has no drug or English word list to stop
  // them, and the evaluation corpus plants only known names there, so it could not show the cost. Decided: no;
  // the day is a date token whatever stands before it, and the word is a person only when the record knows it
  // or a title or degree says so.
  @Test
  void aCapitalizedWordBeforeAVisitDayIsNoPersonWithoutTheRecordOrATitle() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    String text = "Lasix 3/4 f/u. Metformin 12/12 refill. Cardiology 3/4 f/u. MRI 3/4 f/u. Clinic 3/4 appt. "
        + "Podiatry 12/12 visit. Colonoscopy 3/4 appt. Return 3/4 f/u. Ortiz 3/4 f/u.";
    assertThat(marked(text, none)).isEqualTo("Lasix [DATE] f/u. Metformin 12/12 refill. Cardiology [DATE] f/u. "
        + "MRI [DATE] f/u. Clinic [DATE] appt. Podiatry [DATE] visit. Colonoscopy [DATE] appt. Return [DATE] f/u. "
        + "Ortiz [DATE] f/u.");
    assertThat(marked("Dr Ortiz 3/4 f/u. Quixotefield 3/4 f/u.", ZEBULON))
        .isEqualTo("Dr [PERSON] [DATE] f/u. [PATIENT] [DATE] f/u.");
  }

  // The seventeenth template family (an outside reviewer's phrasings, DeidEvaluation.reviewerNotes) found these
  // pass; each rule below with the look-alikes beside it that must stay.

  /**
   * The new labels and shapes, after or inside long runs that never finish them, are scanned once each; and no
   * pattern repeats a group without bound, which Java's matcher recurses into once a repetition (a StackOverflowError
   * is no RuntimeException: the output scan's catch let it through).
   */
  @Test
  void theReviewersRulesScanALongRunOnce() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String text : List.of("DL#" + " \t".repeat(32 * 1024) + "x", "MR#" + " ".repeat(64 * 1024),
        "tag #" + " ".repeat(64 * 1024), "Employer: " + "Aa ".repeat(16 * 1024), "+" + "1 ".repeat(32 * 1024) + "x",
        "a.".repeat(32 * 1024) + "x", "x@" + "a.".repeat(32 * 1024) + "a", "Dana Whitfield ".repeat(8 * 1024), "-- JS ".repeat(8 * 1024),
        "w/ Okafor ".repeat(8 * 1024), "pt's son Pieter van der ".repeat(4 * 1024), "on the 3rd ".repeat(8 * 1024),
        // a facility's camel-cased word and the gazetteer's word with apostrophes repeated a group: the stack overflowed
        "Aa".repeat(32 * 1024), "a'".repeat(32 * 1024), "A’".repeat(32 * 1024), "a at b dot ".repeat(6 * 1024),
        "HCP: Aa ".repeat(8 * 1024), "wife rosa ".repeat(6 * 1024), "Apt 1, ".repeat(8 * 1024), "xxx-xx-".repeat(8 * 1024),
        "drives for Aa ".repeat(4 * 1024), "Mon., the ".repeat(6 * 1024),
        // set 15's rules and their review: a tattoo's quote never closed, "user" before dotted letters, capitals after
        // "Donor", landmarks, role words before title-case words, "case" before ranges, lines of numbers after a town
        "Tattoo \"A".repeat(8 * 1024), "user a.b.".repeat(8 * 1024), "Donor AAAA, ".repeat(8 * 1024),
        "the Aaa Bridge ".repeat(6 * 1024), "Client Aa Bb Cc ".repeat(6 * 1024), "case 1000-2000 ".repeat(6 * 1024),
        "Boston\n50000, ".repeat(6 * 1024), "due 1/2 at ".repeat(8 * 1024), "W1234 56 ".repeat(8 * 1024))) {
      // a guard against catastrophic backtracking (minutes, or a stack overflow), not a speed test: the longest of
      // these took 2-6 s on a 2-core machine with other builds running, and 10 s was once exceeded by a CI run
      // under that load (load average 16), so the bound is far above any run that does not blow up
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
          () -> Detectors.find(text, none), text.substring(0, 12));
    }
  }

  @Test
  void aNicknameInQuotesOrAfterPrefersToBeCalledIsAName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("pt (goes by \"Bud\") fell; prefers to be called Peg; nicknamed Skip; aka Dutch; known as "
        + "‘Birdie’.", none)).isEqualTo("pt (goes by \"[PERSON]\") fell; prefers to be called [PERSON]; nicknamed "
        + "[PERSON]; aka [PERSON]; known as ‘[PERSON]’.");
    assertThat(marked("goes by Medicaid cab; goes by bus; called 911.", none))
        .isEqualTo("goes by Medicaid cab; goes by bus; called 911.");
  }

  @Test
  void aRelativesNameWithAccentsOrParticlesIsTakenWholeAndTheirHealthStays() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("pt's son Tomás called; granddaughter Zoë visits; HCP is son Pieter van der Berg; "
        + "brother Luis del Rio; Mom Siobhan at bedside; Dad Oluwaseun drove.", none))
        .isEqualTo("pt's son [PERSON] called; granddaughter [PERSON] visits; HCP is son [PERSON]; brother [PERSON]; "
            + "Mom [PERSON] at bedside; Dad [PERSON] drove.");
    assertThat(marked("HCP is daughter Graves; son Well-Smith.", none)).isEqualTo("HCP is daughter [PERSON]; son [PERSON].");
    assertThat(marked("Mother Deceased at 72 (MI). Father Alive, HTN. Sister Healthy. Mom Alzheimer's at 80. "
        + "von Willebrand panel; de Quervain tenosynovitis.", none))
        .isEqualTo("Mother Deceased at 72 (MI). Father Alive, HTN. Sister Healthy. Mom Alzheimer's at 80. "
            + "von Willebrand panel; de Quervain tenosynovitis.");
  }

  @Test
  void aBrandOrAWriterCalledDoctorIsNoClinician() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Quotes Dr. Seuss; drinks Dr Pepper daily; Dr. Scholl's inserts; Dr Teal's salts; Dr. Bronner's "
        + "soap.", none)).isEqualTo("Quotes Dr. Seuss; drinks Dr Pepper daily; Dr. Scholl's inserts; Dr Teal's salts; "
        + "Dr. Bronner's soap.");
    // a clinician of one of those names is still one: only the product's word after it says it is none
    assertThat(marked("Seen by Dr. Pepper Jones, Dr. Peppers, Dr. Pepper. Dr. Scholl's office called; Dr. Martens "
        + "agrees.", none)).isEqualTo("Seen by Dr. [PERSON], Dr. [PERSON], Dr. [PERSON]. Dr. [PERSON] office called; "
        + "Dr. [PERSON] agrees.");
  }

  @Test
  void aPhonesExtensionAndANumberAbroadArePhones() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Call (312) 555-0187 ext. 4432 or 708.555.0143 x221, 773 555 0110 extension 3057; cell "
        + "+44 20 7946 0958, +52 55 5123 4567, 011 44 7700 900123. Known 508-555-0142 ext 12.", ZEBULON))
        .isEqualTo("Call [PHONE] or [PHONE], [PHONE]; cell [PHONE], [PHONE], [PHONE]. Known [PHONE].");
    assertThat(marked("+2 pitting edema, +1 reflexes, ext rotation 45 deg, CD4 +350.", none))
        .isEqualTo("+2 pitting edema, +1 reflexes, ext rotation 45 deg, CD4 +350.");
  }

  @Test
  void recordVisitLicenceAndPlateNumbersAsNotesWriteThem() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("old chart MR# 8637227, chart no. 55-3321, visit CSN 212201062, FIN 88123456, encounter # 4471,"
        + " DL# J7469501, driver's lic IL D123-4567-8901, tag # VXZ-8933.", none))
        .isEqualTo("old chart MR# [MRN], chart no. [MRN], visit CSN [ACCOUNT], FIN [ACCOUNT], encounter # [ACCOUNT], "
            + "DL# [LICENSE], driver's lic IL [LICENSE], tag # [VEHICLE].");
    assertThat(marked("skin tag #2 removed; LDL 131; visit #2; MR 2/6 murmur; Target no 2 liver lesion; fin 12345; "
        + "glucose 110 mg/dL 2024-03-04.", none)).isEqualTo("skin tag #2 removed; LDL 131; visit #2; MR 2/6 murmur; "
        + "Target no 2 liver lesion; fin 12345; glucose 110 mg/dL [DATE].");
    assertThat(marked("Fills at Target #1834 and TARGET store 12.", none))
        .isEqualTo("Fills at [FACILITY] and [FACILITY].");
  }

  @Test
  void aPortalAddressWithoutItsSchemeIsAUrl() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Portal: mychart.example.org/p/66536. Site carenet.example.com, mail dw@carenet.example.com.",
        none)).isEqualTo("Portal: [URL]. Site [URL], mail [EMAIL].");
    assertThat(marked("Her blog is gracek.example.net.", none)).isEqualTo("Her blog is [URL].");
    assertThat(marked("e.g. q.h.s. p.o. b.i.d.; Na 134; vit.D", none)).isEqualTo("e.g. q.h.s. p.o. b.i.d.; Na 134; vit.D");
  }

  @Test
  void anEmployerAfterItsLabelOrRetiredFromIsAnEmployer() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Employer: Riverside Casino; spouse retired from Pullman Tool & Die.", none))
        .isEqualTo("Employer: [EMPLOYER]; spouse retired from [EMPLOYER].");
    assertThat(marked("retired from the Navy; retired from Army; Employer: None; retired from teaching.", none))
        .isEqualTo("retired from the Navy; retired from Army; Employer: None; retired from teaching.");
  }

  @Test
  void anApartmentInLowerCaseBelongsToItsStreet() {
    assertThat(marked("lives at 6287 Prairie Ave apt 10 with wife; near Maple Street unit 4.", KnownIdentifiers.empty()))
        .isEqualTo("lives at [ADDRESS] with wife; near [ADDRESS].");
  }

  @Test
  void aSendersNameBeforeAnAddressInAngleBracketsIsAName() {
    assertThat(marked("From: Terrence Mbeki <tmbeki@carenet.example.com>", KnownIdentifiers.empty()))
        .isEqualTo("From: [PERSON] <[EMAIL]>");
    assertThat(marked("WBC <4.0, K <3.5, Normal Saline <1 L", KnownIdentifiers.empty()))
        .isEqualTo("WBC <4.0, K <3.5, Normal Saline <1 L");
  }

  @Test
  void initialsBeforeADayAreAPersonAndTheDayADate() {
    assertThat(marked("Advised ED. -- JS 4/17", KnownIdentifiers.empty())).isEqualTo("Advised ED. -- [PERSON] [DATE]");
    assertThat(marked("Chart review ZQ 9/21: stable.", ZEBULON)).isEqualTo("Chart review [PATIENT] [DATE]: stable.");
    assertThat(marked("ZQ 3/4 tablet; -- PT 3/4; - RN 2/3; MoCA 24/30; L4-5; -- JS 3/4 tab", ZEBULON))
        .isEqualTo("ZQ 3/4 tablet; -- PT 3/4; - RN 2/3; MoCA 24/30; L4-5; -- JS 3/4 tab");
  }

  @Test
  void aSurnameBeforeAVisitsDayAfterWithIsAPerson() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("F/u w/ Okafor 4/9. See Lindqvist 3/12 appt.", none))
        .isEqualTo("F/u w/ [PERSON] [DATE]. See [PERSON] [DATE] appt.");
    assertThat(marked("Bridge with Lovenox 3/4. F/u w/ Ortho 4/9. See Cardiology 3/12 appt.", none))
        .isEqualTo("Bridge with Lovenox 3/4. F/u w/ Ortho 4/9. See Cardiology [DATE] appt.");
  }

  @Test
  void aSmallTownAfterDroveInFromOrOutsideIsATown() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Drove in from Kalona this morning; her sister lives outside Bad Axe, MI; came up from "
        + "Paw Paw.", none)).isEqualTo("Drove in from [CITY] this morning; her sister lives outside [CITY], MI; came up "
        + "from [CITY].");
    assertThat(marked("Drove in from home; came in from ED; lives outside the city; traveled from Mexico.", none))
        .isEqualTo("Drove in from home; came in from ED; lives outside the city; traveled from Mexico.");
  }

  @Test
  void aWeekdayOfTheWeekADayMonthAndTheNthAreDates() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("fell last Saturday; seen this past Monday; back next Friday; last seen 04-Dec, 1-Mar; labs due on "
        + "the 3rd; since the 22nd.", none)).isEqualTo("fell last [DATE]; seen this past [DATE]; back next [DATE]; last "
        + "seen [DATE], [DATE]; labs due on the [DATE]; since the [DATE].");
    assertThat(marked("dialysis Tue/Thu/Sat; on Mondays; 3rd degree AV block; on the 2nd floor; on the 3rd day; "
        + "L4-5; C5-6; last Tuesdays; on the 4th toe.", none)).isEqualTo("dialysis Tue/Thu/Sat; on Mondays; 3rd degree "
        + "AV block; on the 2nd floor; on the 3rd day; L4-5; C5-6; last Tuesdays; on the 4th toe.");
  }

  // A held-out set written after the rules above passed these; each rule with what must stay beside it.

  @Test
  void aRelativeInParenthesesOrInLowerCaseAndAProxyOrAnAddresseeAfterTheirLabelAreNames() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("her granddaughter (Emily) visits; wife rosa at bedside; son miguel called; HCP: Jean-Baptiste "
        + "Moreau (nephew); fax attn: Kathy; POA - Ana de la Cruz.", none))
        .isEqualTo("her granddaughter ([PERSON]) visits; wife [PERSON] at bedside; son [PERSON] called; HCP: [PERSON] "
            + "(nephew); fax attn: [PERSON]; POA - [PERSON].");
    assertThat(marked("sister (Deceased); wife also called; husband recently called; daughter here; wife at bedside; "
        + "HCP: Daughter; POA: None; Attn: Medical Records; attention: Billing.", none))
        .isEqualTo("sister (Deceased); wife also called; husband recently called; daughter here; wife at bedside; "
            + "HCP: Daughter; POA: None; Attn: Medical Records; attention: Billing.");
  }

  @Test
  void aSingleInitialAfterDrIsAPerson() {
    assertThat(marked("RTC 2 wks w/ Dr. K. Seen by Dr J; Dr. J. Okafor and Dr A.B. Lindqvist agree.",
        KnownIdentifiers.empty())).isEqualTo("RTC 2 wks w/ Dr. [PERSON]. Seen by Dr [PERSON]; Dr. [PERSON] and Dr "
        + "[PERSON] agree.");
    assertThat(marked("Vitamin D 3000 IU; Hep B; Dr. Seuss.", KnownIdentifiers.empty()))
        .isEqualTo("Vitamin D 3000 IU; Hep B; Dr. Seuss.");
  }

  @Test
  void aUnitBeforeItsStreetBelongsToIt() {
    assertThat(marked("mail to Apt 4B, 221 Baker St; Suite 200 1 Main Street.", KnownIdentifiers.empty()))
        .isEqualTo("mail to [ADDRESS]; [ADDRESS].");
    assertThat(marked("ICU bed 4, 2 units PRBC.", KnownIdentifiers.empty())).isEqualTo("ICU bed 4, 2 units PRBC.");
  }

  @Test
  void theLastFourOfAnSsnAndAnAddressSpelledOutAreIdentifiers() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("SSN xxx-xx-1234; ***-**-5678; SSN ending in 4321; last 4 of SSN: 9876. Mail rosa.a at gmail dot "
        + "com or jdoe [at] example [dot] org.", none)).isEqualTo("SSN [SSN]; [SSN]; [SSN]; [SSN]. Mail [EMAIL] or [EMAIL].");
    assertThat(marked("last 4 weeks; x 4 days; seen at home; dot phrase used; 1234 steps.", none))
        .isEqualTo("last 4 weeks; x 4 days; seen at home; dot phrase used; 1234 steps.");
  }

  @Test
  void whomADriverOrACourierWorksForIsAnEmployer() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Drives for Uber; delivers for Door Dash; drives a truck for Midwest Freight.", none))
        .isEqualTo("Drives for [EMPLOYER]; delivers for [EMPLOYER]; drives a truck for [EMPLOYER].");
    assertThat(marked("drove by Walmart; drives at night; drives for 2 hours.", none))
        .isEqualTo("drove by Walmart; drives at night; drives for 2 hours.");
  }

  @Test
  void aWeekdaysAbbreviationWithACommaOrBeforeTheNthIsADatesCue() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("last seen Mon., 3/4; next appt Thurs the 12th; Fri, 2/13.", none))
        // the weekday is of the date since the fiftieth session (beside a shifted date it told the shift)
        .isEqualTo("last seen [DATE]; next appt [DATE]; [DATE].");
    assertThat(marked("Mon-Fri 9-5; Sat the 2nd floor; Sun, 3 times.", none))
        .isEqualTo("Mon-Fri 9-5; Sat the 2nd floor; Sun, 3 times.");
  }

  // The second and third held-out sets' misses (docs/benchmarks.md), each rule with what must stay beside it.

  @Test
  void aPatientsNameFamilyFirstAfterItsLabelIsAName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Pt. name: Achterberg-Nwosu, Rosalind\nPatient: Delacroix-Haines, Margaret A.\nName: Oduya, Ken", none))
        .isEqualTo("Pt. name: [PERSON]\nPatient: [PERSON]\nName: [PERSON]");
    assertThat(marked("Patient: Alert, Oriented x3. Patient: Stable, Afebrile. Name: Unknown, Per EMS.", none))
        .isEqualTo("Patient: Alert, Oriented x3. Patient: Stable, Afebrile. Name: Unknown, Per EMS.");
  }

  @Test
  void aRelativeBetweenCommasOrAfterAColonBeforeAContactIsAName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Son, Jamal, at bedside. Wife: Guadalupe (cell 312-555-0101). Daughter: Ines Roy 773-555-0199. "
        + "Father O'Malley visited.", none)).isEqualTo("Son, [PERSON], at bedside. Wife: [PERSON] (cell [PHONE]). "
        + "Daughter: [PERSON] [PHONE]. Father [PERSON] visited.");
    assertThat(marked("Mother: Diabetes, HTN. Mother, Diabetes, HTN. Father: CAD, MI at 60. Sister, Deceased, at 45. "
        + "Brother: Healthy.", none)).isEqualTo("Mother: Diabetes, HTN. Mother, Diabetes, HTN. Father: CAD, MI at 60. "
        + "Sister, Deceased, at 45. Brother: Healthy.");
  }

  @Test
  void aPlansAPrescriptionsASpecimensAndAPagersNumberAreIdentifiers() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("MBI 1EG4-TE5-MK73; Rx # 6543210; Accession S24-12345; Accession No. SP-25-004821; Pager 4-1234; "
        + "pgr 51234.", none)).isEqualTo("MBI [PLAN]; Rx # [ID]; Accession [ID]; Accession No. [ID]; Pager [PHONE]; "
        + "pgr [PHONE].");
    assertThat(marked("Rx 2 tabs daily; accession pending; pager on vibrate; MBI pending.", none))
        .isEqualTo("Rx 2 tabs daily; accession pending; pager on vibrate; MBI pending.");
  }

  @Test
  void aDottedIsoDateAndAPhoneWithoutASeparatorAfterItsAreaCodeAreFound() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("seen 2024.03.05; call (917)5551234 or (917) 5551234.", none))
        .isEqualTo("seen [DATE]; call [PHONE] or [PHONE].");
    assertThat(marked("version 2024.13.45; pH 7.40; 1.2.3; (5)1234567.", none))
        .isEqualTo("version 2024.13.45; pH 7.40; 1.2.3; (5)1234567.");
  }

  @Test
  void aPracticeOrARehabilitationHomeNamedByItsKindIsAFacility() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Discharged to Maple Grove Rehabilitation; f/u at Lakeshore Internal Medicine; Tri-County Family "
        + "Medicine.", none)).isEqualTo("Discharged to [FACILITY]; f/u at [FACILITY]; [FACILITY].");
    assertThat(marked("Acute Rehabilitation; Cardiac Rehabilitation; Department of Internal Medicine; General Internal "
        + "Medicine; Pulmonary Rehabilitation; Outpatient Pediatrics; refer to Primary Care.", none))
        .isEqualTo("Acute Rehabilitation; Cardiac Rehabilitation; Department of Internal Medicine; General Internal "
            + "Medicine; Pulmonary Rehabilitation; Outpatient Pediatrics; refer to Primary Care.");
  }

  @Test
  void aCallerANameBeforeItsAgeAndSexAndASignOffAreNames() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Caller Yusuf Demir (brother-in-law). Bed 12: Hollis Featherstone, 84M. Ana Ruiz, 71 y/o F.\n"
        + "thanks, Jen", none)).isEqualTo("Caller [PERSON] (brother-in-law). Bed 12: [PERSON], 84M. [PERSON], 71 y/o F.\n"
        + "thanks, [PERSON]");
    assertThat(marked("Caller: Pharmacy. Caller ID blocked. Down Syndrome, 45F. Parkinson Disease, 71 yo M. "
        + "Thanks, Doctor.\nThanks again.", none)).isEqualTo("Caller: Pharmacy. Caller ID blocked. Down Syndrome, 45F. "
        + "Parkinson Disease, 71 yo M. Thanks, Doctor.\nThanks again.");
  }

  /**
   * A vocative "Doctor" at a line's end took the next line's first word for a name ("Thanks, Doctor" then
   * "Thanks again" became "Doctor [PERSON]"); spelled out, it names only on its own line. "Dr." may wrap.
   */
  @Test
  void doctorAtALinesEndDoesNotNameTheNextLinesFirstWord() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Thanks, Doctor\nThanks again.\nYes Doctor\nPlease call back.", none))
        .isEqualTo("Thanks, Doctor\nThanks again.\nYes Doctor\nPlease call back.");
    assertThat(marked("seen by Doctor Okafor today; consult with Dr.\nRaghunathan; Doctor O'Brien called.", none))
        .isEqualTo("seen by Doctor [PERSON] today; consult with Dr.\n[PERSON]; Doctor [PERSON] called.");
  }

  @Test
  void aZipCodeAfterATownWithoutItsStateIsAZipCode() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("new address 1142 W Belden Ave, Chicago 60614.", none))
        .isEqualTo("new address [ADDRESS], [CITY] [ZIP].");
    assertThat(marked("Lives in Chicago 2 days a week; glucose 60614; lives in Boston 12345678.", none))
        .isEqualTo("Lives in [CITY] 2 days a week; glucose 60614; lives in [CITY] 12345678.");
  }

  @Test
  void aDoctorsNameAsABrandBeforeWhatItIsIsNoPerson() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Dr. Smith's ointment BID; Dr. Reddy's generic.", none))
        .isEqualTo("Dr. Smith's ointment BID; Dr. Reddy's generic.");
    assertThat(marked("per Dr. Smith's note; Dr. Reddy's office called.", none))
        .isEqualTo("per Dr. [PERSON] note; Dr. [PERSON] office called.");
  }

  /**
   * The names dictionary with a context: two words of it, given then family, in capitals or not; family first in
   * capitals; no single word of it alone, and no eponym, drug or town beside a name.
   */
  @Test
  void twoWordsOfTheNamesDictionaryAreAPersonAndOneAloneIsNot() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Wife Oksana at bedside. Spoke with Marisol Whitfield re discharge; LATOYA JEFFERSON consented.",
        none)).isEqualTo("Wife [PERSON] at bedside. Spoke with [PERSON] re discharge; [PERSON] consented.");
    // a given name that is also an English word before a surname that is none; a surname word before a given name is no pair
    assertThat(marked("Copy to Maria Okafor and John Nguyen. Caller Yusuf (son).", none))
        .isEqualTo("Copy to [PERSON] and [PERSON]. Caller [PERSON] (son).");
    assertThat(marked("Chart copied to OKAFOR, BEATRICE and Dana K. Whitfield.", none))
        .isEqualTo("Chart copied to [PERSON] and [PERSON].");
    // an eponym, a drug, a scale, a town, a facility beside a name, and a single surname alone stay
    String clinical = "a Mary Joseph nodule. Mary Washington Hospital. San Antonio. Miller class I mobility. "
        + "Wright stain. Jones criteria met. Parkinson disease. Foley in place. Grace Brown stayed. HEART FAILURE.";
    assertThat(marked(clinical, none)).isEqualTo(clinical.replace("Mary Washington Hospital", "[FACILITY]"));
  }

  /** Any label, a verb of who did it, a person's role: the cue a dictionary name after it needs. */
  @Test
  void aDictionaryNameAfterALabelAVerbOfWhoDidItOrARoleIsAPerson() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Circulator: Ignacio Etxeberria\nScrub: ABERNATHY, LUCINDA\nRecorder: Okafor", none))
        .isEqualTo("Circulator: [PERSON]\nScrub: [PERSON]\nRecorder: [PERSON]");
    assertThat(marked("Interpreted by J. Castellanos-Reyes at 09:10. Discussed with Priyanka Raman. Verified by\nT. Lindgren-Obi",
        none)).isEqualTo("Interpreted by [PERSON] at 09:10. Discussed with [PERSON]. Verified by\n[PERSON]");
    assertThat(marked("Home aide Roxanne arrives at 8. Spoke to case manager Yolanda Pruitt.", none))
        .isEqualTo("Home aide [PERSON] arrives at 8. Spoke to case manager [PERSON].");
    // a clinical label's value, a role before a clinical word, a single name word inside a sentence stay
    String clinical = "Dx: Graves disease\nProcedure: Whipple\nAllergies: Penicillin\nPlan: Hope to discharge."
        + "\nStain: Gram\nnurse Practitioner visit. Reviewed by Pharmacy. Rhythm: Sinus.";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
  }

  /** A keypad's code, a case's reference and a numbered road name one home, one file and one place. */
  @Test
  void aLockboxCodeACaseReferenceAndANumberedRoadAreIdentifiers() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Key in the lockbox, code 8812. Gate code is 5521#. Case ref CW-7730-12. Claim # 99120455.",
        none)).isEqualTo("Key in the lockbox, code [ID]. Gate code is [ID]#. Case ref [ID]. Claim # [ID].");
    assertThat(marked("Lives off Route 30 near County Road 12.", none))
        .isEqualTo("Lives off [ADDRESS] near [ADDRESS].");
    String clinical = "Code 44 called. ICD code 4471. Route: PO. route of administration. ref range 15-150.";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
  }

  /** The dictionary's rules restart a failed pair at its next word only: runs of their shapes are scanned once. */
  @Test
  void theDictionaryRulesScanALongRunOnce() {
    for (String unit : List.of("Zq Mary ", "MARY, ", "Tech: Zq ", "Read by\n", "lockbox lockbox ", "Case ref ",
        "Aa-Aa-", "Route Route ")) {
      String run = unit.repeat(64 * 1024 / unit.length());
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
          () -> Detectors.find(run, KnownIdentifiers.empty()));
    }
  }

  /**
   * Eponyms of diseases, signs and devices that the names dictionary holds as names: a hyphenated or two-word eponym
   * ("Stevens-Johnson", "Guillain Barre") is no double surname, and a one-word eponym a note writes alone after a
   * label ("Tumor: Pancoast", "Yeast: Candida") is no person.
   */
  @Test
  void eponymsAfterALabelAreNotPersons() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    String clinical = "Rash: Stevens-Johnson\nReaction: Stevens Johnson\nRule out: Guillain-Barre\nDdx: Guillain Barre, "
        + "Miller Fisher\nComplication: Creutzfeldt-Jakob\nNeuropathy: Charcot-Marie-Tooth\nTear: Mallory-Weiss\n"
        + "Syndrome noted: Ehlers-Danlos\nDisease: Osgood-Schlatter\nBreathing: Cheyne-Stokes\nTumor: Pancoast\n"
        + "Incision: Pfannenstiel\nNeedle: Tuohy\nDrain: Penrose\nLine: Hickman\nCriteria: Ranson\n"
        + "Maneuvers: McRoberts, Woods\nManeuvers: Epley\nYeast: Candida\nFracture: Barton";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
    // a double surname of the dictionary, and a person named Barton beside a given name, stay persons
    assertThat(marked("Surgeon: Ngozi Patel-Moreno\nScrub: Dana Barton", none))
        .isEqualTo("Surgeon: [PERSON]\nScrub: [PERSON]");
  }

  /**
   * A name after a clergy's, a religious' or a care team's title, in or out of the names dictionary ("Rev. Obadiah
   * Sims", "Attending WEISSMAN" passed held-out set 5): the title stays in the text, each word of the name is taken.
   */
  @Test
  void aNameAfterAClergysOrACareTeamsTitleIsAPerson() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("The pt's pastor, Rev. Obadiah Sims, visited. Rev Tomasz Wierzbicki prayed. Reverend Abernathy "
        + "called. Pastor Chukwuemeka Obi came; Rabbi Feldstein and Imam Hussain Qureshi too. Sister Mary Joseph visits.",
        none)).isEqualTo("The pt's pastor, Rev. [PERSON], visited. Rev [PERSON] prayed. Reverend [PERSON] called. "
            + "Pastor [PERSON] came; Rabbi [PERSON] and Imam [PERSON] too. Sister [PERSON] visits.");
    assertThat(marked("Attending WEISSMAN. Attending SMITH-JONES agrees. Discussed with attending Oyelowo and fellow "
        + "Ngozi. Chaplain Adebayo at bedside. Deacon Wojcik called.", none))
        .isEqualTo("Attending [PERSON]. Attending [PERSON] agrees. Discussed with attending [PERSON] and fellow "
            + "[PERSON]. Chaplain [PERSON] at bedside. Deacon [PERSON] called.");
  }

  /** What follows a title in a note and is no name: a role, a unit, a heading, a relative's state, an eponym. */
  @Test
  void wordsAfterATitleThatNameNoOneStay() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    String clinical = "Attending note: stable. Resident physician aware. Nurse practitioner visit. Fellow at bedside. "
        + "Attending physician reviewed. nurse Practitioner visit. Attending MICU. Resident PGY-2 aware. Nurse RN. "
        + "Father Alive. Brother Has DM. Attending Attestation: agree. Nurse Navigator called. Resident On call. "
        + "Sister Mary Joseph nodule on exam. Sister Mary Joseph node. ATTENDING ATTESTATION\nRESIDENT NOTE\n"
        + "Father COPD, died at 70. Sister ESRD on HD. Brother CABG x3.";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
  }

  /**
   * A specialty or a care team's business after a care team's title names no one: "Attending Neurologist", "Fellow
   * Endocrinology", "Nurse Handoff" were each taken for a person, a clinical word lost from every de-identified text.
   * A name after the title is still taken ("Attending Lindquist").
   */
  @Test
  void aSpecialtyAfterACareTeamsTitleIsNoName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    String clinical = "Attending Neurologist: saw pt. Attending Psychiatrist note. Attending Anesthesiologist present. "
        + "Attending Obstetrician aware. Attending Dermatologist. Attending Emergency Physician. Attending Nephrology. "
        + "Fellow Endocrinology consulted. Fellow Cardiology note. Nurse Liaison called. Nurse Report given. "
        + "Nurse Handoff done. Nurse Staffing low. Resident Council meeting. Attending Pediatrics. Resident Pharmacist.";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
    assertThat(marked("Attending Lindquist agrees. Fellow Okonkwo paged.", none))
        .isEqualTo("Attending [PERSON] agrees. Fellow [PERSON] paged.");
  }

  /**
   * A school, a college or a house of worship by name ("Kickapoo High" passed held-out set 5): where a patient studies,
   * teaches or worships, with the town, narrows the patient to a few hundred people. A kind alone, a denomination and a
   * professional body name none.
   */
  @Test
  void aSchoolACollegeOrAChurchByNameIsAPlace() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Student at Riverbend Elementary School. Member of Grace Fellowship Church. Oak Hill Academy "
        + "student. Went to Drury College, then Harvard Medical School. Graduated Central High School.", none))
        .isEqualTo("Student at [FACILITY]. Member of [FACILITY]. [FACILITY] student. Went to [FACILITY], then "
            + "[FACILITY]. Graduated [FACILITY].");
    String clinical = "Attends Sunday School. Graduated High School. Catholic Church. Medical School debt. Per American "
        + "College of Cardiology guidelines; American Academy of Pediatrics schedule. Back School program. Nursing School.";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
  }

  /**
   * A number written in groups after its label ("Subscriber ID DDX 4471 902", "MRN 0047 1182" kept all but the first
   * group), and a specimen's number without a number sign ("specimen H25-338104"): the whole value is taken; a count,
   * a day or a time after a number is not part of it.
   */
  @Test
  void anIdentifierWrittenInGroupsAfterItsLabelIsTakenWhole() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("MRN 0047 1182. Acct 5512 3381 22. Accession SP 25 004821, received. Policy # ABC 123 4456. "
        + "Subscriber ID DDX 4471 902. K 6.8 on specimen H25-338104.", none))
        .isEqualTo("MRN [MRN]. Acct [ACCOUNT]. Accession [ID], received. Policy # [PLAN]. Subscriber ID [PLAN]. "
            + "K 6.8 on specimen [ID].");
    assertThat(marked("MRN 4471123 45 yo M. Acct 5512 3 days ago. MRN 12345678 6 mg. Specimen collected; Specimen: "
        + "urine. Rx 2 tabs. MRN 4 days ago.", none)).isEqualTo("MRN [MRN] 45 yo M. Acct [ACCOUNT] 3 days ago. "
            + "MRN [MRN] 6 mg. Specimen collected; Specimen: urine. Rx 2 tabs. MRN 4 days ago.");
  }

  /**
   * What follows a number after its label and is no further group of it: a test, a condition or a count with letters
   * ("MRN 1234567 A1C 7.2", "T2DM", "CD4 350", "G2P1", "COVID-19") and a decimal ("36.8"). Taken as the number's, the
   * clinical word or the value was lost from the de-identified text.
   */
  @Test
  void aClinicalWordWithADigitAfterANumberIsNoGroupOfIt() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("MRN 1234567 A1C 7.2 today. MRN: 1234567 HbA1c 8.1. MRN 1234567 T2DM f/u. MRN 1234567 CD4 350. "
        + "MRN 4471123 G2P1 at 38 weeks. MRN 1234567 COVID-19 positive. MRN 1234567 B12 low. MRN 1234567 36.8 C.", none))
        .isEqualTo("MRN [MRN] A1C 7.2 today. MRN: [MRN] HbA1c 8.1. MRN [MRN] T2DM f/u. MRN [MRN] CD4 350. "
            + "MRN [MRN] G2P1 at 38 weeks. MRN [MRN] COVID-19 positive. MRN [MRN] B12 low. MRN [MRN] 36.8 C.");
  }

  /** A day and month at a log line's start before a time ("12/02 06:14 K 6.8" passed held-out set 5). */
  @Test
  void aDayAtALogLinesStartBeforeATimeIsADate() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("12/02 06:14 K 6.8 called.\n12/03 08:00 glucose 45\n- 11/30 14:05 spoke with pt", none))
        .isEqualTo("[DATE] 06:14 K 6.8 called.\n[DATE] 08:00 glucose 45\n- [DATE] 14:05 spoke with pt");
    String clinical = "7/10 pain reported.\n3/4 tablet daily\n5/5 strength 10:00 recheck\nBP 120/80 06:00";
    assertThat(marked(clinical, none)).isEqualTo(clinical);
  }

  /** The title rule and the grouped values are bounded: runs of their shapes are scanned once. */
  @Test
  void theTitleAndGroupedValueRulesScanALongRunOnce() {
    for (String unit : List.of("Rev. Zq ", "Attending ZZZZ-", "Nurse Nurse ", "MRN 12 ", "Acct AB 12 ", "12/02 ",
        "Aa School ", "Member of ")) {
      String run = unit.repeat(64 * 1024 / unit.length());
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
          () -> Detectors.find(run, KnownIdentifiers.empty()));
    }
  }

  /**
   * A family history's line names the relative's condition, not the relative: the relation rules took the first
   * capitalised word after "Father", "Sister", "Aunt" for a name, and "Father Hypertension", "Sister Breast cancer",
   * "Father Stroke" became "Father [PERSON]" in every de-identified prompt and research text, the condition lost.
   */
  @Test
  void aFamilyHistorysConditionAfterARelativeStays() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String kept : List.of("Father Hypertension.", "Sister Breast cancer at 45.", "Father Stroke, died at 70.",
        "Mother Type 2 diabetes.", "Mother Ca breast.", "Grandmother Ovarian cancer at 60.", "Grandfather Prostate cancer.",
        "Aunt Lupus.", "Cousin Cystic fibrosis.", "Mother Diabetes; Father Heart attack at 55.", "Sister Asthma.",
        "Brother Schizophrenia.", "Son Autism.", "Daughter Epilepsy.", "Mother Depression.", "Father Alcoholism.",
        "Maternal grandmother Dementia.", "Paternal uncle Sudden cardiac death.", "Mother Rheumatoid arthritis.",
        "Father Glaucoma.", "Sister Melanoma.", "Brother Kidney stones.", "Mother Osteoporosis.", "Father Gout.",
        "Sister Migraines.", "Father Emphysema.", "Mother Obesity.", "Father Colon polyps.", "Mother Bipolar disorder.",
        "Father Lung cancer.", "Mother Breast Cancer.", "Father Heart Disease at 60.", "Mother Brain tumor.",
        "MOTHER Hypertension. father Stroke. WIFE Anxiety.", "Husband Afib. Spouse Hyperlipidemia. Partner Hepatitis C.",
        "Father Hypertension, MI at 52. Mother alive and well. Brother A&W. Sister with CAD. Father hx of COPD.",
        "Father: Hypertension. Mother Deceased.",
        "Sister Anorexia. Father Testicular cancer. Sister Hodgkin lymphoma.",
        "her mother (Breast cancer) and his father (Stroke).",
        "FAMILY HISTORY: Father Hypertension, Stroke. Mother Diabetes, Breast cancer. Brother COPD.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** A relative's name after the relation is still a person, in the names dictionary or not, in any case. */
  @Test
  void aRelativesNameAfterTheRelationIsStillTakenBesideAFamilyHistory() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Father John called. mother Mary Okafor visited. Spoke with his sister, Ana Ruiz, at bedside. "
        + "Sister Mary Joseph visits. Father O'Malley visited. daughter Jane Doe; wife Gertrude; son Jamal. Uncle Roberto "
        + "drove. Cousin Priya Raghunathan called. Husband Michael at bedside. Aunt Keisha called. Dad Oluwaseun drove.",
        none)).isEqualTo("Father [PERSON] called. mother [PERSON] visited. Spoke with his sister, [PERSON], at bedside. "
        + "Sister [PERSON] visits. Father [PERSON] visited. daughter [PERSON]; wife [PERSON]; son [PERSON]. Uncle [PERSON] "
        + "drove. Cousin [PERSON] called. Husband [PERSON] at bedside. Aunt [PERSON] called. Dad [PERSON] drove.");
    // a name beside a family history's condition
    assertThat(marked("Mother Rose has diabetes; father Frank Lee, HTN; sister Graves at bedside.", none))
        .isEqualTo("Mother [PERSON] has diabetes; father [PERSON], HTN; sister [PERSON] at bedside.");
  }

  /**
   * A surname no names list holds, after a role that is no title (set 6: "Triage RN Nkemelu", "pharmacist Oyelaran",
   * "Treating PT Ravindran"): the role stays, the name goes, whatever its origin.
   */
  @Test
  void anUnlistedSurnameAfterARoleIsTakenAndTheRoleStays() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Triage RN Nkemelu. Called pharmacist Tkachenko; doula Ngata present. Treating PT Ravindran. "
        + "LPN Mbatha gave meds. OT Haavisto-Lind to follow. social worker Abdirahman; case manager Wojtaszek; "
        + "interpreter Tsegaye (Amharic); NP Quispe Mamani saw pt.", none))
        .isEqualTo("Triage RN [PERSON]. Called pharmacist [PERSON]; doula [PERSON] present. Treating PT [PERSON]. "
            + "LPN [PERSON] gave meds. OT [PERSON] to follow. social worker [PERSON]; case manager [PERSON]; "
            + "interpreter [PERSON] (Amharic); NP [PERSON] saw pt.");
  }

  /** A role alone, or before a word of what it did, a header's word, a drug or a lab's state, is never a name. */
  @Test
  void aRoleBeforeAWordThatIsNoNameKeepsTheWord() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String kept : List.of("the RN notified of plan. PT eval ordered.", "PT Eval ordered. OT Consult placed.",
        "RN Notified MD. PT Recommends SNF. SLP Swallow study pending.", "Pharmacist Recommendations: none.",
        "PT Goals: ambulate 150 ft.", "RN Handoff: stable.", "pharmacist Vancomycin dosing per protocol.",
        "PT Prolonged at 18 s; PT Normal.", "RN Administered Zofran.", "OT Session 3 of 6. PT Initial Evaluation.",
        "therapist Monday; aide Tuesday.", "PT Daily Note", "PA Student present.", "PT Hoyer lift transfer.",
        "case manager Assessment: home.", "RN Charge aware.", "pharmacist Warfarin protocol.",
        "NP Parkinson disease follow-up.", "OT Theraband green.", "PT Trendelenburg gait noted.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /**
   * A radiograph's view or a patient's position after "PA" or "PT" (posteroanterior, a physical therapist), and a
   * payer after a case manager or social worker, are no names: "CXR PA Lateral" read "CXR PA [PERSON]".
   */
  @Test
  void aViewAPositionOrAPayerAfterARoleIsNoName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String kept : List.of("CXR PA Lateral views.", "PA Lateral and PA Oblique views.", "PA Erect film; PA Decubitus.",
        "PA Frontal and Lateral", "PA Chest 2 views", "PA Views obtained.", "PT Supine to sit with min assist.",
        "PT Prone lying.", "PT Bilateral LE strengthening.", "case manager Medicare application.",
        "social worker Medicaid paperwork.", "case manager Insurance verified.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
    assertThat(marked("Seen by PA Nkemelu.", none)).isEqualTo("Seen by PA [PERSON].");
  }

  /**
   * A place of care, worship or service without "Hospital" or "Clinic" in its name (set 6: "St. Casimir Parish",
   * "Ozark Valley Home Care", "Baptist Health Paducah"), the town after it too; a service's generic name stays.
   */
  @Test
  void anInstitutionWithoutAHospitalOrClinicSuffixIsTakenWithItsTown() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Communion from St. Casimir Parish. Agency: Ozark Valley Home Care. Records from Baptist Health "
        + "Paducah. Food from Living Waters Ministries. Aide via Meadowlark Family Services. Labs at Mercy Health.", none))
        .isEqualTo("Communion from [FACILITY]. Agency: [FACILITY]. Records from [FACILITY] [CITY]. Food from "
            + "[FACILITY]. Aide via [FACILITY]. Labs at [FACILITY].");
    for (String kept : List.of("Mental Health referral; Behavioral Health consult; Public Health notified.",
        "Social Services consulted. Adult Protective Services called. Environmental Services cleaned.",
        "Home Health ordered. Home Care agency TBD. Missouri Department of Health notified.",
        "Women's Health visit; Employee Health cleared; Bone Health reviewed.", "Hospice Care discussed.",
        "ANNUAL VISIT\nHealth maintenance up to date.", "PHONE NOTE\nServices arranged.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /**
   * A language after an interpreter, a drug's brand name after a pharmacist or a nurse, and a qualifier of the role are no names: "interpreter Arabic" read "interpreter [PERSON]", "pharmacist Eliquis"
   * "pharmacist [PERSON]".
   */
  @Test
  void aLanguageABrandADrugOrARelativeAfterARoleIsNoName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String kept : List.of("interpreter Arabic; interpreter Vietnamese; interpreter Somali.", "pharmacist Eliquis dosing.", "pharmacist Xarelto; pharmacist Lovenox; pharmacist Keppra.",
        "pharmacist Lasix.", "RN Tylenol given.", "EMT Narcan x2.", "RN Insulin drip.", "PharmD Candidate present.", "PA Fellow saw.", "RN Preceptor aware.", "RN Float pool.",
        "EMT Paramedic crew.", "PT Lumbar stabilization.", "SLP Dysphagia screen.", "SLP Video swallow.",
        "PT Vertigo.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
    assertThat(marked("interpreter Tsegaye (Amharic)", none)).isEqualTo("interpreter [PERSON] (Amharic)");
  }

  /**
   * The dictionary's role rule stops at the languages the other role rule stops at: "interpreter Spanish used" read
   * "interpreter [PERSON] used" (Spanish is a surname of the dictionary). A name after an interpreter still goes.
   */
  @Test
  void aLanguageAfterAnInterpreterIsNoNameForTheDictionarysRoleRuleEither() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("interpreter Spanish used.", none)).isEqualTo("interpreter Spanish used.");
    assertThat(marked("Interpreter Somali present; translator Arabic; interpreter Polish.", none))
        .isEqualTo("Interpreter Somali present; translator Arabic; interpreter Polish.");
    assertThat(marked("interpreter Bahati present.", none)).isEqualTo("interpreter [PERSON] present.");
    assertThat(marked("interpreter Spanish Bahati present.", none)).isEqualTo("interpreter Spanish [PERSON] present.");
  }


  /**
   * A relative's word after a role or a caregiver is who the person is to the patient, no name: "caregiver Daughter"
   * read "caregiver [PERSON]". The relative's name after the word, and a caregiver's own name, still go.
   */
  @Test
  void aRelativesWordAfterARoleIsNoName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("caregiver Daughter at bedside.", none)).isEqualTo("caregiver Daughter at bedside.");
    assertThat(marked("caregiver Son; contact Wife; aide Mother present; caregiver Granddaughter.", none))
        .isEqualTo("caregiver Son; contact Wife; aide Mother present; caregiver Granddaughter.");
    assertThat(marked("caregiver Oyelaran at bedside.", none)).isEqualTo("caregiver [PERSON] at bedside.");
    assertThat(marked("caregiver Daughter Keisha at bedside.", none)).isEqualTo("caregiver Daughter [PERSON] at bedside.");
    assertThat(marked("RN Nkemelu aware.", none)).isEqualTo("RN [PERSON] aware.");
  }

  /**
   * An adjective of a condition after a relative is a family history's, no name, as "Father Hypertension" is: "Brother
   * Hypertensive" and "Uncle Prediabetic" read "[PERSON]". A relative's name before such an adjective still goes.
   */
  @Test
  void aConditionsAdjectiveAfterARelativeIsNoName() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Brother Hypertensive.", none)).isEqualTo("Brother Hypertensive.");
    assertThat(marked("Sister Hypertensive.", none)).isEqualTo("Sister Hypertensive.");
    assertThat(marked("Uncle Prediabetic.", none)).isEqualTo("Uncle Prediabetic.");
    assertThat(marked("Mother Asthmatic; Father Hyperlipidemic; Sister Epileptic; Aunt Bipolar.", none))
        .isEqualTo("Mother Asthmatic; Father Hyperlipidemic; Sister Epileptic; Aunt Bipolar.");
    assertThat(marked("Dad Oluwaseun hypertensive.", none)).isEqualTo("Dad [PERSON] hypertensive.");
    assertThat(marked("Sister Mary hypertensive.", none)).isEqualTo("Sister [PERSON] hypertensive.");
  }

  /**
   * A role's abbreviation before a specialty or a service is the role's, no word of a place's name: "NP Pediatrics"
   * read "[FACILITY]", "RN Hospice referral" "[FACILITY] referral". A place named after the role still goes.
   */
  @Test
  void aSpecialtyOrAServiceAfterARolesAbbreviationIsNoFacility() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("NP Pediatrics.", none)).isEqualTo("NP Pediatrics.");
    assertThat(marked("RN Hospice referral.", none)).isEqualTo("RN Hospice referral.");
    assertThat(marked("PA Cardiology Clinic; NP Family Medicine; PT Home Care.", none))
        .isEqualTo("PA Cardiology Clinic; NP Family Medicine; PT Home Care.");
    assertThat(marked("RN Mercy Hospital; NP Lakeshore Internal Medicine.", none)).isEqualTo("RN [FACILITY]; NP [FACILITY].");
  }

  /**
   * A name after a title or a relation stops before a clinical word: "Sister Mary Type 1 diabetes" read "Sister
   * [PERSON] 1 diabetes", the condition's type taken into the name. An eponym's noun still makes the whole an
   * eponym's, and a name's later word that is no clinical one still goes with it.
   */
  @Test
  void aNameAfterATitleStopsBeforeAClinicalWord() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Sister Mary Type 1 diabetes.", none)).isEqualTo("Sister [PERSON] Type 1 diabetes.");
    assertThat(marked("Brother John Stage 3 CKD.", none)).isEqualTo("Brother [PERSON] Stage 3 CKD.");
    assertThat(marked("Mother Mary Okafor Type 2 DM.", none)).isEqualTo("Mother [PERSON] Type 2 DM.");
    assertThat(marked("Attending Weissman Class II airway.", none)).isEqualTo("Attending [PERSON] Class II airway.");
    assertThat(marked("Brother Bell Palsy.", none)).isEqualTo("Brother Bell Palsy.");
    assertThat(marked("Sister Mary Joseph nodule noted.", none)).isEqualTo("Sister Mary Joseph nodule noted.");
    assertThat(marked("Father Gleason grade 7.", none)).isEqualTo("Father Gleason grade 7.");
    assertThat(marked("Sister Mary Joseph visited.", none)).isEqualTo("Sister [PERSON] visited.");
    assertThat(marked("Sister Mary Law visited.", none)).isEqualTo("Sister [PERSON] visited.");
  }

  /**
   * A service of care named by what it gives, before "Services", "Health" or "Home Care", names no one place:
   * "Hospice Services consulted" read "[FACILITY] consulted". One with a name of its own still goes.
   */
  @Test
  void aServiceNamedByWhatItGivesIsNoFacility() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    for (String kept : List.of("Hospice Services consulted.", "Palliative Services following.", "Pharmacy Services "
        + "reviewed.", "Chaplain Services visited.", "Vision Services referral.", "Skilled Nursing Services arranged.",
        "Respite Services offered.", "Hospice Home Care discussed.", "Palliative Home Care at discharge.",
        "Visiting Nurse Services arranged.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
    assertThat(marked("Agency: Ozark Valley Hospice Services.", none)).isEqualTo("Agency: [FACILITY].");
  }

  /** An employer by its company's kind, with no verb of work before it (set 6: "shift lead at Dematic Logistics"). */
  @Test
  void anEmployerByItsCompanysKindIsTakenWithoutACue() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("52 yo shift lead at Dematic Logistics; wife at Hartwell Manufacturing; son at Kessler "
        + "Trucking Inc.", none)).isEqualTo("52 yo shift lead at [EMPLOYER]; wife at [EMPLOYER]; son at [EMPLOYER]");
    for (String kept : List.of("Patient Logistics paged. Care Logistics aware.", "Hospital Industries of America.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** A relative's name right before a word that describes the relative ("Dad Oluwaseun diabetic"): a person still. */
  @Test
  void aRelativesNameBeforeAnAdjectiveOfTheRelativeIsTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Dad Oluwaseun diabetic, on insulin. Mom Ngozika hypertensive.", none))
        .isEqualTo("Dad [PERSON] diabetic, on insulin. Mom [PERSON] hypertensive.");
    for (String kept : List.of("Father Hodgkin lymphoma.", "Mother Parkinson disease.", "Father Prostate cancer.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** The session's new shapes over 64 KiB runs of themselves: each repetition bounded, each scan once over the run. */
  @Test
  void runsOfTheRolesTheInstitutionsAndTheCompaniesShapesAreScannedOnce() {
    for (String unit : List.of("RN Aaaa ", "pharmacist Aa-Aa ", "Aaaa Aaaa Health ", "Aaaa Aaaa Services Aaaa ",
        "Aaaa & Aaaa Logistics ", "AaAaAaAa Inc. ", "Aaaa Home Care Aaaa ")) {
      String run = unit.repeat(64 * 1024 / unit.length());
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
          () -> Detectors.find(run, KnownIdentifiers.empty()), unit);
    }
  }

  /** A holiday names a day of the patient's year, and so does a day told from one (held-out set 8). */
  @Test
  void aHolidayAndADayToldFromOneAreDates() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Dispatched on Christmas Eve 21:42. Brother died last Thanksgiving. Injured the day before Labor"
        + " Day. INR check the Monday after New Year's. Fell on Memorial Day weekend.", none))
        .isEqualTo("Dispatched on [DATE] 21:42. Brother died [DATE]. Injured [DATE]. INR check [DATE]. Fell on [DATE]"
            + " weekend.");
    // the eponym stays; a holiday alone in a sentence about the season is a date still ("Thanksgiving is hard for
    // him"), which costs the model a word and no PHI
    assertThat(marked("Thanksgiving is hard for him.", none)).isEqualTo("[DATE] is hard for him.");
    assertThat(marked("Christmas disease (hemophilia B), Christmas factor assay.", none))
        .isEqualTo("Christmas disease (hemophilia B), Christmas factor assay.");
  }

  /** A day in words before or after its month, a month before "the 3rd", and a weekday before a date (set 8). */
  @Test
  void aDayInWordsAMonthBeforeTheNthAndAWeekdayBeforeADateAreDates() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Born the fourth of July at 03:12. Seen July twenty-first. Study date: March the 3rd, 2026. "
        + "Next on Tuesday, January 12 at 9:40. Note of Mon, Jan. 5th.", none))
        .isEqualTo("Born [DATE] at 03:12. Seen [DATE]. Study date: [DATE]. Next on [DATE] at 9:40. Note of [DATE].");
    for (String kept : List.of("Second of three doses given.", "The first of the labs drawn.",
        "Monday clinic, Tuesday dialysis.", "May first try ice.", "March the patient to PT.")) {
      assertThat(marked(kept, none)).as(kept).doesNotContain("[DATE]");
    }
  }

  /** A county by name (held-out sets 7 and 8), and an agency named after its county. */
  @Test
  void aCountyByNameIsTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Rollover east of town in Wright County. Jail time in St. Louis County. OT to follow through Texas"
        + " County Home Care.", none))
        .isEqualTo("Rollover east of town in [COUNTY]. Jail time in [COUNTY]. OT to follow through [FACILITY].");
    for (String kept : List.of("Tri-County Family Medicine referral.", "Each County differs.", "COUNTY HEALTH NOTE",
        "Home County unknown.", "Lives on County Road 12.")) {
      assertThat(marked(kept, none)).as(kept).doesNotContain("[COUNTY]");
    }
  }

  /**
   * A town after "at home in", "flew in from" or a direction's "east of", with letters beyond ASCII or the ʻokina
   * (held-out sets 7 and 8); the gazetteer reads a Hawaiian name with its ʻokina and kahakō.
   */
  @Test
  void aTownAfterNewCuesAndWithTheOkinaIsTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Pt at home in Cabool; son flew in from Nukuʻalofa. Crash east of Mountain Grove.", none))
        .isEqualTo("Pt at home in [CITY]; son flew in from [CITY]. Crash east of [CITY].");
    assertThat(marked("Family in Kāneʻohe visits.", none)).isEqualTo("Family in [CITY] visits.");
    for (String kept : List.of("Pain east of the umbilicus.", "Lesion south of Interstate? No.", "Comfortable at home"
        + " in bed.", "Flew in from Home.", "Lateral to the incision, west of midline.")) {
      assertThat(marked(kept, none)).as(kept).doesNotContain("[CITY]");
    }
  }

  /** A role that ends its line, and the name on the next (held-out set 7: "Interpreter" / "Bahati (Swahili)"). */
  @Test
  void aNameOnTheLineAfterARoleIsTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Mom reached at work. Interpreter\nBahati (Swahili) for grandma.", none))
        .isEqualTo("Mom reached at work. Interpreter\n[PERSON] (Swahili) for grandma.");
    for (String kept : List.of("Seen with interpreter\nSpanish used throughout.", "Discussed with case manager\n"
        + "Discharge planning: home.", "Referred to physical therapist\nPlan: as above.", "Aide\nAmbulated 50 ft.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** A name with a nickname in quotes between its words (held-out set 8). */
  @Test
  void aNameWithANicknameInQuotesIsTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Grandson Travis \"Bubba\" Eckhoff met us; neighbor Robert 'Bobby' Lindqvist called.", none))
        .contains("[PERSON] met us").doesNotContain("Bubba").doesNotContain("Bobby");
    for (String kept : List.of("Pain \"Sharp\" Radiating to arm.", "Plan \"Comfort\" Care discussed.",
        "States \"Better\" Today.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** A name before credentials after a comma, as a sign-off writes it (held-out set 8). */
  @Test
  void aNameBeforeCredentialsIsTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Crew: K. Obermeyer, EMT-P / Jace Whitlatch, EMT-B\nR. Montgomery-Tsosie, LCADC", none))
        .isEqualTo("Crew: [PERSON], EMT-P / [PERSON], EMT-B\n[PERSON], LCADC");
    for (String kept : List.of("Referrals: Ortho, PT, OT.", "Wound Care, LCSW to see.", "Social Work, LCSW consult.",
        "Foley, LPN removed.", "Home Health, CNA visits weekly.", "Physical Therapy, DPT eval.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** Numbers by labels the sets before lacked: an EMS run's, a Medicaid client's, a serial after "SN" (set 8). */
  @Test
  void anIncidentAMedicaidClientAndASerialNumberAreTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Incident 2026-118734. MO HealthNet DCN 11849270. AirSense 11, SN 23221487654.", none))
        .doesNotContain("118734").doesNotContain("11849270").doesNotContain("23221487654");
    for (String kept : List.of("No incident 2 weeks ago.", "Run 10 min on treadmill.", "SN 2 sessions.",
        "AirSense 11 used nightly.")) {
      assertThat(marked(kept, none)).as(kept).isEqualTo(kept);
    }
  }

  /** An employer after when the patient works ("works nights at", held-out set 8), a dental practice, a parish. */
  @Test
  void anEmployerAfterAShiftADentalPracticeAndOurLadysParishAreTaken() {
    KnownIdentifiers none = KnownIdentifiers.empty();
    assertThat(marked("Works nights at Royal Oak Charcoal. Works 2nd shift at Hartwell Plastics.", none))
        .isEqualTo("Works nights at [EMPLOYER]. Works 2nd shift at [EMPLOYER].");
    assertThat(marked("To Ozark Smiles Family Dentistry. Last rites from Our Lady of Lourdes Parish.", none))
        .isEqualTo("To [FACILITY]. Last rites from [FACILITY].");
    for (String kept : List.of("Family Dentistry referral placed.", "Pediatric Dentistry consult.", "Works nights.",
        "Our Lady of Lourdes is a pilgrimage site? No.")) {
      assertThat(marked(kept, none)).as(kept).doesNotContain("[FACILITY]").doesNotContain("[EMPLOYER]");
    }
  }

  /** The forty-ninth session's shapes over 64 KiB runs of themselves: each repetition bounded. */
  @Test
  void runsOfTheCountiesNicknamesCredentialsAndHolidaysShapesAreScannedOnce() {
    for (String unit : List.of("Aaaa County ", "Aaaa \"Aaaa\" ", "Aaaa Aaaa, RN ", "A. Aaaa, ", "the day before ",
        "east of Aaaa ", "Interpreter\n", "Aaaaʻaaaa ")) {
      String run = unit.repeat(64 * 1024 / unit.length());
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
          () -> Detectors.find(run, KnownIdentifiers.empty()), unit);
    }
  }
}
