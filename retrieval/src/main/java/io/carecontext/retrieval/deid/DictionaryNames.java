package io.carecontext.retrieval.deid;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names found by the dictionary of personal names ({@link PersonNames}) and a context that says a person is meant:
 * two capitalized or two ALL-CAPS words of the dictionary ("Dana Whitfield", "RAFAEL ORTIZ"), a surname and a given
 * name family first ("NGUYEN, THANH"), a name after any label ("Surgeon: Rafael Etxeberria", "Ordering: NGUYEN,
 * THANH"), after a verb of who did something ("Read by S. Patel-Moreno") or after a person's role ("Agency contact
 * Brenda"). A single dictionary word alone is never a name: the rules before this one were each written for the
 * phrasings a held-out set showed, and a list of names is what lets a new phrasing be found.
 */
final class DictionaryNames {

  /** A word of a name: capitalized or in capitals, up to two hyphens ("Patel-Moreno", "ADEYEMI-CLARKE"). */
  private static final String TOKEN = "\\p{Lu}[\\p{L}'’]{1,30}+(?:-\\p{Lu}[\\p{L}'’]{1,30}+){0,2}+";

  /** Two words of a name: given then family, a middle initial allowed. */
  private static final Pattern PAIR = Pattern.compile("(?<![\\p{L}\\p{N}'’.-])(?<a>" + TOKEN + ")(?:[ \\t]{1,2}+\\p{Lu}\\.?)?"
      + "[ \\t]{1,2}+(?<b>" + TOKEN + ")(?![\\p{L}\\p{N}-])");

  /** Family first: "NGUYEN, THANH", "Whitfield, Dana K." */
  private static final Pattern FAMILY_FIRST = Pattern.compile("(?<![\\p{L}\\p{N}'’.-])(?<a>" + TOKEN + "),[ \\t]{0,2}+(?<b>"
      + TOKEN + ")(?:[ \\t]{1,2}+\\p{Lu}\\.?(?![\\p{L}\\p{N}]))?(?![\\p{L}\\p{N}-])");

  /** A label of one to three words before a colon, at a line's start or after two blanks or a stop. */
  private static final Pattern LABEL = Pattern.compile("(?:^|(?<=\\n|[ \\t]{2}|[.;|]\\s))[ \\t]{0,4}+(?<l>\\p{Lu}[\\p{L}'’/-]{0,24}+"
      + "(?:[ \\t][\\p{L}'’/-]{1,24}+){0,2}+)[ \\t]{0,2}+:[ \\t]{1,4}+", Pattern.MULTILINE);

  /** A verb of who did it, before "by", or of whom it was said with: the person is named next. */
  private static final Pattern BY = Pattern.compile("(?i:\\b(?:(?:read|signed|seen|dictated|reviewed|performed|verified"
      + "|ordered|referred|answered|transcribed|examined|interpreted|authored|entered|collected|drawn|witnessed|approved"
      + "|co-?signed|evaluated|covered|accepted|called|paged|prescribed)[ \\t]++by|discussed[ \\t]++with|spoke[ \\t]++(?:with|to)"
      + "|d/w|paged|per))(?:[ \\t]{1,2}+|[ \\t]?+\\r?\\n[ \\t]{0,2}+)");

  /** A person's role before the person's name. */
  private static final Pattern ROLE = Pattern.compile("(?i:\\b(?:contact|aide|tech|technician|technologist|nurse|hygienist"
      + "|assistant|scribe|interpreter|translator|chaplain|pastor|counselor|counsellor|therapist|coordinator|navigator"
      + "|manager|social[ \\t]worker|caseworker|case[ \\t]worker|advocate|liaison|representative|rep|resident|intern|fellow"
      + "|attending|surgeon|anesthesiologist|anesthetist|dentist|pharmacist|teacher|principal|coach|officer|deputy|adjuster"
      + "|sponsor|volunteer|preceptor|student|midwife|doula|paramedic|caregiver|aid|housekeeper|nanny|babysitter"
      + "|employer|foreman|pcp|provider|clinician|psychologist|psychiatrist))[ \\t]{1,2}+");

  /** Labels whose value is clinical, never a person: "Dx: Graves", "Procedure: Whipple". */
  private static final Set<String> CLINICAL_LABELS = Set.of("dx", "diagnosis", "diagnoses", "impression", "assessment",
      "allergies", "allergy", "medications", "medication", "meds", "procedure", "procedures", "operation", "organism",
      "culture", "findings", "finding", "indication", "indications", "history", "hx", "pmh", "psh", "problem",
      "problems", "complaint", "cc", "exam", "test", "tests", "result", "results", "rhythm", "diet", "activity",
      "status", "code status", "disposition", "condition", "lesion", "specimen", "stain", "plan", "a/p", "reason",
      "drug", "device", "implant", "technique", "approach", "anesthesia", "position", "ekg", "ecg", "echo", "ct", "mri",
      "xr", "cxr", "imaging", "labs", "lab", "vitals", "ros", "pe", "gen", "heent", "neuro", "psych", "skin", "family history",
      "fhx", "fh", "social history", "shx", "sh", "comparison", "classification", "score", "scale", "stage",
      "grade", "type", "class", "sign", "signs", "syndrome", "eponym", "method", "route", "frequency", "dose", "sig",
      "formulary", "insurance", "payer", "plan name", "facility", "location", "unit", "service", "department", "clinic",
      "pharmacy", "hospital", "language", "religion", "race", "ethnicity", "sex", "gender", "time", "date", "day");

  /** Words after a pair that make it an eponym, a place or an organisation: "Sister Mary Joseph nodule", "Mary Washington Hospital". */
  private static final Set<String> NOT_AFTER = Set.of("disease", "diseases", "syndrome", "palsy", "sign", "test",
      "criteria", "scale", "score", "classification", "class", "stage", "grade", "type", "index", "rule", "reflex",
      "maneuver", "phenomenon", "triad", "nodule", "nodules", "node", "procedure", "operation", "repair", "fracture",
      "ulcer", "tumor", "tumour", "lymphoma", "catheter", "tube", "drain", "stain", "pouch", "triangle", "point",
      "surgery", "hospital", "medical", "center", "centre", "clinic", "health", "healthcare", "memorial", "university",
      "college", "school", "high", "elementary", "middle", "academy", "institute", "foundation", "street", "st",
      "avenue", "ave", "road", "rd", "boulevard", "blvd", "drive", "dr", "lane", "ln", "county", "city", "park",
      "church", "pharmacy", "laboratories", "labs", "inc", "llc", "corp", "company", "group", "associates", "partners",
      "building", "hall", "pavilion", "tower", "wing", "unit", "house", "home", "method", "technique",
      "equation", "formula", "criterion", "virus", "solution", "needle", "forceps", "retractor", "lens", "questionnaire",
      "inventory", "assessment", "protocol", "model", "system");

  /** Capitalized words after a role or a verb that are the sentence's, not a second word of the name. */
  private static final Set<String> NOT_SECOND = Set.of("the", "this", "that", "called", "says", "said", "states", "will",
      "was", "is", "has", "had", "and", "or", "at", "on", "in", "to", "for", "re", "regarding", "today", "tomorrow",
      "yesterday", "pt", "patient", "rn", "md", "do", "np", "pa", "lpn", "cna", "phd", "ok", "aware");

  /** Titles: a name after them is the title rules' ("Seen by Dr Ortiz"), which keep the title in the text. */
  private static final Set<String> TITLES = Set.of("dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor",
      "rev", "sr", "fr", "nurse", "sister", "brother", "father", "mother");

  /**
   * Eponyms of two or more names ("Stevens-Johnson", "Guillain Barre"), lower case, accents dropped, parts joined by
   * hyphens: each part may be a name of the dictionary, and a hyphenated word counts as a surname when a part is one,
   * so without this list a label's value ("Rash: Stevens-Johnson") became a person.
   */
  private static final Set<String> COMPOUND_EPONYMS = Set.of("stevens-johnson", "guillain-barre", "creutzfeldt-jakob",
      "charcot-marie-tooth", "charcot-marie", "marie-tooth", "mallory-weiss", "ehlers-danlos", "osgood-schlatter",
      "cheyne-stokes", "wolff-parkinson-white", "legg-calve-perthes", "budd-chiari", "arnold-chiari", "dandy-walker",
      "lambert-eaton", "brown-sequard", "kimmelstiel-wilson", "henoch-schonlein", "peutz-jeghers", "klippel-feil",
      "klippel-trenaunay", "sturge-weber", "zollinger-ellison", "jarisch-herxheimer", "hill-sachs", "swan-ganz",
      "jackson-pratt", "wolff-chaikoff", "waterhouse-friderichsen", "stein-leventhal", "dubin-johnson", "crigler-najjar",
      "hand-schuller-christian", "letterer-siwe", "austin-flint", "graham-steell", "argyll-robertson", "mallory-denk",
      "miller-fisher", "miller-dieker", "prader-willi", "beckwith-wiedemann", "smith-lemli-opitz", "smith-magenis",
      "russell-silver", "silver-russell", "shy-drager", "tolosa-hunt", "ramsay-hunt", "adams-stokes", "stokes-adams",
      "kasabach-merritt", "bernard-soulier", "chediak-higashi", "wiskott-aldrich", "denys-drash", "fitz-hugh-curtis",
      "osler-weber-rendu", "rendu-osler-weber", "von-hippel-lindau", "hippel-lindau", "bland-white-garland",
      "lown-ganong-levine", "kearns-sayre", "sengstaken-blakemore", "mary-joseph", "sister-mary-joseph",
      "cornelia-de-lange", "de-quervain", "von-willebrand", "roux-en-y", "heberden-bouchard", "weber-christian",
      "hallervorden-spatz", "kluver-bucy", "marchiafava-bignami", "wernicke-korsakoff", "romano-ward",
      "jervell-lange-nielsen", "lesch-nyhan", "niemann-pick", "tay-sachs", "pelizaeus-merzbacher", "sjogren-larsson",
      "stewart-treves", "mayer-rokitansky-kuster-hauser", "holt-oram", "treacher-collins", "pierre-robin");

  private DictionaryNames() {}

  /** Whether the words of a span found as a name are, or hold, an eponym of {@link #COMPOUND_EPONYMS}. */
  static boolean eponym(String span) {
    String k = java.text.Normalizer.normalize(span, java.text.Normalizer.Form.NFD).replaceAll("\\p{M}++", "")
        .toLowerCase(Locale.ROOT).replaceAll("['’]s\\b", "").replaceAll("[\\s,.'’-]++", "-");
    String padded = "-" + k + "-";
    for (String e : COMPOUND_EPONYMS) {
      if (padded.contains("-" + e + "-")) {
        return true;
      }
    }
    return false;
  }

  /** A span of the dictionary's rules, unless its words are an eponym. */
  private static void name(List<Detectors.Span> spans, String text, int start, int end) {
    if (!eponym(text.substring(start, end))) {
      spans.add(new Detectors.Span(start, end, IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
  }

  static void add(List<Detectors.Span> spans, String text) {
    pairs(spans, text);
    familyFirst(spans, text);
    afterCue(spans, text, LABEL, true);
    afterCue(spans, text, BY, false);
    afterRole(spans, text);
  }

  private static boolean caps(String t) {
    return t.length() >= 2 && t.equals(t.toUpperCase(Locale.ROOT)) && !t.equals(t.toLowerCase(Locale.ROOT));
  }

  private static String bare(String t) {
    return t.endsWith("'s") || t.endsWith("’s") ? t.substring(0, t.length() - 2) : t;
  }

  private static boolean given(String t) {
    return PersonNames.isGivenName(bare(t));
  }

  private static boolean surname(String t) {
    return PersonNames.isSurname(bare(t));
  }

  private static boolean givenAny(String t) {
    return given(t) || PersonNames.isNameWord(bare(t));
  }

  private static boolean surnameAny(String t) {
    if (surname(t)) {
      return true;
    }
    for (String part : bare(t).split("-", 4)) {
      if (PersonNames.isNameWord(part)) {
        return true;
      }
    }
    return false;
  }

  /** The word after a position, in lower case, or "" (bounded: a word of up to 20 letters). */
  private static String nextWord(String text, int at) {
    Matcher m = NEXT_WORD.matcher(text);
    m.region(at, text.length());
    return m.lookingAt() ? m.group(1).toLowerCase(Locale.ROOT) : "";
  }

  private static final Pattern NEXT_WORD = Pattern.compile("[ \\t]{0,2}+-?[ \\t]{0,2}+([\\p{L}'’]{1,20}+)");

  private static boolean place(String a, String b) {
    String both = a + " " + b;
    return Gazetteer.isPlace(both) || Detectors.STATES_AND_COUNTRIES.contains(both.toLowerCase(Locale.ROOT));
  }

  /**
   * Each match of {@code pattern} (two words, {@code a} and {@code b}) that {@code person} takes is a name, and
   * the search goes on after it; a refused one is tried again from its second word, so a scan stays linear.
   */
  private static void scan(List<Detectors.Span> spans, String text, Pattern pattern, Predicate<Matcher> person) {
    Matcher m = pattern.matcher(text);
    int from = 0;
    while (from < text.length() && m.find(from)) {
      if (person.test(m)) {
        name(spans, text, m.start(), m.end());
        from = m.end();
      } else {
        from = m.end("a");
      }
    }
  }

  private static void pairs(List<Detectors.Span> spans, String text) {
    scan(spans, text, PAIR, m -> {
      String a = m.group("a");
      String b = m.group("b");
      boolean ok;
      if (caps(a) != caps(b)) {
        ok = false;
      } else if (caps(a)) {
        ok = given(a) && surname(b);
      } else {
        // a given name that is also an English word ("John", "Maria", "Frank") only before a surname that is none; a
        // surname that is an English word is no given name ("Caller Yusuf" took the word)
        ok = given(a) && surnameAny(b) || PersonNames.isGivenNameWord(bare(a)) && surname(b) && !given(b);
      }
      return ok && !NOT_AFTER.contains(nextWord(text, m.end())) && !place(a, b);
    });
  }

  private static void familyFirst(List<Detectors.Span> spans, String text) {
    scan(spans, text, FAMILY_FIRST, m -> {
      String a = m.group("a");
      String b = m.group("b");
      if (caps(a) != caps(b)) {
        return false;
      }
      if (caps(a)) {
        return (surnameAny(a) && given(b)) || (surname(a) && givenAny(b));
      }
      // capitalized, outside a label: both of the dictionary, neither a town, and not inside a list ("…, Smith, John, …")
      int before = m.start() - 1;
      while (before >= 0 && (text.charAt(before) == ' ' || text.charAt(before) == '\t')) {
        before--;
      }
      return surname(a) && given(b) && !Gazetteer.isPlace(a) && !Gazetteer.isPlace(b)
          && (before < 0 || text.charAt(before) != ',') && !text.startsWith(",", m.end());
    });
  }

  /** The value's shapes after a cue: initials and a name, two words (given and family, either order), one word. */
  private static final Pattern VALUE = Pattern.compile("(?:(?<i>\\p{Lu}\\.[ \\t]?(?:\\p{Lu}\\.[ \\t]?)?)(?<it>" + TOKEN
      + ")|(?<a>" + TOKEN + ")(?:(?<sep>,[ \\t]{0,2}+|[ \\t]{1,2}+(?:\\p{Lu}\\.[ \\t]{1,2}+)?)(?<b>" + TOKEN + "))?)"
      + "(?![\\p{L}\\p{N}-])");

  private static void afterCue(List<Detectors.Span> spans, String text, Pattern cue, boolean label) {
    Matcher c = cue.matcher(text);
    Matcher v = VALUE.matcher(text);
    v.useTransparentBounds(true);
    while (c.find()) {
      if (label && CLINICAL_LABELS.contains(c.group("l").toLowerCase(Locale.ROOT))) {
        continue;
      }
      v.region(c.end(), text.length());
      if (!v.lookingAt() || v.group("a") != null && TITLES.contains(v.group("a").toLowerCase(Locale.ROOT))) {
        continue;
      }
      int start = v.start();
      int end = -1;
      if (v.group("it") != null) {
        String t = v.group("it");
        if ((given(t) || surname(t)) && !caps(t) || caps(t) && surname(t)) {
          end = v.end();
        }
      } else {
        String a = v.group("a");
        String b = v.group("b");
        String sep = v.group("sep");
        if (b != null && caps(a) == caps(b) && sep.startsWith(",")) {
          if (surname(a) || given(b)) {
            end = v.end();
          }
        } else if (b != null && caps(a) == caps(b)) {
          if ((given(a) || surname(b)) && !NOT_AFTER.contains(b.toLowerCase(Locale.ROOT))
              && !NOT_SECOND.contains(b.toLowerCase(Locale.ROOT)) && !NOT_AFTER.contains(nextWord(text, v.end()))
              && !place(a, b)) {
            end = v.end();
          } else if (given(a) || surname(a)) {
            end = single(text, v.start("a"), v.end("a"));
          }
        } else if (given(a) || surname(a)) {
          end = single(text, v.start("a"), v.end("a"));
        }
      }
      if (end > start) {
        name(spans, text, start, end);
      }
    }
  }

  /** One word of the dictionary alone after a cue: a name only when it stands alone there, before a line's end or a stop. */
  private static int single(String text, int start, int end) {
    if (Gazetteer.isPlace(text.substring(start, end))) {
      return -1;
    }
    int i = end;
    while (i < text.length() && i < end + 3 && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
      i++;
    }
    if (i >= text.length() || "\n\r,;()".indexOf(text.charAt(i)) >= 0 || i - end >= 2
        || text.startsWith("at ", i) || text.startsWith("on ", i) || text.startsWith("in ", i)) {
      return end;
    }
    return -1;
  }

  private static void afterRole(List<Detectors.Span> spans, String text) {
    Matcher c = ROLE.matcher(text);
    Matcher v = VALUE.matcher(text);
    v.useTransparentBounds(true);
    while (c.find()) {
      v.region(c.end(), text.length());
      if (!v.lookingAt() || v.group("a") == null || caps(v.group("a"))
          || TITLES.contains(v.group("a").toLowerCase(Locale.ROOT))) {
        continue;
      }
      String a = v.group("a");
      String b = v.group("b");
      // a language after an interpreter ("interpreter Spanish"), by the list the other role rule stops at; the name
      // may follow it ("interpreter Spanish Bahati")
      if (Detectors.language(a)) {
        if (b != null && !v.group("sep").startsWith(",") && !caps(b) && (given(b) || surname(b))
            && !Detectors.language(b)) {
          name(spans, text, v.start("b"), v.end("b"));
        }
        continue;
      }
      // a relative's word is who the person is to the patient ("caregiver Daughter"), no name
      if (!(given(a) || surname(a)) || Detectors.kin(a)) {
        continue;
      }
      int end = v.end("a");
      if (b != null && !v.group("sep").startsWith(",") && !caps(b) && (surnameAny(b) || given(a))
          && !Detectors.language(b) && !Detectors.kin(b)
          && !NOT_SECOND.contains(b.toLowerCase(Locale.ROOT)) && !NOT_AFTER.contains(b.toLowerCase(Locale.ROOT))
          && !place(a, b)) {
        end = v.end();
      }
      name(spans, text, v.start(), end);
    }
  }
}
