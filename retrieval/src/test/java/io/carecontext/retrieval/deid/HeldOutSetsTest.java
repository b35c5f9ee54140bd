package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Held-out sets: notes written after the rules of their time, by someone trying phrasings the rules were not written
 * for. Each is measured with no identifier known from FHIR; the figures go to docs/benchmarks.md. The assertions
 * only keep a set from falling below what it measured when its figure was published.
 */
class HeldOutSetsTest {

  record Marked(int start, int end, String text) {}

  record Figures(int found, int identifiers, int touched, int lookAlikes, List<String> missed, List<String> hit,
                 int pipelineFound, int pipelineTouched, List<String> pipelineMissed) {

    /**
     * The guard of a set measured with both counts: at least {@code found} by the detectors and
     * {@code pipelineFound} through the whole de-identifier, no look-alike touched by either.
     */
    void holdsAtLeast(int atLeastFound, int atLeastPipelineFound) {
      assertThat(found).as("found by the detectors").isGreaterThanOrEqualTo(atLeastFound);
      assertThat(pipelineFound).as("found by the de-identifier").isGreaterThanOrEqualTo(atLeastPipelineFound);
      assertThat(touched).as("look-alikes touched by the detectors").isZero();
      assertThat(pipelineTouched).as("look-alikes touched by the de-identifier").isZero();
    }
  }

  /** Loads a set: "⟦…⟧" an identifier, "⟪…⟫" a look-alike, "---" between notes, "#" a comment line. */
  static Figures measure(String resource) throws IOException {
    String raw;
    try (InputStream in = HeldOutSetsTest.class.getResourceAsStream(resource)) {
      raw = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    StringBuilder body = new StringBuilder();
    for (String line : raw.split("\n", -1)) {
      if (!line.startsWith("#")) {
        body.append(line).append('\n');
      }
    }
    int found = 0, identifiers = 0, touched = 0, lookAlikes = 0, pipelineFound = 0, pipelineTouched = 0;
    List<String> missed = new ArrayList<>();
    List<String> pipelineMissed = new ArrayList<>();
    List<String> hit = new ArrayList<>();
    List<String> outside = new ArrayList<>();
    for (String note : body.toString().split("\n---\n")) {
      StringBuilder plain = new StringBuilder();
      List<Marked> ids = new ArrayList<>();
      List<Marked> looks = new ArrayList<>();
      int i = 0;
      while (i < note.length()) {
        char c = note.charAt(i);
        if (c == '⟦' || c == '⟪') {
          int close = note.indexOf(c == '⟦' ? '⟧' : '⟫', i);
          String inner = note.substring(i + 1, close);
          Marked m = new Marked(plain.length(), plain.length() + inner.length(), inner);
          (c == '⟦' ? ids : looks).add(m);
          plain.append(inner);
          i = close + 1;
        } else {
          plain.append(c);
          i++;
        }
      }
      String text = plain.toString();
      List<Detectors.Span> spans = Detectors.find(text, KnownIdentifiers.empty());
      String out = pipelineOutput(text);
      boolean[] kept = keptByPipeline(text, out);
      for (Detectors.Span s : spans) {
        for (int p = s.start(); p < s.end(); p++) {
          int q = p;
          if (Character.isLetterOrDigit(text.charAt(p)) && ids.stream().noneMatch(m -> m.start() <= q && q < m.end())) {
            outside.add(text.substring(s.start(), s.end()).replace('\n', ' '));
            break;
          }
        }
      }
      List<String> outWords = words(out).stream().map(w -> out.substring(w[0], w[1])).toList();
      for (Marked m : ids) {
        identifiers++;
        boolean all = true;
        boolean gone = true;
        for (int p = m.start(); p < m.end(); p++) {
          if (Character.isLetterOrDigit(text.charAt(p))) {
            all &= covered(spans, p);
            gone &= !kept[p];
          }
        }
        if (all) {
          found++;
        } else {
          missed.add(m.text().replace('\n', ' '));
        }
        // found when the detectors took all of it, or when none of its words is left whole and no part of one is left
        // either (a span that took "Nuku" of "Nukuʻalofa" left "ʻalofa", a word of its own in the output)
        if (all || gone && noPartLeft(m.text(), outWords)) {
          pipelineFound++;
        } else {
          pipelineMissed.add(m.text().replace('\n', ' '));
        }
      }
      for (Marked m : looks) {
        lookAlikes++;
        boolean any = spans.stream().anyMatch(s -> s.start() < m.end() && s.end() > m.start());
        if (any) {
          touched++;
          hit.add(m.text());
        }
        for (int p = m.start(); p < m.end(); p++) {
          if (Character.isLetterOrDigit(text.charAt(p)) && !kept[p]) {
            pipelineTouched++;
            break;
          }
        }
      }
    }
    Figures f = new Figures(found, identifiers, touched, lookAlikes, missed, hit, pipelineFound, pipelineTouched,
        pipelineMissed);
    // the product runs the detectors first: what they take, it takes
    assertThat(pipelineFound).as(resource).isGreaterThanOrEqualTo(found);
    System.out.println(resource + ": identifiers found " + found + " of " + identifiers + ", look-alikes touched "
        + touched + " of " + lookAlikes + "; missed " + missed + "; touched " + hit);
    System.out.println(resource + " through Deidentifier: identifiers found " + pipelineFound + " of " + identifiers
        + ", look-alikes touched " + pipelineTouched + " of " + lookAlikes + "; missed " + pipelineMissed);
    // every span that takes a letter or digit no identifier's mark holds: what a rule costs, marked look-alike or not
    System.out.println(resource + ": spans outside the marks " + outside);
    return f;
  }

  /** The product's output for a note ({@link Deidentifier}), each token ({@code [PERSON_1]}) blanked. */
  static String pipelineOutput(String text) {
    return TOKEN.matcher(
        Deidentifier.deidentify(List.of(text), KnownIdentifiers.empty(), DatePolicy.TOKEN, 0).texts().get(0))
        .replaceAll(" ");
  }

  private static boolean noPartLeft(String identifier, List<String> outWords) {
    for (int[] w : words(identifier)) {
      String word = identifier.substring(w[0], w[1]);
      for (String o : outWords) {
        if (o.length() >= 3 && o.length() < word.length() && word.contains(o)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Which characters of a note the product's whole pipeline ({@link Deidentifier}: the detectors, then the Safe Harbor
   * age and birth-year rules) leaves in its output. The output's words (runs of letters and digits) are aligned to the
   * note's by their longest common subsequence; a note's letter or digit is kept when its word is aligned. A token
   * ({@code [PERSON_1]}) is blanked, and a category ("aged 90 or older") shares no word with what it replaced, so what
   * was replaced is not kept.
   */
  static boolean[] keptByPipeline(String text, String out) {
    List<int[]> in = words(text);
    List<int[]> ow = words(out);
    int n = in.size();
    int m = ow.size();
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = same(text, in.get(i), out, ow.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    boolean[] kept = new boolean[text.length()];
    int i = 0;
    int j = 0;
    while (i < n && j < m) {
      if (same(text, in.get(i), out, ow.get(j)) && lcs[i][j] == lcs[i + 1][j + 1] + 1) {
        for (int p = in.get(i)[0]; p < in.get(i)[1]; p++) {
          kept[p] = true;
        }
        i++;
        j++;
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        i++;
      } else {
        j++;
      }
    }
    return kept;
  }

  /** A token of the output ("[PHONE_1]", "[S2_CITY_OR_NAME_3]"): its number is no word of the note. */
  private static final Pattern TOKEN = Pattern.compile("\\[[A-Z][A-Z0-9_]*+\\]");

  private static List<int[]> words(String s) {
    List<int[]> w = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      if (Character.isLetterOrDigit(s.charAt(i))) {
        int start = i;
        while (i < s.length() && Character.isLetterOrDigit(s.charAt(i))) {
          i++;
        }
        w.add(new int[] {start, i});
      } else {
        i++;
      }
    }
    return w;
  }

  private static boolean same(String a, int[] wa, String b, int[] wb) {
    return wa[1] - wa[0] == wb[1] - wb[0] && a.regionMatches(wa[0], b, wb[0], wa[1] - wa[0]);
  }

  private static boolean covered(List<Detectors.Span> spans, int p) {
    for (Detectors.Span s : spans) {
      if (s.start() <= p && p < s.end()) {
        return true;
      }
    }
    return false;
  }

  @Test
  void heldOutSetThree() throws IOException {
    Figures f = measure("held-out-3.txt");
    assertThat(f.identifiers()).isEqualTo(36);
    assertThat(f.lookAlikes()).isEqualTo(28);
    // 27 of 36 and 1 of 28 before the rules its misses made (2026-12-06); the portal writer's name in lower case
    // after "its" is left
    assertThat(f.found()).isGreaterThanOrEqualTo(35);
    assertThat(f.touched()).isZero();
  }

  /** Written after the rules the sets before it made, and not fixed: the figure for text nobody tuned for. */
  @Test
  void heldOutSetFour() throws IOException {
    Figures f = measure("held-out-4.txt");
    assertThat(f.identifiers()).isEqualTo(30);
    assertThat(f.lookAlikes()).isEqualTo(28);
    // measured 2026-12-06 when written (16 of 30, 2 of 28 touched); 25 of 30 with the forty-sixth session's names
    // dictionary and its contexts, which were written with its misses in view; a guard against falling, not a target
    assertThat(f.found()).isGreaterThanOrEqualTo(25);
    assertThat(f.touched()).isLessThanOrEqualTo(2);
  }

  /** Written before the forty-sixth session's rules (a names dictionary) and not looked at while they were written. */
  @Test
  void heldOutSetFive() throws IOException {
    Figures f = measure("held-out-5.txt");
    assertThat(f.identifiers()).isEqualTo(32);
    assertThat(f.lookAlikes()).isEqualTo(27);
    // measured 2026-12-06 when written, before any rule of the session (16 of 32, 0 of 27 touched), and after the
    // names dictionary and its contexts, not tuned for it (20 of 32, 0 touched); 25 of 32 with the forty-seventh
    // session's titles, grouped ids and log-line days, written with its misses in view; a guard, not a target
    // 26 with the forty-ninth session's "works weekends at", written from set 8's "works nights at"; 27 with the
    // fiftieth session's record number of letters and digit groups ("PA-7731-0926"), written from sets 8 and 9
    assertThat(f.found()).isGreaterThanOrEqualTo(27);
    assertThat(f.touched()).isZero();
  }

  /**
   * Written before the forty-seventh session's rules (titles, institutions, spaced ids, a log line's date) and not
   * looked at while they were written.
   */
  @Test
  void heldOutSetSix() throws IOException {
    Figures f = measure("held-out-6.txt");
    assertThat(f.identifiers()).isEqualTo(34);
    assertThat(f.lookAlikes()).isEqualTo(35);
    // measured 2026-12-06 when written, before any rule of the session: 18 of 34 found, 0 of 35 touched; after the
    // session's rules, not tuned for it: 26 of 34, 0 touched; 34 of 34 with the forty-eighth session's roles,
    // institutions, companies and a relative's adjective, written with its misses in view. A guard, not a target
    assertThat(f.found()).isGreaterThanOrEqualTo(34);
    assertThat(f.touched()).isZero();
  }

  /**
   * Written before the forty-eighth session's rules (surnames after non-title roles, institution suffixes beyond
   * Hospital and Clinic) and not looked at while they were written.
   */
  @Test
  void heldOutSetSeven() throws IOException {
    Figures f = measure("held-out-7.txt");
    assertThat(f.identifiers()).isEqualTo(41);
    assertThat(f.lookAlikes()).isEqualTo(34);
    // measured 2026-12-07 when written, before any rule of the session: 26 of 41 found, 1 of 34 touched; after the
    // session's rules, not tuned for it: 33 of 41, 2 of 34 touched (a heading in capitals on the line before "Health
    // Office" read as a facility); 1 of 34 touched with a guard against a line's end written after that figure.
    // 39 of 41 (40 through the whole de-identifier, whose age rule takes "93 y/o") with the forty-ninth session's
    // rules, written with its misses in view; 40 of 41 (41 through the de-identifier) with the fiftieth session's
    // trade's shop ("O'Reilly Auto Parts"). A guard against falling, not a target
    assertThat(f.found()).isGreaterThanOrEqualTo(40);
    assertThat(f.pipelineFound()).isGreaterThanOrEqualTo(41);
    assertThat(f.touched()).isLessThanOrEqualTo(1);
    assertThat(f.pipelineTouched()).isLessThanOrEqualTo(1);
  }

  /**
   * Written before the forty-ninth session's rules (an EMS run report, a newborn nursery admission, a sleep study, an
   * opioid treatment program note, an after visit summary, an occupational health visit) and not looked at while
   * they were written.
   */
  @Test
  void heldOutSetEight() throws IOException {
    Figures f = measure("held-out-8.txt");
    assertThat(f.identifiers()).isEqualTo(55);
    assertThat(f.lookAlikes()).isEqualTo(40);
    // measured 2026-12-07 when written, before any rule of the session: 29 of 55 found, 0 of 40 touched by the
    // detectors (30 of 55 through the whole de-identifier); after the session's rules, not tuned for it: 46 of 55
    // (47 through the de-identifier), none touched; 49 of 55 (51 through the de-identifier) with the fiftieth session's
    // rules, written with its misses in view; 50 of 55 (52 through the de-identifier) with the fifty-fourth session's
    // rules (a newborn's placeholder before the family's name), written from set 13's misses. A guard against falling,
    // not a target
    f.holdsAtLeast(50, 52);
  }

  /**
   * Written before the fiftieth session's rules (a home-health visit, a telehealth visit, a well-child visit with
   * guardians, an operative report's team block, a pharmacy medication reconciliation, a social-work note) and not
   * looked at while they were written.
   */
  @Test
  void heldOutSetNine() throws IOException {
    Figures f = measure("held-out-9.txt");
    assertThat(f.identifiers()).isEqualTo(55);
    assertThat(f.lookAlikes()).isEqualTo(38);
    // measured 2026-12-07 when written, before any rule of the session: 26 of 55 found, 0 of 38 touched
    // by the detectors (29 of 55 through the whole de-identifier); 44 of 55 (48 through the de-identifier), none
    // touched, with the session's rules, written with its misses in view; 47 of 55 (51 through the de-identifier)
    // with the names after "Pt", after a conversational cue and before a credential without a comma, written with
    // three of its misses in view; 48 of 55 (52 through the de-identifier) with the fifty-fifth session's number after
    // "Rx" without a number sign ("Rx 6120394"), written from set 14's misses. A guard against falling, not a target
    f.holdsAtLeast(48, 52);
  }

  /**
   * Written before the fifty-first session's rules (a hospice family meeting, a dental emergency visit, a
   * behavioral-health intake with collateral contacts, a transfer-center call log, a radiology report with prior
   * studies and accession numbers, a workers' compensation visit) and not looked at while they were written.
   */
  @Test
  void heldOutSetTen() throws IOException {
    Figures f = measure("held-out-10.txt");
    assertThat(f.identifiers()).isEqualTo(52);
    assertThat(f.lookAlikes()).isEqualTo(44);
    // measured 2026-12-07 when written, before any rule of the session: 24 of 52 found, 1 of 44 touched ("Hampton"
    // hump, a town of the gazetteer) by the detectors, and the same through the whole de-identifier; 41 of 52 (42
    // through the de-identifier, whose age rule takes "a nonagenarian"), none touched, with the session's rules,
    // written with its misses in view; 45 of 52 (46 through the de-identifier) with the fifty-second session's rules
    // (a member's number after the bare word, a biometric's ID, a plate with a blank after "tag", a hospital before
    // its ED), written from set 11's misses and set 10's. A guard against falling, not a target
    f.holdsAtLeast(45, 46);
  }

  /**
   * Written before the fifty-second session's rules (a labour and delivery triage note, an interpreter-assisted ED
   * discharge, a poison-centre call, a hemodialysis treatment record, a genetic counselling pedigree, an audiology
   * hearing-aid fitting) and not looked at while they were written.
   */
  @Test
  void heldOutSetEleven() throws IOException {
    Figures f = measure("held-out-11.txt");
    assertThat(f.identifiers()).isEqualTo(59);
    assertThat(f.lookAlikes()).isEqualTo(51);
    // measured 2026-12-07 when written, before any rule of the session: 33 of 59 found, 2 of 51 touched ("Dr. Reddy's",
    // a maker's name on a generic drug, and "Mr. Yuk", a poison sticker, both after a title) by the detectors; 34 of 59
    // through the whole de-identifier (its age rule takes "94 y/o"), 2 of 51 touched; 56 of 59 (57 through the
    // de-identifier), none touched, with the session's rules, written with its misses in view. Left: the interpreter
    // "Thanh" after "by video," and "103" after "grandfather is"; 58 through the de-identifier with the fifty-fourth
    // session's age said after a relative's "is" ("grandfather is 103"). A guard against falling, not a target
    f.holdsAtLeast(56, 58);
  }

  /**
   * Written before the fifty-third session's rules (a wound, ostomy and continence nurse's visit, a transplant
   * coordinator's call, a travel-medicine consult, a Mohs surgery note, a crisis line call, a pre-anesthesia
   * evaluation) and not looked at while they were written.
   */
  @Test
  void heldOutSetTwelve() throws IOException {
    Figures f = measure("held-out-12.txt");
    assertThat(f.identifiers()).isEqualTo(58);
    assertThat(f.lookAlikes()).isEqualTo(50);
    // measured 2026-12-07 when written, before any rule of the session: 44 of 58 found, 3 of 50 touched ("Sister Mary
    // Joseph" nodule, an eponym after a relative's word; "Hollister", an ostomy maker; "Dr. Comfort", a shoe brand after
    // a title) by the detectors; 46 of 58 through the whole de-identifier (its age rule takes "91-year-old" and "96 yo"),
    // 3 of 50 touched; 54 of 58 (56 through the de-identifier), none touched, with the session's rules, written with
    // its misses in view. Left: "Barnes-Jewish" after "to" (a hospital without its kind's word), "Kum & Go" (a
    // store's name). A guard against falling, not a target
    f.holdsAtLeast(54, 56);
  }

  /**
   * Written before the fifty-fourth session's rules (a correctional-health intake screening, a speech-language
   * pathology swallow evaluation, a lactation consult, an optometry exam, a respiratory therapist's home-oxygen set-up,
   * a cardiac rehabilitation session) and not looked at while they were written.
   */
  @Test
  void heldOutSetThirteen() throws IOException {
    Figures f = measure("held-out-13.txt");
    assertThat(f.identifiers()).isEqualTo(62);
    assertThat(f.lookAlikes()).isEqualTo(53);
    // measured 2026-12-07 when written, before any rule of the session: 48 of 62 found, 1 of 53 touched ("Dr. Pepper", a
    // soda after a title) by the detectors, and the same through the whole de-identifier (its age rule does not take
    // ", 92,"); 58 of 62 (59 through the de-identifier, whose age rule now takes an age between commas after a name's
    // token), none touched, with the session's rules, written with its misses in view. Left: the tattoo "KAYLEIGH",
    // "Cox South" (a hospital by its name and a direction, no kind's word), the town "Ava" after "drove himself
    // from"; 59 of 62 (60 through the de-identifier) with the fifty-sixth session's words a tattoo reads, written from
    // set 15's misses. A guard against falling, not a target
    f.holdsAtLeast(59, 60);
  }

  /**
   * Written before the fifty-fifth session's rules (an allergy clinic's skin prick testing, an anticoagulation clinic's
   * INR telephone note, a bariatric dietitian's pre-operative visit, an IVF monitoring visit, a neuropsychological
   * evaluation, a commercial driver's DOT medical exam) and not looked at while they were written.
   */
  @Test
  void heldOutSetFourteen() throws IOException {
    Figures f = measure("held-out-14.txt");
    assertThat(f.identifiers()).isEqualTo(71);
    assertThat(f.lookAlikes()).isEqualTo(65);
    // measured 2026-12-07 when written, before any rule of the session: 50 of 71 found, 1 of 65 touched ("Gardner", the
    // embryologists' blastocyst grading after "graded by") by the detectors; 51 of 71 through the whole de-identifier
    // (its age rule takes "ninety-five"), 1 of 65 touched; 59 of 71 (60 through the de-identifier), none touched, with
    // the session's rules, written with its misses in view. Left: first names the dictionary does not hold ("referred by
    // Priya", "Bartholomew, PharmD"), employers and a street without a kind's word ("Pappadeaux" on "Westheimer", the
    // "Amazon" fulfillment center, "Boeing", "Cactus Freight Lines"), "Eastgate" draw station, "St. Luke's Des Peres",
    // "at 95 he is", a name opening a line before "came with". A guard against falling, not a target
    f.holdsAtLeast(59, 60);
  }

  /**
   * Written before the fifty-sixth session's rules (a tuberculosis clinic's directly observed therapy visit, an
   * involuntary psychiatric hold, a blood bank's transfusion reaction investigation, a medical examiner's external
   * examination, a skilled nursing facility's admission, a transtibial prosthesis fitting) and not looked at while they
   * were written.
   */
  @Test
  void heldOutSetFifteen() throws IOException {
    Figures f = measure("held-out-15.txt");
    assertThat(f.identifiers()).isEqualTo(81);
    assertThat(f.lookAlikes()).isEqualTo(65);
    // measured 2026-12-07 when written, before any rule of the session: 59 of 81 found, 1 of 65 touched ("Glasgow 15",
    // the coma scale's score, a town of the gazetteer) by the detectors; 60 of 81 through the whole de-identifier (its
    // age rule takes "age 91"), 1 of 65 touched; 75 of 81 (76 through the de-identifier), none touched, with the
    // session's rules, written with its misses in view. Left: employers and a supplier without a kind's word ("Deckhand
    // for Foss Maritime", "the supplier Bloodworks Northwest"), a hospital by its system's name and its campus
    // ("OhioHealth Riverside"), towns the gazetteer does not hold after "in" and "from" ("the feed store in
    // Rogersville", "in from Linden"). A guard against falling, not a target
    f.holdsAtLeast(75, 76);
  }
}
