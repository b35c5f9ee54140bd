package io.carecontext.retrieval.deid;

import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.fhir.synthetic.SyntheticPatients;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * De-identification evaluation on an annotated corpus made from the synthetic patients: each
 * patient's identifiers placed in varied note templates (case changes, initials, reversed names,
 * misspelt names, several date and phone formats, pattern-only classes such as SSN and e-mail) with clinical
 * distractors (doses, lab values, codes) that must survive. Counted per planted occurrence:
 * recall = occurrences entirely covered by a detected span; precision = detected spans that
 * overlap a planted occurrence.
 */
public final class DeidEvaluation {

  /** A note with the exact character spans of the identifiers planted in it. */
  record Annotated(String text, List<Planted> planted, KnownIdentifiers known, boolean reviewer, List<int[]> lookalikes) {}

  record Planted(int start, int end, IdentifierClass cls, boolean knownFromFhir) {}

  /** Per class: planted, found, and detections that hit nothing planted. */
  public record Report(Map<IdentifierClass, int[]> perClass, int knownPlanted, int knownFound, int planted, int found,
                       int detections, int truePositiveDetections, double cpuMsPer10kChars, Reviewer reviewer) {
    public double knownRecall() {
      return knownPlanted == 0 ? 1 : (double) knownFound / knownPlanted;
    }

    public double recall() {
      return planted == 0 ? 1 : (double) found / planted;
    }

    public double precision() {
      return detections == 0 ? 1 : (double) truePositiveDetections / detections;
    }
  }

  /**
   * The seventeenth family's own figures (notes written by a reviewer, not by the detectors' authors): its
   * planted identifiers and those found, its detections and those on a planted identifier, and its clinical
   * look-alikes (as many as its identifiers) and those any detection touched.
   */
  public record Reviewer(Map<IdentifierClass, int[]> perClass, int planted, int found, int detections,
                         int truePositiveDetections, int lookalikes, int lookalikesTouched) {
    public double recall() {
      return planted == 0 ? 1 : (double) found / planted;
    }

    public double precision() {
      return detections == 0 ? 1 : (double) truePositiveDetections / detections;
    }
  }

  private DeidEvaluation() {}

  public static Report run(int patients, long seed) {
    Map<IdentifierClass, int[]> perClass = new EnumMap<>(IdentifierClass.class);
    int knownPlanted = 0;
    int knownFound = 0;
    int planted = 0;
    int found = 0;
    int detections = 0;
    int tp = 0;
    Random rng = new Random(seed);
    List<Annotated> corpus = new ArrayList<>();
    Map<IdentifierClass, int[]> reviewerClass = new EnumMap<>(IdentifierClass.class);
    int[] rv = new int[6]; // planted, found, detections, true positives, look-alikes, look-alikes touched
    for (var p : SyntheticPatients.generate(seed, patients)) {
      for (Annotated note : notes(p.identifiers(), rng)) {
        corpus.add(note);
        List<Detectors.Span> spans = Detectors.find(note.text(), note.known());
        for (Planted pl : note.planted()) {
          boolean covered = spans.stream().anyMatch(s -> s.start() <= pl.start() && s.end() >= pl.end());
          int[] c = perClass.computeIfAbsent(pl.cls(), k -> new int[3]);
          c[0]++;
          planted++;
          if (covered) {
            c[1]++;
            found++;
          }
          if (note.reviewer()) {
            int[] rc = reviewerClass.computeIfAbsent(pl.cls(), k -> new int[3]);
            rc[0]++;
            rv[0]++;
            if (covered) {
              rc[1]++;
              rv[1]++;
            }
          }
          if (pl.knownFromFhir()) {
            knownPlanted++;
            knownFound += covered ? 1 : 0;
          }
        }
        for (Detectors.Span s : spans) {
          detections++;
          boolean hit = note.planted().stream().anyMatch(pl -> s.start() < pl.end() && pl.start() < s.end());
          if (hit) {
            tp++;
          } else {
            perClass.computeIfAbsent(s.cls(), k -> new int[3])[2]++;
          }
          if (note.reviewer()) {
            rv[2]++;
            if (hit) {
              rv[3]++;
            } else {
              reviewerClass.computeIfAbsent(s.cls(), k -> new int[3])[2]++;
            }
          }
        }
        for (int[] l : note.lookalikes()) {
          rv[4]++;
          rv[5] += spans.stream().anyMatch(s -> s.start() < l[1] && l[0] < s.end()) ? 1 : 0;
        }
      }
    }
    return new Report(perClass, knownPlanted, knownFound, planted, found, detections, tp, cost(corpus),
        new Reviewer(reviewerClass, rv[0], rv[1], rv[2], rv[3], rv[4], rv[5]));
  }

  /**
   * What de-identifying the corpus costs: ms of this thread's CPU for 10,000 characters, the least of
   * three passes after one to warm up (the JIT's, and a busy machine's, noise are both upward). The whole
   * of a source's treatment, as chat and research run it: detectors, tokens, the date policy, ages.
   */
  static double cost(List<Annotated> corpus) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    if (corpus.isEmpty() || !threads.isCurrentThreadCpuTimeSupported()) {
      return Double.NaN;
    }
    long chars = corpus.stream().mapToLong(a -> a.text().length()).sum();
    long best = Long.MAX_VALUE;
    for (int pass = 0; pass < 4; pass++) {
      long start = threads.getCurrentThreadCpuTime();
      for (Annotated a : corpus) {
        Deidentifier.deidentify(List.of(a.text()), a.known(), DatePolicy.SHIFT, 30);
      }
      long used = threads.getCurrentThreadCpuTime() - start;
      best = pass == 0 ? best : Math.min(best, used);
    }
    return best / 1e6 * 10_000 / chars;
  }

  /** Sixteen note templates a patient, identifiers in different shapes, distractors that must survive. */
  static List<Annotated> notes(KnownIdentifiers known, Random rng) {
    var patient = known.names().get(0);
    var provider = known.names().get(1);
    String given = patient.given().get(0);
    String family = patient.family();
    String mrn = known.identifiers().get(0);
    String phone = known.telecoms().get(0);
    var address = known.addresses().get(0);
    LocalDate birth = known.dates().get(0);
    LocalDate visit = LocalDate.of(2024, 1 + rng.nextInt(12), 1 + rng.nextInt(28));
    String digits = phone.replaceAll("\\D", "");
    String ssn = String.format(Locale.ROOT, "%03d-%02d-%04d", 100 + rng.nextInt(800), 10 + rng.nextInt(89), rng.nextInt(10000));
    String email = given.toLowerCase(Locale.ROOT) + "." + family.toLowerCase(Locale.ROOT) + "@mailhost.example.org";
    List<Annotated> out = new ArrayList<>();
    Note n;
    n = new Note(known);
    n.t("Progress note. ").k(given + " " + family, IdentifierClass.NAME).t(" is a pleasant patient seen on ")
        .k(visit.format(DateTimeFormatter.ofPattern("MM/dd/yyyy")), IdentifierClass.DATE, false)
        .t(". BP 142/91 mmHg, HbA1c 7.2 % (LOINC 4548-4). Metformin 500 mg twice daily.");
    out.add(n.done());
    n = new Note(known);
    n.t("PHONE MESSAGE: ").k(family.toUpperCase(Locale.ROOT) + ", " + given.toUpperCase(Locale.ROOT), IdentifierClass.NAME)
        .t(" called from ").k(digits.substring(0, 3) + "." + digits.substring(3, 6) + "." + digits.substring(6), IdentifierClass.PHONE)
        .t(" asking about refill of lisinopril 10 mg.");
    out.add(n.done());
    n = new Note(known);
    n.t("Referral letter: Dear Dr. ").k(provider.family(), IdentifierClass.NAME).t(", I am referring ")
        .k(given.charAt(0) + ". " + family, IdentifierClass.NAME).t(" (MRN ").k(mrn, IdentifierClass.MRN)
        .t(", DOB ").k(birth.format(DateTimeFormatter.ofPattern("MMMM d, yyyy", Locale.US)), IdentifierClass.DATE)
        .t(") for retinal screening. ICD-10 E11.9.");
    out.add(n.done());
    n = new Note(known);
    n.t("Social history: lives at ").k(address.lines().get(0), IdentifierClass.ADDRESS).t(", ")
        .k(address.city(), IdentifierClass.CITY).t(" IL ").k(address.postalCode(), IdentifierClass.ZIP)
        .t(" with spouse. Walks 30 minutes daily.");
    out.add(n.done());
    n = new Note(known);
    n.t("Discharge summary: ").k(family.toLowerCase(Locale.ROOT), IdentifierClass.NAME).t("'s glucose 182 mg/dL on admission ")
        .k(visit.minusDays(3).toString(), IdentifierClass.DATE, false).t("; discharged in stable condition, strength 4/5. ")
        // days without their year: Safe Harbor counts every element of a date but the year
        .t("Seen again on ").k(visit.plusDays(9).format(DateTimeFormatter.ofPattern("M/d", Locale.US)), IdentifierClass.DATE, false)
        .t("; wound check ").k(visit.plusDays(16).format(DateTimeFormatter.ofPattern("MMMM d", Locale.US)), IdentifierClass.DATE, false)
        .t(".");
    out.add(n.done());
    n = new Note(known);
    n.t("Registration: SSN ").k(ssn, IdentifierClass.SSN, false).t(", e-mail ").k(email, IdentifierClass.EMAIL, false)
        .t(", portal ").k("https://portal.example.org/u/" + rng.nextInt(99999), IdentifierClass.URL, false)
        .t(", login from ").k("10." + rng.nextInt(255) + "." + rng.nextInt(255) + "." + (1 + rng.nextInt(254)), IdentifierClass.IP, false)
        .t(".");
    out.add(n.done());
    n = new Note(known);
    n.t("Lab comment: specimen for ").k(mrn.toLowerCase(Locale.ROOT), IdentifierClass.MRN)
        .t(" hemolyzed; repeat potassium. Reference range 3.5 to 5.1 mmol/L.");
    out.add(n.done());
    n = new Note(known);
    n.t("Nursing: patient ").k(given, IdentifierClass.NAME).t(" reports pain 3/10; follow up ")
        .k(visit.plusDays(14).format(DateTimeFormatter.ofPattern("MMM d, yyyy", Locale.US)), IdentifierClass.DATE, false)
        .t(". Call back at ").k(phone, IdentifierClass.PHONE).t(".");
    out.add(n.done());
    n = new Note(known);
    n.t("Addendum: spoke with ").k(typo(family, rng), IdentifierClass.NAME)
        .t(" again about the statin; LDL 131 mg/dL. Follow up with Dr. ").k(typo(provider.family(), rng), IdentifierClass.NAME)
        .t(" in 6 weeks.");
    out.add(n.done());
    n = new Note(known);
    n.t("Insurance: member ID ").k("XK" + (100000 + rng.nextInt(899999)), IdentifierClass.HEALTH_PLAN, false)
        .t(", account # ").k("AC-" + (10000 + rng.nextInt(89999)), IdentifierClass.ACCOUNT, false).t(" on file.");
    out.add(n.done());
    n = new Note(known);
    n.t("Device: pacemaker serial number ").k("PM" + (1000000 + rng.nextInt(8999999)), IdentifierClass.DEVICE, false)
        .t(" interrogated; battery 8 years. Dr. ").k(provider.given().get(0) + " " + provider.family(), IdentifierClass.NAME)
        .t(" reviewed.");
    out.add(n.done());
    // facilities by name (Safe Harbor's geography below a state), beside kinds of service that name no place
    n = new Note(known);
    n.t("Transfer note: transferred from ").k(FACILITIES.get(rng.nextInt(FACILITIES.size())), IdentifierClass.FACILITY, false)
        .t(" to ").k(FACILITIES.get(rng.nextInt(FACILITIES.size())), IdentifierClass.FACILITY, false)
        .t(" for dialysis; follow up in the Diabetes Clinic and the Primary Care Clinic. Hospital Course: K 5.9 mmol/L, "
            + "Emergency Department visit, Walk-In Clinic hours posted.");
    out.add(n.done());
    // a town after a facility without a ZIP, a hospital by its name alone, a town where the patient lives,
    // beside units, services, a country and kinds of service that name no place
    n = new Note(known);
    n.t("Outside records: seen at ").k(NAMED_FACILITIES.get(rng.nextInt(NAMED_FACILITIES.size())), IdentifierClass.FACILITY,
            false).t(", ").k(TOWNS.get(rng.nextInt(TOWNS.size())), IdentifierClass.CITY, false)
        .t(" for chest pain; transferred to ").k(BARE_FACILITIES.get(rng.nextInt(BARE_FACILITIES.size())),
            IdentifierClass.FACILITY, false)
        .t(" for catheterization. Lives in ").k(TOWNS.get(rng.nextInt(TOWNS.size())), IdentifierClass.CITY, false)
        .t(" with her sister; moved from Mexico. Admitted to ICU, transferred to Telemetry, discharged to Home with "
            + "Home Health; followed at Cardiology Clinic; presented to Emergency Department twice. Troponin 0.04 ng/mL.");
    out.add(n.done());
    // towns named without a cue and unknown to the record: at a sentence's start before "resident", after
    // "back from" and "family in", before "urgent care", before their state (a common word too: Mobile, AL)
    String[] withState = TOWNS_WITH_STATE.get(rng.nextInt(TOWNS_WITH_STATE.size()));
    n = new Note(known);
    n.t("Social history: ").k(UNCUED_TOWNS.get(rng.nextInt(UNCUED_TOWNS.size())), IdentifierClass.CITY, false)
        .t(" resident, works nights. Drove back from ").k(UNCUED_TOWNS.get(rng.nextInt(UNCUED_TOWNS.size())),
            IdentifierClass.CITY, false)
        .t(" on Sunday after visiting family in ").k(UNCUED_TOWNS.get(rng.nextInt(UNCUED_TOWNS.size())),
            IdentifierClass.CITY, false)
        .t("; was seen at ").k(UNCUED_TOWNS.get(rng.nextInt(UNCUED_TOWNS.size())), IdentifierClass.CITY, false)
        .t(" urgent care for a laceration. Plans a trip to ").k(withState[0], IdentifierClass.CITY, false)
        .t(", " + withState[1] + " in spring. Normal saline 500 mL given.");
    out.add(n.done());
    // nothing to find: clinical words that are also towns (eponyms, common words, a drug), and drugs and units
    n = new Note(known);
    n.t(CLINICAL_TOWN_WORDS.get(rng.nextInt(CLINICAL_TOWN_WORDS.size())));
    out.add(n.done());
    // a day after a name and before a visit, streets without a number, a user name and a handle, a store's
    // number, a town's name after a title; beside amounts after a name, a town in a company's name, a newspaper
    // named after a street and an "@" that means "at". Its own generator, so the notes above stay as they were.
    Random own = new Random(mrn.hashCode());
    String user = (given.charAt(0) + family).toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
    n = new Note(known);
    n.t("Clinic follow-up: seen by Dr. ").k(provider.family(), IdentifierClass.NAME).t(" ")
        .k(dayMonth(own), IdentifierClass.DATE, false).t("; ").k(family, IdentifierClass.NAME).t(" ")
        .k(dayMonth(own), IdentifierClass.DATE, false).t(" f/u. Dr. ").k(provider.family(), IdentifierClass.NAME)
        .t(" 3/4 tablet daily, 5/5 strength, BP 120/80, 1/2 NS. Lives on ")
        .k(STREETS.get(own.nextInt(STREETS.size())), IdentifierClass.ADDRESS, false).t(" near ")
        .k(CUED_STREETS.get(own.nextInt(CUED_STREETS.size())), IdentifierClass.ADDRESS, false).t("; portal username: ")
        .k(user, IdentifierClass.OTHER_ID, false).t(", texts from ").k("@" + user + (10 + own.nextInt(90)),
            IdentifierClass.OTHER_ID, false)
        .t(". Fills at the ").k(STORES.get(own.nextInt(STORES.size())) + (1 + own.nextInt(9999)), IdentifierClass.FACILITY, false)
        .t(". Spoke with Nurse ").k(TOWN_SURNAMES.get(own.nextInt(TOWN_SURNAMES.size())), IdentifierClass.NAME, false)
        .t(". Boston Scientific pacemaker; SpO2 94% @rest; reads the Wall Street Journal; Johnson & Johnson vaccine.");
    out.add(n.done());
    out.addAll(reviewerNotes(known));
    return out;
  }

  /**
   * The seventeenth family: notes as an outside reviewer wrote them, in phrasings the sixteen above do not use
   * (a header in capitals, a relative who called, a nickname, a name with a particle, a nurse's initials and day,
   * an address on one line with its apartment, phones with an extension and abroad, a weekday and a day-month, an
   * employer, a vehicle's tag, a driver's licence, a sender in an e-mail header, a portal address without its scheme,
   * record and visit numbers in running text, a small town that no list holds), and one note of as many clinical
   * look-alikes, each of which must stay. Its own generator, so the notes above stay as they were.
   */
  static List<Annotated> reviewerNotes(KnownIdentifiers known) {
    var patient = known.names().get(0);
    String given = patient.given().get(0);
    String family = patient.family();
    var address = known.addresses().get(0);
    Random r = new Random(31L * known.identifiers().get(0).hashCode() + 17);
    String initials = ("" + given.charAt(0) + family.charAt(0)).toUpperCase(Locale.ROOT);
    String[] sender = pick(r, SENDERS).split(" ");
    String senderMail = (sender[0].charAt(0) + sender[1]).toLowerCase(Locale.ROOT) + "@carenet.example.com";
    String[] relative = pick(r, RELATIVES);
    String[] town = pick(r, SMALL_TOWNS_WITH_STATE);
    List<Annotated> out = new ArrayList<>();
    Note n = new Note(known, true);
    n.t("TELEPHONE ENCOUNTER - ").k(family.toUpperCase(Locale.ROOT) + " " + given.toUpperCase(Locale.ROOT),
            IdentifierClass.NAME)
        .t("\npt's " + relative[0] + " ").k(relative[1], IdentifierClass.NAME, false)
        .t(" called, states pt (goes by \"").k(pick(r, NICKNAMES), IdentifierClass.NAME, false).t("\") fell ")
        .t("last ").k(pick(r, WEEKDAYS), IdentifierClass.DATE, false).t(" getting out of the tub. Best callback ")
        .k(pick(r, EXTENSION_PHONES), IdentifierClass.PHONE, false).t("; the caller is visiting from abroad, cell ")
        .k(pick(r, INTERNATIONAL_PHONES), IdentifierClass.PHONE, false).t(". HCP is son ")
        .k(pick(r, PARTICLE_NAMES), IdentifierClass.NAME, false).t(". Advised ED if new weakness. -- ")
        .k(pick(r, NURSE_INITIALS), IdentifierClass.NAME, false).t(" ").k(dayMonth(r), IdentifierClass.DATE, false);
    out.add(n.done());
    n = new Note(known, true);
    n.t("Registration update: ").k((100 + r.nextInt(9800)) + " " + pick(r, STREET_LINES) + " apt " + (1 + r.nextInt(40))
            + pick(r, List.of("", "B", "C")), IdentifierClass.ADDRESS, false)
        .t(", ").k(address.city(), IdentifierClass.CITY).t(". Employer: ").k(pick(r, EMPLOYERS), IdentifierClass.OTHER_ID, false)
        .t("; spouse retired from ").k(pick(r, EMPLOYERS), IdentifierClass.OTHER_ID, false).t(". DL# ")
        .k("" + (char) ('A' + r.nextInt(26)) + (1000000 + r.nextInt(8999999)), IdentifierClass.LICENSE, false)
        .t(", drives a gray pickup, tag # ").k("" + (char) ('A' + r.nextInt(26)) + (char) ('A' + r.nextInt(26))
            + (char) ('A' + r.nextInt(26)) + "-" + (1000 + r.nextInt(8999)), IdentifierClass.VEHICLE, false)
        .t(". Statements to acct ").k((10 + r.nextInt(89)) + "-" + (1000 + r.nextInt(8999)), IdentifierClass.ACCOUNT, false)
        .t("; old chart MR# ").k("" + (1000000 + r.nextInt(8999999)), IdentifierClass.MRN, false).t(", visit CSN ")
        .k("" + (100000000L + r.nextInt(899999999)), IdentifierClass.ACCOUNT, false).t(". Portal: ")
        .k("mychart.example.org/p/" + (10000 + r.nextInt(89999)), IdentifierClass.URL, false).t(".");
    out.add(n.done());
    n = new Note(known, true);
    n.t("From: ").k(sender[0] + " " + sender[1], IdentifierClass.NAME, false).t(" <").k(senderMail, IdentifierClass.EMAIL, false)
        .t(">\nRe: ").k(given.toLowerCase(Locale.ROOT) + " " + family.toLowerCase(Locale.ROOT), IdentifierClass.NAME)
        .t(" - last seen ").k(String.format(Locale.ROOT, "%02d-%s", 1 + r.nextInt(28), pick(r, MONTH_ABBREVIATIONS)),
            IdentifierClass.DATE, false)
        .t(", labs due on the ").k(pick(r, ORDINAL_DAYS), IdentifierClass.DATE, false).t(". Drove in from ")
        .k(pick(r, SMALL_TOWNS), IdentifierClass.CITY, false).t(" this morning; her sister lives outside ")
        .k(town[0], IdentifierClass.CITY, false).t(", " + town[1] + ". Chart review ")
        .k(initials, IdentifierClass.NAME, false).t(" ").k(dayMonth(r), IdentifierClass.DATE, false)
        .t(": stable. F/u w/ ").k(pick(r, UNTITLED_SURNAMES), IdentifierClass.NAME, false).t(" ")
        .k(dayMonth(r), IdentifierClass.DATE, false).t(" appt.");
    out.add(n.done());
    n = new Note(known, true);
    n.t("Reviewer's look-alikes (all must stay): ");
    for (String l : LOOKALIKES) {
      n.l(l).t("; ");
    }
    out.add(n.done());
    return out;
  }

  private static <T> T pick(Random r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  static final List<String> SENDERS = List.of("Dana Whitfield", "Marcus Oyelaran", "Ingrid Solberg", "Priscilla Nakamura",
      "Terrence Mbeki", "Colleen Fairweather");
  /** A relative and a given name, some with accents, some of other languages. */
  static final List<String[]> RELATIVES = List.of(new String[] {"daughter", "Maria"}, new String[] {"son", "Tomás"},
      new String[] {"granddaughter", "Zoë"}, new String[] {"husband", "José"}, new String[] {"niece", "Aaliyah"},
      new String[] {"Mom", "Siobhan"}, new String[] {"brother", "Dmitri"}, new String[] {"son", "Björn"},
      new String[] {"daughter", "Nguyet"}, new String[] {"Dad", "Oluwaseun"});
  static final List<String> NICKNAMES = List.of("Peg", "Bud", "Sunny", "Dutch", "Bubba", "Birdie", "Skip");
  static final List<String> PARTICLE_NAMES = List.of("Pieter van der Berg", "Jan de Vries", "Luis del Rio",
      "Karl von Stein", "Amir bin Rashid", "Marco di Napoli", "Sean O'Rourke-Baptiste");
  static final List<String> WEEKDAYS = List.of("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
      "Sunday");
  static final List<String> EXTENSION_PHONES = List.of("(312) 555-0187 ext. 4432", "708.555.0143 x221",
      "847-555-0199 ext 12", "773 555 0110 extension 3057");
  static final List<String> INTERNATIONAL_PHONES = List.of("+44 20 7946 0958", "+52 55 5123 4567", "+91 98765 43210",
      "+49 30 901820", "+63 917 555 0134", "011 44 7700 900123");
  static final List<String> NURSE_INITIALS = List.of("JS", "KLM", "TW", "RB", "AHN", "CJ");
  static final List<String> STREET_LINES = List.of("Quarry Hill Rd", "N Oak Park Ave", "W 63rd St", "Old Farm Road",
      "Prairie Ave", "S Halsted St");
  static final List<String> EMPLOYERS = List.of("Midwest Freight Lines", "Hendricks Plumbing", "Lakeview Elementary",
      "Riverside Casino", "Anderson Farms", "Pullman Tool & Die");
  static final List<String> MONTH_ABBREVIATIONS = List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
      "Sep", "Oct", "Nov", "Dec");
  static final List<String> ORDINAL_DAYS = List.of("3rd", "1st", "22nd", "15th", "28th");
  /** Towns below the gazetteer's 10,000 inhabitants. */
  static final List<String> SMALL_TOWNS = List.of("Tonopah", "Paw Paw", "Mifflinburg", "Wapakoneta", "Kalona",
      "Floydada", "Winnemucca");
  /** Small towns and their state, which Safe Harbor lets stay. */
  static final List<String[]> SMALL_TOWNS_WITH_STATE = List.of(new String[] {"Ely", "NV"}, new String[] {"Lusk", "WY"},
      new String[] {"Marfa", "TX"}, new String[] {"Bad Axe", "MI"}, new String[] {"Chinle", "AZ"},
      new String[] {"Bucksport", "Maine"});
  static final List<String> UNTITLED_SURNAMES = List.of("Okafor", "Lindqvist", "Baptiste", "Ferreira", "Kowalczyk",
      "Haddadin");
  /**
   * Clinical text that looks like an identifier and is none: eponyms and their particles, a doctor who is no
   * clinician, scores and ratios, units, lab values, a lesion's number, a tag and a plate that are anatomy, a
   * day that is a degree, a weekday that is a schedule, towns that are diseases, relatives beside their history.
   */
  static final List<String> LOOKALIKES = List.of("quotes Dr. Seuss to the grandkids", "drinks 3 Dr Pepper a day",
      "Dr. Scholl's inserts", "von Willebrand panel", "de Quervain tenosynovitis", "Target no 2 liver lesion 1.8 cm",
      "skin tag #2 removed", "3rd degree AV block", "Lyme titer negative", "Coxsackie B serology",
      "Mother Deceased at 72 (MI)", "Father Alive, HTN", "Apgar 8/9", "MoCA 24/30", "eGFR 58 mL/min/1.73 m2",
      "+2 pitting edema", "dialysis Tue/Thu/Sat", "St. John's wort 300 mg", "goes by Medicaid cab",
      "retired from the Navy", "O2 @ 2L NC", "L4-5 disc", "platelet count 150-400", "ext rotation 45 deg",
      "Sister Healthy", "Lasix 40 mg IV BID", "CHA2DS2-VASc 4", "West Nile IgM negative", "Mallampati II", "QTc 452 ms");

  /**
   * Towns the detectors can know only from the gazetteer: of one word and several, with a hyphen, a
   * particle and an abbreviation, and given names (Charlotte, Austin, Madison).
   */
  static final List<String> UNCUED_TOWNS = List.of("Duluth", "Springfield", "Bozeman", "Salt Lake City", "San Antonio",
      "St. Louis", "Fort Worth", "Winston-Salem", "Coeur d'Alene", "Cedar Rapids", "Kalamazoo", "Charlotte", "Austin",
      "Madison", "Tucson", "Albuquerque", "Eau Claire", "Ann Arbor", "Phoenix", "Buffalo", "Ft. Lauderdale",
      "Saint Paul", "McAllen", "Lake Havasu City");
  /** Towns before their state, common words among them: only the state says they are towns. */
  static final List<String[]> TOWNS_WITH_STATE = List.of(new String[] {"Mobile", "AL"}, new String[] {"Normal", "IL"},
      new String[] {"Independence", "MO"}, new String[] {"Reading", "PA"}, new String[] {"Duluth", "MN"},
      new String[] {"Aurora", "Colorado"}, new String[] {"Temple", "TX"}, new String[] {"Charlotte", "NC"});
  /** Notes with no identifier at all, full of words that are also US towns of 10,000 or more. */
  static final List<String> CLINICAL_TOWN_WORDS = List.of(
      "Problem list: Wilson's disease; Bell's palsy; Addison's disease on hydrocortisone; Graves disease s/p RAI; "
          + "Huntington disease in father; hx Addison. Exam: positive Murphy sign, Allen test normal, Glasgow Coma "
          + "Scale 15, Richmond Agitation-Sedation Scale 0, Norton scale 14. Foley removed; Jackson-Pratt drain 20 mL.",
      "Given Normal saline 1 L and Lactated Ringer's. Uses Reading glasses and a Walker. Goal: Independence in ADLs. "
          + "Mobile unit visit scheduled; the Mobile Crisis team is aware. No Temple tenderness. Superior vena cava "
          + "patent. Hope to wean O2 by Friday. Normal OR findings.",
      "Meds: Eliquis 5 mg, Lantus 20 Units, Humalog per scale, Lasix 40 mg IV, Zofran, Tylenol, Coreg 6.25 mg, "
          + "Norco 5/325 PRN, Flomax. Grip force 40 Newton. Stanford type A dissection excluded; Clark level II "
          + "melanoma; Boston criteria met; Hamilton Depression Rating Scale 12; Columbia Suicide Severity Rating "
          + "Scale negative; Framingham risk score 12%; Bethesda category IV nodule; Norwalk virus PCR negative.",
      "Denver shunt revised. Milwaukee brace at night. La Crosse encephalitis serology pending; Jamestown Canyon "
          + "virus IgM negative. Austin Flint murmur noted. Ottawa ankle rules negative. Bell palsy improving. "
          + "Hemoglobin 12.1 g/dL; Troponin 0.01 ng/mL; INR 1.1.");

  /** Facilities by name followed by their town, as outside records write them ("Mercy Hospital, Springfield"). */
  static final List<String> NAMED_FACILITIES = List.of("Mercy Hospital", "St. Joseph's Medical Center",
      "Good Samaritan Hospital", "Lakeside Dialysis Center", "Quest Diagnostics", "Northwestern Memorial Hospital");
  /** Hospitals called by their name alone, without a word for a kind of place. */
  static final List<String> BARE_FACILITIES = List.of("Cedars-Sinai", "Mayo", "St. Luke's", "Johns Hopkins",
      "Mass General", "Sloan Kettering", "Good Samaritan", "HonorHealth Osborn");
  static final List<String> TOWNS = List.of("Springfield", "Oro Valley", "Flagstaff", "Kalamazoo", "Cedar Rapids",
      "Winston-Salem", "St. Cloud", "Bozeman", "McAllen");

  static final List<String> FACILITIES = List.of("St. Mary's Regional Medical Center", "Sonora Quest Laboratories",
      "Banner Health Clinic - Oro Valley", "Mercy Hospital of Springfield", "Quest Diagnostics",
      "Northwestern Memorial Hospital", "Cedar Valley Urgent Care", "O'Connor Hospital",
      "HonorHealth Scottsdale Medical Center", "Lakeside Dialysis Center", "Riverbend Family Pharmacy",
      "Good Samaritan Hospital", "Mount Sinai Hospital", "UCSF Medical Center", "Pima County Health Center");

  /** A day and month as notes write them without the year ("3/4", "12/12"). */
  static String dayMonth(Random rng) {
    return (1 + rng.nextInt(12)) + "/" + (1 + rng.nextInt(28));
  }

  /** Streets without a number, of a type that names nothing else, after "Lives on". */
  static final List<String> STREETS = List.of("Maple Street", "Oak Avenue", "Elm St", "5th Ave", "Main Street",
      "Old Mill Road", "Sunset Blvd", "N. Lincoln Avenue", "Martin Luther King Jr Boulevard");
  /** Streets of a type that is a word of other names too, after "near". */
  static final List<String> CUED_STREETS = List.of("Birch Lane", "Pine Court", "Willow Drive", "Cedar Place",
      "Heron Way", "Aspen Circle");
  /** Stores by their number. */
  static final List<String> STORES = List.of("Walgreens #", "CVS store ", "CVS Pharmacy #", "Rite Aid #",
      "pharmacy #", "Kroger store #");
  /** Towns' names that are surnames, after a title no name rule knows. */
  static final List<String> TOWN_SURNAMES = List.of("Houston", "Tyler", "Denver", "Madison", "Austin", "Phoenix");

  /** One typing slip in a name: a swapped pair, a dropped or a doubled letter. */
  static String typo(String name, Random rng) {
    if (name.length() < 6) {
      return name;
    }
    int i = 1 + rng.nextInt(name.length() - 3);
    return switch (rng.nextInt(3)) {
      case 0 -> name.substring(0, i) + name.charAt(i + 1) + name.charAt(i) + name.substring(i + 2);
      case 1 -> name.substring(0, i) + name.substring(i + 1);
      default -> name.substring(0, i) + name.charAt(i) + name.substring(i);
    };
  }

  /** Builds a note and records where each identifier went. */
  private static final class Note {
    final StringBuilder text = new StringBuilder();
    final List<Planted> planted = new ArrayList<>();
    final List<int[]> lookalikes = new ArrayList<>();
    final KnownIdentifiers known;
    final boolean reviewer;

    Note(KnownIdentifiers known) {
      this(known, false);
    }

    Note(KnownIdentifiers known, boolean reviewer) {
      this.known = known;
      this.reviewer = reviewer;
    }

    /** Text that must stay as written: a clinical look-alike. */
    Note l(String s) {
      lookalikes.add(new int[] {text.length(), text.length() + s.length()});
      text.append(s);
      return this;
    }

    Note t(String s) {
      text.append(s);
      return this;
    }

    Note k(String value, IdentifierClass cls) {
      return k(value, cls, true);
    }

    Note k(String value, IdentifierClass cls, boolean knownFromFhir) {
      planted.add(new Planted(text.length(), text.length() + value.length(), cls, knownFromFhir));
      text.append(value);
      return this;
    }

    Annotated done() {
      return new Annotated(text.toString(), List.copyOf(planted), known, reviewer, List.copyOf(lookalikes));
    }
  }

  public static void print(Report r, PrintStream out) {
    out.println("| identifier class | planted | found | recall | false detections |");
    out.println("|---|---|---|---|---|");
    r.perClass().forEach((cls, c) -> out.printf("| %s | %d | %d | %s | %d |%n", cls, c[0], c[1],
        c[0] == 0 ? "-" : String.format("%.3f", (double) c[1] / c[0]), c[2]));
    out.printf("%nknown from FHIR: recall %.3f (target ≥ 0.99)%noverall: recall %.3f (target ≥ 0.95), "
        + "precision %.3f (target ≥ 0.90)%ncost: %.1f ms of CPU for 10,000 characters de-identified%n",
        r.knownRecall(), r.recall(), r.precision(), r.cpuMsPer10kChars());
    Reviewer v = r.reviewer();
    out.printf("%nseventeenth family (an outside reviewer's phrasings): recall %.3f (%d of %d), precision %.3f "
        + "(%d of %d detections), look-alikes touched %d of %d%n", v.recall(), v.found(), v.planted(), v.precision(),
        v.truePositiveDetections(), v.detections(), v.lookalikesTouched(), v.lookalikes());
    v.perClass().forEach((cls, c) -> out.printf("  %s: %d of %d found, %d false detections%n", cls, c[1], c[0], c[2]));
  }

  public static void main(String[] args) {
    int patients = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    long seed = args.length > 1 ? Long.parseLong(args[1]) : 2024;
    print(run(patients, seed), System.out);
  }
}
