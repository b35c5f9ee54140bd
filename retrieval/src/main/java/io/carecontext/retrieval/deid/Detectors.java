package io.carecontext.retrieval.deid;

import io.carecontext.fhir.KnownIdentifiers;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds identifier spans in text: first the identifiers known from the patient's FHIR data (with
 * name variants, initials, case and separator changes), then patterns for the Safe Harbor classes.
 */
final class Detectors {

  /**
   * A place to replace. {@code identity} is what a span found from a known identifier stands for (the
   * record's own spelling of the name, number, phone or address part), so that every way a text writes
   * it gets one token: "GRACE KOWALSKI", "Kowalski's", "G. Kowalski" and "Kowalksi" were four patients
   * to the model. Null for a span found by its pattern alone, whose token follows its text.
   */
  record Span(int start, int end, IdentifierClass cls, String prefix, String identity) {
    Span(int start, int end, IdentifierClass cls, String prefix) {
      this(start, end, cls, prefix, null);
    }
  }

  /**
   * A value behind a label, the label left in the text: "MRN MRN-QX-77123" became "[MRN_1]" with
   * the label inside the token, and "MRN [MRN_1]" in an answer read "MRN MRN MRN-QX-77123". The
   * value needs a digit: "Device: pacemaker" took the word for a device number and the model lost it.
   */
  /** A domain's dot as an address spelled with blanks writes it: blanks on both sides ("gmail . com") or on neither. */
  private static final String SPACED_DOT = "(?:\\.|[ \\t]{1,2}+\\.[ \\t]{1,2}+)";

  private static String labelled(String label, int minLength) {
    // "MRN is 00123456", "account number was 998877", "MRN = 4711": the label need not touch its value.
    // The blanks are taken whole (possessive) and the digit looked for among the value's first characters:
    // each way of sharing a run of blanks between the optional parts was tried ("MRN" and 8K blanks took
    // 4 s), and from each label in a run of "MRN-MRN-…" the look for a digit went to the run's end.
    return "(?i)\\b(?:" + label + ")(?:\\s++(?:is|was|of)\\b|\\s*+=)?\\s*+[:#-]?\\s*+(?<v>(?=[A-Z-]{0,64}+\\d)[A-Z0-9-]{"
        + minLength + ",}" + SPACED_GROUP + "{0,3}|(?-i:[A-Z]{1,4}+)" + SPACED_GROUP + "{1,3})\\b";
  }

  /**
   * Whether a number after a label is no count before its unit: "Rx 2400000 units benzathine penicillin", "Sample 10-15
   * mL of CSF", "CDL 120000 miles a year" are a dose, a volume and a distance, no one's number; nor is a value with a
   * lower-case letter, a variant's or a virus's name ("Sample 2019-nCoV PCR"), as a register prints its numbers in
   * capitals.
   */
  private static boolean notACountBeforeItsUnit(CharSequence text, int start, int end) {
    for (int i = start; i < end; i++) {
      if (Character.isLowerCase(text.charAt(i))) {
        return false;
      }
    }
    return !UNIT_AFTER.matcher(text).region(end, text.length()).lookingAt();
  }

  /**
   * What follows "user" in a history of use that is no handle: a Latin frequency ("q.h.s.", "p.r.n."), a duration or a
   * frequency by its number ("x10yrs", "q2weeks"), a stop without its blank ("daily.Denies"), a device and its model
   * ("Libre2"): the review of set 15's rules.
   */
  private static final String NOT_A_USERS_HANDLE = "(?:\\p{L}{1,3}\\.){2,4}\\p{L}{0,3}(?![\\w.])|[xXqQ]\\d{1,3}\\p{L}{0,8}(?![\\w.])"
      + "|\\p{L}{1,20}\\.\\p{Lu}\\p{Ll}{0,20}(?![\\w.])|\\p{Lu}\\p{Ll}{2,20}\\d{1,2}(?![\\w.])";

  /** Two years or a year and its next one's end ("case 2019-2020 season", "case 2021-22"): a period, no one's number. */
  private static final Pattern YEAR_RANGE = Pattern.compile("(?:19|20)\\d{2}-(?:19|20)?\\d{2}");
  /** A range of two numbers of as many digits, the first less ("1500-2000", "12000-15000"). */
  private static final Pattern NUMBER_RANGE = Pattern.compile("(\\d{3,6})-(\\d{3,6})");
  /** A rate's or an energy's unit after a number ("/uL", "/day", "kcal", "steps"). */
  private static final Pattern RATE_AFTER = Pattern.compile("[ \\t]*+(?:/|(?i:kcal|cal|steps|lux|mmhg|mosm)\\b)");

  /**
   * Whether a number after "band" or "case" is a range of counts or a rate ("In case 1500-2000 kcal/day is not met",
   * "Band 12000-15000/uL": the review of set 15's rules), no one's number.
   */
  private static boolean aRangeOrARate(String text, int start, int end) {
    if (RATE_AFTER.matcher(text).region(end, text.length()).lookingAt()) {
      return true;
    }
    Matcher r = NUMBER_RANGE.matcher(text).region(start, end);
    return r.matches() && r.group(1).length() == r.group(2).length()
        && Long.parseLong(r.group(1)) < Long.parseLong(r.group(2));
  }

  private static final Pattern UNIT_AFTER = Pattern.compile("[ \\t]*+(?i:units?|u|iu|mu|ml|l|mg|mcg|g|kg|cells|copies"
      + "|miles?|mi|km)\\b");

  /**
   * A further group of a value written with spaces, as a card or a label prints it ("MRN 0047 1182", "Acct 5512 3381
   * 22", "Accession SP 25 004821", "Subscriber ID DDX 4471 902" passed held-out sets with only the first group taken):
   * one blank, then 2 to 12 digits (a dash among them allowed), not a decimal, not a day or a time ("12/02", "06:14")
   * and not a count before its unit ("MRN 4471123 45 yo", "Acct 5512 3 days ago").
   */
  // digits only: a word with a digit after the number is a test's, a condition's or a count's ("A1C 7.2", "T2DM",
  // "CD4 350", "COVID-19"), and a decimal ("36.8") a measurement, none a group of the number
  private static final String SPACED_GROUP = "(?:[ ]\\d[0-9-]{1,11}+(?![\\w/:]|\\.\\d)(?![ \\t]*+(?:y/?o|yrs?"
      + "|years?|days?|d|h|hrs?|hours?|weeks?|wks?|months?|mos?|mg|mcg|g|ml|units?|am|pm)\\b|[ \\t]*+%))";

  /** A detector's pattern; when it has a gate, run only on a text in which the gate finds something (a cheap scan). */
  private record Rule(IdentifierClass cls, Pattern pattern, String prefix, Pattern gate, ValueTest test) {
    Rule(IdentifierClass cls, Pattern pattern) {
      this(cls, pattern, cls.prefix(), null, null);
    }

    Rule(IdentifierClass cls, Pattern pattern, String prefix) {
      this(cls, pattern, prefix, null, null);
    }

    Rule(IdentifierClass cls, Pattern pattern, Pattern gate) {
      this(cls, pattern, cls.prefix(), gate, null);
    }

    Rule(IdentifierClass cls, Pattern pattern, ValueTest test) {
      this(cls, pattern, cls.prefix(), null, test);
    }

    Rule(IdentifierClass cls, Pattern pattern, Pattern gate, ValueTest test) {
      this(cls, pattern, cls.prefix(), gate, test);
    }
  }

  /** What a rule's value must also be, beyond its pattern: a test of the value at start..end of the text. */
  @FunctionalInterface
  private interface ValueTest {
    boolean accepts(String text, int start, int end);
  }

  /** The token prefix of an employer's name: an identifier of Safe Harbor's other kinds, said for what it is. */
  static final String EMPLOYER = "EMPLOYER";

  /** The token prefix of a user name or a handle: an identifier of Safe Harbor's other kinds, said for what it is. */
  static final String USERNAME = "USERNAME";

  /** The token prefixes of the record's own names: its patient's and its practitioners'. */
  static final String PATIENT = "PATIENT";
  static final String PROVIDER = "PROVIDER";

  /**
   * Every prefix a token may carry: each class's own, and those that say more of what a token stands
   * for. One list, so that the re-identifier knows a token of a prefix added later.
   */
  static final java.util.List<String> TOKEN_PREFIXES = java.util.stream.Stream.concat(
      java.util.Arrays.stream(IdentifierClass.values()).map(IdentifierClass::prefix),
      java.util.stream.Stream.of(PATIENT, PROVIDER, EMPLOYER, USERNAME, Gazetteer.CITY_OR_NAME)).toList();

  /** Words after "login" or "user name" that are the sentence's, not a name: "login from 10.0.0.7", "login issues". */
  private static final String NOT_A_USER = "from|to|at|with|for|by|on|in|into|and|or|is|was|the|a|an|failed|fails|issues?"
      + "|problems?|attempts?|page|screen|portal|credentials|info|information|successful|successfully|help|reset|locked"
      + "|required|pending|via|using|details|access|error|errors|time|today|yesterday|again|works|worked|name|id|not"
      + "|unknown|none|n/a|na|same|as|if|when|once|sent|given|provided|created|set|setup|changed|issue";

  /**
   * Chains of pharmacies and stores whose number after the name is one shop: capitalized or in capitals as
   * signs write them; "Target" only so, as the word is a clinical one too.
   */
  private static final String CHAINS = "(?i:Walgreens|Walgreen|CVS|Rite[ -]?Aid|Walmart|Wal-Mart|Costco|Kroger|Safeway|Publix"
      + "|Albertsons|H-E-B|HEB|Meijer|Duane Reade|Wegmans|Sam's Club|Giant Eagle|Hy-Vee|Winn-Dixie|Harris Teeter|Fry's"
      + "|Jewel-Osco|Osco|Vons|Ralphs|ShopRite|Food Lion|Medicine Shoppe|Bartell|King Soopers|Dillons|Smith's|Stop & Shop"
      + "|Family Dollar|Dollar General|Kmart)";
  /**
   * "Target" is a chain only before "#", "store", "location", "branch" or its pharmacy: "Target no 2" and
   * "Target number 1" are a tumour's target lesions as RECIST numbers them, and were taken for a store.
   */
  private static final String TARGET = "(?:Target|TARGET)(?=\\s*+#|\\s++(?i:store|location|branch|pharmacy|supercenter)\\b)";

  /**
   * A relative, or someone of the household and around it, whom a note names beside the relation: Safe
   * Harbor's names of relatives, household members and employers.
   */
  private static final String KIN = "(?:step-?)?(?:daughter|son|mother|father|sister|brother)(?:-in-law)?|wife"
      // a stepparent by the short word ("stepdad Earl in person" passed held-out set 10)
      + "|step-?(?:dad|mom|mum)"
      + "|mom|mum|dad|mama|papa|grandma|grandpa|granny|hubby"
      + "|husband|spouse|aunt|uncle|niece|nephew|cousin|grand(?:mother|father|son|daughter)";
  private static final String RELATION = KIN + "|partner|guardian|fianc[eé]e?"
      + "|caregiver|neighbou?r|friend|best friend|roommate|room-mate|housemate|boyfriend|girlfriend|significant other"
      + "|companion|landlord|landlady|co-?worker|boss|supervisor|ex-wife|ex-husband";

  /**
   * A clinician's degree after a name; after a comma also PA and RN, which without one are as often the
   * state (Pennsylvania) or a word of the note.
   */
  // "DO NOT stop" after a condition ("Addison Disease, DO NOT stop hydrocortisone") is no osteopath's letters
  private static final String DEGREE = "MD|M\\.D\\.|DO(?![ \\t]++(?i:not)\\b)|NP|PA-C|APRN|CNM|PhD";

  /**
   * A word of a person's name: capitalized, its letters of any language ("Tomás" was taken as "Tom", "Zoë" as
   * "Zo", and the rest of each left in the text).
   */
  private static final String NAME_WORD = "\\p{Lu}\\p{Ll}[\\p{L}'’-]*";
  /**
   * The particles of a surname, in lower case: "Pieter van der Berg", "Luis del Rio", "Amir bin Rashid" lost all
   * after the given name.
   */
  private static final String PARTICLES = "(?:(?:van|von|der|den|de|del|della|dos|das|di|da|du|la|le|bin|ibn|al|ter|ten)\\s+){1,2}";
  /**
   * Clinical words that end a name after a relation or a title, none of them a common surname: a condition's number
   * ("Sister Mary Type 1", "Brother John Stage 3 CKD") or an eponym's noun ("Brother Bell Palsy"). An eponym's noun
   * after the name still makes the whole an eponym's (NOT_AN_EPONYMS_WORD), a numbered type, stage, grade or class not.
   */
  private static final String NAME_STOP_WORDS = "type|stage|grade|class|syndrome|disease|palsy|nodules?|signs?|score"
      + "|scale|criteria";
  /** A name after a relation or a title: a first word, then up to two more, each perhaps after particles. */
  // a first word with an apostrophe after its first letter too ("Father O'Malley" passed a held-out set)
  // its later words stop before a clinical word (NAME_STOP_WORDS): "Sister Mary Type 1" lost "Type" into the name
  private static final String NAME_AFTER_CUE = "(?:" + NAME_WORD + "|\\p{Lu}['’]\\p{Lu}\\p{Ll}[\\p{L}'’-]*)(?:\\s+(?!(?i:"
      + NAME_STOP_WORDS + ")(?![\\p{L}'’-]))(?:" + PARTICLES + ")?\\p{Lu}[\\p{L}'’-]+){0,2}";
  /**
   * Words after a relation that say how the relative is, not who: a family history's "Mother Deceased at 72",
   * "Father Alive", "Sister Healthy" took the word for a name; an eponym's disease is no name either (not Graves,
   * a surname as often: "daughter Graves" stays a person); nor is a relative's word.
   */
  private static final String NOT_A_RELATIVES_NAME = "(?!(?i:deceased|alive|living|healthy|well|unknown|adopted|died"
      + "|passed|estranged|expired|hx|history|age|aged|has|had|with|without|also|alzheimer'?s?|parkinson'?s?"
      + "|huntington'?s?|crohn'?s?|hashimoto'?s?"
      // a relative's word after a caregiver or a guardian is who that is ("caregiver Daughter"), not a name; the
      // relative's own name is then found after that word ("caregiver Daughter Keisha")
      + "|" + KIN + ")(?![\\p{L}'’-]))";

  /**
   * The commonest heads of a family history's condition, in lower case, as a line writes them after the relation
   * ("Father Hypertension", "Sister Breast cancer", "Mother Type 2 diabetes", "Mother Ca breast"), and its commonest
   * tails after the first word ("Brother Kidney stones", "Father Heart attack"). A stop list, bounded: a word of a
   * clinical shape (CLINICAL_SHAPE) need not be here; no word here is a given name or a surname of the names
   * dictionary, which decides first.
   */
  private static final Set<String> FAMILY_HISTORY_WORDS = Set.of(
      // conditions
      "hypertension", "hypotension", "stroke", "strokes", "diabetes", "diabetic", "prediabetes", "asthma",
      "cancer", "cancers", "ca", "carcinoma", "tumor", "tumors", "tumour", "tumours", "malignancy", "dementia",
      "depression", "anxiety", "epilepsy", "seizures", "seizure", "obesity", "obese", "emphysema", "gout", "lupus",
      "migraine", "migraines", "cataract", "cataracts", "afib", "angina", "arrhythmia", "aneurysm", "aneurysms",
      "eczema", "psoriasis", "allergies", "allergy", "addiction", "anorexia", "bulimia", "hernia", "alcoholic",
      "suicide", "autism", "adhd", "mi",
      "hemophilia", "haemophilia", "thalassemia", "cholesterol", "hyperlipidemia", "hyperlipidaemia", "clots", "clot",
      "heart", "cardiac", "coronary", "kidney", "kidneys", "renal", "liver", "lung", "lungs", "breast", "colon",
      "colorectal", "rectal", "prostate", "ovarian", "uterine", "endometrial", "cervical", "pancreatic", "gastric",
      "stomach", "esophageal", "bladder", "thyroid", "skin", "brain", "blood", "bone", "bowel", "sudden", "early",
      "premature", "congenital", "type", "rheumatoid", "cystic", "bipolar", "sickle", "celiac", "coeliac", "multiple",
      "muscular", "macular", "mental", "alcohol", "substance", "drug", "high", "elevated", "essential", "chronic",
      "ischemic", "ischaemic", "peripheral", "polycystic", "hereditary", "familial", "atrial", "ulcerative", "morbid",
      // tails
      "polyps", "polyp", "stones", "stone", "disorder", "disorders", "disease", "diseases", "attack", "attacks",
      "failure", "death", "arrest", "defect", "defects", "insufficiency", "deficiency", "abuse", "use", "dependence",
      "illness", "problems", "sclerosis", "fibrosis", "syndrome", "pressure", "sugar", "fibrillation", "palsy");
  /**
   * A clinical word by its shape, in lower case: an inflammation, a condition, a growth, a blood's state, a
   * disease, a pain ("Aunt Lupus nephritis", "Brother Sarcoidosis", "Sister Melanoma", "Father Alcoholism").
   */
  private static final Pattern CLINICAL_SHAPE = Pattern.compile("\\p{L}{2,}(?:itis|osis|oses|iasis|omas?|emia|aemia|ism"
      + "|isms|pathy|pathies|algia|phrenia|plasia|trophy|ectomy|ension|ression|lepsy|penia|philia|plegia|rrhea|rrhoea)");
  /**
   * An adjective of a condition by its shape, in lower case: how a relative is, as a family history writes it after
   * the relation ("Brother Hypertensive", "Uncle Prediabetic", "Mother Asthmatic", "Father Hyperlipidemic", "Sister
   * Epileptic"); the nouns' shapes are CLINICAL_SHAPE's.
   */
  private static final Pattern CONDITION_ADJECTIVE = Pattern.compile("\\p{L}{2,}(?:tensive|emic|aemic|betic|thmatic"
      + "|leptic|lergic|ritic|phrenic|chotic|polar|thyroid|glycemic|glycaemic)");
  /** The word after a relation's value, after blanks on its line. */
  private static final Pattern NEXT_WORD = Pattern.compile("[ \\t]++(\\p{L}[\\p{L}'’-]*+)");
  /** A relative's word right before a title's value: "Father", "Sister", "Brother" as a family history writes them. */
  private static final Pattern RELATIVES_TITLE_BEFORE = Pattern.compile("(?i:sister|brother|father)[ \\t]++$");

  /**
   * What follows "Dr." and is no clinician: a soft drink, insoles, bath salts, soap, each before a word of what it is
   * ("Dr Pepper a day", "Dr. Scholl's inserts"; "seen by Dr. Pepper", "Dr. Scholl's office" are still people), and a
   * writer. Martens, a common surname, is not among them: a doctor's name stays a token whatever boots share it.
   */
  private static final String NOT_A_DOCTOR = "(?:Pepper(?=\\s++(?i:a\\s++day|daily|per\\s++day|/day|soda|cans?|bottles?|zero"
      + "|regularly|every|at\\s++night"
      // beside another drink ("Dr. Pepper and sweet tea cut out" passed held-out set 13, touched)
      + "|(?:and|or|&|,)\\s++(?:sweet\\s++)?(?:tea|soda|pop|coffee|juice|energy\\s++drinks?|beer|coke|pepsi|mountain\\s++dew"
      + "|sprite|lemonade))\\b)|Scholl['’]?s(?=\\s++(?i:inserts?|insoles?|pads?|gel|orthotics?|shoes?|corn|foot"
      + "|spray|powder|cushions?)\\b)|Teal['’]?s(?=\\s++(?i:epsom|salts?|bath|soak|foaming)\\b)|Bronner['’]?s(?=\\s++"
      + "(?i:soap|castile)\\b)|Seuss(?![\\p{L}'’-])(?!\\s+\\p{Lu})"
      // any brand of a doctor's name before what it is: "Dr. Smith's ointment", "Dr. Reddy's generic" ("Dr. Smith's
      // office", "Dr. Smith's note" stay people)
      + "|\\p{Lu}\\p{Ll}{1,20}+['’]s(?=\\s++(?i:ointment|cream|paste|balm|salve|lotion|diaper|rash|powder|syrup|remedy"
      + "|formula|generic|brand|tablets?|drops|elixir|liniment)\\b)"
      // a brand of footwear or foot care by a doctor's name before what it is ("off-load with Dr. Comfort shoes" passed
      // held-out set 12, touched): a name is not followed by shoes or insoles
      + "|\\p{Lu}\\p{Ll}{1,20}+(?:['’]s)?(?=\\s++(?i:shoes|insoles|inserts|footwear|orthotics|socks|sandals|slippers|boots)\\b)"
      // a maker of generics before the drug ("Dr. Reddy's metformin ER" passed held-out set 11, touched); "Dr. Reddy's
      // note" is still a person
      + "|Reddy['’]s(?=\\s++(?i:labs?|laboratories|\\p{Ll}+(?:formin|mycin|cillin|pril|olol|sartan|statin|azole|dipine"
      + "|prazole|tidine|xaban|gliptin|pine|done|zole|fene|ine)\\b)))";

  /**
   * What a note writes after "plate" or "tag" that is no vehicle's: a spine's levels ("Anterior plate C5-C6", "Plate
   * T12-L1"), a lab's wells ("Plate A1-H12"), and a hole count, a gauge or a French size beside a kind ("Compression plate
   * DCP 10H", "Agar plate BAP 48H", "Line tag RIJ 7FR", "Tag: EJ 18G"): the review of held-out set 11's rules.
   */
  static final Pattern NOT_A_PLATES_NUMBER = Pattern.compile("[CTLS]\\d{1,2}[ -][CTLS]\\d{1,2}|[A-H]\\d{1,2}[ -][A-H]\\d{1,2}"
      + "|[A-Z0-9]{2,4}[ -]\\d{1,2}(?:H|G|FR|F|MM|CM)|\\d{1,2}(?:H|G|FR|F|MM|CM)[ -][A-Z]{2,4}");

  /** The digits between {@code start} and {@code end}. */
  static int digits(String text, int start, int end) {
    int n = 0;
    for (int i = start; i < end; i++) {
      n += Character.isDigit(text.charAt(i)) ? 1 : 0;
    }
    return n;
  }

  /** "at" and "dot" as an address spelled out writes them: "[at]", "(at)", or the word between blanks. */
  private static final String SPELLED_AT = "(?:\\s*+(?i:\\[at]|\\(at\\))\\s*+|\\s++(?i:at)\\s++)";
  private static final String SPELLED_DOT = "(?:\\s*+(?i:\\[dot]|\\(dot\\))\\s*+|\\s++(?i:dot)\\s++)";

  /**
   * Titles of clergy, religious and a care team that go before a name, capitalized or in lower case ("discussed with
   * attending Weissman"); in capitals they begin a heading ("ATTENDING ATTESTATION") and are left.
   */
  private static final String TITLE = "(?:[Rr]ev\\.?|[Rr]everend|[Pp]astor|[Rr]abbi|[Ii]mam|[Cc]haplain|[Dd]eacon|[Mm]sgr\\.?"
      + "|[Mm]onsignor|[Ss]ister|[Bb]rother|[Ff]ather|[Aa]ttending|[Ff]ellow|[Rr]esident|[Nn]urse)";
  /** A cheap scan for a title, so that the title rule runs only on a text that has one. */
  private static final Pattern TITLE_GATE = Pattern.compile("(?i)\\b(?:rev|reverend|pastor|rabbi|imam|chaplain|deacon|msgr"
      + "|monsignor|sister|brother|father|attending|fellow|resident|nurse)\\b");
  /**
   * Words after a title that say what the person is or does, or a unit, not who: "Attending physician", "Nurse
   * Practitioner", "Fellow note", "Resident Of", "Attending MICU", "Father Alive", "Brother Has". In any case.
   */
  private static final String NOT_A_TITLES_NAME = "(?!(?i:physicians?|practitioners?|note|notes|attestation|statement"
      + "|addendum|manager|navigator|educator|coordinator|supervisor|specialist|anesthetist|midwife|aide|assistant|staff"
      + "|team|service|services|on|of|in|at|to|for|and|or|the|a|an|by|with|call|aware|notified|present|visit|triage|line"
      + "|station|case|care|clinic|hospital|surgeon|surgery|medicine|hospitalist|radiologist|pathologist|intensivist"
      + "|cardiologist|oncologist|signature|sign|signed|agrees|agreed|reviewed|saw|seen|will|is|was|has|had|also|please"
      + "|per|rounds|rounding|review|plan|assessment|progress|evaluation|comments?|input|recommendations?|request"
      + "|requested|consult|consulted|contacted|paged|updated|informed|called|states|reports|said|says|at|bedside|unit"
      + "|ICU|MICU|SICU|CCU|CVICU|NICU|PICU|PACU|ED|ER|OR|PGY\\d?|MD|DO|RN|LPN|CNA|NP|PA|APRN|CNM|CRNA|PT|OT|SLP|STAT|NOTE"
      + "|CALL|TEAM|ON|OFF|NONE|N/A|alive|deceased|living|healthy|well|unknown|died|passed|expired|history|hx|age|aged"
      + "|without|alzheimer'?s?|parkinson'?s?|huntington'?s?|crohn'?s?|hashimoto'?s?|time|day|night|shift|duty"
      + "|general|house|hours|days|years|dr|doctor|mr|mrs|ms|miss|prof"
      // a specialty or its specialist ("Attending Neurologist", "Fellow Endocrinology", "Attending Pediatrics"), and a
      // care team's business ("Nurse Handoff", "Resident Council")
      + "|\\p{L}*(?:ologists?|ology|iatrists?|iatry|icians?|iatrics|(?:ped|orthoped|orthopaed|obstetr)ics)"
      + "|(?:pharmac|therap|dent|intern|nutrition|anesthet|hygien)ists?|dietitians?|emergency|liaison|report|handoff"
      + "|hand-off|staffing|council|medical|surgical|anesthesia|sensitive|education"
      // a teaching team's business ("Resident Supervision, Attending present", "Resident Coverage, Cross-cover": the
      // second review of set 13's rules)
      + "|supervision|coverage|cross-cover)(?![\\p{L}'’-]))";
  /** A word after a name that makes the name an eponym's: "Sister Mary Joseph nodule", "Brother Bell palsy". */
  // a condition's numbered Type, Stage, Grade or Class after the name, capitalized as a heading of its own, is no
  // eponym's ("Sister Mary Type 1"); an eponym's writes it in lower case ("Gleason grade 7")
  // (the eponym's noun on the next line: "No Sister Mary Joseph\nnodule" passed held-out set 12, touched)
  private static final String NOT_AN_EPONYMS_WORD = "(?!(?:[ \\t]++|[ \\t]*+\\r?\\n[ \\t]*+)(?!(?:Type|Stage|Grade|Class|TYPE|STAGE|GRADE|CLASS)[ \\t]++(?:\\d|(?i:[ivx]{1,4}"
      + "|[a-d])(?![\\p{L}\\d])))(?i:nodules?|nodes?|signs?|syndrome|disease|palsy|test|tests"
      + "|maneuver|manoeuvre|criteria|score|scale|classification|class|position|procedure|fracture|reflex|law|triad"
      + "|phenomenon|operation|repair|technique|catheter|tube|drain|stain|pouch|triangle|point|index|rule|type|stage"
      + "|grade)\\b)";

  /** A person's name as written in running text: one to three capitalized words, a middle initial allowed. */
  // not a weekday or a month before its day after the name ("Dr. Szczepanski Tuesday Dec 15 at 10:40" took the day's
  // words into the name and left "15", held-out set 11)
  private static final String PERSON = "(?:" + NAME_WORD + "(?:\\s+[A-Z]\\.)?(?:\\s+(?!(?:Monday|Tuesday|Wednesday|Thursday"
      + "|Friday|Saturday|Sunday)\\b|(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\\.?\\s+(?:\\d|(?:Jan|Feb|Mar|Apr|May|Jun|Jul"
      + "|Aug|Sep|Sept|Oct|Nov|Dec)\\b)|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April"
      + "|June|July|August|September|October|November|December)\\.?\\s+\\d)(?:" + PARTICLES + ")?" + NAME_WORD + "){0,2}"
      + "|[A-Z]['’][A-Z][a-zA-Z'’-]+)";

  // A phone's opening parenthesis is taken only with its closing one: "(508-555-0142)" became
  // "[PHONE_1])", and the answer an unbalanced "(508-555-0142".
  // seven digits together after an area code in parentheses ("(917)5551234" passed a held-out set)
  private static final String PHONE = "(?:\\+1[\\s.-]?)?(?:(?:\\(\\d{3}\\)|\\b\\d{3})[\\s.-]?\\d{3}[\\s.-]\\d{4}|\\(\\d{3}\\) ?\\d{7})\\b";

  /** An age and a sex after a comma ("…, 84M", "…, 71 y/o F"): the gate of the rule of a name before them. */
  private static final Pattern AGE_AND_SEX = Pattern.compile(",[ \\t]*+\\d{1,3}[ \\t]?(?:[yY]|M|F|-year|male|female)");

  private static final List<Rule> PATTERNS = List.of(
      // dashed, spaced ("078 05 1120"), or nine digits behind its label ("SSN 078051120")
      new Rule(IdentifierClass.SSN, Pattern.compile("\\b\\d{3}-\\d{2}-\\d{4}\\b|\\b\\d{3} \\d{2} \\d{4}\\b"
          + "|(?i)\\b(?:SSN|SS#|social security(?:\\s*+(?:no\\.?|number|#))?)\\s*+[:#-]?\\s*+(?<v>\\d{3}[- ]?\\d{2}[- ]?\\d{4})\\b"
          // its last four, masked or said ("xxx-xx-1234", "SSN ending in 1234", "last 4 of SSN 1234"): with a name or
          // a birth date they are the number
          + "|(?<![\\w*])(?:[xX*]{3}-[xX*]{2}-|[xX*]{5})\\d{4}\\b|\\b(?:SSN|SS#|social security(?:\\s++number)?)\\s++(?:ending"
          + "(?:\\s++in)?|last\\s++(?:4|four))\\s*+:?\\s*+\\d{4}\\b|\\blast\\s++(?:4|four)\\s++(?:digits\\s++)?of\\s++(?:the\\s++)?"
          + "(?:SSN|SS#|social security(?:\\s++number)?)\\s*+:?\\s*+\\d{4}\\b")),
      // the local part starts where a run of its characters starts: from every word boundary inside a long run
      // without an @ ("1-1-1-…"), the scan to the run's end made the search quadratic (24 s for 64 KiB)
      // The domain's labels are bounded (a repeated group recurses once a label: "x@a.a.a…" of 64 KiB, which a
      // model's answer of 128 KiB may hold, overflowed the stack, an Error that the output scan's catch of
      // RuntimeException let through, and the failed scan's audit row went unwritten)
      new Rule(IdentifierClass.EMAIL, Pattern.compile("(?<![\\w.+-])[\\w.+-]++@[\\w-]++(?:\\.[\\w-]++){1,16}\\b")),
      // an address spelled out so that no filter reads it ("rosa.a at gmail dot com", "jdoe [at] example [dot] org")
      new Rule(IdentifierClass.EMAIL, Pattern.compile("(?<![\\w.+-])[\\w.+-]{1,64}+" + SPELLED_AT + "[\\w-]{1,63}+(?:"
          + SPELLED_DOT + "[\\w-]{1,63}+){0,3}" + SPELLED_DOT + "(?i:com|org|net|edu|gov|us|info)\\b")),
      // "(at)" or "[at]" with the domain's own dots ("bhollowell(at)centurytel.net"), and an @ with blanks about it and
      // its dots ("kristinH_1979 @ gmail . com"), both of held-out set 9: a bare " at " before a dotted host is a
      // sentence's ("seen at example.com"), and stays the URL rule's; the host begins with a letter ("Temp @ 38.2").
      // A dot has blanks on both sides or on neither: a sentence's end has them after only ("BP 140/90 @ home. US of
      // the abdomen", "seen (at) clinic. Us too", "Meds @ bedtime. Info sheet" were read as addresses)
      new Rule(IdentifierClass.EMAIL, Pattern.compile("(?<![\\w.+-])[\\w.+-]{1,64}+(?:\\s*+(?i:\\[at]|\\(at\\))\\s*+|[ \\t]{1,2}+@[ \\t]{0,2}+"
          + "|[ \\t]{0,2}+@[ \\t]{1,2}+)[A-Za-z][\\w-]{0,62}+(?:" + SPACED_DOT + "[\\w-]{1,63}+){0,3}?" + SPACED_DOT
          + "(?i:com|org|net|edu|gov|us|info)\\b")),
      new Rule(IdentifierClass.URL, Pattern.compile("\\bhttps?://\\S+|\\bwww\\.\\S+"
          // without its scheme, a host of a common top-level domain and perhaps a path ("mychart.example.org/p/66536"):
          // not a mail's domain; a sentence's last stop is not the address's. Its labels bounded: a repeated group
          // recurses once a label, and "a.a.a.…" of 64 KiB overflowed the stack
          + "|(?<![\\w@.-])(?:[A-Za-z0-9-]{1,63}+\\.){1,8}(?i:com|org|net|gov|edu|info|health)(?![\\w-])(?:/[^\\s<>\"]*[^\\s<>\".,;:)])?")),
      new Rule(IdentifierClass.IP, Pattern.compile("\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b")),
      new Rule(IdentifierClass.FAX, Pattern.compile("(?i)\\bfax\\s*+(?:no\\.?|number|#)?\\s*+[:#]?\\s*+(?<v>" + PHONE + ")")),
      // a fax after its short labels ("Fx 4175550166", "F: 573/555-0121" passed held-out set 9): ten digits run together
      // or with a slash after the area code, which no label-less rule takes (a bare ten-digit run is as often an id)
      new Rule(IdentifierClass.FAX, Pattern.compile("(?:\\b(?i:fax|fx)|\\bF(?=:))\\s*+(?:(?i:no\\.?|number|#))?\\s*+[:#]?\\s*+"
          + "(?<v>\\(?[2-9]\\d{2}\\)?/[2-9]\\d{2}-\\d{4}|\\d{10})(?![\\w/-])")),
      // a number with a slash after its area code ("573/555-0121"), a way a form prints one; an area code and an exchange
      // begin with 2 to 9, as North American numbers do ("Platelets 150/400-1000" is a value and its range)
      new Rule(IdentifierClass.PHONE, Pattern.compile("(?<![\\w/.-])[2-9]\\d{2}/[2-9]\\d{2}-\\d{4}(?![\\w/-])")),
      new Rule(IdentifierClass.PHONE, Pattern.compile(PHONE)),
      // "MR# 4471123", "old chart # 55-3321", "chart no. 8812": a record number as notes write it in running text
      new Rule(IdentifierClass.MRN, Pattern.compile(labelled("MRN|medical record(?: number)?|MR\\s*+(?:#|no\\.?(?=\\s*+\\d))"
          + "|chart\\s*+(?:#|no\\.?|number)", 4))),
      new Rule(IdentifierClass.HEALTH_PLAN, Pattern.compile(labelled(
          "(?:member|policy|plan|subscriber|beneficiary|insurance|insurer|medicaid|medicare)\\s*+(?:id|no\\.?|number|#)", 4))),
      // a policy's number after the bare word ("carrier policy MEM 0093 1128" passed held-out set 8): six characters
      // or more with a digit, or letters and groups of digits ("policy 2 of 3", "policy reviewed" have none)
      // Not an institution's policy ("per hospital policy NUR-12-045", "unit policy 2019-04" name a document, found by
      // the review of the session's rules), nor a number of a year and its count ("Policy 2019-04 on visitors")
      new Rule(IdentifierClass.HEALTH_PLAN, Pattern.compile(labelled("(?<!(?:per|hospital|facility|institutional|unit|clinic"
          + "|nursing|department|departmental|visitor|visitation|restraint|isolation|our)\\s)policy", 6)),
          (text, start, end) -> !Detectors.YEAR_AND_COUNT.matcher(text).region(start, end).matches()),
      // a Medicare beneficiary identifier after its abbreviation ("MBI 1EG4-TE5-MK73" passed a held-out set)
      new Rule(IdentifierClass.HEALTH_PLAN, Pattern.compile(labelled("(?-i:MBI)", 4))),
      // a Medicaid client's number ("MO HealthNet DCN 11849270" passed held-out set 8)
      new Rule(IdentifierClass.HEALTH_PLAN, Pattern.compile(labelled("(?-i:DCN)|medicaid\\s++(?:client\\s++)?(?:id|#)", 5))),
      // an EMS run's number ("Incident 2026-118734", "PCR # 55812", "Run # 4471"): one patient's call
      // (a patient care report's only with its number sign: "HIV-1 PCR 24000 copies/mL" is a viral load, no number)
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("incident(?:\\s*+(?:#|no\\.?|number))?|(?-i:PCR)\\s*+#"
          + "|run\\s*+(?:#|no\\.|number)", 5))),
      // a prescription's and a specimen's number ("Rx # 6543210", "Accession S24-12345", "Accession No. SP-25-004821"):
      // a number of one patient's order or specimen; "Rx 2 tabs" has no number sign and stays
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("(?-i:Rx|RX)\\s*+(?:#|no\\.|number)|prescription\\s*+(?:#|no\\.?"
          + "|number)|accession(?:\\s*+(?:#|no\\.?|number))?|specimen(?:\\s*+(?:#|no\\.?|number|id))?", 5))),
      // a device's unique identifier as GS1 prints it ("(01)00888480590910(17)290630(10)4K27H" passed held-out set 9):
      // the device identifier after "(01)", then its production identifiers, each after its application identifier
      new Rule(IdentifierClass.DEVICE, Pattern.compile("\\(01\\)\\d{14}(?:\\((?:10|11|17|21|240|30)\\)[A-Za-z0-9-]{1,20}+){0,5}+")),
      // a record's number of letters then groups of digits with dashes ("JU-2025-00471", "APS-26-03318", "CB26-00817"
      // passed held-out sets 8 and 9 without a label): a court order's, a report's, a specimen's. Six digits or more in
      // two groups; a test's or a code's name has one short group ("COVID-19", "CA-125", "ICD-10", "L4-5")
      // Not a batch's lot, a form's, a protocol's or a trial's number, nor a standard's ("Lot FK-5127-033", "form
      // VA-21-4138", "IRB-2024-0137", "NCT-0412-3456", "ISO-1099-2018", found by the review of the session's rules): none
      // is one person's
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?<![\\w/.-])(?<!(?i:\\blot|\\bform|\\bprotocol|\\btrial|\\bstudy)"
          + "(?:[ \\t]{0,2}(?:#|no\\.?|number))?[ \\t]{0,2}[:#]?[ \\t]{0,2})(?!(?:IRB|NCT|ISO|IEC|ANSI|ASTM|AAMI|CLSI|USP|EN|DIN)-?\\d)"
          + "(?<v>[A-Z]{1,4}+-?\\d{2,4}+-\\d{3,8}+)(?![\\w/-]|\\.\\d)"),
          Detectors::sixDigitsOrMore),
      // a number after "Rx" with no number sign, six digits or more ("Rx 6603518" passed held-out set 14): a dose's count
      // after "Rx" is short ("Rx 2 tabs", "Rx 500 mg"); a number of a patient's kind after "patient ID" and a banked
      // sample's ("Home monitor patient ID AC-77120459", "sample SP-0412-TY frozen": held-out set 14), four digits at
      // least ("sample COVID-19 negative", "sample 24 h urine" are none)
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("(?-i:Rx|RX)(?=\\s*+\\d{6})|(?:patient|pt\\.?)\\s*+(?:id|#)"
          + "|sample(?:\\s*+(?:id|#|no\\.?|number))?", 5)),
          (text, start, end) -> digits(text, start, end) >= 4 && notACountBeforeItsUnit(text, start, end)),
      // a blood unit's donation number in ISBT 128's shape, a facility's letter and four digits, the year's two and a
      // serial's six ("unit W0368 26 118844" passed held-out set 15): one donor's donation, whoever wrote it
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?<![\\w/.-])(?<!(?i:\\b(?:lot|kit|ref|cat|catalog|model|batch|exp)(?:[ \\t]{1,2}(?:number|num|no\\.?))?)[ \\t#:]{1,3})"
          // (not a product's lot or a kit's number of that shape: the attack on set 15's rules; nor after "Lot number",
          // "Lot no.", "Batch", "Lot/Exp": the review of them)
          + "(?-i:[A-Z])\\d{4}[ \\t]?\\d{2}[ \\t]?\\d{6}(?![\\w/-]|\\.\\d)")),
      // a patient's band's number, and a case's number after the bare word ("Typenex band ZX-884120", "protection
      // order, case 23-2-04418-7" passed held-out set 15): five digits at least, as "band 10%" and "case 2 of 3" are no
      // one's
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("(?:(?:id|wrist|arm|blood|typenex|patient|allergy)[ \\t]*+)?"
          + "band(?:\\s*+(?:#|no\\.?|number))?|case", 6)),
          (text, start, end) -> digits(text, start, end) >= 5 && notACountBeforeItsUnit(text, start, end)
              && !YEAR_RANGE.matcher(text).region(start, end).matches() && !aRangeOrARate(text, start, end)),
      // a detainee's number in a jail or a prison, and a WIC participant's ("Inmate no. 4471-0082", "WIC no. 0029184471"
      // passed held-out set 13): one person's number in a register
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("(?:inmate|detainee|offender|prisoner|booking|jail|DOC"
          + "|(?-i:WIC))\\s*+(?:id|#|no\\.?|number)", 4))),
      // an employee's or a badge's number ("employee E-20417")
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("employee(?:\\s*+(?:id|#|no\\.?|number))?|badge(?:\\s*+(?:id|#"
          + "|no\\.?|number))?", 5))),
      // a pager's number, however short the hospital's ("Pager 4-1234", "pgr 51234")
      new Rule(IdentifierClass.PHONE, Pattern.compile("(?i)\\b(?:pager|pgr|beeper)(?:\\s*+(?:#|no\\.?|number))?\\s*+[:#]?\\s*+"
          + "(?<v>\\d[\\d-]{3,11}+)(?<!-)\\b")),
      // a visit's or a bill's number: "CSN 212201062", "FIN 88123456", "encounter # 4471", "HAR 55123"
      new Rule(IdentifierClass.ACCOUNT, Pattern.compile(labelled("(?:account|acct)(?:\\s*+(?:no\\.?|number|#))?|(?-i:CSN|FIN|HAR)"
          + "|(?:encounter|visit|billing)\\s*+(?:#|no\\.?|number|id)", 4))),
      // a driver's licence as notes write it: "DL# J7469501", "driver's lic IL D123-4567-8901" (the state's code left)
      new Rule(IdentifierClass.LICENSE, Pattern.compile(labelled("(?:(?:driver'?s?\\s++)?licen[cs]e|certificate|DEA|NPI"
          + "|(?-i:D/?L)|driver'?s?\\s++lic\\.?)(?:\\s*+(?:no\\.?|number|#))?(?:\\s*+[:#-]?\\s*+(?-i:[A-Z]{2})(?=\\s++[A-Z0-9-]*\\d))?", 5))),
      // a commercial driver's licence and a medical examiner's registry number ("CDL D4417-20583-11", "National Registry
      // no. 3349187520" passed held-out set 14): one person's licence; "registry" needs its number's word, as "tumor
      // registry 2019" is no one's
      new Rule(IdentifierClass.LICENSE, Pattern.compile(labelled("(?-i:CDL)(?:\\s*+(?:no\\.?|number|#))?"
          + "|registry\\s*+(?:no\\.?|number|#|id)", 6)),
          (text, start, end) -> digits(text, start, end) >= 6 && notACountBeforeItsUnit(text, start, end)),
      // a passport's number ("Passport 568214937" passed held-out set 12): one person's document; six digits at least
      // ("vaccine passport COVID-19" is none)
      new Rule(IdentifierClass.LICENSE, Pattern.compile(labelled("passport(?:\\s*+(?:no\\.?|number|#))?", 6)),
          (text, start, end) -> digits(text, start, end) >= 6),
      // a driver's licence's number in a bracket after the words ("her driver's license (F118204557)" passed held-out
      // set 12): up to three letters, then digits (six at least) to the bracket's end
      new Rule(IdentifierClass.LICENSE, Pattern.compile("(?i)\\bdriver'?s?\\s++licen[cs]e(?:\\s*+(?:no\\.?|number|#))?\\s*+\\("
          + "\\s*+(?<v>(?-i:[A-Z]{0,3}+)\\d[\\d-]{5,15}+)\\s*+\\)")),
      new Rule(IdentifierClass.DEVICE, Pattern.compile(labelled("(?:serial|device|implant)(?:\\s*+(?:id|no\\.?|number|#|sn|s/n))?"
          + "|s/n|sn(?=\\s*+[:#])|(?-i:SN)(?=\\s++[A-Z0-9-]*\\d)(?!\\s++\\d{1,2}+[Ww]\\d{1,2}+\\b)", 5))),
      // a plate after its state's code ("License plate RI 7GH-221" passed: "RI" was taken for the value)
      new Rule(IdentifierClass.VEHICLE, Pattern.compile(labelled("VIN|(?:licen[cs]e\\s++)?plate(?:\\s*+(?:no\\.?|number|#))?"
          + "(?:\\s*+[:#-]?\\s*+(?-i:[A-Z]{2})(?=\\s++[A-Z0-9-]*\\d))?"
          + "|vehicle(?:\\s*+(?:id|no\\.?|number|plate|#))?|registration(?:\\s*+(?:no\\.?|number|#))?"
          // a plate called its tag, with a number sign or "no." ("tag # VXZ-8933"): "skin tag #2" is too short
          + "|(?:licen[cs]e\\s++)?tag\\s*+(?:#|no\\.?|number)", 5)),
          // not a spine's levels or a lab's wells after "plate" ("Anterior plate C5-C6", "Plate A1-H12": the review of
          // set 11's rules)
          (text, start, end) -> !NOT_A_PLATES_NUMBER.matcher(text.substring(start, end)).matches()),
      // a relative or contact named after the relation ("daughter Jane Doe", "wife Gertrude"): Safe Harbor's
      // names of relatives; a colon after the relation is family history ("Mother: Diabetes"), not a name
      // ("daughter-in-law Keisha", "stepson Marcus" passed: the relation was only the plain word)
      // People of the household and around it count too ("neighbor Bob Jenkins", "roommate Sam"); after a
      // possessive the name may follow a comma ("her sister, Maria"), which a family history's list
      // ("Sister, Breast cancer") has no possessive before
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:" + RELATION + "|emergency contact|next of kin))"
          + "\\s+(?i:named\\s+|is\\s+)?" + NOT_A_RELATIVES_NAME + "(?<v>(?>" + NAME_AFTER_CUE + "))" + NOT_AN_EPONYMS_WORD),
          Detectors::aRelativesName),
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:her|his|their|pt'?s|patient'?s)\\s+(?:" + RELATION + "))"
          + ",\\s*" + NOT_A_RELATIVES_NAME + "(?<v>" + NAME_AFTER_CUE + ")"), Detectors::notAFamilyHistorysCondition),
      // a relative's name in parentheses after the relation ("granddaughter (Emily) visits")
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:" + RELATION + "))\\s*+\\(\\s*+" + NOT_A_RELATIVES_NAME
          + "(?<v>" + NAME_AFTER_CUE + ")\\s*+\\)"), Detectors::notAFamilyHistorysCondition),
      // a name after the label of a proxy, a contact or a letter's addressee ("HCP: Jean-Baptiste Moreau", "attn: Kathy");
      // not a relation, a service or a word for none ("HCP: Daughter", "Attn: Medical Records", "POA: None")
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:HCP|HCPOA|POA|MPOA|health\\s*+care\\s++proxy|healthcare\\s++proxy"
          + "|surrogate|power\\s++of\\s++attorney|emergency\\s++contact|next\\s++of\\s++kin|NOK|attn|attention))\\s*+[:-]\\s*+"
          + "(?!(?i:" + RELATION + "|none|not|no|unknown|self|patient|pt|n/a|na|medical|billing|records|nursing|pharmacy|clinic"
          + "|department|dept|office|team|provider|physician|doctor|dr|nurse|case|social|care|front|desk|staff)(?![\\p{L}'’-]))"
          + "(?<v>" + NAME_AFTER_CUE + ")")),
      // the patient's name after its label, family first ("Pt. name: Achterberg-Nwosu, Rosalind", "Patient:
      // Delacroix-Haines, Margaret" passed two held-out sets); not a state's words ("Patient: Alert, Oriented")
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:patient(?:'s)?\\s++name|pt\\.?\\s*+name|patient|pt\\.?|name))"
          + "\\s*+:\\s*+(?!(?i:alert|awake|stable|oriented|calm|pleasant|afebrile|comfortable|sleeping|resting|lethargic"
          + "|confused|agitated|ambulatory|unknown|none)(?![\\p{L}'’-]))(?<v>" + NAME_WORD + ",[ \\t]*+" + NAME_WORD
          + "(?:[ \\t]++[A-Z]\\.?(?![\\p{L}]))?)")),
      // a relative's name between commas before what the relative does ("Son, Jamal, at bedside"), or after a colon
      // before a way to reach them ("Wife: Guadalupe (cell 312-555-0101)"): a family history's "Mother: Diabetes" and
      // "Mother, Diabetes, HTN" have neither
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:" + RELATION + "))(?:[ \\t]*+,[ \\t]*+" + NOT_A_RELATIVES_NAME
          + "(?<v>" + NAME_AFTER_CUE + "),(?=[ \\t]*+(?i:at\\s++(?:the\\s++)?bedside|is|was|will|who|called|calls|visiting|visited"
          + "|present|here|brought|drove|says|states|reports|agrees|asks|lives|wants)\\b)|[ \\t]*+:[ \\t]*+" + NOT_A_RELATIVES_NAME
          + "(?<w>" + NAME_AFTER_CUE + ")(?=[ \\t]*+[,;(]?[ \\t]*+(?:(?i:cell|phone|tel|mobile|home|work|ph|c|h)\\b[.:]?[ \\t]*+)?"
          + "\\(?\\d{3}\\)?[\\s.-]?\\d{3}[\\s.-]?\\d{4}|[ \\t]++(?i:at\\s++(?:the\\s++)?bedside|is\\s++(?:the\\s++)?(?:HCP|POA"
          + "|contact|proxy)|will)\\b))")),
      // a caller by name ("Caller Yusuf Demir (brother-in-law)", "call from Maria Lopez"); not who a caller is
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:caller|call\\s++from|called\\s++by|message\\s++from))\\s*+[:-]?"
          + "\\s*+(?!(?i:" + RELATION + "|pt|patient|pharmacy|clinic|office|nurse|doctor|dr|the|a|an|her|his|their|id|states"
          + "|reports|requests|asks|says|insurance|lab|home|hospice|agency|unknown|none)(?![\\p{L}'’-]))(?<v>" + NAME_AFTER_CUE + ")")),
      // a name before its age and sex, as a handoff or a census lists a patient ("Hollis Featherstone, 84M", "Ana
      // Ruiz, 71 y/o F"): two capitalized words, neither a word of a disease ("Down Syndrome, 45F")
      new Rule(IdentifierClass.NAME, Pattern.compile("(?<![\\p{L}'’.-])(?<v>(?!(?i:bed|room|rm|pt|patient|mr|mrs|ms|dr)\\b)"
          + NAME_WORD + "[ \\t]++(?!(?i:disease|syndrome|palsy|scale|score|type|stage|grade|class|sign|test|criteria|index"
          + "|negative|positive|pt|patient|bed|room)\\b)" + NAME_WORD + "),[ \\t]*+\\d{1,3}[ \\t]?(?:(?i:y/?o|yo|yrs?|-year-old)"
          + "[ \\t]?)?(?:M|F|male|female)\\b"), AGE_AND_SEX),
      // a name right before its birth date ("Zoey Kandinsky (DOB 9-Mar-2022)" passed held-out set 9): two or three
      // capitalized words, none a word of a service, a condition or a heading, and none a name that is also an English
      // word unless the first is a given name ("Well Child (DOB …)" names no one)
      new Rule(IdentifierClass.NAME, Pattern.compile("(?<![\\p{L}'’.-])(?<v>" + NAME_WORD + "(?:[ \\t]++" + NAME_WORD + "){1,2}+)"
          + "[ \\t]*+[(,][ \\t]*+(?:DOB|D\\.O\\.B\\.|(?i:date[ \\t]of[ \\t]birth|born))\\b"),
          // and none, unless the dictionary knows it for a name, shaped as an English word is ("Identity Confirmed (DOB
          // and name)", "Two Identifiers (DOB, name)" are a heading's, found by the review of the session's rules)
          (text, start, end) -> noServiceWord(text, start, end) && (PersonNames.isGivenName(
              text.substring(start, end).split("[ \\t]+")[0]) || Arrays.stream(text.substring(start, end).split("[ \\t]+"))
              .noneMatch(PersonNames::isNameWord)) && Arrays.stream(text.substring(start, end).split("[ \\t]+"))
              .noneMatch(Detectors::englishShapedWord)),
      // a sign-off at a message's end ("thanks, Jen", "Sincerely,\nMarcus"): the writer's name
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:thanks|thank\\s++you|thx|sincerely|regards|cheers|respectfully))"
          + "[,!.]?[ \\t]*+\\n?[ \\t]*+(?!(?i:doctor|dr|nurse|team|everyone|all|again|so|for|much|very|in|the)(?![\\p{L}'’-]))"
          + "(?<v>" + NAME_WORD + "(?:[ \\t]++" + NAME_WORD + ")?)(?=[ \\t]*+(?:[.!]?[ \\t]*+(?:\\n|$)|,[ \\t]*+(?:" + DEGREE
          + "|RN|PA)\\b))")),
      // a clinician by a single initial after "Dr." ("RTC w/ Dr. K"), or by initials and a surname ("Dr. J. Okafor" left
      // "J. Okafor" without a degree after it): a person all the same
      // (not a sentence's next word after the initial's period: "Dr. K. Seen today")
      new Rule(IdentifierClass.NAME, Pattern.compile("\\b(?:Dr\\.?\\s+|Doctor\\h+)(?<v>[A-Z]\\.\\s?(?:[A-Z]\\.\\s?)?(?!(?:Dr|Mr|Mrs|Ms"
          + "|Pt|Patient|Seen|Will|The|This|Plan|Per|She|He|They|We|It|Is|Was|Also|And|Called|Please|Rtc|Follow)\\b)" + NAME_WORD
          + "|[A-Z](?=\\.|(?![\\w'’-])))")),
      // a relative's name in lower case before what the relative did ("wife rosa at bedside", "son miguel called"):
      // not an adverb ("wife recently called") or a word of the sentence ("wife also called")
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:" + RELATION + "))\\s++(?!(?:also|then|now|just|still|never|who|has"
          + "|had|is|was|were|will|would|can|could|not|and|or|the|his|her|their|herself|himself|themselves|both|all|today"
          + "|tonight|again|later|first|too|as|at|in|on|to|of|with|by|from|for|present|here|there|called|visited|states"
          + "|reports|says|said|brought|drove|arrived|left|came|agrees|agreed|declined|wants|asked|asks|is|are)\\b)"
          + "(?<v>\\p{Ll}{3,12}+)(?<!ly)(?=\\s++(?:at\\s++(?:the\\s++)?bedside|called|calls|visited|visits|present|here"
          + "|states|stated|reports|reported|says|said|brought|drove|arrived|agrees|agreed|declined|asked|asks)\\b)")),
      // a nickname as a note gives it: 'goes by "Peg"', "prefers to be called Bud", "nicknamed Skip", "a.k.a. Dutch";
      // a name the patient answers to, whoever else has it. Unquoted after "goes by" it is as often a way of going
      // ("goes by Medicaid cab"), and stays.
      new Rule(IdentifierClass.NAME, Pattern.compile("(?i:\\b(?:goes\\s+by|went\\s+by|known\\s+as|called|nicknamed?|a\\.?k\\.?a\\.?)"
          + ")\\s*+:?\\s*+[\"“'‘](?<v>" + NAME_WORD + ")[\"”'’]")),
      // (not "s/p L AKA Stump", an above-knee amputation, nor "Nickname: None": an adversarial review of set 10's rules)
      new Rule(IdentifierClass.NAME, Pattern.compile("(?<!(?i:\\b(?:l|r|lt|rt|left|right|bilateral|bilat|s/p|post))\\s)"
          + "(?i:\\b(?:prefers\\s+to\\s+be\\s+called|likes\\s+to\\s+be\\s+called|nicknamed|nickname\\s*+:?|a\\.k\\.a\\.?|aka))"
          + "\\s++(?!(?i:none|unknown|unk|same|pending|declined|n/a|na|nil)\\b)(?<v>" + NAME_WORD + ")"),
          // nor a condition, a state or a way of travel ("a.k.a. Mono", an over-removal known since set 10)
          (text, start, end) -> !Detectors.NOT_A_NICKNAME.contains(text.substring(start, end).toLowerCase(Locale.ROOT))),
      // a clinician the record does not link to the patient (a note's author, a consultant): a name after
      // a title ("Dr. Priya Raghunathan", "Doctor O'Brien") or before a degree ("J. Okafor, MD")
      // not a brand or a writer called Doctor, alone: "Dr Pepper", "Dr. Scholl's inserts", "Dr. Seuss"
      // ("Doctor" spelled out only before a name on its own line: "Thanks, Doctor" ends a line, and the next
      // line's first word is not a name; "Dr." may wrap)
      new Rule(IdentifierClass.NAME, Pattern.compile("\\b(?:Dr\\.?\\s+|Doctor\\h+)(?!" + NOT_A_DOCTOR + ")(?<v>" + PERSON + ")")),
      // anyone else named with a courtesy title ("Mrs. Gonzalez from next door", "Mr. Abernathy (employer)"):
      // Safe Harbor's names of relatives, employers and household members; the record rarely knows them
      // not a product named so ("Mr. Yuk sticker", a poison warning; "Mr. Clean spray"; held-out set 11)
      new Rule(IdentifierClass.NAME, Pattern.compile("\\b(?:Mrs|Mr|Ms|Miss|Mx)\\.?\\s+(?!Yuk(?![\\p{L}'’-])|Clean(?=\\s++"
          + "(?i:spray|wipes?|cleaner|magic|eraser|products?|bottle)\\b))(?<v>" + PERSON + ")")),
      // a clergy's, a religious' or a care team's title before a name ("Rev. Obadiah Sims", "Pastor Chukwuemeka Obi",
      // "Imam Hussain Qureshi", "Attending WEISSMAN", "Fellow Zhao"): the title stays, each word of the name goes, the
      // name in or out of the names dictionary; not what a title is followed by in a note ("Attending physician",
      // "Nurse Practitioner", "Resident note") nor an eponym ("Sister Mary Joseph nodule"); a word in capitals only
      // after a title that is no relative's, as a family history writes "Father COPD"
      new Rule(IdentifierClass.NAME, Pattern.compile("(?<![\\p{L}'’.-])" + TITLE + "[ \\t]++" + NOT_A_TITLES_NAME + "(?<v>(?>"
          + NAME_AFTER_CUE + ")|(?<!(?i:sister|brother|father)[ \\t]{1,8})\\p{Lu}{2}[\\p{Lu}'’-]{2,30}+(?<=\\p{Lu})"
          + "(?![\\p{L}\\d'’-]))" + NOT_AN_EPONYMS_WORD), TITLE_GATE, Detectors::notAFamilyHistorysConditionAfterATitle),
      // not a service, a unit or a device before a clinician's letters ("Wound Care, RN", "Triage, RN", "Pain Management,
      // MD", "Foley, RN removed" became "[PERSON_1], RN"): see notAServiceBeforeACredential
      new Rule(IdentifierClass.NAME, Pattern.compile("(?<![A-Za-z.'’-])(?<v>" + PERSON + "|[A-Z]\\.\\s?[A-Z][a-zA-Z'’-]+)"
          + ",\\s*(?:" + DEGREE + "|PA|RN)\\b"), Detectors::notAServiceBeforeACredential),
      // a street line of any address, known or not: a number, up to three capitalized words, a street type
      // with a direction before the name ("45 W. Pembroke Ave" passed: "W." is no capitalized word)
      // A numbered street ("55 W 4th St") and the unit after the street ("Apt 3B", ", Unit 12", "Suite 200",
      // "#2R") belong to it: both passed as written. A post office box is the address of one person too.
      // the unit before the street too ("Apt 4B, 221 Baker St" left "Apt 4B")
      new Rule(IdentifierClass.ADDRESS, Pattern.compile("(?:(?<![\\w#])(?i:Apt|Apartment|Unit|Suite|Ste)\\.?\\s*+#?\\s*+[A-Z0-9-]{1,6},?\\s++)?"
          + "\\b\\d{1,6}\\s+(?:[NSEW]\\.?\\s+|(?:[NS][EW])\\.?\\s+)?"
          + "(?:(?:[A-Z][a-zA-Z'’-]+|\\d{1,3}(?:st|nd|rd|th))\\s+){1,3}"
          + "(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Boulevard|Blvd|Court|Ct|Place|Terrace|Way|Circle|Parkway|"
          + "Pkwy|Highway|Hwy)(?![A-Za-z])" // an abbreviation's period is left: it may end the sentence
          // the unit in any case ("Prairie Ave apt 10" left "apt 10")
          + "(?:\\.?,?\\s*(?:(?i:Apt|Apartment|Unit|Suite|Ste|Lot|Trlr|Bldg)\\.?\\s*#?|#)\\s*[A-Z0-9-]{1,6}\\b)?"
          + "|(?i:\\bP\\.?\\s?O\\.?\\s+Box\\s+\\d{1,6}\\b)")),
      // an employer ("works at Acme Widgets Inc."): with the name, it narrows a patient to a few people
      // ("[ID_1]" told the model nothing; the period of an abbreviation is the name's, a sentence's is not:
      // "works for Cook County Health." lost its full stop)
      // with the job between ("works as a cashier at Fry's"), and "the" before the name; a store's "No. 12" after
      // the name is its number (addStoreNumbers), not a word of the name
      // (and a job's place: "return to his job at Leggett & Platt" passed held-out set 13)
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?i:\\b(?:works|worked|working|employed|employee|(?:his|her|their"
          + "|my|a|the|new|old|former|current|day|night)\\s+job)"
          // when ("works nights at Royal Oak Charcoal" passed held-out set 8)
          + "(?:\\s+(?:nights|days|evenings|weekends|overnights|part[- ]time|full[- ]time|(?:1st|2nd|3rd|first|second"
          + "|third|night|day|swing|late)\\s+shift))?"
          + "(?:\\s+as\\s+(?:an?\\s+)?[a-z]+(?:\\s+[a-z]+)?)?\\s+(?:at|for|by)(?:\\s+the)?)\\s+(?<v>[A-Z][\\w&'’-]*(?:\\s+(?:&\\s+)?(?!No\\.\\s*#?\\d)[A-Z][\\w&'’-]*){0,4}"
          + "(?:(?<=\\b(?:Inc|Co|Corp|Ltd|Bros|Assn|Intl))\\.)?)"), EMPLOYER, null, Detectors::namesAWorkplace),
      // who a driver or a courier works for ("drives for Uber", "delivers for DoorDash"); not "drove by" or "drives at"
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?i:\\b(?:drives|drove|driving|delivers|delivered|delivering)"
          + "(?:\\s+(?:a\\s+)?(?:truck|bus|cab|taxi|van))?\\s+for(?:\\s+the)?)\\s+(?<v>[A-Z][\\w&'’-]*(?:\\s+(?:&\\s+)?"
          + "[A-Z][\\w&'’-]*){0,3})"), EMPLOYER),
      // after a label ("Employer: Riverside Casino") or "retired from" (not "the": "retired from the Navy"), and not
      // the services and the armed forces, which employ too many to narrow anyone down
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?:(?i:\\b(?:employer|place\\s+of\\s+employment|occupation/employer))"
          + "\\s*+[:-]\\s*+|(?i:\\b(?:retired|laid\\s+off|fired|resigned)\\s+from)\\s++)(?!(?:Navy|Army|Air\\s+Force|Marines?"
          + "|Marine\\s+Corps|Coast\\s+Guard|National\\s+Guard|Military|USPS|Post\\s+Office|VA|None|N/A|Unemployed|Disabled"
          + "|Retired|Self)\\b)(?<v>[A-Z][\\w&'’-]*(?:\\s+(?:&\\s+)?(?!No\\.\\s*#?\\d)[A-Z][\\w&'’-]*){0,4}"
          + "(?:(?<=\\b(?:Inc|Co|Corp|Ltd|Bros|Assn|Intl))\\.)?)"), EMPLOYER),
      // a user name or a handle ("username: jdoe", "user id jdoe42", "login jsmith", "@jdoe42"): an account of one
      // person on a portal or a network, Safe Harbor's "any other unique identifying number, characteristic or
      // code"; its word left in the text. A handle alone needs a digit, an underscore or a dot ("@rest", "@home",
      // "@HS" are how notes write "at"), or a word before it that says whose it is ("twitter @jdoe")
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?i:\\b(?:user[ -]?(?:name|id)|login(?:[ -]?(?:id|name))?|log-in"
          + "|screen[ -]?name|account[ -]?name|gamertag|(?:handle|twitter|instagram|tiktok|snapchat|facebook|ig)(?=\\s*+(?:is\\s++)?:?\\s*+@))"
          + "(?:\\s++(?:is|was)\\b)?\\s*+[:=#-]?\\s*+)(?<v>@?(?!(?i:" + NOT_A_USER + ")(?![\\w.-]))[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}"
          + "[A-Za-z0-9_])|(?<![\\w.@+-])@(?=[A-Za-z0-9_.]*[0-9_.][A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_.]{0,29}[A-Za-z0-9_]"),
          USERNAME),
      // a handle after the bare word "user" ("video doses through emocha, user alam.pereira96" passed held-out set 15):
      // four characters at least, a lower-case letter and a digit or a dot or an underscore inside ("IV drug user x2",
      // "tobacco user, 1 ppd", "CPAP user nightly" hold none)
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?<![\\w.-])(?i:user)[ \\t]*+[:=]?[ \\t]*+(?![vV]\\d)(?<v>(?=[A-Za-z0-9_.-]{0,32}?[a-z])"
          + "(?=[A-Za-z0-9_-]{0,32}?(?:\\d|[._][A-Za-z0-9]))(?!" + NOT_A_USERS_HANDLE + ")[A-Za-z][A-Za-z0-9_.-]{2,30}"
          + "[A-Za-z0-9])(?![\\w@-])"), USERNAME),
      // the words a tattoo reads ("Tattoo \"MARISOL\" on the left forearm" passed held-out set 15, "KAYLEIGH" set 13): a
      // name or a date most often, and a mark no one else has, Safe Harbor's "unique identifying characteristic"
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?i:\\btattoo(?:s|ed)?\\b)[^\"“\\n.;]{0,40}+[\"“](?<v>[\\p{Lu}\\p{N}][^\"”\\n]{1,40}+)[\"”]"),
          // (words in capitals or capitalized, a name's or a date's: the patient's own words in quotes, "healed well",
          // "3 sessions left", are none: the attack on set 15's rules)
          Detectors::aTattoosMark),
      // a name in capitals, family first, after the word of the one a note is about ("Recipient LARKSPUR, ODED" passed
      // held-out set 15): four letters and a vowel in each word, as "Recipient ABO, RH" and "Donor CMV, EBV" are tests
      new Rule(IdentifierClass.NAME, Pattern.compile("\\b(?i:recipient|donor|decedent|client|resident|examinee)[ \\t]*+:?[ \\t]*+"
          + "(?<v>(?=[B-DF-HJ-NP-TV-Z]*+[AEIOUY])[A-Z]{4,}+(?:['’-][A-Z]{2,}+)?,[ \\t]*+(?=[B-DF-HJ-NP-TV-Z]*+[AEIOUY])[A-Z]{4,}+)"
          + "(?![\\p{L}\\p{N}])"), Detectors::notABloodBanksWords),
      // a landmark by its name and its kind after a word of place ("from the Narrows Bridge walkway", "the fish stall at
      // Lexington Market" passed held-out set 15): where the patient was, a place smaller than a state. A bridge of
      // a dentist's or an anticoagulant's ("the Maryland Bridge", "a Lovenox Bridge") and a market of money are none
      new Rule(IdentifierClass.ADDRESS, Pattern.compile("(?<=\\b(?i:the|at|from|on|near|off|under|by|to)\\s)(?!(?:Maryland|Dental"
          + "|Lovenox|Heparin|Warfarin|Insulin|Nasal|Stock|Black|Open|Free|Job|Housing|Health|Insurance)\\b)"
          + "\\p{Lu}\\p{Ll}{2,20}+[ \\t]++(?:Bridge|Market|Mall|Plaza|Pier|Wharf|Boardwalk|Marina|Stadium|Arena)(?![\\p{L}\\p{N}])"),
          Detectors::aLandmarksName),
      // a store's number beside its name ("Walgreens #4521", "CVS store 1234", "pharmacy #12"): it names one shop,
      // and so the street it stands in (a facility, like a pharmacy by name; one by name takes its number in
      // addFacilities)
      new Rule(IdentifierClass.FACILITY, Pattern.compile("(?<![A-Za-z])(?:(?:" + CHAINS + "|" + TARGET + ")(?:\\s++(?:Pharmacy|Drugs?"
          + "|Drugstore|Store|Supercenter|Neighborhood Market))?\\s*+(?:(?i:store|branch|location|loc|pharmacy|no\\.?|number)"
          + "\\s*+#?\\s*+|#\\s*+)|(?i:\\b(?:pharmacy|drugstore|drug store|store|branch))\\s*+(?:#|(?i:no\\.|number)\\s*+#?)\\s*+)"
          + "\\d{1,6}\\b")),
      // a town before a state's code and a ZIP code, as an address writes it ("Tempe AZ 85281"): the
      // record's own city is known, another (a laboratory's, a hospital's) was left beside its ZIP token
      new Rule(IdentifierClass.CITY, Pattern.compile("(?<![A-Za-z])(?<v>[A-Z][a-z]+(?:\\s+[A-Z][a-z]+){0,2}),?\\s+"
          + "(?=[A-Z]{2}\\s+\\d{5}(?:-\\d{4})?\\b)")),
      new Rule(IdentifierClass.ZIP, Pattern.compile("(?<=\\b[A-Z]{2}\\s)\\d{5}(?:-\\d{4})?\\b|(?i)(?<=zip:?\\s)\\d{5}(?:-\\d{4})?\\b")),
      // the code of a home's lockbox, keypad, door or gate ("key in the lockbox, code 4471" passed a held-out set): it
      // opens one home; a code alone ("Code 44 called", "ICD code 4471") has no such word before it
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile("(?i:\\b(?:lock\\s?box|key\\s?box|key\\s?safe|keypad|door|gate"
          + "|garage|alarm|entry|building)\\b[^\\n.;]{0,24}?\\b(?:code|combo|combination|pin)(?:\\s++is)?)\\s*+[:#]?\\s*+"
          + "(?<v>\\d{3,8}+)\\b")),
      // a case's, a claim's or an authorization's reference ("Case ref SW-2291-44" passed a held-out set): one file of
      // one patient; "ref range 15-150" has no case, claim or number sign before it
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("case\\s*+(?:ref(?:erence)?\\.?|no\\.?|number|#|id)"
          + "|claim\\s*+(?:no\\.?|number|#|id)?|(?:reference|ref\\.?)\\s*+(?:no\\.|number|#)|auth(?:orization)?\\s*+"
          + "(?:no\\.?|number|#|id)|confirmation\\s*+(?:no\\.?|number|#)", 5))),
      // a requisition's number, a confirmation's without "#", a biometric's ("Test requisition MYR-77104-KT", "confirmation
      // MTM-5528170" passed held-out set 11, "biometric ID PV-0083317" set 10): one patient's order, ride or scan; Safe
      // Harbor's sixteenth element is a biometric identifier
      new Rule(IdentifierClass.OTHER_ID, Pattern.compile(labelled("requisition(?:\\s*+(?:#|no\\.?|number|id))?|confirmation"
          + "|biometric\\s*+(?:id|no\\.?|number|#)|(?:palm[- ]?vein|fingerprint|iris)\\s*+(?:scan\\s*+)?id", 5)),
          // four digits at least: a test, a gene or a germ after the word is no number ("Confirmation of COVID-19",
          // "confirmation of BRCA2 variant", "Lab requisition: HbA1c", "Requisition CMP-14": the review of set 11's rules)
          (text, start, end) -> digits(text, start, end) >= 4),
      // a member's number after the bare word ("Delta Dental member DDM 4471 0092 18" passed set 10, "member TH 80412 557"
      // set 11): a plan's card; "family member 2" and "member of the team" have no such value
      new Rule(IdentifierClass.HEALTH_PLAN, Pattern.compile(labelled("(?<!(?i:family|team|staff|board|care[ \\t]team)\\s)member",
          6)),
          // (four digits at least: "Household member COVID-19 positive", the review of set 11's rules)
          (text, start, end) -> digits(text, start, end) >= 4),
      // a plate or a tag's number with a blank in it ("plate 4HJ 762" passed set 11, "tag 9KX R42" set 10): letters and
      // digits both, in capitals; "skin tag 2x3 cm", "growth plate", "end plate L4 L5" (a spine's levels) stay
      new Rule(IdentifierClass.VEHICLE, Pattern.compile("(?i:\\b(?<!(?:skin|end|growth|cribriform|tarsal|volar|locking|bone"
          + "|motor|nail|dental|palatal|cortical|epiphyseal)[ \\t])(?:licen[cs]e[ \\t]++)?(?:plate|tag)s?(?:[ \\t]*+(?:#|no\\.?|number))?)"
          // (the number wrapped to the next line: "plate\nXR7 K2P" passed held-out set 12)
          + "(?:[ \\t]*+\\r?\\n)?[ \\t]*+[:#]?[ \\t]*+(?:(?-i:[A-Z]{2})[ \\t]++(?=[A-Z0-9]{2,4}+[ -]))?"
          + "(?<v>(?-i:(?![CTLS]\\d{1,2}+\\b)[A-Z0-9]{2,4}+[ -][A-Z0-9]{2,4}+))(?![\\w-])"),
          // letters and digits both, six or more with the blank: "Plate A1 B2" (a lab's wells), "plate LC-DCP 4.5" (a
          // plate's kind) stay (the review of the session's rules)
          (text, start, end) -> end - start >= 6 && text.substring(start, end).chars().anyMatch(Character::isDigit)
              && text.substring(start, end).chars().anyMatch(Character::isLetter)
              && !NOT_A_PLATES_NUMBER.matcher(text.substring(start, end)).matches()),
      // a device's serials after a side ("serials L 2219H0KX4 and R 2219H0KX9" passed held-out set 11: a pair of hearing
      // aids): letters and digits both, six or more, after "serial(s)" and a side's letter, or after "and" and the other
      new Rule(IdentifierClass.DEVICE, Pattern.compile("(?:(?i:\\bserials?(?:[ \\t]*+(?:#|nos?\\.?|numbers?))?[ \\t]*+[:#]?)"
          + "|(?-i:\\b(?:and|&))|[,;])[ \\t]*+(?-i:L|R|left|right|Left|Right)[ \\t:]++"
          + "(?<v>(?=[A-Z0-9-]{0,20}?\\d)(?=[0-9-]{0,20}?[A-Z])[A-Z0-9][A-Z0-9-]{5,20}+)(?![\\w-])"),
          Pattern.compile("(?i)serial"),
          // three digits at least: a grade after a side is no serial ("Serial ultrasounds, R TIRADS-3 nodule": the
          // review of set 11's rules)
          (text, start, end) -> digits(text, start, end) >= 3),
      // a church named by its denomination after "First" ("the loop at First Baptist of Nixa" passed held-out set 11):
      // with its town, a congregation of a few hundred
      new Rule(IdentifierClass.FACILITY, Pattern.compile("\\bFirst[ \\t]++(?:United[ \\t]++)?(?:Baptist|Methodist|Presbyterian"
          + "|Christian|Lutheran|Congregational|Nazarene|Pentecostal|Episcopal|Reformed|Assembly[ \\t]++of[ \\t]++God"
          + "|Church[ \\t]++of[ \\t]++(?:God|Christ|the[ \\t]++Nazarene))(?:[ \\t]++Church)?(?:[ \\t]++of[ \\t]++\\p{Lu}\\p{Ll}{2,20}+"
          + "(?:[ \\t]\\p{Lu}\\p{Ll}{2,20}+)?)?(?![\\p{L}'’-])")),
      // a congregation called a fellowship or a tabernacle by its name, with its town ("a team from Grace Fellowship of
      // Ozark" passed held-out set 12): "Sports Medicine Fellowship" is training, and has no such name before it
      new Rule(IdentifierClass.FACILITY, Pattern.compile("\\b(?:Grace|Faith|Hope|Calvary|Cornerstone|Bible|Christian|Victory"
          + "|Harvest|Living[ \\t]++Word|New[ \\t]++Life|New[ \\t]++Hope|Word[ \\t]++of[ \\t]++Life|Gospel|Community[ \\t]++Bible"
          + "|Covenant|Redemption|Lighthouse|Journey)[ \\t]++(?:Fellowship|Tabernacle)(?:[ \\t]++Church)?(?:[ \\t]++of[ \\t]++"
          + "\\p{Lu}\\p{Ll}{2,20}+(?:[ \\t]\\p{Lu}\\p{Ll}{2,20}+)?)?(?![\\p{L}'’-])")),
      // a numbered road ("from the Shell station on Route 9" passed a held-out set): with the town, a place smaller
      // than a state; "Route: PO" is a drug's and has no number
      // (with its house number and a direction before it: "4410 S Farm Road 141" passed held-out set 13)
      new Rule(IdentifierClass.ADDRESS, Pattern.compile("(?:\\b\\d{1,6}[ \\t]++(?:[NSEW]\\.?[ \\t]++)?)?"
          + "\\b(?:Route|Rte\\.?|State\\s++Route|County\\s++(?:Road|Rd\\.?)"
          + "|Farm\\s++(?:to\\s++Market\\s++)?Road|Township\\s++Road)\\s++\\d{1,4}+[A-Z]?\\b")));

  /** How a social security number is written: 3, 2 and 4 digits, dashed or spaced. */
  private static final Pattern SSN_SHAPE = Pattern.compile("\\d{3}[- ]\\d{2}[- ]\\d{4}");

  private Detectors() {}

  static List<Span> find(String text, KnownIdentifiers known) {
    List<Span> spans = new ArrayList<>();
    // each form of a known name, and each family name, with the people (identities) whose names take it
    Map<String, java.util.Set<String>> owners = new java.util.HashMap<>();
    Map<String, java.util.Set<String>> families = new java.util.HashMap<>();
    Map<KnownIdentifiers.Name, List<String>> variantsOf = new java.util.HashMap<>();
    for (KnownIdentifiers.Name m : known.names()) {
      String identity = identity(m);
      variantsOf.put(m, nameVariants(m));
      for (String variant : variantsOf.get(m)) {
        owners.computeIfAbsent(TokenMap.normalize(variant), k -> new java.util.HashSet<>()).add(identity);
      }
      if (m.family() != null) {
        families.computeIfAbsent(TokenMap.normalize(m.family()), k -> new java.util.HashSet<>()).add(identity);
      }
    }
    for (KnownIdentifiers.Name n : known.names()) {
      String prefix = prefix(n);
      String identity = identity(n);
      // A form of the name that another known person's name also takes (the family alone, for a mother
      // and a father Kowalski) names neither for sure: it keeps a token of its own text, as a mention
      // may be either. Tied to the first person listed, "Mr. Kowalski" read as the mother.
      for (String variant : variantsOf.get(n)) {
        Pattern p = nameRegex(variant);
        if (p != null) {
          add(spans, text, p, IdentifierClass.NAME, prefix, owners.get(TokenMap.normalize(variant)).size() == 1
              ? identity : null);
        }
      }
      boolean familyShared = n.family() != null && families.get(TokenMap.normalize(n.family())).size() > 1;
      for (String given : n.given()) {
        for (Pattern p : new Pattern[] {shortGivenRegex(given, n.family()), initialsRegex(given, n.family())}) {
          if (p != null) {
            add(spans, text, p, IdentifierClass.NAME, prefix, familyShared ? null : identity);
          }
        }
      }
    }
    addMisspeltNames(spans, text, known);
    for (String id : known.identifiers()) {
      if (id != null && id.replaceAll("[^A-Za-z0-9]", "").length() >= 4) {
        // A Patient.identifier written as a social security number is one, whatever its system says:
        // it was tokenized [MRN_1], which told the model (and the reader of an answer) it was a
        // record number, while the same digits in a note were [SSN_1].
        IdentifierClass cls = SSN_SHAPE.matcher(id.strip()).matches() ? IdentifierClass.SSN : IdentifierClass.MRN;
        for (String variant : identifierVariants(id)) {
          add(spans, text, separatorsOptional(variant), cls, cls.prefix(), id.strip());
        }
      }
    }
    for (String t : known.telecoms()) {
      if (t == null) {
        continue;
      }
      if (t.contains("@")) {
        add(spans, text, Pattern.compile(Pattern.quote(t), Pattern.CASE_INSENSITIVE), IdentifierClass.EMAIL, "EMAIL",
            t.strip());
      } else if (t.replaceAll("\\D", "").length() >= 7) {
        add(spans, text, digitsAnyFormat(t.replaceAll("\\D", "")), IdentifierClass.PHONE, "PHONE", t.strip());
      }
    }
    for (KnownIdentifiers.Address a : known.addresses()) {
      for (String line : a.lines()) {
        if (line != null && !line.isBlank()) {
          add(spans, text, Pattern.compile("(?i)\\b" + Pattern.quote(line.strip()).replace(" ", "\\E\\s+\\Q") + "\\b"),
              IdentifierClass.ADDRESS, "ADDRESS", line.strip());
          for (Pattern p : streetVariants(line)) {
            add(spans, text, p, IdentifierClass.ADDRESS, "ADDRESS", line.strip());
          }
        }
      }
      if (a.city() != null && !a.city().isBlank()) {
        add(spans, text, Pattern.compile("(?i)\\b" + Pattern.quote(a.city().strip()) + "\\b"), IdentifierClass.CITY, "CITY");
      }
      if (a.postalCode() != null && !a.postalCode().isBlank()) {
        add(spans, text, postalCodeRegex(a.postalCode().strip()), IdentifierClass.ZIP, "ZIP");
      }
    }
    for (LocalDate d : known.dates()) {
      for (String f : List.of("yyyy-MM-dd", "MM/dd/yyyy", "M/d/yyyy", "MMMM d, yyyy", "MMM d, yyyy", "d MMMM yyyy")) {
        add(spans, text, Pattern.compile("(?i)\\b" + Pattern.quote(d.format(DateTimeFormatter.ofPattern(f, Locale.US)))
            + "\\b"), IdentifierClass.DATE, "DATE", d.toString());
      }
    }
    for (Rule r : PATTERNS) {
      if (r.gate() == null || r.gate().matcher(text).find()) {
        add(spans, text, r.pattern(), r.cls(), r.prefix(), null, r.test());
      }
    }
    addNamesBeforeDegrees(spans, text);
    addNamesAfterRoles(spans, text);
    // names of the dictionary, in a context that says a person is meant ("Surgeon: Rafael Etxeberria")
    DictionaryNames.add(spans, text);
    addStreetNames(spans, text);
    addFacilities(spans, text);
    addCompanies(spans, text);
    addPlacesByContext(spans, text);
    addStoreNumbers(spans, text);
    addInternationalPhones(spans, text);
    addPhoneExtensions(spans, text);
    addSenderNames(spans, text);
    addInitialsBeforeDays(spans, text, known);
    addSurnamesBeforeVisitDays(spans, text);
    addCounties(spans, text);
    addNicknamedNames(spans, text);
    addNamesBeforeCredentials(spans, text);
    addNamesAfterConversationalCues(spans, text);
    addNamesBeforeAges(spans, text);
    addFacilitiesBeforeTheirEds(spans, text);
    addServiceLines(spans, text);
    addSurnamesSigningAlone(spans, text);
    // last: a town the cues above found, or a facility that begins with one, keeps their span and class
    Gazetteer.addTowns(spans, text);
    addZipsAfterTowns(spans, text);
    // The same detector that shifts a source date, cuts it to the year and shifts an answer's back.
    for (Dates.Found d : Dates.find(text)) {
      spans.add(new Span(d.start(), d.end(), IdentifierClass.DATE, IdentifierClass.DATE.prefix()));
    }
    // a day after a person's name ("seen by Dr Ortiz 12/12"), whichever detector found the name
    for (Span s : List.copyOf(spans)) {
      if (s.cls() == IdentifierClass.NAME) {
        Dates.dayAfterName(text, s.end()).ifPresent(d ->
            spans.add(new Span(d.start(), d.end(), IdentifierClass.DATE, IdentifierClass.DATE.prefix())));
      }
    }
    return resolve(spans);
  }

  /**
   * Whether the capitalised words a relation rule found after "Father", "Sister", "Aunt" are the relative's name and
   * not a family history's condition: "Father Hypertension", "Sister Breast cancer", "Father Stroke" became "Father
   * [PERSON]" in every de-identified text, the condition lost. A given name or a surname of the names dictionary is a
   * name ("Father John", "mother Mary Okafor", "son Well-Smith"); otherwise a clinical first word (a stop list of the
   * commonest heads, or a clinical shape: "-itis", "-oma", "-ism") or a clinical word right after ("Breast cancer",
   * "Kidney stones") is the condition; any other capitalised word is a name still, in the dictionary or not ("Dad
   * Oluwaseun", "sister Hortensia").
   */
  /**
   * A relative's name after the relation: not a family history's condition, and, on the line after a relation that ends
   * its own ("Caregiver\nHome Safety evaluation done", "Son\nFall Risk reviewed"), words each a name's may be, not a
   * heading's.
   */
  private static boolean aRelativesName(String text, int start, int end) {
    int before = start;
    while (before > 0 && Character.isWhitespace(text.charAt(before - 1)) && text.charAt(before - 1) != '\n') {
      before--;
    }
    if (before > 0 && text.charAt(before - 1) == '\n') {
      for (String w : text.substring(start, end).split("\\s+")) {
        if (!roleNameWord(w)) {
          return false;
        }
      }
    }
    return notAFamilyHistorysCondition(text, start, end);
  }

  static boolean notAFamilyHistorysCondition(String text, int start, int end) {
    String[] words = text.substring(start, end).split("\\s+");
    for (String w : words) {
      if (PersonNames.isGivenName(w) || PersonNames.isSurname(w)) {
        return true;
      }
    }
    if (isAFamilyHistorysWord(words[0])) {
      return false;
    }
    Matcher next = NEXT_WORD.matcher(text).region(end, text.length());
    return !(next.lookingAt() && isAFamilyHistorysWord(next.group(1))
        && !DESCRIBES_A_PERSON.contains(next.group(1).toLowerCase(Locale.ROOT))
        && !CONDITION_ADJECTIVE.matcher(next.group(1).toLowerCase(Locale.ROOT)).matches());
  }

  /**
   * Words of a family history that describe the relative, not finish a condition's name: after an unlisted capitalized
   * word they say it is the relative's name ("Dad Oluwaseun diabetic"), where "Father Hodgkin lymphoma" is a condition;
   * so does any adjective of CONDITION_ADJECTIVE's shape ("Dad Oluwaseun hypertensive").
   */
  private static final Set<String> DESCRIBES_A_PERSON = Set.of("diabetic", "prediabetic", "obese", "alcoholic");

  /** The same test after a title that is also a relative's word ("Father Stroke", "Sister Asthma"); after any other, a name. */
  private static boolean notAFamilyHistorysConditionAfterATitle(String text, int start, int end) {
    return !RELATIVES_TITLE_BEFORE.matcher(text).region(Math.max(0, start - 16), start).find()
        || notAFamilyHistorysCondition(text, start, end);
  }

  private static boolean isAFamilyHistorysWord(String word) {
    String w = word.toLowerCase(Locale.ROOT);
    // a given name that is an English word keeps its shape's doubt ("Thomas" ends as "lipomas" does)
    return FAMILY_HISTORY_WORDS.contains(w) || (CLINICAL_SHAPE.matcher(w).matches() || CONDITION_ADJECTIVE.matcher(w).matches())
        && !PersonNames.isGivenNameWord(w);
  }

  /**
   * A role of a care team that is no title, before the person in it: the abbreviations in capitals ("RN", "PT"; "pt"
   * is the patient) and the words in any case ("pharmacist", "social worker").
   */
  // a nurse-midwife ("Prenatal care with CNM Abernathy" passed held-out set 11)
  private static final String ROLE_ABBREVIATIONS = "RN|LPN|LVN|CNA|NP|PA|PT|PTA|OT|COTA|SLP|EMT|CRNA|APRN|CNM|PharmD|MSW|LCSW";
  /**
   * The same abbreviations in lower case: before a specialty or a service they are the role's, no word of a place's name
   * ("NP Pediatrics", "RN Hospice referral" read "[FACILITY]"; see {@link #addFacilities}).
   */
  private static final Set<String> ROLE_ABBREVIATION_WORDS = Set.of(ROLE_ABBREVIATIONS.toLowerCase(Locale.ROOT).split("\\|"));
  private static final Pattern ROLE_THEN_NAME = Pattern.compile("(?<![\\p{L}'’./-])(?:(?:" + ROLE_ABBREVIATIONS
      + ")|(?i:pharmacist|doula|midwife|social[ \\t]worker|case[ \\t]manager"
      + "|care[ \\t]manager|caseworker|therapist|aide|interpreter|translator|hygienist|counselo(?:u)?r|dietitian|dietician"
      + "|nutritionist|paramedic|navigator|technician|tech|sitter|caregiver|doula|liaison|prescriber"
      // a dentist of a specialty and an insurer's adjuster ("endodontist Oyelaran-Fitch", "adjuster D. Strunk" passed
      // held-out set 10)
      + "|dentist|endodontist|orthodontist|periodontist|adjuster"
      // a director at the patient's work or in a programme ("results faxed to the safety director
      // Lorna" passed held-out set 14)
      + "|director"
      // the one a note is about or a worker of a public-health or a crisis team, by a word of the note's kind ("Client
      // Anh Thu Lam-Pereira", "Decedent Florentino Arce Villalobos", "Outreach worker Desmond", "crisis responder M.
      // Okonkwo", "Investigator Tomasz Wierzbicki" passed held-out set 15)
      // (a word that opens a sentence as often: one name word after it must be a given name, "Client Denies night sweats",
      // "Responder Status per RECIST" hold none)
      + "|(?<s>client|decedent|recipient|investigator|responder|outreach[ \\t]worker|health[ \\t]worker)"
      // the one a genetic pedigree is drawn from ("Proband Renata, 41" passed held-out set 11)
      + "|proband))"
      // the name on the next line when the role ends a line ("Interpreter\nBahati (Swahili)" passed held-out set 7)
      + "(?:[ \\t]{1,2}+|[ \\t]{0,2}+\\r?\\n[ \\t]{0,8}+)"
      // an initial before the surname ("counselor K. Ricketts" passed held-out set 10)
      + "(?<i>\\p{Lu}\\.[ \\t]?)?"
      + NOT_A_TITLES_NAME + "(?<a>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,40}+)(?:[ \\t]{1,2}+(?<b>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,40}+)"
      // a third word of a name of three ("Decedent Florentino Arce Villalobos": held-out set 15)
      + "(?:[ \\t]{1,2}+(?<c>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,40}+))?)?"
      + "(?![\\p{L}\\p{N}])");
  /**
   * Whether the words after the word of the one a note is about, or of a worker ("Client", "Decedent", "Outreach
   * worker"), open with a name: a given name, or a given name that is an English word before a known name ("Maria
   * Elena Vasquez"). Title-case findings and forms hold none ("Decedent Rigor Mortis", "Decedent Personal Effects",
   * "First responder Naloxone Given", "Community health worker Bus Pass": the review of set 15's rules).
   */
  private static boolean aSubjectsName(String a, String b) {
    return PersonNames.isGivenName(a)
        || b != null && PersonNames.isGivenNameWord(a) && (PersonNames.isGivenName(b) || PersonNames.isSurname(b))
        // an unlisted given name before a known surname ("Recipient Hope Castellanos"), not a sign of death's Latin
        || b != null && PersonNames.isSurname(b) && !POST_MORTEM.contains(a.toLowerCase(Locale.ROOT));
  }

  /** The Latin of a sign of death before "Mortis", itself a surname ("Rigor Mortis", "Livor Mortis"). */
  private static final Set<String> POST_MORTEM = Set.of("rigor", "livor", "algor", "pallor");

  /** English word endings that no unlisted surname after a role is taken with ("PT Prolonged", "RN Administered"). */
  private static final Pattern ENGLISH_SHAPE = Pattern.compile("\\p{L}{2,}(?:ed|ing|tion|sion|ment|ly|ness|ance|ence|ive"
      + "|ize|ise|ful|ous|able|ible|ary|ory|ics|ogy|als|ers|ments)");
  /** A drug's name by its stem ("pharmacist Vancomycin dosing"): a drug, not a person. */
  private static final Pattern DRUG_SHAPE = Pattern.compile("\\p{L}{2,}(?:mycin|micin|cillin|pril|olol|sartan|statin"
      + "|azole|dipine|mab|nib|parin|xaban|floxacin|cycline|vir|zepam|zolam|oxetine|triptan|gliptin|gliflozin|glutide"
      + "|profen|codone|morphone|farin|tidine|prazole|sone|olone|lukast|afil|asone|semide|thiazide)");
  /**
   * Words after a role that say what the role did or what it is about, in lower case, beyond the titles' stop list
   * (NOT_A_TITLES_NAME): "PT Goals", "PT Normal", "OT Session", "RN Gave", "therapist Monday".
   */
  private static final Set<String> NOT_A_ROLES_NAME = Set.of(
      "recommends", "recommend", "reports", "notes", "needs", "wants", "feels", "asks", "gave", "give", "gives",
      "took", "takes", "goals", "goal", "treatment", "tx", "session", "sessions", "daily", "initial", "discharge",
      "eval", "evals", "order", "orders", "referral", "follow", "only", "student", "students", "none", "weekly",
      "twice", "today", "tomorrow", "yesterday", "here", "there", "this", "that", "these", "those", "he", "she",
      "they", "we", "it", "his", "her", "my", "our", "no", "not", "yes", "all", "both", "each", "via", "who",
      "which", "what", "when", "where", "why", "how", "instructions", "recs", "rec", "schedule", "contact", "number",
      "phone", "pager", "ext", "office", "desk", "hours", "coverage", "cover", "available", "unavailable", "dept",
      "department", "protocol", "dosing", "dose", "level", "levels", "verify", "intervention", "interventions",
      "counseling", "teaching", "taught", "instruct", "assist", "assistance", "minimal", "moderate", "maximal",
      "max", "min", "mod", "independent", "supervision", "standby", "home", "inpatient", "outpatient", "acute",
      "rehab", "screen", "progress", "update", "updates", "visit", "visits", "frequency", "freq", "new", "old",
      "first", "second", "next", "last", "prior", "previous", "same", "other", "another", "again", "still", "just",
      "now", "then", "good", "fair", "poor", "stable", "unchanged", "continues", "continue", "cont", "hold", "held",
      "normal", "abnormal", "high", "low", "wnl", "ok", "okay", "charge", "student's", "lift", "transfer", "gait",
      "green", "red", "blue", "yellow", "black", "purple", "orange", "gray", "grey", "silver", "swallow", "study",
      "consult", "consults", "ordered", "placed", "done", "complete", "pending", "signed", "sign", "aware",
      "ambulate", "ambulated", "trial", "script", "supply", "refill", "refills", "fill", "note", "clinic", "group",
      "pool", "aquatic", "aqua", "land", "mat", "bed", "chair", "room", "station", "unit", "prn", "bid", "tid",
      "qid", "qd", "am", "pm", "noon", "night", "evening", "morning", "weekend", "mon", "tue", "tues", "wed", "thu",
      "thur", "thurs", "fri", "sat", "sun", "one", "two", "three", "four", "five", "once", "x", "per", "with",
      "without", "if", "as", "so", "but", "since", "until", "while", "after", "before",
      // a radiograph's view after PA (posteroanterior: "CXR PA Lateral"), a position or side after PT ("PT Supine to sit")
      "lateral", "oblique", "frontal", "erect", "upright", "supine", "prone", "decubitus", "bilateral", "unilateral",
      "chest", "view", "views", "film", "films", "portable",
      // a payer after a case manager or a social worker ("case manager Medicare application")
      "medicare", "medicaid", "insurance", "tricare", "champva",
      // a qualifier of the role ("PharmD Candidate", "RN Float pool") or a body part or complaint it treats ("PT Lumbar")
      "candidate", "fellow", "preceptor", "float", "paramedic", "lumbar", "thoracic", "sacral", "dysphagia", "video",
      "vertigo", "insulin");

  /**
   * A language after an interpreter ("interpreter Spanish used"), no name; languages that are also common surnames
   * (French, English, German) are left out, a name after a role being the likelier reading.
   */
  private static final Set<String> LANGUAGES = Set.of("spanish", "arabic", "vietnamese", "somali", "mandarin",
      "cantonese", "chinese", "russian", "portuguese", "haitian", "creole", "korean", "tagalog", "hmong", "amharic",
      "tigrinya", "nepali", "burmese", "swahili", "farsi", "persian", "dari", "pashto", "urdu", "hindi", "punjabi",
      "bengali", "polish", "ukrainian", "japanese", "italian", "asl", "navajo", "marshallese", "chuukese", "khmer", "lao",
      "thai", "turkish", "greek", "hebrew", "yiddish", "albanian", "bosnian", "serbian", "croatian", "romanian",
      "armenian", "kinyarwanda", "kirundi", "oromo", "tamil", "telugu", "gujarati", "sign", "karen");

  private static final Pattern KIN_WORD = Pattern.compile("(?i:" + KIN + ")");

  /**
   * Whether a word is a relative's ("caregiver Daughter", "contact Son"): who the person is to the patient, no name,
   * for every rule of a name after a role. Only the words of kin, not "Friend" or "Partner", which are surnames too.
   */
  static boolean kin(String word) {
    return KIN_WORD.matcher(word).matches();
  }

  /**
   * Whether a word is a language of {@link #LANGUAGES}: the one list for every rule of a name after a role (the
   * dictionary's, {@link DictionaryNames}, took "interpreter Spanish" for a person after this one had stopped).
   */
  static boolean language(String word) {
    return LANGUAGES.contains(word.toLowerCase(Locale.ROOT));
  }

  /** Drugs by a brand name no stem of DRUG_SHAPE reaches, often after a pharmacist or a nurse ("pharmacist Eliquis"). */
  private static final Set<String> DRUG_BRANDS = Set.of("eliquis", "xarelto", "lovenox", "pradaxa", "coumadin",
      "plavix", "brilinta", "keppra", "lasix", "bumex", "tylenol", "motrin", "advil", "aleve", "toradol", "narcan",
      "norco", "percocet", "vicodin", "dilaudid", "ativan", "xanax", "klonopin", "valium", "ambien", "haldol",
      "seroquel", "zyprexa", "depakote", "lamictal", "neurontin", "lyrica", "cymbalta", "zoloft", "prozac", "lexapro",
      "wellbutrin", "lipitor", "crestor", "synthroid", "lantus", "humalog", "novolog", "levemir", "jardiance",
      "farxiga", "ozempic", "trulicity", "entresto", "zofran", "phenergan", "reglan", "protonix", "pepcid", "colace",
      "senna", "miralax", "dulcolax", "flomax", "benadryl", "solumedrol", "decadron", "rocephin", "zosyn",
      "augmentin", "keflex", "bactrim", "cipro", "levaquin", "flagyl", "diflucan", "tamiflu", "paxlovid",
      "suboxone", "methadone", "epipen", "albuterol", "proventil", "ventolin", "spiriva", "symbicort", "advair");

  /**
   * A name after a role that is no title ("Triage RN Nkemelu", "pharmacist Oyelaran", "doula Ixchel Ramírez-Tun"):
   * a capitalized word in the names dictionary or in none, so a surname of any origin is found; the role stays. Not
   * a word of the role's business, a clinical, a drug's or an English word's shape, an eponym before its noun, a
   * place, a label before its colon or a name that is an English word ("PT Eval", "RN Notified", "pharmacist
   * Vancomycin", "PT Prolonged", "NP Parkinson disease", "case manager Assessment:"). A second capitalized word goes
   * with the first when it passes the same tests.
   */
  static void addNamesAfterRoles(List<Span> spans, String text) {
    Matcher m = ROLE_THEN_NAME.matcher(text);
    while (m.find()) {
      String a = m.group("a");
      String later = m.group("b");
      if (language(a) && later != null && roleNameWord(later) && !followsAfter(text, m.end("b"), ':')
          && !NOT_AN_EPONYMS_AFTER.matcher(text).region(m.end("b"), text.length()).lookingAt() && !Gazetteer.isPlace(later)) {
        // the interpreter's name after the language ("interpreter Spanish Bahati")
        spans.add(new Span(m.start("b"), m.end("b"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
        continue;
      }
      if (!roleNameWord(a) || followsAfter(text, m.end("a"), ':')
          || NOT_AN_EPONYMS_AFTER.matcher(text).region(m.end("a"), text.length()).lookingAt()
          || m.group("i") != null && ORGANISM_AFTER_INITIAL.contains(a.toLowerCase(Locale.ROOT))) {
        continue;
      }
      int end = m.end("a");
      String b = m.group("b");
      if (b != null && roleNameWord(b) && !followsAfter(text, m.end("b"), ':')
          && !NOT_AN_EPONYMS_AFTER.matcher(text).region(m.end("b"), text.length()).lookingAt()
          && !Gazetteer.isPlace(b)) {
        end = m.end("b");
        String c = m.group("c");
        if (c != null && roleNameWord(c) && !followsAfter(text, m.end("c"), ':')
            && !NOT_AN_EPONYMS_AFTER.matcher(text).region(m.end("c"), text.length()).lookingAt()
            && !Gazetteer.isPlace(c)) {
          end = m.end("c");
        }
      }
      if (m.group("s") != null && m.group("i") == null && !aSubjectsName(a, end == m.end("a") ? null : m.group("b"))) {
        continue;
      }
      spans.add(new Span(m.group("i") != null ? m.start("i") : m.start("a"), end, IdentifierClass.NAME,
          IdentifierClass.NAME.prefix()));
    }
  }

  /**
   * A capitalized word after an initial that is an organism's or a rhythm's, not a surname: "C. Diff", "A. Fib", "H.
   * Pylori", "S. Aureus" written in capitals.
   */
  static final Set<String> ORGANISM_AFTER_INITIAL = Set.of("diff", "difficile", "fib", "flutter", "pylori", "aureus",
      "coli", "epidermidis", "pneumoniae", "aeruginosa", "albicans", "acnes", "faecalis", "faecium", "influenzae",
      "vulgaris", "mirabilis", "marcescens", "cloacae", "baumannii", "trachomatis", "vaginalis", "gondii", "jirovecii",
      "carinii", "burgdorferi", "pallidum", "tuberculosis", "pyogenes", "agalactiae", "fragilis", "perfringens",
      "botulinum", "tetani", "maltophilia", "cepacia", "lugdunensis", "saprophyticus", "fumigatus", "neoformans",
      // more organisms and a side's body part after "L." or "R." (an adversarial review of set 10's rules: "Pt N.
      // Meningitidis exposure", "Pt C. Auris screen", "Pt B. Pertussis vaccine", "Pt S. Epi in 1 of 2", "Pt L. Hip pain")
      "meningitidis", "gonorrhoeae", "auris", "pertussis", "parapertussis", "epi", "glabrata", "krusei",
      "parapsilosis", "avium", "kansasii", "abscessus", "hominis", "monocytogenes", "enteritidis", "typhi", "typhimurium",
      "jejuni", "cholerae", "vulnificus", "anthracis", "cereus", "falciparum", "vivax", "lamblia", "histolytica",
      "stercoralis", "scabiei", "capitis", "haemolyticus", "oxytoca", "canis", "felis", "henselae",
      "hip", "knee", "shoulder", "ankle", "wrist", "elbow", "arm", "leg", "foot", "hand", "eye", "ear", "side", "sided",
      "flank", "chest", "breast", "lung", "kidney", "heel", "toe", "thumb", "finger", "thigh", "calf", "groin");

  /** A word of a role's name (see {@link #addNamesAfterRoles}). */
  /** No word of the value is a service's, a heading's or a condition's ("Well Child", "Down Syndrome"). */
  private static boolean noServiceWord(String text, int start, int end) {
    for (String word : text.substring(start, end).split("[ \\t]+")) {
      String w = word.toLowerCase(Locale.ROOT).replace('’', '\'').replaceAll("'s$", "");
      if (GENERIC.contains(w) || NOT_A_NAME.contains(w) || NOT_A_PLACE.contains(w) || Gazetteer.EPONYM_WORDS.contains(w)
          || CARE_WORDS_BEFORE_CREDENTIAL.contains(w)) {
        return false;
      }
    }
    return true;
  }

  /** An English word's ending or a number's word, on a word the names dictionary does not know ("Confirmed", "Identity"). */
  private static final Pattern ENGLISH_SHAPED = Pattern.compile("(?i)one|two|three|both|all|name|names|\\p{L}{2,}(?:ed|ity|tion"
      + "|sion|ness|ment|ing|ers|ies|able|ible|ful|ous|ive)");

  private static boolean englishShapedWord(String word) {
    return !PersonNames.isGivenName(word) && !PersonNames.isSurname(word) && ENGLISH_SHAPED.matcher(word).matches();
  }

  /** A year and a count after it ("2019-04"): a document's number, or a month, not a policy's number. */
  private static final Pattern YEAR_AND_COUNT = Pattern.compile("(?:19|20)\\d{2}-\\d{1,3}");

  /** Six digits or more in the value: "JU-2025-00471" is a record's number, "CA-125" a test's name. */
  private static boolean sixDigitsOrMore(String text, int start, int end) {
    int digits = 0;
    for (int i = start; i < end; i++) {
      digits += Character.isDigit(text.charAt(i)) ? 1 : 0;
    }
    return digits >= 6;
  }

  private static boolean roleNameWord(String word) {
    String w = word.toLowerCase(Locale.ROOT).replace('’', '\'');
    if (NOT_A_ROLES_NAME.contains(w) || LANGUAGES.contains(w) || kin(w) || DRUG_BRANDS.contains(w) || NOT_A_PLACE.contains(w) || NOT_A_NAME.contains(w) || GENERIC.contains(w)
        || FAMILY_HISTORY_WORDS.contains(w) || STATES_AND_COUNTRIES.contains(w) || DIRECTION_WORDS.contains(w)
        || DictionaryNames.eponym(word)) {
      return false;
    }
    if (PersonNames.isGivenName(word) || PersonNames.isSurname(word)) {
      return true;
    }
    return !PersonNames.isNameWord(word) && !CLINICAL_SHAPE.matcher(w).matches() && !ENGLISH_SHAPE.matcher(w).matches()
        && !DRUG_SHAPE.matcher(w).matches() && !Gazetteer.isPlace(word);
  }

  private static boolean followsAfter(String text, int at, char c) {
    int i = at;
    while (i < text.length() && i < at + 3 && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
      i++;
    }
    return i < text.length() && text.charAt(i) == c;
  }

  private static final Pattern NOT_AN_EPONYMS_AFTER = Pattern.compile("(?:[ \\t]++|[ \\t]*+\\r?\\n[ \\t]*+)(?i:nodules?|nodes?|signs?|syndrome|disease"
      + "|palsy|test|tests|maneuver|manoeuvre|criteria|score|scale|classification|class|position|procedure|fracture"
      + "|reflex|law|triad|phenomenon|operation|repair|technique|catheter|tube|drain|stain|pouch|triangle|point|index"
      + "|rule|type|stage|grade|gait|lift|boot|bandage|splint|brace|dressing|sensor|pump|tubing|lymphoma|tumou?r"
      + "|protocol|dosing|level|levels|drip|infusion|mg|mcg|units?|tablets?|caps?"
      // a band's, a putty's or a tubing's resistance after the product ("Theraband green")
      + "|yellow|red|green|blue|black|silver|gold|gray|grey|tan|orange|purple)\\b");

  private static final Pattern ZIP_AFTER_TOWN = Pattern.compile(",?(?:[ \\t]{1,3}+|[ \\t]{0,3}+\\r?\\n[ \\t]{0,3}+"
      // (on the next line only as the line's or the sentence's last: "Boston\n50000 units heparin" is a dose)
      // (nor one of numbers in a list, or before a semicolon: "Boston\n50000, 42000, 38000.", "Denver\n12000; at goal":
      // the review of set 15's rules)
      + "(?=\\d{5}(?:-\\d{4})?[ \\t]*+(?:[.)]|,(?![ \\t]*+\\d)|\\r?\\n|$)))(\\d{5}(?:-\\d{4})?)(?![\\w-]|\\.\\d)");

  /**
   * Five digits right after a town that a detector found, without its state, or at the next line's start ("Baltimore
   * 21218" broken over two lines passed held-out set 15) ("Chicago 60614" left the ZIP code in
   * a held-out set's portal message): the town's ZIP code.
   */
  private static void addZipsAfterTowns(List<Span> spans, String text) {
    for (Span s : List.copyOf(spans)) {
      if (s.cls() == IdentifierClass.CITY) {
        Matcher m = ZIP_AFTER_TOWN.matcher(text).region(s.end(), text.length());
        if (m.lookingAt()) {
          spans.add(new Span(m.start(1), m.end(1), IdentifierClass.ZIP, IdentifierClass.ZIP.prefix()));
        }
      }
    }
  }

  /** What follows "Our" in a church's name. */
  private static final Pattern OUR_NAMES = Pattern.compile("[ \\t]++(?:Lady|Savior|Saviour|Redeemer|Mother|Shepherd)\\b");

  /**
   * A county by name ("Wright County", "St. Louis County", "Texas County" passed held-out sets 7 and 8): Safe Harbor's
   * geographic subdivision smaller than a state. One or two capitalized words before "County"; not a word that
   * counts or qualifies ("Tri-County", "each County", "Home County"), a heading in capitals, or a road's ("County
   * Road 12", an address's rule).
   */
  private static final Pattern COUNTY = Pattern.compile("(?<![\\p{L}'’.-])(?<v>(?:St\\.[ \\t]?)?\\p{Lu}\\p{Ll}{1,20}+"
      + "(?:[ \\t]\\p{Lu}\\p{Ll}{1,20}+)?[ \\t]County)(?![\\p{L}'’-])(?![ \\t]++(?:Road|Rd\\.?|Highway|Hwy\\.?|Route)\\b)");
  /** Words before "County" that name no county. */
  static final Set<String> NOT_A_COUNTYS_NAME = Set.of("the", "a", "an", "each", "every", "any", "our", "your", "their",
      "his", "her", "this", "that", "which", "what", "same", "other", "another", "one", "no", "home", "local", "tri",
      "multi", "bi", "mid", "cross", "neighboring", "neighbouring", "adjacent", "surrounding", "rural", "urban", "per",
      "in", "of", "from", "to", "at", "by", "for", "and", "or", "out", "outside", "inside", "lives", "lived", "moved",
      "resides", "different");

  static void addCounties(List<Span> spans, String text) {
    if (text.indexOf("County") < 0) {
      return;
    }
    Matcher m = COUNTY.matcher(text);
    while (m.find()) {
      String[] words = m.group("v").split("[ \\t]+");
      int first = 0;
      while (first < words.length - 1 && NOT_A_COUNTYS_NAME.contains(words[first].toLowerCase(Locale.ROOT))) {
        first++;
      }
      if (first == words.length - 1) {
        continue;
      }
      int start = m.start("v") + m.group("v").indexOf(words[first]);
      // a county's hospital by the county's name and its kind ("Texas County Memorial" passed held-out set 8, its
      // "Memorial" left): the whole a facility
      Matcher h = COUNTY_HOSPITAL.matcher(text).region(m.end("v"), text.length());
      if (h.lookingAt()) {
        spans.add(new Span(start, h.end(), IdentifierClass.FACILITY, IdentifierClass.FACILITY.prefix()));
        continue;
      }
      spans.add(new Span(start, m.end("v"), IdentifierClass.CITY, COUNTY_PREFIX));
    }
  }

  /** What makes a county's name a hospital's: "Memorial", "Regional", "General", "Community" after it. */
  // not a county's day, election or park ("the Greene County Memorial Day parade", found by the review of the session's
  // rules, read "[FACILITY] Day parade")
  private static final Pattern COUNTY_HOSPITAL = Pattern.compile("[ \\t]++(?:Memorial|Regional|General|Community)"
      + "(?:[ \\t]++(?:Hospital|Medical[ \\t]Cent(?:er|re)|Health(?:care)?))?(?![\\p{L}'’-])(?![ \\t]++(?:Day|Weekend"
      + "|Election|Sessions|Assembly|Fund|Park|Cemetery|Stadium|Airport|Library|College)\\b)");

  /** A county's token: "[COUNTY_1]" says what was there. */
  static final String COUNTY_PREFIX = "COUNTY";

  /**
   * A name with a nickname in quotes between its given and family names ("Travis \"Bubba\" Eckhoff" passed held-out set
   * 8): a person when the given name or the surname is of the names dictionary.
   */
  private static final Pattern NICKNAMED = Pattern.compile("(?<![\\p{L}'’.-])(?<g>\\p{Lu}\\p{Ll}{1,20}+)[ \\t]++[\"“'‘]"
      + "\\p{Lu}[\\p{L} -]{0,20}+[\"”'’][ \\t]++(?<f>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+)(?![\\p{L}])");

  static void addNicknamedNames(List<Span> spans, String text) {
    if (text.indexOf('"') < 0 && text.indexOf('“') < 0 && text.indexOf('\'') < 0 && text.indexOf('‘') < 0) {
      return;
    }
    Matcher m = NICKNAMED.matcher(text);
    while (m.find()) {
      String g = m.group("g");
      if (NOT_A_NAME.contains(g.toLowerCase(Locale.ROOT)) || GENERIC.contains(g.toLowerCase(Locale.ROOT))) {
        continue;
      }
      if (PersonNames.isGivenName(g) || PersonNames.isSurname(m.group("f"))) {
        spans.add(new Span(m.start("g"), m.end("f"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
  }

  /**
   * A person's credentials after a comma, as a sign-off writes them ("Jace Whitlatch, EMT-B", "R. Montgomery-Tsosie,
   * LCADC" passed held-out set 8): the name before them, one to three words or initials, each a word a role's name
   * may be (see {@link #roleNameWord}).
   */
  private static final String CREDENTIAL = "MD|DO(?![ \\t]++(?i:not)\\b)|NP|PA-C|APRN|CNM|PhD|RN|BSN|LPN|LVN|CNA|FNP(?:-BC|-C)?|DNP|ANP(?:-BC)?"
      + "|AGNP(?:-C)?|PMHNP(?:-BC)?|CRNA|EMT(?:-[PBI])?|NRP|LCSW|LMSW|MSW|LPC|LMFT|LCADC|LADC|CADC|PsyD|DPT|OTR(?:/L)?"
      + "|CCC-SLP|RDN|PharmD|RPh|DDS|DMD|RRT|CPhT|CHW"
      // a genetic counselor's and a poison specialist's ("Priya Venkataraman, MS, CGC" passed held-out set 11)
      + "|CGC|LGC|CSPI"
      // a wound-ostomy nurse's, a transplant coordinator's, a mental-health professional's ("Jessamyn Tolliver BSN, RN,
      // CWOCN", "Brett Kowalski, RN, CCTC", "Trevor Quarles, QMHP": held-out set 12)
      + "|CWOCN|CWON|CWCN|CWS|CCTC|CPTC|QMHP|CCRN|CEN"
      // a lactation consultant's and a diabetes educator's ("Follow up per Tamsin IBCLC" passed held-out set 13)
      + "|IBCLC|CLC|CDCES"
      // an anticoagulation provider's ("Bartholomew, PharmD, CACP": held-out set 14)
      + "|CACP"
      // a prosthetist-orthotist's and a death investigator's ("Caspian Reyes-Holloway, CPO", "Tomasz Wierzbicki,
      // D-ABMDI" passed held-out set 15)
      + "|CPO|LPO|CPed|D-ABMDI";
  /**
   * A signer's line: two or three words a name may be at a line's start, then clinicians' letters without a comma after
   * the name, running to the line's end ("Jessamyn Tolliver BSN, RN, CWOCN" passed held-out set 12). "Wound Care RN"
   * and "Charge Nurse RN" hold a word no name is.
   */
  private static final Pattern SIGNER_LINE = Pattern.compile("(?m)^[ \\t]*+(?<v>(?<g>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+)"
      + "(?:[ \\t](?:\\p{Lu}\\.[ \\t])?\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+){1,2})[ \\t]++(?:(?:MS|MA|MSc|MPH|MEd|MSN|BS|BA)"
      + ",?[ \\t]*+)?(?:" + CREDENTIAL + ")(?:,?[ \\t]*+(?:" + CREDENTIAL + "|MS|MSN|MPH))*+[ \\t]*+$");
  /**
   * A signer by the given name alone, then clinicians' letters to the line's end, at a line's start or after a
   * sentence's stop or a slash ("Bartholomew, PharmD, CACP", "Dr. Hadley Voss / Kimberlee RN" passed held-out set 14).
   * The word must open a name as {@link #givenNameOpens} says: "Charge RN", "Wound RN", "Will RN" hold none.
   */
  private static final Pattern SIGNER_GIVEN_NAME = Pattern.compile("(?m)(?:^[ \\t]*+|(?<=[.;!?/][ \\t]{1,3}))"
      + "(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{1,30}+),?[ \\t]++(?:" + CREDENTIAL + ")(?:,?[ \\t]*+(?:" + CREDENTIAL
      + "|MS|MSN|MPH))*+[ \\t]*+$");
  private static final Pattern NAME_BEFORE_CREDENTIAL = Pattern.compile("(?<![\\p{L}'’.-])(?<v>(?:\\p{Lu}\\.[ \\t]?){0,2}"
      + "\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+(?:[ \\t](?:\\p{Lu}\\.[ \\t])?\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+){0,2}),[ \\t]*+"
      // a degree before the credential ("Priya Venkataraman, MS, CGC"): "MS" alone is as often the disease
      + "(?:(?:MS|MA|MSc|MPH|MEd|MSN|BS|BA),[ \\t]*+)?"
      + "(?:" + CREDENTIAL + ")(?![\\p{L}\\p{N}-])");

  /** A word that opens in lower case, also after a hyphen ("Q-switched"), not after an apostrophe. */
  private static final Pattern LOWER_CASE_WORD = Pattern.compile("(?<![\\p{L}\\p{N}'’])\\p{Ll}");
  /**
   * A tattoo's words that are a medical alert, a soldier's blood group or a pigment, no one's mark ("Tattoo \"DNR\"",
   * "\"DIABETIC\"", "\"O POS\"", "\"ALLERGIC TO PCN\"", "ink allergy: \"Red\"": the review of set 15's rules).
   */
  private static final Pattern NOT_A_TATTOOS_NAME = Pattern.compile("(?i:(?:NO[ ]CODE|DNR|DNI|DO[ ]NOT[ ](?:RESUSCITATE"
      + "|INTUBATE)|T[12]D|(?:TYPE[ ][12][ ])?DIABETIC|DIABETES|EPILEP(?:SY|TIC)|SEIZURES?|ASTHMA(?:TIC)?|HEMOPHILIA"
      + "|PACEMAKER|ORGAN[ ]DONOR|NKDA|ALLERG(?:IC|Y)\\b.*|ON[ ](?:COUMADIN|WARFARIN|BLOOD[ ]THINNERS)|(?:A|B|AB|O)[ ]?"
      + "(?:POS(?:ITIVE)?|NEG(?:ATIVE)?|[+-])|RH[ ]?(?:POS|NEG)|RED|BLACK|BLUE|GREEN|WHITE|YELLOW|PURPLE|ORANGE|BROWN"
      + "|PINK|GR[AE]Y)[.!]?)");
  /** The words of a blood bank's or a note's heading in capitals that no name is ("TYPE, SCREEN", "NOTE, ADMISSION"). */
  private static final Set<String> BLOOD_BANK_WORDS = Set.of("type", "screen", "abo", "aborh", "antibody", "antigen",
      "unit", "units", "note", "notes", "intake", "initial", "admission", "product", "sample", "specimen", "blood",
      "plasma", "platelets", "crossmatch", "status", "history", "hold", "release", "issue", "emergency", "group",
      // blood group systems and donor screening's infections ("Recipient KELL, DUFFY antigen negative", "Donor CHAGAS,
      // ZIKA NAT negative": the review of set 15's rules)
      "kell", "duffy", "kidd", "lewis", "diego", "lutheran", "dombrock", "colton", "chagas", "zika", "babesia", "hbsag",
      "htlv", "syphilis", "hepatitis", "malaria", "nat",
      // an organ donor's organs and sides, and a decedent's sex, race, age and findings ("Donor HEART, LUNGS", "Decedent
      // MALE, WHITE", "Decedent RIGOR, LIVOR")
      "heart", "lung", "lungs", "liver", "kidney", "kidneys", "pancreas", "cornea", "corneas", "bowel", "skin", "bone",
      "tissue", "left", "right", "both", "male", "female", "white", "black", "asian", "adult", "child", "infant", "minor",
      "body", "intact", "rigor", "livor", "living", "deceased", "unknown",
      // a resident's or a client's state, diet and code in a nursing note's capitals ("Resident CALM, PLEASANT",
      // "Resident DIET, PUREED", "Client SAFE, STABLE")
      "calm", "pleasant", "alert", "awake", "safe", "stable", "diet", "pureed", "soft", "regular", "minced", "code",
      "full", "fall", "risk", "high", "none", "normal", "positive", "negative");
  /** Words before "Bridge" or "Market" that name a drug's or a programme's bridge, or a kind of market. */
  private static final Set<String> NOT_A_LANDMARK = Set.of("fentanyl", "enoxaparin", "transplant", "medical", "medicine",
      "fish", "flea", "night", "super", "pharmacy", "program", "care", "hospice", "dialysis", "therapy", "treatment",
      "nicotine", "methadone", "buprenorphine", "suboxone",
      // a heart's, a tooth's, a device's, a drug's or a programme's bridge, and a market of a trade or a country ("the
      // Myocardial Bridge", "the Cantilever Bridge", "the Impella Bridge", "the Cangrelor Bridge", "the Recovery
      // Bridge", "the Darknet Market", "the Canadian Market": the review of set 15's rules)
      "myocardial", "muscle", "porcelain", "cantilever", "implant", "zirconia", "resin", "impella", "ecmo", "lvad",
      "device", "cangrelor", "argatroban", "bivalirudin", "steroid", "antibiotic", "oral", "recovery", "crisis", "detox",
      "respite", "darknet", "street", "drug", "illicit", "canadian", "american", "european", "mexican", "flower",
      "produce", "meat", "food", "grocery");

  /** Whether a tattoo's quoted words are a mark of its own: no lower-case word, and no medical alert or pigment. */
  private static boolean aTattoosMark(String text, int start, int end) {
    return noLowerCaseWord(text, start, end) && !NOT_A_TATTOOS_NAME.matcher(text).region(start, end).matches();
  }

  /** Whether no word of {@code text[start, end)} opens in lower case. */
  private static boolean noLowerCaseWord(String text, int start, int end) {
    return !LOWER_CASE_WORD.matcher(text).region(start, end).find();
  }

  /** A landmark's name before its kind: not a drug's, a programme's or a kind of market's word. */
  private static boolean aLandmarksName(String text, int start, int end) {
    String first = text.substring(start, end).split("[ \\t]+")[0].toLowerCase(Locale.ROOT);
    return !NOT_A_LANDMARK.contains(first) && !ENGLISH_SHAPE.matcher(first).matches()
        && !DRUG_SHAPE.matcher(first).matches();
  }

  /** A name in capitals: no word of it a blood bank's or a heading's, nor English-shaped and long ("IRRADIATED"). */
  private static boolean notABloodBanksWords(String text, int start, int end) {
    for (String w : text.substring(start, end).split("[ \\t,'’-]+")) {
      String lower = w.toLowerCase(Locale.ROOT);
      // (English-shaped only when long: "ODED" ends in "ed" as a given name)
      if (BLOOD_BANK_WORDS.contains(lower) || lower.length() >= 7 && ENGLISH_SHAPE.matcher(lower).matches()) {
        return false;
      }
    }
    return true;
  }

  /** A word of the one a line names before the name ("Investigator", "Examinee"), and the blank after it. */
  private static final Pattern NAME_LABEL_FIRST = Pattern.compile("(?:Investigator|Examiner|Examinee|Decedent|Client"
      + "|Recipient|Resident|Driver|Donor|Patient|Provider|Interpreter|Prosthetist|Orthotist)[ \\t]++");
  private static final Pattern CAPITALIZED_NAME_WORD = Pattern.compile("\\p{Lu}\\p{Ll}[\\p{L}'’-]*");

  static void addNamesBeforeCredentials(List<Span> spans, String text) {
    Matcher line = SIGNER_LINE.matcher(text);
    while (line.find()) {
      Matcher w = CAPITALIZED_NAME_WORD.matcher(line.group("v"));
      boolean all = true;
      while (w.find()) {
        all &= roleNameWord(w.group()) || PersonNames.isGivenName(w.group());
      }
      if (all && notAServiceBeforeACredential(text, line.start("v"), line.end("v"))) {
        spans.add(new Span(line.start("v"), line.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    Matcher given = SIGNER_GIVEN_NAME.matcher(text);
    while (given.find()) {
      if (givenNameOpens(given.group("v"), text, given.end("v"))
          && notAServiceBeforeACredential(text, given.start("v"), given.end("v"))) {
        spans.add(new Span(given.start("v"), given.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    Matcher m = NAME_BEFORE_CREDENTIAL.matcher(text);
    while (m.find()) {
      Matcher w = CAPITALIZED_NAME_WORD.matcher(m.group("v"));
      int words = 0;
      boolean all = true;
      while (w.find()) {
        words++;
        all &= roleNameWord(w.group()) || PersonNames.isGivenName(w.group());
      }
      // two words, or an initial before one ("K. Obermeyer"): one word alone after a list's comma is too often a
      // service ("Ortho, PT")
      if (all && (words >= 2 || m.group("v").indexOf('.') > 0) && notAServiceBeforeACredential(text, m.start("v"), m.end("v"))) {
        // the word of the one named, when it opens the three words, stays ("Investigator Tomasz Wierzbicki, D-ABMDI",
        // "Examiner Garrick Thibodeaux, DO": held-out sets 15 and 14), and the name after it is taken
        Matcher label = NAME_LABEL_FIRST.matcher(m.group("v"));
        int from = label.lookingAt() && words == 3 ? m.start("v") + label.end() : m.start("v");
        spans.add(new Span(from, m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
  }

  /**
   * A name after "Pt" at a line's or a sentence's start ("Pt Edna Mae Whitt, 91yo" passed held-out set 9): one to three
   * capitalized words, the first a given name of the names dictionary (not one that is an English word: "Pt Will
   * follow up", "Pt Grace period"), each other a word a role's name may be. What a note writes after "Pt" is far more
   * often what the patient did or was given ("Pt Education provided", "Pt Tolerated well", "Pt ID band checked"),
   * which no given name begins.
   */
  private static final Pattern PT_THEN_NAME = Pattern.compile("(?:(?m:^)[ \\t]*+|(?<=[.;!?][ \\t]{1,3}))Pt\\.?[ \\t]++"
      + "(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+(?:[ \\t](?:\\p{Lu}\\.[ \\t])?\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+){0,2})"
      + "(?![\\p{L}\\p{N}'’-])");
  /**
   * Initials after "Pt" at a line's or a sentence's start ("Pt D.W. (goes by Dot)"), or an initial and a surname ("Pt M.
   * Okonkwo-Bell, 58M"), both passed held-out set 10. Not an abbreviation a note writes after Pt in the same shape
   * ("Pt A.O. x3", "Pt N.P.O.", "Pt D.C.'d home") nor an organism ("Pt C. Diff positive").
   */
  private static final Pattern PT_THEN_INITIALS = Pattern.compile("(?:(?m:^)[ \\t]*+|(?<=[.;!?][ \\t]{1,3}))Pt\\.?[ \\t]++"
      + "(?<v>(?:\\p{Lu}\\.){2,3}+(?![\\p{L}\\p{N}'’/]|[ \\t]?x[ \\t]?\\d)|\\p{Lu}\\.[ \\t]?(?<s>\\p{Lu}\\p{Ll}[\\p{L}'’-]{1,30}+)"
      + "(?![\\p{L}\\p{N}'’.-]))");
  /**
   * A signer's initials before the letters at a line's start ("J.R.K., NP" passed held-out set 10): three or two
   * capitals each with its period; not an abbreviation so written ("P.O., RN to give", "N.P.O. RN aware").
   */
  private static final Pattern INITIALS_BEFORE_CREDENTIAL = Pattern.compile("(?m)^[ \\t]*+(?:[-—–~]{1,2}[ \\t]*+|/s/[ \\t]*+)?"
      + "(?<v>(?:\\p{Lu}\\.){2,3}+),?[ \\t]++(?:" + CREDENTIAL + ")(?![\\p{L}\\p{N}-])"
      // the signature's line ends there, or with its date and time: "X.R., MD read as negative", "U.A., RN collected
      // at 0800", "V.O., MD signed" are a study, a specimen and a verbal order before the one who acted on them
      + "(?=[ \\t]*+(?:[,;][ \\t]*+)?[\\d/:.\\- \\t]*+$)");
  /** Two or three letters a note writes with periods that are no one's initials (see {@link #PT_THEN_INITIALS}). */
  static final Set<String> NOT_INITIALS = Set.of("ao", "aox", "po", "npo", "dc", "iv", "im", "sc", "sq", "qd", "bid",
      "tid", "qid", "hs", "am", "pm", "us", "od", "os", "ou", "ac", "pc", "pr", "sl", "er", "ed", "or", "ot", "pt", "st",
      "cc", "md", "rn", "np", "pa", "uk", "eu", "qhs", "prn", "qod", "sob", "oob", "ama", "doa", "loc", "rom", "gi",
      "gu", "uti", "ms", "dr", "mr", "ok", "tv", "nka", "nkda", "aaa", "aa", "ad", "as", "au", "vs", "wnl", "ivp",
      "ng", "og", "bp", "hr", "rr", "lt", "rt", "ii", "iii", "vi",
      // abbreviations a note writes after "Pt" with periods (an adversarial review of set 10's rules: "Pt D.N.R. per
      // POLST", "Pt H.O.H.", "Pt N.W.B. left leg", "Pt U.T.D. on vaccines", "Pt D.M. type 2", "Pt C.P. free", "Pt A.D.L.
      // independent", "Pt R.A. sats 95%", "Pt C.O. chest pain", "Pt N.V.D.", "Pt A.A.O. times three", "Pt T.W.B.")
      "dnr", "dni", "dnar", "hoh", "nwb", "twb", "pwb", "fwb", "wb", "utd", "dm", "cp", "si", "hi", "adl", "ra", "co",
      "nvd", "nv", "aao", "cad", "chf", "htn", "cva", "tia", "dvt", "pe", "uri", "ams", "ha", "bm", "hx", "sx", "dx",
      "tx", "rx", "ua", "ct", "xr", "mri", "cbc", "ekg", "ecg", "eeg", "lp", "to", "vo", "icu", "nh", "snf", "ltc",
      "alf", "gcs", "abg", "cxr", "ivf", "tpn", "peg", "picc", "ob", "ptsd", "sud", "mdd", "doe", "nad", "rrr", "cta",
      "ntnd", "lmp", "srom", "lof", "dos", "dob", "doi", "etoh", "nas", "bs", "fs", "ue", "le", "rle", "lle", "rue",
      "lue", "hob", "ssi", "pca", "mrsa", "vre", "esbl", "cdi", "tb", "hiv", "hcv", "hbv", "std", "sti");
  /**
   * A name after a cue that says what a person is called ("goes by Dot", "known to everyone as Buddy", "legal name
   * Jaxon Pruitt-Vance", "prefers to be called Jax", "nicknamed Sissy"; held-out set 10): one to three capitalized
   * words, none a service's, a condition's, a drug's or an eponym's ("goes by the name", "known as Lou Gehrig disease",
   * "also known as Coumadin" stay).
   */
  private static final Pattern NICKNAME_CUE = Pattern.compile("(?<![\\p{L}'’-])(?i:goes[ \\t]++by|went[ \\t]++by"
      + "|prefers[ \\t]++to[ \\t]++be[ \\t]++called|likes[ \\t]++to[ \\t]++be[ \\t]++called|nicknamed|nickname[: \\t]"
      + "|known[ \\t]++to[ \\t]++(?:everyone|all|family|friends|staff|us)[ \\t]++as|legal[ \\t]++name[: \\t]"
      + "|preferred[ \\t]++name[: \\t]|a\\.?k\\.?a\\.?"
      // a caller's name as given, whatever word it is ("Caller gave her name as Destiny" passed held-out set 12)
      + "|(?:gave|gives|giving|stated|states)[ \\t]++(?:her|his|their)[ \\t]++(?:first[ \\t]++)?name[ \\t]++as"
      + "|(?:her|his|their)[ \\t]++(?:first[ \\t]++)?name[ \\t]++(?:is|was))[ \\t]*+[\"“'‘]?"
      + "(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+(?:[ \\t]\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+){0,2})(?![\\p{L}\\p{N}'’-])");
  /**
   * What ends a name after its cue: a mark or the line's end ("(goes by Dot)", "goes by Jax (legal name", "known to
   * everyone as Buddy, is"); a
   * word after it makes a way or a service of it ("goes by Lyft to dialysis", "goes by Route 9 daily").
   */
  /**
   * Words after a nickname's cue that are a state, an answer, a way of travel or a condition, not a name ("Nickname:
   * None", "legal name: Unknown", "goes by Paratransit", "went by Ambulance", "also known as Shingles", "Known to staff as
   * Pleasant"; an adversarial review of set 10's rules).
   */
  static final Set<String> NOT_A_NICKNAME = Set.of("none", "unknown", "unk", "same", "pending", "unavailable", "declined",
      "refused", "deferred", "na", "n/a", "nil", "not", "no", "yes", "pleasant", "difficult", "stubborn", "sleepy",
      "confused", "quiet", "friendly", "agitated", "anxious", "mono", "shingles", "zoster", "flu", "strep", "measles",
      "mumps", "rubella", "chickenpox", "ambulance", "paratransit", "medicaid", "medicare", "lyft", "uber", "taxi", "cab",
      "bus", "metro", "transit", "wheelchair", "walker", "car", "van", "foot", "bike", "bicycle", "scooter", "train",
      // a caller who keeps the name back ("gave her name as Anonymous": the review of set 12's rules)
      "anonymous", "withheld", "private", "caller");
  /** "AKA" after a side or "s/p": an above-knee amputation ("s/p L AKA Stump healing"), not "also known as". */
  private static final Pattern AMPUTATION_BEFORE = Pattern.compile("(?i:\\b(?:l|r|lt|rt|left|right|bilateral|bilat|b/l"
      + "|s/p|status[ \\t]post|and|bka|hx))[ \\t]++$");
  private static final Pattern NICKNAME_END = Pattern.compile("[\"”'’]?[ \\t]*+(?:[,.;:()!?—–]|\\r?\\n|$)");
  /** A way of travel after "goes by" ("goes by Medicaid cab", "goes by OATS van"): how the patient gets about. */
  private static final Pattern TRANSPORT_AFTER = Pattern.compile("[ \\t]++(?i:cab|cabs|taxi|van|vans|bus|buses|transport"
      + "|transportation|ride|rides|car|shuttle|ambulance|wheelchair|scooter|train|plane|boat|truck)\\b");
  /**
   * A name between the word for the patient and the age ("Patient Pham Van Loc, 94 y/o", "Child Kaeden, 2 y/o",
   * "Proband Renata, 41," passed held-out set 11): one to four capitalized words, each a word a name may be (a particle
   * of a name between them: "Van", "de", "bin"), then a comma and an age with its unit, or a number between commas.
   * What else a note writes there is what the patient did or has ("Patient Education, 2 sessions", "Child Pugh B, 8")
   * and is no name's word, or has no age after it.
   */
  private static final Pattern NAME_BEFORE_AGE = Pattern.compile("(?<![\\p{L}'’./-])(?i:patient|pt\\.?|child|infant|baby"
      // (a newborn's and a label's colon too, an age after "age" and in months, weeks or days: "Patient: Nguyen Thi Mai,
      // 88 y/o", "Child Brayden, 18 months", "Newborn Kaeden, 2 days old" passed the review of set 11's rules)
      + "|toddler|client|proband|resident|newborn|neonate)(?:[ \\t]*+:)?[ \\t]++(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+"
      + "(?:[ \\t]\\p{L}[\\p{L}'’-]{0,30}+){0,3})(?:,[ \\t]*+(?:(?i:age)[ \\t]++\\d{1,3}+(?!\\d|[/.]\\d)|\\d{1,3}+(?:[ \\t]?(?:y/?o|yo|y\\.o\\.|yrs?"
      // (a newborn's age in days or weeks without "old": "Newborn Kaeden, 2 days", the brief of set 12)
      + "|years?[ -]old|-year-old|-yo|mos?|months?|-month-old|(?:days?|weeks?|wks?)(?:[ -]old)?|-day-old|-week-old|M|F)"
      + "(?![\\p{L}\\p{N}])|,[ \\t]))"
      // or no comma before an age with its unit in years ("Child Brayden 3 yo", the brief of set 12)
      + "|[ \\t]++\\d{1,3}+[ \\t]?(?:y/?o|yo|y\\.o\\.|years?[ -]old|-year-old|-yo)(?![\\p{L}\\p{N}]))");
  /**
   * A name at a line's start before an age between commas ("Gwendolyn Achterberg, 34, leaving Jan 9" passed held-out
   * set 12): two or three words a name may be, the first a given name of the dictionary.
   */
  private static final Pattern LINE_NAME_BEFORE_AGE = Pattern.compile("(?m)^[ \\t]*+(?<v>(?<g>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+)"
      + "(?:[ \\t]\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+){1,2}),[ \\t]*+\\d{1,3}+(?:,|[ \\t]?(?:y/?o|yo|yrs?|years?[ -]old|-year-old|M|F)"
      + "(?![\\p{L}\\p{N}]))");
  /** Particles of a name between its words ("Pham Van Loc", "Maria de la Cruz", "Amir bin Rashid"). */
  static final Set<String> NAME_PARTICLES = Set.of("van", "von", "de", "da", "di", "del", "della", "la", "le", "bin",
      "ibn", "al", "el", "du", "der", "ter", "thi", "binti");
  /**
   * A surname and a given name after "Pt" at a line's or a sentence's start ("Pt Okafor-Lindqvist, Ebere." passed
   * held-out set 11): the family name first, as a chart prints it; a surname of two names or of the dictionary, then a
   * word a name may be, then the sentence's end or a mark. "Pt Alert, Oriented." has no surname.
   */
  // (or another word for the person a register names so: "Detainee Rutledge, Corbin, DOB" passed held-out set 13)
  private static final Pattern PT_THEN_FAMILY_NAME = Pattern.compile("(?:(?m:^)[ \\t]*+|(?<=[.;!?][ \\t]{1,3}))(?:Pt\\.?"
      + "|Patient|Detainee|Inmate|Offender|Resident|Client)[ \\t]++"
      + "(?<v>(?<f>\\p{Lu}\\p{Ll}[\\p{L}'’]{0,30}+(?<h>-\\p{Lu}\\p{Ll}[\\p{L}'’]{0,30}+)?),[ \\t]*+(?<g>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+))"
      // (or a verb of the visit in lower case after the given name, and no blank after the comma: "Pt Delacroix,
      // Ambrose seen with his son" passed held-out set 12, "Pt Okafor,Ebere." the review of set 11's rules)
      + "(?=[ \\t]*+(?:[.,;:(]|\\r?\\n|$)|[ \\t]++(?:seen|here|is|was|presents|presented|returns|arrives|arrived|comes|came"
      + "|seen|who|with|for|today|accompanied|alone)(?![\\p{L}'’-]))");

  // (and a product or a program after "Infant", "Baby", "Patient": the review of the session's rules)
  static final Set<String> NOT_A_CHILDS_NAME = Set.of("pugh", "turcotte", "life", "protective", "abuse", "find",
      "formula", "aspirin", "safety", "education", "belongings", "portal", "transport", "council",
      // a role or a service after "Patient", "Resident" ("Patient Advocate, 3 yrs", "Resident Physician, 2 yrs": the
      // review of set 11's rules)
      "advocate", "advocacy", "physician", "physicians", "doctor", "nurse", "nurses", "navigator", "representative",
      "liaison", "coordinator", "relations", "experience", "services", "assistant", "aide", "care", "centered",
      // what is done for a newborn ("Infant Feeds, 3 days": the review of set 12's rules)
      "feeds", "feeding", "feed", "screen", "screening", "hearing",
      // a measure before its number at a line's start ("Jean Size, 34, waist": the review of set 12's rules)
      "size", "sizes", "waist", "weight", "height", "score", "count", "level", "period", "rate", "power", "visits");
  /**
   * A newborn's placeholder before the family's name ("Infant Baby Boy Raghunathan, born 12/3" passed held-out set 13,
   * "Baby Girl Smith" an older miss): the surname names the family, whatever follows it. A twin's letter may come
   * between ("Baby Girl A Smith").
   */
  private static final Pattern PLACEHOLDER_THEN_SURNAME = Pattern.compile("(?<![\\p{L}'’-])(?:Baby|BABY|Infant|INFANT"
      + "|Newborn|NEWBORN)[ \\t]++(?:Boy|Girl|BOY|GIRL)(?:[ \\t]++(?:(?:Twin|TWIN)[ \\t]++)?[A-D](?![\\p{L}\\p{N}'’-]))?[ \\t]++"
      + "(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’]{1,30}+(?:-\\p{Lu}\\p{Ll}[\\p{L}'’]{1,30}+)?|\\p{Lu}[\\p{Lu}'’]{1,30}+)(?![\\p{L}\\p{N}'’-])");
  /** What may follow a name that ends its phrase: a mark, a line's end, or a preposition of where or when. */
  private static final Pattern NAME_PHRASE_END = Pattern.compile("[ \\t]*+(?:[,;:(]|\\.(?!\\d)|\\r?\\n|$)|[ \\t]++(?:in|at"
      + "|on|born|delivered|is|was|with|and|to|from)(?![\\p{L}'’-])");
  /** Words a nursery writes after a newborn's placeholder that name no family. */
  static final Set<String> NEWBORN_WORDS = Set.of("born", "delivered", "term", "preterm", "premature", "nicu", "nursery",
      "apgar", "apgars", "weight", "length", "vitals", "exam", "doing", "stable", "admitted", "transferred", "noted", "has",
      "is", "was", "the", "with", "and", "of", "to", "in", "on", "at", "for", "mom", "mother", "father", "dad", "parents",
      "name", "unnamed", "pending", "twin", "twins", "hep", "vitamin", "erythromycin", "bath", "cord", "circ", "circumcision",
      "bilirubin", "bili", "glucose", "sepsis", "gbs", "ballard", "dubowitz", "voided", "stooled", "breastfeeding",
      "breastfed", "bottle", "formula", "latch", "void", "stool", "jaundice", "cephalohematoma", "caput", "well", "fine",
      "good", "healthy", "pink", "vigorous", "crying", "sleeping", "feeding", "active", "alert", "warm", "small", "large",
      "appropriate", "normal", "baby", "boy", "girl", "infant", "newborn", "mom's", "cried", "seen", "today");
  /** The words a nursery writes for a newborn not yet named. */
  static final Set<String> NEWBORN_PLACEHOLDERS = Set.of("boy", "girl", "twin", "male", "female");
  /** The first half of a hyphenated word that is no surname's ("Pt Non-Verbal, Calm", "Pt Self-Ambulating, Steady"). */
  static final Set<String> NOT_A_SURNAMES_HALF = Set.of("non", "self", "full", "semi", "post", "pre", "well", "ill",
      "co", "re", "anti", "over", "under", "half", "double", "single", "low", "high", "x", "wheelchair", "bed", "chair");

  static void addNamesBeforeAges(List<Span> spans, String text) {
    Matcher m = NAME_BEFORE_AGE.matcher(text);
    while (m.find()) {
      String[] words = m.group("v").split("[ \\t]+");
      boolean all = words.length > 0;
      for (int i = 0; i < words.length; i++) {
        String w = words[i];
        boolean particle = i > 0 && i < words.length - 1 && NAME_PARTICLES.contains(w.toLowerCase(Locale.ROOT));
        all &= particle || w.length() > 1 && Character.isUpperCase(w.charAt(0))
            && (roleNameWord(w) || PersonNames.isGivenName(w)) && !DictionaryNames.eponym(w)
            // a score's eponym after "Child" ("Child Pugh B, 8": the Child-Pugh class)
            && !NOT_A_CHILDS_NAME.contains(w.toLowerCase(Locale.ROOT));
      }
      // a newborn's placeholder alone is no name ("Baby Boy 1 yo": the review of set 12's rules); "Baby Girl Smith,
      // 2 days old" still names the family
      boolean placeholder = words.length == 1 && NEWBORN_PLACEHOLDERS.contains(words[0].toLowerCase(Locale.ROOT));
      if (all && !placeholder && !followsAfter(text, m.end("v"), ':')) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    m = LINE_NAME_BEFORE_AGE.matcher(text);
    while (m.find()) {
      boolean all = PersonNames.isGivenName(m.group("g"));
      for (String w : m.group("v").split("[ \\t]+")) {
        all &= roleNameWord(w) && !DictionaryNames.eponym(w) && !NOT_A_CHILDS_NAME.contains(w.toLowerCase(Locale.ROOT));
      }
      if (all) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    m = PLACEHOLDER_THEN_SURNAME.matcher(text);
    while (m.find()) {
      String w = m.group("v");
      String first = w.split("-")[0];
      String lower = first.toLowerCase(Locale.ROOT);
      // A surname of the dictionary ("Baby Girl Smith"); a word a name may be, or a surname that is an eponym too, only
      // where its phrase ends (a mark, a line's end, a preposition): a product, a drug, a test, a reflex or a measure
      // goes on with what it is ("Baby Girl Similac 20 mL", "Baby Boy Coombs negative", "Baby Girl Temp 36.8", "Baby
      // Boy Heart rate 150": the two reviews of the session's rules); never a word of the nursery or a newborn's care
      // ("Baby Boy Born", "Baby Girl Feeds")
      boolean ends = NAME_PHRASE_END.matcher(text).region(m.end("v"), text.length()).lookingAt();
      boolean name = (PersonNames.isSurname(first) || (PersonNames.isNameWord(first) || roleNameWord(first)) && ends)
          && (ends || !DictionaryNames.eponym(first));
      if (name && !NOT_A_CHILDS_NAME.contains(lower) && !NEWBORN_WORDS.contains(lower)
          && !NOT_AN_EPONYMS_AFTER.matcher(text).region(m.end("v"), text.length()).lookingAt()) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    m = PT_THEN_FAMILY_NAME.matcher(text);
    while (m.find()) {
      String f = m.group("f");
      String g = m.group("g");
      // a surname of two names or of the dictionary; or any word a name may be before a given name of the dictionary
      // ("Pt Delacroix, Ambrose seen": held-out set 12)
      if ((m.group("h") != null || PersonNames.isSurname(f) || PersonNames.isGivenName(g)) && roleNameWord(f.split("-")[0])
          && !NOT_A_SURNAMES_HALF.contains(f.split("-")[0].toLowerCase(Locale.ROOT))
          && (PersonNames.isGivenName(g) || roleNameWord(g))) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
  }

  /**
   * A hospital called by its name before its emergency department, after a word that says care is sent or comes from
   * it ("to Cox South ED", "sending facility Lake Regional ED" passed held-out sets 11 and 10): one to three
   * capitalized words, one at least a name's (not a unit's, a service's or a direction's: "to Peds ED", "from Main
   * ER", "to Adult ED" stay). And a health system called by a name before its town ("outside CXR from Freeman Neosho",
   * set 10): a word a name may be before a town of the gazetteer, after "from", "at" or "to".
   */
  private static final Pattern FACILITY_BEFORE_ED = Pattern.compile("(?i:\\b(?:to|at|from|facility|hospital|transfer(?:red)?"
      + "[ \\t]++(?:to|from)|sending|receiving|via))[ \\t]++(?<v>\\p{Lu}\\p{Ll}{2,20}+(?:[ \\t]\\p{Lu}\\p{Ll}{2,20}+){0,2})"
      + "[ \\t]++(?:ED|ER|Emergency[ \\t]++(?:Department|Dept\\.?|Room))(?![\\p{L}\\p{N}])");
  static final Set<String> NOT_AN_EDS_NAME = Set.of("peds", "pediatric", "paediatric", "adult", "adults", "main",
      "our", "their", "local", "nearest", "closest", "outside", "another", "freestanding", "satellite", "community",
      "rural", "psych", "psychiatric", "behavioral", "trauma", "level", "fast", "express", "urgent", "same", "this",
      "that", "the", "an", "a", "children's", "childrens", "county", "city", "university", "academic", "receiving",
      "sending", "referring", "nearby", "busy", "new", "old", "home", "hospital", "downtown",
      // a kind of patient or of ED, and other ones ("Sent to Obstetric ED", "Dog taken to Animal ER", "Sent to Minors
      // ED", "Seen at Standalone ED", "Went to Other ED": the review of set 11's rules)
      "obstetric", "obstetrical", "maternity", "animal", "veterinary", "vet", "pet", "minors", "majors", "standalone",
      "other", "different", "second", "previous", "prior", "eye", "dental", "stroke", "burn", "geriatric", "cardiac",
      "mental", "overflow", "virtual",
      // a level of independence before a town's word ("Return to Full Independence", "Modified Independence")
      "full", "modified", "complete", "partial", "total", "functional", "maximal", "minimal", "moderate");
  private static final Pattern FACILITY_THEN_TOWN = Pattern.compile("(?i:\\b(?:from|at|to))[ \\t]++(?<v>(?<h>\\p{Lu}\\p{Ll}{2,20}+)"
      + "[ \\t](?<t>\\p{Lu}\\p{Ll}{2,20}+(?:[ \\t]\\p{Lu}\\p{Ll}{2,20}+)?))(?![\\p{L}'’-])");

  /**
   * A service line called by its owner's name or its region's ("Freeman Heart & Vascular" passed held-out set 13;
   * "Heart & Vascular Institute of the Ozarks" an older miss): two organs or services joined by "&" or "and", after a
   * name, or with "of the" and a region after its kind. "Heart & Vascular Clinic" alone names no place.
   */
  private static final Pattern SERVICE_LINE = Pattern.compile("(?<![\\p{L}'’.-])(?:(?<o>\\p{Lu}\\p{Ll}{2,20}+)[ \\t]++)?"
      + "(?<s>(?:Heart|Bone|Brain|Spine|Ear|Eye|Skin|Lung|Joint|Foot|Digestive|Kidney|Vein|Sleep)[ \\t]++(?:&|and)[ \\t]++"
      + "(?:Vascular|Joint|Spine|Throat|Lung|Vein|Ankle|Nerve|Sleep|Vision|Hypertension|Liver|Laser|Wellness|Rhythm)"
      + "(?:[ \\t]++(?<k>Institute|Cent(?:er|re)|Clinic|Associates|Specialists|Group|Hospital))?)"
      // (a region only after the kind's word: "Heart & Lung exam of the Newborn" names none, the review of the
      // session's rules)
      + "(?:(?<=Institute|Center|Centre|Clinic|Associates|Specialists|Group|Hospital)[ \\t]++of[ \\t]++(?:the[ \\t]++)?"
      + "(?<r>\\p{Lu}\\p{Ll}{2,20}+))?(?![\\p{L}'’-])");

  /** What may follow a service line's name without its kind's word: its phrase's end, or a word of a visit to it. */
  private static final Pattern SERVICE_LINE_END = Pattern.compile(NAME_PHRASE_END.pattern() + "|[ \\t]++(?i:follow-up"
      + "|f/u|appointment|appt|referral|visit|office|team|clinic|cardiologist|surgeon|physician|provider|records)(?![\\p{L}'’-])");

  /** Words before a service line's organs that say their state or side, not who owns it. */
  static final Set<String> NOT_AN_OWNER = Set.of("normal", "abnormal", "left", "right", "bilateral", "chronic", "acute",
      "healthy", "good", "poor", "full", "total", "whole", "upper", "lower", "routine", "baseline", "clear", "stable",
      "new", "old", "my", "his", "her", "your", "our", "their", "the", "a", "an", "and", "or", "with", "no", "any", "both",
      "each", "recent", "prior", "previous", "congestive", "diabetic", "painful", "sore", "swollen", "weak", "knee",
      "skin", "bone", "brain", "ear", "joint", "see", "seen", "per", "via", "pediatric", "adult", "comprehensive");

  static void addServiceLines(List<Span> spans, String text) {
    Matcher m = SERVICE_LINE.matcher(text);
    while (m.find()) {
      String o = m.group("o");
      String lower = o == null ? null : o.toLowerCase(Locale.ROOT);
      // (not a state or a side of what the organs are: "Normal Heart & Lung exam", "Left Foot & Ankle pain", the review
      // of the session's rules)
      boolean owner = o != null && !GENERIC.contains(lower) && !NOT_AN_OWNER.contains(lower)
          && !DIRECTION_WORDS.contains(lower) && !NOT_A_NAME.contains(lower)
          && (roleNameWord(o) || PersonNames.isSurname(o) || PersonNames.isNameWord(o) || Gazetteer.isPlace(o));
      // (an owner only where the service line's name ends, or has its kind's word, or a visit's word follows: "Regular
      // Heart & Lung sounds", "Strong Heart & Lung sounds", "Check Kidney & Liver function", "Mild Foot & Ankle
      // swelling" say what the organs are or do; the second review of the session's rules)
      owner &= m.group("k") != null || SERVICE_LINE_END.matcher(text).region(m.end(), text.length()).lookingAt();
      String r = m.group("r");
      boolean region = r != null && !GENERIC.contains(r.toLowerCase(Locale.ROOT));
      if (owner || region) {
        int start = owner ? m.start("o") : m.start("s");
        spans.add(new Span(start, m.end(), IdentifierClass.FACILITY, IdentifierClass.FACILITY.prefix()));
      }
    }
  }

  static void addFacilitiesBeforeTheirEds(List<Span> spans, String text) {
    Matcher m = FACILITY_BEFORE_ED.matcher(text);
    while (m.find()) {
      boolean names = false;
      boolean none = false;
      for (String w : m.group("v").split("[ \\t]+")) {
        String l = w.toLowerCase(Locale.ROOT);
        none |= NOT_AN_EDS_NAME.contains(l) || NOT_A_PLACE.contains(l) && !DIRECTION_WORDS.contains(l);
        names |= !GENERIC.contains(l) && !NOT_A_NAME.contains(l) && !DIRECTION_WORDS.contains(l)
            && !NOT_A_PLACE.contains(l) && !STATES_AND_COUNTRIES.contains(l);
      }
      if (names && !none) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.FACILITY, IdentifierClass.FACILITY.prefix()));
      }
    }
    m = FACILITY_THEN_TOWN.matcher(text);
    while (m.find()) {
      String h = m.group("h");
      String t = m.group("t");
      String l = h.toLowerCase(Locale.ROOT);
      if (Gazetteer.isPlace(t) && !Gazetteer.isPlace(h) && !Gazetteer.isPlace(m.group("v")) && roleNameWord(h)
          && !DIRECTION_WORDS.contains(l) && !GENERIC.contains(l) && !NOT_AN_EDS_NAME.contains(l)
          && !STATES_AND_COUNTRIES.contains(t.toLowerCase(Locale.ROOT))) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.FACILITY, IdentifierClass.FACILITY.prefix()));
      }
    }
  }

  /**
   * A surname alone with a comma before a clinician's letters on a line of its own, as a note is signed ("Foley, RN", a
   * known miss since set 9): on its own line only, so "Foley, RN removed" and "Triage, RN" in a sentence stay, and
   * only a surname of the dictionary (a service or a unit on its own line, "Triage, RN", is none).
   */
  private static final Pattern SURNAME_SIGNING_ALONE = Pattern.compile("(?m)^[ \\t]*+(?:--?[ \\t]*+|/s/[ \\t]*+)?"
      + "(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{1,30}+),[ \\t]*+(?:" + CREDENTIAL + ")[ \\t]*+(?:[\\d/:. -]*+)$");

  static void addSurnamesSigningAlone(List<Span> spans, String text) {
    Matcher m = SURNAME_SIGNING_ALONE.matcher(text);
    while (m.find()) {
      String v = m.group("v");
      String l = v.toLowerCase(Locale.ROOT);
      // an eponym is a person's surname ("Foley", a catheter's inventor, signs here); a unit's or a shift's word
      // ("Charge, RN", "Triage, RN") does not
      boolean surname = PersonNames.isSurname(v) || PersonNames.isNameWord(v) || DictionaryNames.eponym(v)
          || Gazetteer.isPlace(v) && !GENERIC.contains(l);
      if ((surname || roleNameWord(v)) && !GENERIC.contains(l) && !NOT_A_PLACE.contains(l) && !NOT_A_NAME.contains(l)
          && (!CARE_WORDS_BEFORE_CREDENTIAL.contains(l) || surname)) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
  }

  /**
   * A first name alone after a conversational cue ("spoke with Tammy" passed held-out set 9): "spoke with", "spoke to",
   * "talked to", "talked with", "called", "per". Only a given name of the dictionary, with a second word when it is a
   * name's too; a service, a department, a protocol or a title after the cue ("spoke with Pharmacy", "called Poison
   * Control", "per Protocol", "per MD") is no given name, and a given name before a place's or a service's word
   * ("called Jackson County", "per Mercy Hospital") names no one person.
   */
  private static final Pattern CUE_THEN_FIRST_NAME = Pattern.compile("(?<![\\p{L}'’-])(?i:spoke[ \\t]++(?:with|to)"
      // a result discussed with, a report called or given to ("Discussed by phone with Hadley", "report called to
      // Brandi" passed held-out set 10)
      + "|discussed(?:[ \\t]++by[ \\t]++phone)?[ \\t]++with|report[ \\t]++(?:called[ \\t]++|given[ \\t]++)?to"
      + "|handed[ \\t]++off[ \\t]++to|hand-?off[ \\t]++to"
      + "|talked[ \\t]++(?:with|to)|called|per)[ \\t]++(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+)"
      + "(?:[ \\t](?<b>\\p{Lu}[\\p{L}'’-]{0,30}+))?(?![\\p{L}\\p{N}'’-])");
  /**
   * A surname before a clinician's letters without a comma ("Circulator: Abernathy RN" passed held-out set 9), with a
   * given name before it or not: only a surname of the names dictionary (not one that is an English word), so a drug,
   * a device, a shift or a service before the letters ("Tylenol RN gave", "Foley RN removed", "Charge RN", "Night RN",
   * "Wound Care RN") stays, and neither a medical center called by a surname nor a town of two words. "Foley, RN" with a comma is still left: by its shape it cannot be told from "Triage, RN".
   */
  /**
   * One name after a word that hands a task or a word to a person, before a clinician's letters without a comma
   * ("Follow up per Tamsin IBCLC" passed held-out set 13; "spoke with Kelly RN" an older miss): the cue says a person
   * follows, so a given name that is an eponym too is one.
   */
  private static final Pattern CUE_THEN_NAME_THEN_CREDENTIAL = Pattern.compile("(?<![\\p{L}'’-])(?i:with|per|by|from|to"
      + "|called|paged|notified|informed|told|asked)[ \\t]++(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{1,30}+)[ \\t]++(?:" + CREDENTIAL
      + ")(?![\\p{L}\\p{N}-])");
  private static final Pattern SURNAME_THEN_CREDENTIAL = Pattern.compile("(?<![\\p{L}'’.-])(?:(?<g>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+)"
      + "[ \\t])?(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]{0,30}+)[ \\t]++(?:" + CREDENTIAL + ")(?![\\p{L}\\p{N}-])");

  /**
   * Medical centers and universities called by a surname, written before a clinician's letters for where the clinician
   * trained or works ("Vanderbilt MD", "Johns Hopkins MD consult", "Mayo MD"): no person's surname there.
   */
  private static final Set<String> CENTERS_BY_A_SURNAME = Set.of("vanderbilt", "hopkins", "emory", "baylor", "stanford",
      "duke", "cornell", "tufts", "harvard", "yale", "mayo", "geisinger", "ochsner", "beaumont", "brigham", "dartmouth",
      "creighton", "loyola", "rush", "sanford", "kaiser", "carilion", "cedars", "sinai", "kettering", "sloan");

  /**
   * Whether {@code word}, after a cue, opens a person's name: a given name of the dictionary that a role's name may
   * be (no English word), and not a label (its match, ending at {@code end}, followed by a colon).
   */
  private static boolean givenNameOpens(String word, String text, int end) {
    return PersonNames.isGivenName(word) && roleNameWord(word) && !followsAfter(text, end, ':');
  }

  static void addNamesAfterConversationalCues(List<Span> spans, String text) {
    Matcher m = PT_THEN_INITIALS.matcher(text);
    while (m.find()) {
      String v = m.group("v");
      String letters = v.replaceAll("[^\\p{Lu}]", "").toLowerCase(Locale.ROOT);
      if (m.group("s") != null) {
        String w = m.group("s");
        if (!roleNameWord(w) || ORGANISM_AFTER_INITIAL.contains(w.toLowerCase(Locale.ROOT))
            || NOT_AN_EPONYMS_AFTER.matcher(text).region(m.end("v"), text.length()).lookingAt()) {
          continue;
        }
      } else if (NOT_INITIALS.contains(letters)) {
        continue;
      }
      spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
    m = INITIALS_BEFORE_CREDENTIAL.matcher(text);
    while (m.find()) {
      if (!NOT_INITIALS.contains(m.group("v").replace(".", "").toLowerCase(Locale.ROOT))) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    m = NICKNAME_CUE.matcher(text);
    while (m.find()) {
      String[] words = m.group("v").split("[ \\t]+");
      int end = m.start("v");
      int at = end;
      for (String word : words) {
        int start = text.indexOf(word, at);
        String w = word.toLowerCase(Locale.ROOT);
        if (GENERIC.contains(w) || NOT_A_NAME.contains(w) || NOT_A_PLACE.contains(w) || DRUG_BRANDS.contains(w)
            || NOT_A_ROLES_NAME.contains(w) || NOT_A_NICKNAME.contains(w)
            || FAMILY_HISTORY_WORDS.contains(w) || Gazetteer.EPONYM_WORDS.contains(w) || DictionaryNames.eponym(word)
            || CLINICAL_SHAPE.matcher(w).matches() || DRUG_SHAPE.matcher(w).matches()
            || word.length() > 1 && word.equals(word.toUpperCase(Locale.ROOT))) {
          break;
        }
        end = start + word.length();
        at = end;
      }
      // a name's word before a word that is none ("aka Pink Eye", "known as Lou Gehrig disease"): a condition's name
      boolean whole = end == m.end("v");
      String cue = text.substring(m.start(), m.start("v")).strip();
      if (!whole || cue.startsWith("AKA") && AMPUTATION_BEFORE.matcher(text.substring(Math.max(0, m.start() - 20),
          m.start())).find()) {
        continue;
      }
      if (end == m.start("v") || NOT_AN_EPONYMS_AFTER.matcher(text).region(end, text.length()).lookingAt()
          || TRANSPORT_AFTER.matcher(text).region(end, text.length()).lookingAt()
          || !NICKNAME_END.matcher(text).region(end, text.length()).lookingAt()) {
        continue;
      }
      spans.add(new Span(m.start("v"), end, IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
    m = PT_THEN_NAME.matcher(text);
    while (m.find()) {
      String[] words = m.group("v").split("[ \\t]+");
      if (!givenNameOpens(words[0], text, m.end("v"))) {
        continue;
      }
      int end = m.start("v") + words[0].length();
      int at = end;
      for (int i = 1; i < words.length; i++) {
        int start = text.indexOf(words[i], at);
        if (words[i].endsWith(".") || !roleNameWord(words[i]) && !PersonNames.isGivenName(words[i])) {
          if (words[i].length() == 2 && words[i].endsWith(".")) {
            at = start + 2;
            continue;
          }
          break;
        }
        end = start + words[i].length();
        at = end;
      }
      String name = text.substring(m.start("v"), end);
      // a town of two words after "Pt" ("Pt Ann Arbor trip"), a possessive ("Pt Ruth's Chris dinner"), an eponym's noun
      if (name.indexOf(' ') > 0 && Gazetteer.isPlace(name) || name.matches(".*['’]s\\b.*")
          || NOT_AN_EPONYMS_AFTER.matcher(text).region(end, text.length()).lookingAt()) {
        continue;
      }
      spans.add(new Span(m.start("v"), end, IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
    m = CUE_THEN_FIRST_NAME.matcher(text);
    while (m.find()) {
      String v = m.group("v");
      String b = m.group("b");
      if (!givenNameOpens(v, text, m.end("v"))) {
        continue;
      }
      int end = m.end("v");
      if (b != null) {
        if (!b.equals(b.toUpperCase(Locale.ROOT)) && roleNameWord(b) && !Gazetteer.isPlace(v + " " + b)) {
          end = m.end("b");
        } else if (!ROLE_ABBREVIATION_WORDS.contains(b.toLowerCase(Locale.ROOT)) && !b.matches(CREDENTIAL)) {
          // a given name before a place's, a service's or an institution's word ("called Jackson County")
          continue;
        }
      }
      if (NOT_AN_EPONYMS_AFTER.matcher(text).region(end, text.length()).lookingAt()) {
        continue;
      }
      spans.add(new Span(m.start("v"), end, IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
    m = CUE_THEN_NAME_THEN_CREDENTIAL.matcher(text);
    while (m.find()) {
      String v = m.group("v");
      String w = v.toLowerCase(Locale.ROOT);
      // a given name of the dictionary, an eponym's too ("reviewed with Kelly RN"), or a word a name may be ("per
      // Tamsin IBCLC"); not a care word, a service or a center before the letters ("with Foley RN", "per Charge RN")
      if ((PersonNames.isGivenName(v) || PersonNames.isGivenNameWord(v) || roleNameWord(v)) && !ENGLISH_SHAPED.matcher(w).matches()
          && !CARE_WORDS_BEFORE_CREDENTIAL.contains(w) && !SERVICES.contains(w) && !CENTERS_BY_A_SURNAME.contains(w)
          && !GENERIC.contains(w) && !NOT_A_NAME.contains(w) && !NOT_A_PLACE.contains(w)
          // a role before its letters ("Verified with Pharmacist RPh", the review of the session's rules)
          && !w.matches("\\p{L}+(?:ist|ian|er|or|ent|ant)")) {
        spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
    m = SURNAME_THEN_CREDENTIAL.matcher(text);
    while (m.find()) {
      String v = m.group("v");
      String g = m.group("g");
      String w = v.toLowerCase(Locale.ROOT);
      if (!PersonNames.isSurname(v) || !roleNameWord(v)
          || CARE_WORDS_BEFORE_CREDENTIAL.contains(w) || SERVICES.contains(w) || CENTERS_BY_A_SURNAME.contains(w)
          || g != null && Gazetteer.isPlace(g + " " + v)) {
        continue;
      }
      int start = g != null && PersonNames.isGivenName(g) && roleNameWord(g) ? m.start("g") : m.start("v");
      spans.add(new Span(start, m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
  }

  /**
   * Words of a service, a unit, a shift or a device that a note writes before a clinician's letters: "Wound Care, RN",
   * "Triage, RN", "Charge Nurse, RN notified", "Pain Management, MD", "Foley, RN removed" name no one.
   */
  static final Set<String> CARE_WORDS_BEFORE_CREDENTIAL = Set.of("foley", "catheter", "line", "picc", "port", "drain",
      // (a resource nurse: "Resource, RN", the review of set 11's rules)
      "resource",
      "vac", "ostomy", "tube", "iv", "charge", "float", "pool", "shift", "station", "desk", "staff", "unit", "floor",
      "triage", "intake", "rapid", "response", "code", "sepsis", "infection", "control", "case", "management",
      "manager", "utilization", "review", "documentation", "education", "educator", "coordinator", "supervisor",
      "agency", "travel", "traveler", "per", "diem", "prn", "orthopedics", "ortho", "peds", "neonatal",
      "labor", "delivery", "postpartum", "antepartum", "lactation", "hospice", "palliative", "dialysis", "infusion",
      "telemetry", "tele", "cath", "procedural", "sedation", "anesthesia", "preop", "postop", "recovery", "clinic",
      "nurse", "nurses", "nursing", "provider", "physician", "doctor", "resident", "fellow", "attending", "intern",
      "consult", "consulting", "covering", "plan", "plans", "reviewed", "notified", "aware", "updated");

  /**
   * Whether a name before ", RN", ", PA" or a degree is a person's, not a service's or a device's (see
   * {@link #CARE_WORDS_BEFORE_CREDENTIAL}): a given name first with a second word is one ("Kevin Foley, RN", "Jennifer
   * Hand, RN"), and so is a name with an initial ("J. Foley, RN"); otherwise it is none when a word is of a device, a
   * unit or a shift ("Foley", "Triage", "Charge Nurse", "Night Shift") or every word is of a service ("Wound Care",
   * "Pain Management", "Home Health"), and "Rose Day, RN" stays a person.
   */
  private static boolean notAServiceBeforeACredential(String text, int start, int end) {
    String value = text.substring(start, end);
    String[] words = value.trim().split("\\s+");
    // a condition named after a person ("Marfan Syndrome, MD aware", "Bell Palsy, MD notified") names no one
    if (Gazetteer.EPONYM_WORDS.contains(words[words.length - 1].toLowerCase(Locale.ROOT))) {
      return false;
    }
    if (value.indexOf('.') > 0 || words.length >= 2 && PersonNames.isGivenName(words[0])) {
      return true;
    }
    boolean allService = true;
    for (String word : words) {
      String w = word.toLowerCase(Locale.ROOT).replace('’', '\'').replaceAll("'s$", "");
      if (CARE_WORDS_BEFORE_CREDENTIAL.contains(w)) {
        return false;
      }
      allService &= GENERIC.contains(w) || NOT_A_NAME.contains(w) || NOT_A_PLACE.contains(w)
          || NOT_AN_INSTITUTIONS_WORD.contains(w);
    }
    return !allService;
  }

  /** Words of a workplace that names none ("works nights at the Hospital", "works days at Nursing Home"). */
  static final Set<String> WORKPLACE_WORDS = Set.of("plant", "factory", "mill", "warehouse", "store", "shop",
      "restaurant", "job", "jobs", "shift", "shifts", "site", "farm", "mine", "mines", "kitchen", "garage", "yard",
      "nights", "days", "weekends", "overnights", "home", "hospital", "er", "icu", "clinic", "office",
      // a kind of place alone ("Works at Funeral Home", an over-removal known since set 10)
      "funeral", "mortuary", "chapel", "nursing",
      // a job's duty after "job at" ("return to his job at Light Duty", "his job at Full Duty": the second review of
      // the session's rules)
      "duty", "light", "full", "modified", "restricted");

  /**
   * Whether an employer after "works at" names one: some word of it is no word of a service, a unit or a workplace's
   * kind ("the Hospital", "Nursing Home", "ICU", "Night Shift" name no employer; "Home Depot", "Mercy Hospital" do).
   */
  private static boolean namesAWorkplace(String text, int start, int end) {
    for (String word : text.substring(start, end).split("[\\s&]+")) {
      String w = word.toLowerCase(Locale.ROOT).replace('’', '\'').replaceAll("'s$", "");
      if (!w.isEmpty() && !GENERIC.contains(w) && !NOT_A_PLACE.contains(w) && !NOT_A_NAME.contains(w)
          && !WORKPLACE_WORDS.contains(w)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Verbs of an order or a plan that begin a sentence before a practice named by its kind ("Needs Family Dentistry
   * referral", "Recommend Pediatric Dentistry follow-up", "Consider Orthodontics"): the verb is the sentence's, not
   * the first word of a place's name, and the kind alone names none.
   */
  static final Set<String> ORDER_VERBS = Set.of("needs", "need", "needed", "recommend", "recommends", "recommended",
      // "Call Orthopedic Specialists" (the review of the session's rules)
      "call", "page",
      "consider", "considering", "obtain", "obtained", "schedule", "schedules", "order", "orders", "ordered", "arrange",
      "arranged", "continue", "continues", "start", "started", "requires", "require", "required", "request", "requests",
      "requested", "advise", "advised", "encourage", "encouraged", "encouraging", "decline", "declines", "declined",
      "pending", "awaiting", "await", "establish", "establishing", "contact", "contacted", "notify", "notified", "place",
      "placed", "wants", "prefers", "discuss", "discussed", "offer", "offered", "defer", "deferred", "resume", "resumed",
      "try", "trial", "will", "may", "should", "must", "can", "could", "would", "please", "plan", "planned", "plans");

  /** Kinds of an institution beyond a hospital's, a clinic's or a school's; a state's name alone names none of them. */
  private static final String TOWN_WORD_FIRST = "[A-Z][a-z]{2,20}+";
  private static final String OTHER_INSTITUTION_KIND = "Home Care|Home Health(?: Care)?|Parish|Ministries|Services"
      // a health department whole ("Orange County Health Department" read "[FACILITY] Department")
      + "|Health(?: Department| Dept\\.?)?";
  private static final Pattern OTHER_INSTITUTION = Pattern.compile(OTHER_INSTITUTION_KIND);
  /** A town right after a facility's kind, with no comma: "Baptist Health Paducah". */
  private static final Pattern TOWN_RIGHT_AFTER = Pattern.compile("[ \\t]{1,2}+(?<v>" + TOWN_WORD_FIRST + "(?:[ \\t]"
      + TOWN_WORD_FIRST + ")?)(?![\\p{L}'’-])");

  /** The kinds of an institution that is no place of care; "American College of Cardiology" is no such place. */
  private static final String INSTITUTION_KIND = "Schools?|Academy|University|College|Seminary|Church|Cathedral"
      // a school named by its grade alone ("Bissett Elementary", "Little Acorns Preschool" passed held-out set 9)
      + "|Elementary|Preschool|Pre-School|Daycare|Day Care|Learning Cent(?:er|re)|Montessori"
      + "|Synagogue|Temple(?= of| Beth| Israel| Emanu)|Mosque|Masjid|Congregation";
  private static final Pattern INSTITUTION = Pattern.compile(INSTITUTION_KIND);
  /** The first words of a professional body, not a school: "American College of Cardiology", "Royal College". */
  static final Set<String> ASSOCIATION_WORDS = Set.of("american", "royal", "national", "international", "european",
      "world", "canadian", "british", "australian", "joint", "association", "society", "federation");
  /** A word of a facility's name: capitalized (St. Mary's, HonorHealth, O'Connor) or an acronym (UCSF). */
  // its humps bounded: a repeated group recurses once a repetition, and "AaAaAa…" of 64 KiB overflowed the stack
  private static final String FACILITY_WORD = "(?:[A-Z][a-z]+(?:[A-Z][a-z]+){0,4}(?:['’]s)?|[A-Z]['’][A-Z][a-z]+"
      + "|[A-Z]{2,6}|(?:St|Mt|Ft)\\.)";
  /** What a facility's name ends with: the kind of place it is. */
  private static final String FACILITY_KIND = "(?:Hospitals?|Medical Cent(?:er|re)|Health Cent(?:er|re)|Health System"
      + "|Health Services|Healthcare|Health Care|Clinics?|Medical Group|Medical Associates|Infirmary"
      + "|Laborator(?:y|ies)|Labs|Diagnostics|Imaging(?: Cent(?:er|re))?|Urgent Care|Surg(?:ery|ical) Cent(?:er|re)"
      + "|Cancer Cent(?:er|re)|Nursing Home|Nursing Cent(?:er|re)|Rehabilitation Cent(?:er|re)|Hospice"
      + "|Dialysis Cent(?:er|re)|Pharmacy|Medical Plaza"
      // where a patient lives in care: "brought in from Sunrise Senior Living" named the home and so the town
      + "|Senior Living|Assisted Living|Memory Care|Care Cent(?:er|re)|Retirement (?:Home|Community|Village)"
      + "|Skilled Nursing(?: Facility)?|Nursing Facility|Rehab Cent(?:er|re)"
      // a practice or a rehabilitation home named by its kind alone ("Lakeshore Internal Medicine", "Tri-County Family
      // Medicine", "Maple Grove Rehabilitation" passed held-out sets); "Acute Rehabilitation" names no place
      + "|Rehabilitation|Internal Medicine|Family Medicine|Family Practice|Primary Care|Pediatrics"
      // a dental practice ("Ozark Smiles Family Dentistry" passed held-out set 7); "Family Dentistry" alone names none
      + "|Dentistry|Orthodontics|Dental (?:Care|Group|Associates|Arts)"
      // a women's practice and a specialty's group ("Riverbend Women's Care", "Northland Orthopedic Associates" passed
      // held-out set 11); "Orthopedic Associates" alone is the kind, and names none (addFacilities' generic words)
      + "|Women['’]s (?:Care|Health(?: Cent(?:er|re))?|Clinic)|(?:Orthopa?edic|Orthopa?edics|Surgical|Cardiology|Urology"
      + "|Neurology|Pulmonary|Kidney|Renal|Pediatric|Dermatology|Oncology|Gastroenterology|Eye|ENT|OB-?GYN|Heart)"
      + " (?:Associates|Specialists|Partners|Institute)"
      // a fertility practice named by its kind after its name, and an institute after a name and a possessive ("at
      // Pinnacle Fertility", "Banner Alzheimer's Institute" passed held-out set 14). "Fertility" alone is a practice's
      // only after "at" or "from" and one name word ("Male Fertility workup", "Affects Fertility", "Referred to
      // Reproductive Fertility" name none); "Institute" after a possessive needs a name's two capitalized words, with a
      // lower-case word or a comma before them ("Per the Alzheimer's Institute criteria", "Discussed Parkinson's
      // Institute exercise guidance" name none)
      + "|Fertility (?:Cent(?:er|re)|Institute|Partners|Specialists)"
      + "|(?<=\\b(?:at|from)\\s\\p{Lu}[\\p{L}'’-]{1,30}[ \\t])Fertility"
      + "|(?<=[\\p{Ll},][ \\t]\\p{Lu}\\p{Ll}{1,30}[ \\t]\\p{Lu}\\p{Ll}{1,30}['’]s )Institute"
      // a dental specialist's practice and a funeral home ("Ozark Endodontics", "Hammond-Leach Funeral Chapel" passed
      // held-out set 10): each named by its kind after a name
      + "|Endodontics|Periodontics|Oral Surgery|Oral (?:and|&) Maxillofacial Surgery"
      + "|Funeral (?:Home|Chapel|Service|Services)|Mortuary"
      // a school, a college or a house of worship the patient attends or works at ("junior at Kickapoo High School",
      // "member of Grace Fellowship Church"): with the town, it narrows a patient to a few hundred people
      + "|" + INSTITUTION_KIND
      // an agency, a parish, a ministry or a health system named without Hospital or Clinic ("Ozark Valley Home Care",
      // "St. Casimir Parish", "Baptist Health Paducah" passed held-out set 6): last, after the longer kinds they begin
      + "|" + OTHER_INSTITUTION_KIND + ")";
  /**
   * A facility by name: capitalized words (joined by spaces, "of", "the", "and", "&" or a dash) ending
   * with the kind of place, and a place after it ("- Oro Valley", "of Arizona", "in Tempe").
   */
  private static final Pattern FACILITY = Pattern.compile("(?<![A-Za-z'’.])" + FACILITY_WORD
      + "(?:(?:\\s+(?:of|the|and|&|for)\\s+|\\s*[-–/]\\s*|\\s+)" + FACILITY_WORD + "){0,6}\\s+(?<kind>" + FACILITY_KIND + ")"
      + "(?:\\s+(?:of|in|at)\\s+(?:the\\s+)?" + FACILITY_WORD + "(?:\\s+" + FACILITY_WORD + "){0,2}"
      + "|\\s*[-–]\\s*" + FACILITY_WORD + "(?:\\s+" + FACILITY_WORD + "){0,2})?(?![A-Za-z])");
  private static final Pattern FACILITY_NAME_WORD = Pattern.compile(FACILITY_WORD);
  /**
   * Words before "Services", "Health" or "Ministries" that say what is served, not who serves: "Social Services",
   * "Adult Protective Services", "Population Health", "Environmental Services" name no one place.
   */
  static final Set<String> NOT_AN_INSTITUTIONS_WORD = Set.of("social", "protective", "environmental", "human", "child",
      "youth", "legal", "support", "financial", "guest", "food", "dietary", "pastoral", "spiritual", "interpreter",
      "interpreting", "language", "transport", "transportation", "case", "men's", "mens", "oral", "population",
      "global", "digital", "sexual", "reproductive", "maternal", "brain", "skin", "gut", "digestive", "prostate",
      "patient", "customer", "information", "department", "protection", "welfare", "disability", "aging", "ageing",
      "medicare", "medicaid", "insurance", "billing", "registration", "admitting", "security", "volunteer", "nursing",
      "respiratory", "therapy", "therapeutic", "counseling", "counselling", "crisis", "addiction", "recovery",
      "substance", "abuse", "ems", "fire", "rescue", "ambulance", "police", "county", "city", "state", "federal",
      "tribal", "indian", "rural", "urban", "planning", "quality", "safety", "risk", "compliance", "wellness",
      "preventive", "prevention", "lifestyle", "integrative", "holistic", "spine", "joint", "men", "women", "kids",
      // a kind of care a service gives ("Hospice Services consulted", "Palliative Home Care"), no one place
      "hospice", "palliative", "pharmacy", "chaplain", "chaplaincy", "vision", "hearing", "skilled", "respite",
      "visiting", "nurse", "nurses", "hospitalist", "infusion");

  /** Capitalized words that begin a sentence or a phrase before a name, not part of it ("Seen", "Per"). */
  static final Set<String> NOT_A_NAME = Set.of("the", "a", "an", "per", "pt", "patient", "seen", "visit",
      "via", "from", "to", "at", "in", "outside", "our", "your", "his", "her", "their", "this", "that", "dictated",
      "performed", "verified", "admitted", "transferred", "discharged", "referred", "called", "labs", "lab", "results",
      "new", "old", "local", "nearest", "main", "and", "of", "follow", "up", "see", "then", "ed", "er", "icu", "or",
      // verbs that begin a sentence before a place ("Attended the Mayo Clinic", "Visited Mercy Hospital"):
      // the facility's span took them, and the sentence lost what happened there
      "attended", "attends", "visited", "visits", "evaluated", "treated", "hospitalized", "hospitalised",
      "presented", "presents", "went", "goes", "established", "scheduled", "returned", "returns", "arrived", "saw",
      "followed", "managed", "sent", "taken", "brought", "born", "delivered", "works", "worked", "volunteers",
      "recently", "previously", "also", "both", "now", "last", "next", "prior", "since", "until", "after", "before",
      // verbs and prepositions that begin a sentence before a street ("Walks Maple Street daily", "Near Oak
      // Avenue"): the street's span took them, as a facility's took "Visited", and "Walks [ADDRESS_1]" lost the verb
      "walks", "walked", "walking", "jogs", "jogged", "runs", "ran", "drives", "drove", "rides", "rode", "bikes",
      "biked", "lives", "lived", "resides", "resided", "moved", "crosses", "crossed", "fell", "found", "parked",
      "stays", "stayed", "shops", "shopped", "stops", "stopped", "headed", "turned", "wandered", "wanders",
      "frequents", "near", "off", "along", "across", "behind", "past", "onto", "around",
      // words before a school or a church ("Member of Grace Fellowship Church", "Graduated Central High School")
      "member", "members", "attend", "graduated", "graduate", "student", "students", "teacher", "teaches",
      "taught", "enrolled", "studies", "studied", "worships", "volunteer", "pastor", "principal", "alumnus");
  /**
   * Words that say what kind of service a place gives, not where it is: "Diabetes Clinic", "Primary
   * Care Clinic", "Walk-In Clinic" or "University Hospital" alone name no place and stay as written.
   */
  static final Set<String> GENERIC = Set.of("cardiology", "cardiac", "heart", "vascular", "vein", "diabetes",
      "endocrine", "endocrinology", "anticoagulation", "coumadin", "warfarin", "wound", "care", "primary", "family",
      "medicine", "medical", "internal", "pediatric", "pediatrics", "children's", "childrens", "women's", "womens",
      "eye", "dental", "pain", "sleep", "lung", "kidney", "renal", "nephrology", "oncology", "cancer", "surgery",
      "surgical", "orthopedic", "orthopaedic", "neurology", "psychiatry", "psychiatric", "behavioral", "mental",
      "health", "walk", "in", "urgent", "emergency", "outpatient", "inpatient", "infusion", "dialysis", "transplant",
      "fertility", "reproductive", "male", "female", "allergy", "dermatology", "gi", "hepatology", "rheumatology", "pulmonary", "pulmonology", "urology",
      "gynecology", "ob", "gyn", "prenatal", "travel", "vaccine", "immunization", "lipid", "hypertension", "memory",
      "geriatric", "hiv", "id", "infectious", "disease", "diseases", "sports", "spine", "hand", "foot", "breast",
      "stroke", "clinical", "research", "community", "free", "mobile", "student", "employee", "occupational",
      "physical", "therapy", "rehab", "rehabilitation", "nutrition", "weight", "management", "smoking", "cessation",
      "teen", "adolescent", "public", "general", "regional", "university", "va", "veterans", "state", "specialty",
      "day", "night", "same", "hospital", "clinic", "center", "centre", "reference", "core", "pathology", "blood",
      "bank", "radiology", "imaging", "laboratory", "and", "of", "the", "for", "x-ray", "ray", "ct", "mri", "pet",
      "education", "cbc", "bmp", "cmp", "lft", "tsh", "ua", "abg", "ekg", "ecg", "pt", "inr", "ptt", "poc", "stat",
      "failure", "congestive", "bariatric", "asthma", "copd", "headache", "epilepsy", "seizure", "movement", "disorders",
      "bone", "joint", "liver", "thyroid", "diabetic", "retina", "glaucoma", "hearing", "audiology", "speech",
      "swallowing", "continence", "pelvic", "geriatrics", "senior", "acute", "subacute", "vestibular", "cardiopulmonary",
      "neuro", "neurologic", "cognitive", "vocational", "trauma", "department", "dept", "division", "section", "service",
      "consult", "consults", "hospitalist", "adult", "academic", "resident", "residents", "attending", "discharged",
      "referred", "refer", "follow", "followup", "f/u",
      // kinds of dental care ("Cosmetic Dentistry", "Restorative Dentistry" name no practice)
      "cosmetic", "restorative", "orthodontic", "orthodontics", "dentistry", "implant", "implants",
      // words of a school's or a church's kind that name none ("High School", "Sunday School", "Catholic Church",
      // "Medical School", "Back School")
      "elementary", "middle", "high", "junior", "secondary", "grade", "grammar", "private", "charter", "boarding",
      "nursing", "graduate", "law", "business", "technical", "trade", "summer", "sunday", "bible", "back", "home",
      "catholic", "christian", "baptist", "methodist", "lutheran", "presbyterian", "episcopal", "evangelical",
      "pentecostal", "orthodox", "anglican", "mormon", "lds", "jewish", "islamic", "muslim", "church", "school",
      "schools", "academy", "college", "seminary", "chapel", "temple", "mosque", "synagogue",
      "congregation", "cathedral", "kindergarten", "preschool", "daycare", "special", "alternative", "online");

  /**
   * Hospitals, clinics and laboratories by name: a span from the first word that names the place
   * (leading words such as "Seen" or "Dictated" are not part of it), kept only when some word before
   * the kind of place is not a kind of service ("Cardiology Clinic" names no place).
   */
  static void addFacilities(List<Span> spans, String text) {
    Matcher m = FACILITY.matcher(text);
    int from = 0;
    while (from < text.length() && m.find(from)) {
      Matcher w = FACILITY_NAME_WORD.matcher(text.substring(m.start(), m.start("kind")));
      int start = -1;
      int skipped = -1;
      boolean names = false;
      boolean other = OTHER_INSTITUTION.matcher(m.group("kind")).matches();
      String previous = null;
      while (w.find()) {
        String word = w.group().toLowerCase(Locale.ROOT).replace("’", "'");
        // a role's abbreviation before the first word of the name is the role's ("NP Pediatrics", "RN Hospice referral");
        // "Our" before "Lady", "Savior", "Redeemer" begins a church's name ("Our Lady of Lourdes Parish" lost its "Our")
        if (start < 0 && (NOT_A_NAME.contains(word) || ROLE_ABBREVIATION_WORDS.contains(word) || ORDER_VERBS.contains(word))
            && !(word.equals("our") && OUR_NAMES.matcher(text).region(m.start() + w.end(), text.length()).lookingAt())) {
          skipped = w.start();
          continue;
        }
        // a county after its name ("Texas County Home Care", "Wright County Health Department") names the place, a
        // state's name before it too
        names |= other && word.equals("county") && previous != null && !NOT_A_COUNTYS_NAME.contains(previous);
        previous = word;
        if (start < 0) {
          // a facility named after its street ("Main Street Clinic") begins with the street's name, which
          // is a word that begins sentences elsewhere ("Main"): "Main [FACILITY_1]" kept it
          start = skipped >= 0 && STREET_SUFFIXES.contains(w.group()) ? skipped : w.start();
        }
        names |= !GENERIC.contains(word) && !GENERIC.contains(word.replaceAll("'s$", ""))
            && !(other && (STATES_AND_COUNTRIES.contains(word) || NOT_AN_INSTITUTIONS_WORD.contains(word)));
      }
      // a heading's last line before a line that begins with "Health" or "Services" ("ANNUAL VISIT\nHealth
      // maintenance"): not a name across the line's end, for these kinds, which are words of a sentence too
      if (other && start >= 0 && text.substring(m.start() + start, m.start("kind")).indexOf('\n') >= 0) {
        names = false;
      }
      // a town the gazetteer knows right after the kind names the place, whatever its other words
      // ("Baptist Health Paducah")
      int[] townAfter = null;
      if (start >= 0 && m.end() == m.end("kind")) {
        Matcher t = TOWN_RIGHT_AFTER.matcher(text).region(m.end(), text.length());
        if (t.lookingAt()) {
          String v = t.group("v");
          if (Gazetteer.isTown(v)) {
            townAfter = new int[] {t.start("v"), t.end("v")};
          } else if (v.indexOf(' ') > 0 && Gazetteer.isTown(v.substring(0, v.indexOf(' ')))) {
            townAfter = new int[] {t.start("v"), t.start("v") + v.indexOf(' ')};
          }
        }
        names |= townAfter != null;
      }
      if (names && INSTITUTION.matcher(m.group("kind")).matches()) {
        // a professional body ("American College of Cardiology guidelines", "American Academy of Pediatrics") is no
        // school: its first word says so
        Matcher first = FACILITY_NAME_WORD.matcher(text).region(m.start() + start, m.start("kind"));
        names = !(first.lookingAt() && ASSOCIATION_WORDS.contains(first.group().toLowerCase(Locale.ROOT)));
      }
      if (names) {
        // its store number, "CVS Pharmacy #1234", is the one shop: "[FACILITY_1] #1234" kept it
        Matcher number = STORE_NUMBER.matcher(text).region(m.end(), text.length());
        int end = number.lookingAt() ? number.end() : m.end();
        spans.add(new Span(m.start() + start, end, IdentifierClass.FACILITY, IdentifierClass.FACILITY.prefix()));
        from = end;
        if (townAfter != null && end == m.end()) {
          spans.add(new Span(townAfter[0], townAfter[1], IdentifierClass.CITY, IdentifierClass.CITY.prefix()));
          from = townAfter[1];
          continue;
        }
        if (end > m.end()) {
          continue;
        }
        // the town it is in, after a comma or in parentheses: "Mercy Hospital, Springfield" kept the town
        Matcher t = TOWN_AFTER_FACILITY.matcher(text).region(m.end(), text.length());
        if (t.lookingAt()) {
          int[] town = place(text, t.start("v"), t.end("v"));
          if (town != null) {
            spans.add(new Span(town[0], town[1], IdentifierClass.CITY, IdentifierClass.CITY.prefix()));
            from = town[1];
          }
        }
      } else {
        // "Diabetes Clinic at Mercy Hospital": the place may still follow the kind of service
        from = m.start("kind") + 1;
      }
    }
  }

  /**
   * A company by the kind of business its name ends with, with no verb of work before it ("52 yo shift lead at
   * Dematic Logistics" passed held-out set 6): an employer. Up to four capitalized words or acronyms before the kind.
   */
  private static final Pattern COMPANY = Pattern.compile("(?<![\\p{L}'’.&-])" + FACILITY_WORD + "(?:[ \\t]{1,2}+(?:&[ \\t]{1,2}+)?"
      + FACILITY_WORD + "){0,3}[ \\t]{1,2}+(?:Logistics|Manufacturing|Industries|Trucking|Enterprises|Foods|Farms|Motors"
      + "|Construction|Freight|Distribution|Corporation|Company|LLC|Inc\\.?|Corp\\.?"
      // a trade's shop ("(O'Reilly Auto Parts)" passed held-out set 7)
      + "|Auto[ \\t]Parts|Auto[ \\t]Body|Auto[ \\t]Sales|Lumber|Roofing|Plumbing|Landscaping"
      // a transit line or a cab company that drives the patient ("Ozark Mountain Transit van" passed held-out set 11):
      // with its town, a place smaller than a state
      + "|Transit|Cab[ \\t]Company|Taxi[ \\t]Company)(?![\\p{L}'’-])");

  /** Words before a trade that say its kind, not its owner ("works in Commercial Roofing", "Residential Plumbing"). */
  // (and the sentence's verb before a transit: "Uses Public Transit", the review of the session's rules)
  private static final Set<String> TRADE_ADJECTIVES = Set.of("uses", "using", "takes", "taking", "rides", "riding",
      // a gut's transit and a way of riding ("Slow Transit Constipation", "Colon Transit Study", "Uses Wheelchair
      // Transit", "Uses Local Taxi Company": the review of set 11's rules)
      "slow", "colon", "colonic", "bowel", "gut", "gastric", "small", "large", "whole", "esophageal", "intestinal",
      "oral", "cecal", "wheelchair", "stretcher", "ambulatory", "taxi", "cab",
      "call", "calls", "public", "mass", "rapid", "medicaid", "medicare", "city",
      "county", "area", "regional", "medical", "paratransit", "nonemergency", "non-emergency", "school", "senior",
      "commercial", "residential", "industrial", "local", "general",
      "custom", "discount", "used", "new", "treated", "auto", "home", "family", "professional", "quality");

  /** Companies by their kind ({@link #COMPANY}), their leading sentence words left out; not of generic words alone. */
  static void addCompanies(List<Span> spans, String text) {
    Matcher m = COMPANY.matcher(text);
    while (m.find()) {
      Matcher w = FACILITY_NAME_WORD.matcher(text).region(m.start(), m.end());
      int start = -1;
      boolean names = false;
      int kindStart = m.end();
      List<int[]> words = new ArrayList<>();
      while (w.find()) {
        words.add(new int[] {w.start(), w.end()});
      }
      if (!words.isEmpty()) {
        kindStart = words.get(words.size() - 1)[0];
      }
      for (int[] at : words) {
        if (at[0] >= kindStart) {
          break;
        }
        String word = word(text, at);
        if (start < 0 && NOT_A_NAME.contains(word)) {
          continue;
        }
        if (start < 0) {
          start = at[0];
        }
        names |= !GENERIC.contains(word) && !NOT_A_PLACE.contains(word) && !notAnInstitutionsWord(word)
            && !TRADE_ADJECTIVES.contains(word);
      }
      if (start >= 0 && names) {
        spans.add(new Span(start, m.end(), IdentifierClass.OTHER_ID, EMPLOYER));
      }
    }
  }

  private static boolean notAnInstitutionsWord(String word) {
    return NOT_AN_INSTITUTIONS_WORD.contains(word) || "patient".equals(word) || "pt".equals(word);
  }

  /**
   * The store's or branch's number right after an employer or a facility found by any detector ("works at
   * Apple Store #12", "followed at Mayo #3"): it names the one shop, and "[EMPLOYER_1] #12" kept it beside the
   * token. A facility by its kind of place takes its number in {@link #addFacilities}, a chain's in its rule.
   */
  private static void addStoreNumbers(List<Span> spans, String text) {
    for (int i = 0; i < spans.size(); i++) {
      Span s = spans.get(i);
      if (s.cls() == IdentifierClass.FACILITY || EMPLOYER.equals(s.prefix())) {
        Matcher number = NUMBER_AFTER_NAME.matcher(text).region(s.end(), text.length());
        if (number.lookingAt()) {
          spans.set(i, new Span(s.start(), number.end(), s.cls(), s.prefix(), s.identity()));
        }
      }
    }
  }

  /**
   * As {@link #STORE_NUMBER}, on the name's line and "No." with its period: after an employer found by its
   * verb, "no 2" is as often the sentence's ("works at Acme no 2 shifts alike").
   */
  private static final Pattern NUMBER_AFTER_NAME = Pattern.compile("[ \\t]*+(?:(?i:store|branch|location|no\\.|number)"
      + "[ \\t]*+#?[ \\t]*+|#[ \\t]*+)\\d{1,6}\\b");

  /** A store's or a branch's number after its name: "#1234", "store 1234", "No. 12". */
  private static final Pattern STORE_NUMBER = Pattern.compile("\\s*+(?:(?i:store|branch|location|no\\.?|number)\\s*+#?\\s*+"
      + "|#\\s*+)\\d{1,6}\\b");

  /** Street types that name nothing else after a capitalized word: a street wherever they follow one. */
  private static final String STREET_TYPE = "Street|St|Avenue|Ave|Boulevard|Blvd|Road|Rd|Parkway|Pkwy|Highway|Hwy";
  /**
   * Street types that are words of other names too ("Sex Drive", "Family Court", "Milky Way", "Penny Lane"): a
   * street only after a word that puts something on or near it ("lives on Maple Drive", "off Birch Lane").
   */
  private static final String STREET_TYPE_CUED = "Drive|Lane|Ln|Court|Place|Way|Circle|Cir|Terrace|Ter|Trail|Trl";
  private static final Set<String> STREET_TYPE_SET = Set.of(STREET_TYPE.split("\\|"));
  static final Set<String> STREET_SUFFIXES = Set.of((STREET_TYPE + "|" + STREET_TYPE_CUED).split("\\|"));
  /**
   * A street's name: a direction, then one to four capitalized words ("Martin Luther King Jr Boulevard" left
   * "Martin" out at three), or a numbered street ("5th").
   */
  private static final String STREET_NAME = "(?:(?:[NSEW]\\.?|North|South|East|West)\\s+)?(?:(?:[A-Z][a-z][a-zA-Z'’-]*\\s+){1,4}"
      + "|\\d{1,3}(?:st|nd|rd|th)\\s+)";
  /** The unit after a street: "Apt 3B", ", Unit 12", "#2R" (as in the street line with a number). */
  private static final String UNIT = "(?:\\.?,?\\s*(?:(?i:Apt|Apartment|Unit|Suite|Ste|Lot|Trlr|Bldg)\\.?\\s*#?|#)\\s*[A-Z0-9-]{1,6}\\b)?";
  /**
   * A street named without its number ("lives on Maple Street", "near Oak Avenue", "corner of Elm St and 5th
   * Ave"): a place smaller than a town, whoever lives or works on it.
   */
  private static final Pattern STREET_WITHOUT_NUMBER = Pattern.compile("(?<![\\w'’.-])(?<name>" + STREET_NAME + ")"
      + "(?<type>" + STREET_TYPE + "|" + STREET_TYPE_CUED + ")(?![A-Za-z0-9'’-])" + UNIT);
  /** What puts a street of a type that is a word of other names too ("on", "off", "near", "corner of"). */
  private static final Pattern STREET_CUE = Pattern.compile("\\b(?i:on|off|near|along|onto|of|at|to|from|and|across|down|up"
      + "|lives|lived|living)[ \\t]+$");
  /** After the street's type: a saint's name after "St" ("Visited St Louis"), or a newspaper's ("Wall Street Journal"). */
  private static final Pattern SAINT_AFTER = Pattern.compile("[ \\t]+[A-Z][a-z]");
  private static final Pattern NEWSPAPER_AFTER = Pattern.compile("[ \\t]+(?:Journal)\\b");
  /** Words of a street's name that begin a sentence or name a person: "Visited St. Louis", "Dr Lane". */
  private static final Set<String> NOT_A_STREET = Set.of("mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "nurse", "prof",
      "professor");
  /** Words that begin sentences (in NOT_A_NAME) but also streets' names: "Main Street", "Old Mill Road", "New Street". */
  private static final Set<String> STREET_NAME_WORDS = Set.of("main", "new", "old", "up", "see");

  /**
   * Streets without a number (see {@link #STREET_WITHOUT_NUMBER}). The name's leading words that begin a
   * sentence ("Walks Maple Street", "Visited St. Louis") are left out, and a street whose name is left empty
   * is none; a name with a title in it is a person's ("Dr Lane").
   */
  static void addStreetNames(List<Span> spans, String text) {
    Matcher m = STREET_WITHOUT_NUMBER.matcher(text);
    while (m.find()) {
      Matcher w = FACILITY_NAME_WORD.matcher(text).region(m.start("name"), m.end("name"));
      List<int[]> words = new ArrayList<>();
      while (w.find()) {
        words.add(new int[] {w.start(), w.end()});
      }
      int first = 0;
      while (first < words.size() && NOT_A_NAME.contains(word(text, words.get(first)))
          && !STREET_NAME_WORDS.contains(word(text, words.get(first)))) {
        first++;
      }
      boolean numbered = words.isEmpty(); // "5th Ave": no capitalized word, a number
      int start = numbered || first == 0 ? m.start() : first < words.size() ? words.get(first)[0] : m.end();
      // the cue before the street's name, which may be a leading word the name left out ("Near Birch Lane.")
      String type = m.group("type");
      if (!STREET_TYPE_SET.contains(type)
          && !STREET_CUE.matcher(text).region(Math.max(0, start - 12), start).find()
          || "St".equals(type) && SAINT_AFTER.matcher(text).region(m.end("type"), text.length()).lookingAt()
          || NEWSPAPER_AFTER.matcher(text).region(m.end(), text.length()).lookingAt()) {
        continue;
      }
      boolean person = words.stream().anyMatch(at -> NOT_A_STREET.contains(word(text, at)));
      if (!person && (numbered || first < words.size())) {
        spans.add(new Span(start, m.end(), IdentifierClass.ADDRESS, IdentifierClass.ADDRESS.prefix()));
      }
    }
  }

  /** A town's name: up to three capitalized words ("Oro Valley", "Winston-Salem", "St. Cloud"). */
  // letters of any language, and an apostrophe or the ʻokina inside ("Nukuʻalofa" after "flew in from" passed held-out set 7)
  private static final String TOWN_WORD = "\\p{Lu}\\p{Ll}+(?:\\p{Lu}\\p{Ll}+)?(?:['’ʻ]\\p{Ll}+)?";
  private static final String TOWN = "(?:(?:St|Mt|Ft)\\.\\s*)?" + TOWN_WORD + "(?:(?:\\s+|-)" + TOWN_WORD + "){0,2}";
  /** A town after a facility; not a heading after it ("Quest Diagnostics, Result: ..."). */
  private static final Pattern TOWN_AFTER_FACILITY = Pattern.compile("(?:,[ \\t]*|[ \\t]*\\([ \\t]*)(?<v>" + TOWN + ")"
      + "(?![A-Za-z'’-])(?!\\s*:)");
  /**
   * A place the words before it say is one, though its name has no word for a kind of place: care at a
   * hospital called by its name alone ("transferred to Cedars-Sinai", "followed at Mayo", "seen at St.
   * Luke's") is a FACILITY; where the patient lives, lived or comes from ("lives in Oro Valley",
   * "moved here from Flagstaff") is a CITY.
   */
  /** A word of a name after a cue, "St." before "St": nothing after the name checks that it went on. */
  private static final String CUED_WORD = "(?:(?:St|Mt|Ft)\\.|" + FACILITY_WORD + ")";
  private static final Pattern FACILITY_CUE = Pattern.compile("(?i:\\b(?:seen|treated|followed|admitted|hospitali[sz]ed"
      + "|transferred|presented|delivered|evaluated|managed|cared\\s+for|receives\\s+care|received\\s+care"
      + "|established\\s+care)\\s+(?:at|to|from))\\s+(?<v>" + CUED_WORD
      + "(?:(?:\\s*[-–]\\s*|\\s+(?:of|and|&)\\s+|\\s+)" + CUED_WORD + "){0,3})(?![A-Za-z'’-])");
  private static final Pattern TOWN_CUE = Pattern.compile("(?i:\\b(?:lives|living|lived|resides|residing|resident"
      + "|moved(?:\\s+here)?|relocated(?:\\s+here)?|grew\\s+up|originally|comes"
      // "drove in from Kalona", "lives outside Lusk": a town too small for the gazetteer, named where a patient
      // travels from or lives near
      + ")\\s+(?:in|of|from|to|near|outside(?:\\s+of)?)"
      // "at home in Cabool", "flew in from Nukuʻalofa" (held-out set 7), "east of Mountain Grove" (set 8): where the
      // patient is, came from, or a place is told from a town
      + "|at\\s+home\\s+in|(?:north|south|east|west|northeast|northwest|southeast|southwest)\\s+of"
      + "|(?:drove|came|flew|flown|travel(?:l?ed|s)?)(?:\\s+(?:her|him|them|me|us))?(?:\\s+(?:in|up|down|over|here|back))?\\s+from"
      // "drove her in from Ash Grove", "lives in a care home in Breaux Bridge" (held-out set 11)
      + "|(?:care|nursing|group|foster|retirement|mobile)\\s+home\\s+in)\\s+"
      // not an area of the ED before its letters ("Moved to Majors ED": the review of set 11's rules)
      + "(?<v>" + TOWN + ")(?![A-Za-z'’-])(?![ \\t]++(?:ED|ER)\\b)");
  /**
   * Words that are no place's name after those cues: units and services of a hospital ("admitted to
   * ICU", "transferred to Telemetry", "discharged to Home"), headings, days and months, clinicians'
   * titles. A state or a country is not a subdivision smaller than a state, and stays.
   */
  static final Set<String> NOT_A_PLACE = Set.of("icu", "ccu", "micu", "sicu", "nicu", "picu", "cvicu", "pacu",
      "snf", "ltac", "ltach", "osh", "pcp", "ed", "er", "or", "ir", "l&d", "cath", "labor", "delivery", "home", "floor",
      "ward", "unit", "units", "room", "bed", "bay", "telemetry", "tele", "step", "down", "stepdown", "observation", "obs",
      // an ED's fast track ("Seen at Fast Track ED", the review of the session's rules)
      "fast", "track",
      // an ED that stands alone ("Seen at Standalone ED": the review of set 11's rules)
      "standalone",
      // an ED's areas ("Moved to Majors.", "Moved to Resus": the brief of set 12)
      "majors", "minors", "resus", "resuscitation", "pediatrics", "rapid", "intake", "waiting",
      "triage", "bedside", "skilled", "assisted", "living", "facility", "shelter", "intensive", "critical", "acute",
      "hospitalist", "service", "services", "team", "department", "dept", "office", "wing", "tower", "suite",
      "building", "campus", "today", "yesterday", "tonight", "baseline", "discharge", "admission", "course", "history",
      "assessment", "plan", "impression", "diagnosis", "dr", "doctor", "nurse", "section", "housing", "apartment",
      "senior", "group", "nursing", "a", "an", "this", "that", "his", "her", "their", "my", "home's", "monday", "tuesday",
      "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june",
      "july", "august", "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul",
      "aug", "sep", "sept", "oct", "nov", "dec", "mr", "mrs", "ms", "miss", "patient", "pt", "hospice", "psych", "neuro",
      "ortho", "pulm", "peds", "med", "surg", "ot", "slp", "endoscopy", "ultrasound", "echo", "pharmacy", "long", "term",
      "detox", "residential", "treatment", "jail", "prison", "work", "school", "church", "burn", "trauma", "pcu", "cdu",
      "short", "stay", "preop", "pre-op", "postop", "post-op", "recovery", "holding", "nursery", "newborn", "baby",
      "noon", "independent", "foster", "rural", "annual", "wellness", "routine", "follow-up", "followup", "checkup",
      "check-up", "appointment", "appt", "rounds", "time", "age", "inc", "llc", "corp", "pc", "pllc", "ltd", "attn",
      "records", "billing", "pre", "post", "check", "result", "report", "note", "notes", "summary", "findings",
      // a road a place is told from ("south of Interstate 44", "west of Highway 60"), no town
      "interstate", "highway", "hwy", "exit", "midline",
      // a landmark of the body a finding is told from ("2 cm north of Umbilicus", "lateral to Incision"), no town
      "umbilicus", "navel", "incision", "scar", "nipple", "wound", "stoma", "sternum", "clavicle", "xiphoid");
  /** Directions name no place alone ("Mercy Hospital, North Campus"), but may begin a town's name ("South Bend"). */
  static final Set<String> DIRECTION_WORDS = Set.of("north", "south", "east", "west", "northeast", "northwest",
      "southeast", "southwest", "upper", "lower", "central", "downtown", "uptown", "midtown");
  /** States and the countries notes name most: larger than Safe Harbor's subdivisions, so not identifiers. */
  static final Set<String> STATES_AND_COUNTRIES = Set.of("alabama", "alaska", "arizona", "arkansas",
      "california", "colorado", "connecticut", "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana",
      "iowa", "kansas", "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota",
      "mississippi", "missouri", "montana", "nebraska", "nevada", "new hampshire", "new jersey", "new mexico", "new york",
      "north carolina", "north dakota", "ohio", "oklahoma", "oregon", "pennsylvania", "rhode island", "south carolina",
      "south dakota", "tennessee", "texas", "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin",
      "wyoming", "puerto rico", "guam", "united states", "usa", "us", "mexico", "canada", "guatemala", "honduras",
      "el salvador", "cuba", "haiti", "jamaica", "dominican republic", "colombia", "venezuela", "brazil", "peru",
      "china", "india", "pakistan", "philippines", "vietnam", "korea", "japan", "iran", "iraq", "syria", "afghanistan",
      "ukraine", "russia", "poland", "germany", "france", "italy", "spain", "ireland", "england", "scotland",
      "united kingdom", "uk", "nigeria", "ethiopia", "somalia", "kenya", "ghana", "egypt", "israel", "europe", "asia",
      "africa", "south america", "central america", "latin america", "the caribbean", "caribbean", "midwest",
      "new england", "west coast", "east coast", "the south", "pacific northwest");

  /**
   * Places named after a cue (see {@link #FACILITY_CUE}, {@link #TOWN_CUE}). A name is kept when, its
   * trailing unit words left out ("Mercy ICU" is Mercy), some word of it is neither a kind of service nor
   * a unit, heading, title, day or month, and it is not a state or a country.
   */
  static void addPlacesByContext(List<Span> spans, String text) {
    for (var cue : List.of(Map.entry(FACILITY_CUE, IdentifierClass.FACILITY), Map.entry(TOWN_CUE, IdentifierClass.CITY))) {
      Matcher m = cue.getKey().matcher(text);
      while (m.find()) {
        int[] place = place(text, m.start("v"), m.end("v"));
        if (place != null) {
          spans.add(new Span(place[0], place[1], cue.getValue(), cue.getValue().prefix()));
        }
      }
    }
  }

  /** The part of {@code text[start, end)} that names a place, as {start, end}; null when none of it does. */
  private static int[] place(String text, int start, int end) {
    Matcher w = FACILITY_NAME_WORD.matcher(text).region(start, end);
    List<int[]> words = new ArrayList<>();
    while (w.find()) {
      words.add(new int[] {w.start(), w.end()});
    }
    if (words.isEmpty() || NOT_A_PLACE.contains(word(text, words.get(0)))) {
      return null;
    }
    int last = words.size() - 1;
    while (last > 0 && NOT_A_PLACE.contains(word(text, words.get(last)))) {
      last--;
    }
    int to = words.get(last)[1];
    // the rest of a word with letters beyond ASCII ("Kraków", "Nukuʻalofa": the name's word stopped at "ó" or "ʻ")
    while (to < end && Character.isLetter(text.charAt(to))) {
      to++;
    }
    String phrase = text.substring(start, to).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    if (STATES_AND_COUNTRIES.contains(phrase)) {
      return null;
    }
    boolean names = false;
    for (int i = 0; i <= last; i++) {
      String word = word(text, words.get(i));
      names |= !NOT_A_PLACE.contains(word) && !NOT_A_NAME.contains(word) && !DIRECTION_WORDS.contains(word)
          && !GENERIC.contains(word)
          && !GENERIC.contains(word.replaceAll("'s$", ""));
    }
    return names ? new int[] {start, to} : null;
  }

  private static String word(String text, int[] at) {
    return text.substring(at[0], at[1]).toLowerCase(Locale.ROOT).replace("’", "'").replaceAll("\\.$", "");
  }

  /** What every spelling of a known name stands for: the record's text of it, else its given names and family. */
  private static String identity(KnownIdentifiers.Name n) {
    if (n.text() != null && !n.text().isBlank()) {
      return n.text().strip();
    }
    return String.join(" ", java.util.stream.Stream.concat(n.given().stream(),
        java.util.stream.Stream.ofNullable(n.family())).filter(w -> !w.isBlank()).toList());
  }

  private static String prefix(KnownIdentifiers.Name n) {
    return switch (n.kind()) {
      case PATIENT -> PATIENT;
      case PRACTITIONER -> PROVIDER;
      default -> IdentifierClass.NAME.prefix();
    };
  }

  private static final Pattern CAPITALIZED_WORD = Pattern.compile("\\b[A-Z][a-zA-Z'’-]{4,}\\b");

  /**
   * Misspellings: a capitalized word one edit away from a known family name of six or more letters
   * (shorter names and given names would catch ordinary words: Grace/grade).
   */
  static void addMisspeltNames(List<Span> spans, String text, KnownIdentifiers known) {
    Matcher m = CAPITALIZED_WORD.matcher(text);
    while (m.find()) {
      String word = m.group().toLowerCase(Locale.ROOT);
      for (KnownIdentifiers.Name n : known.names()) {
        String family = n.family() == null ? "" : n.family().toLowerCase(Locale.ROOT);
        if (family.length() >= 6 && !word.equals(family) && oneEditApart(word, family)) {
          // a token of its own text: one edit from the name is as often another person (a wife's Kowalska
          // beside Kowalski) as a typo, and taking another person for the patient is the worse mistake
          spans.add(new Span(m.start(), m.end(), IdentifierClass.NAME, prefix(n)));
          break;
        }
      }
    }
  }

  /** One substitution, insertion, deletion or swap of neighbours. */
  static boolean oneEditApart(String a, String b) {
    if (Math.abs(a.length() - b.length()) > 1) {
      return false;
    }
    int i = 0;
    while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
      i++;
    }
    if (a.length() == b.length()) {
      return a.substring(i + 1).equals(b.substring(i + 1))
          || (i + 1 < a.length() && a.charAt(i) == b.charAt(i + 1) && a.charAt(i + 1) == b.charAt(i)
              && a.substring(i + 2).equals(b.substring(i + 2)));
    }
    return a.length() > b.length() ? a.substring(i + 1).equals(b.substring(i)) : a.substring(i).equals(b.substring(i + 1));
  }

  /**
   * Full names, reversed, with initials ("G. Kowalski", "Kowalski, G.", "Grace K."), and each part of
   * at least three letters alone. A blank part is no name (a blank given name threw).
   */
  static List<String> nameVariants(KnownIdentifiers.Name n) {
    List<String> v = new ArrayList<>();
    String family = n.family() == null || n.family().isBlank() ? null : n.family().strip();
    for (String part : n.given()) {
      if (part == null || part.isBlank()) {
        continue;
      }
      String given = part.strip();
      if (family != null) {
        v.add(given + " " + family);
        v.add(family + ", " + given);
        v.add(given.charAt(0) + ". " + family);
        v.add(given.charAt(0) + " " + family);
        v.add(family + ", " + given.charAt(0) + ".");
        v.add(given + " " + family.charAt(0) + ".");
      }
      if (given.length() >= 3) {
        v.add(given);
      }
    }
    if (family != null && family.length() >= 3) {
      v.add(family);
    }
    if (n.text() != null && !n.text().isBlank()) {
      v.add(n.text());
    }
    return v;
  }

  private static final String SEPARATORS = " .,'’-";

  /**
   * Case, punctuation, hyphen and apostrophe changes, and a possessive, still match; any other
   * character of the name must be there as it is. Null for a name without a letter or digit. Every
   * character that was not a letter became an optional separator, so a name such as "(.*)" matched
   * runs of punctuation and put a stray [PATIENT_1] at the end of a text.
   */
  static Pattern nameRegex(String name) {
    String core = trimSeparators(name);
    if (core.chars().noneMatch(Character::isLetterOrDigit)) {
      return null;
    }
    return Pattern.compile("(?i)(?<![A-Za-z])" + nameBody(core) + "(?![A-Za-z])");
  }

  private static String trimSeparators(String name) {
    int from = 0;
    int to = name.length();
    while (from < to && (SEPARATORS.indexOf(name.charAt(from)) >= 0 || Character.isWhitespace(name.charAt(from)))) {
      from++;
    }
    while (to > from && (SEPARATORS.indexOf(name.charAt(to - 1)) >= 0 || Character.isWhitespace(name.charAt(to - 1)))) {
      to--;
    }
    return name.substring(from, to);
  }

  private static String nameBody(String name) {
    StringBuilder b = new StringBuilder();
    boolean separated = false;
    for (char ch : name.toCharArray()) {
      if (SEPARATORS.indexOf(ch) >= 0 || Character.isWhitespace(ch)) {
        if (!separated) {
          b.append("[\\s.,'’-]*");
        }
        separated = true;
      } else {
        b.append(Pattern.quote(String.valueOf(ch)));
        separated = false;
      }
    }
    return b.toString();
  }

  /**
   * A given name shortened, or its pet form, before the family name or its initial ("Zeb Q.", "Zeb
   * Quixotefield", "Zebby Quixotefield"): only the whole given name was found. Never alone: "Zeb",
   * "Mar" (Margaret) or "Jan" (Janet) on their own would take ordinary words and months.
   */
  static Pattern shortGivenRegex(String given, String family) {
    if (given == null || family == null || family.isBlank()) {
      return null;
    }
    String g = given.strip();
    String f = trimSeparators(family.strip());
    if (g.length() < 4 || !g.chars().allMatch(Character::isLetter) || f.isEmpty() || !Character.isLetter(f.charAt(0))) {
      return null;
    }
    List<String> forms = new ArrayList<>();
    for (int k = 3; k <= g.length(); k++) {
      String p = g.substring(0, k);
      forms.add(p);
      if (k <= 4 && k < g.length()) {
        for (String end : List.of("y", "ie")) {
          forms.add(p + end);
          forms.add(p + p.charAt(k - 1) + end);
        }
      }
    }
    // the longest first: an alternation takes the first form that fits
    forms.sort((a, b) -> Integer.compare(b.length(), a.length()));
    String initial = Pattern.quote(String.valueOf(Character.toUpperCase(f.charAt(0))));
    return Pattern.compile("(?i)(?<![A-Za-z])(?:" + String.join("|", forms.stream().map(Pattern::quote).toList())
        + ")[\\s.,]+(?:" + nameBody(f) + "|(?-i:" + initial + ")\\.?)(?![A-Za-z])");
  }

  /** Dotted pairs that are abbreviations far more often than anyone's initials. */
  private static final Set<String> ABBREVIATIONS = Set.of("AM", "PM", "MD", "DO", "RN", "NP", "PA", "PT", "OT", "PE",
      "US", "BP", "HR", "IV", "IM", "PO", "OD", "OS", "OU", "QD", "DC", "ER", "OR", "ID", "MS", "BS", "BA", "MA",
      "PS", "NB", "AD", "BC", "IE", "EG", "ST", "SC", "SL", "PR", "GI", "UK", "EU", "DR", "JR", "SR");

  /**
   * Initials alone, with their periods ("Z.Q.", "Z. Q."): without them two capitals are an
   * abbreviation as often as not (MS, HF, PE); with them, the common abbreviations still are.
   */
  static Pattern initialsRegex(String given, String family) {
    if (given == null || family == null || given.isBlank() || family.isBlank()) {
      return null;
    }
    String familyCore = trimSeparators(family.strip());
    char g = Character.toUpperCase(given.strip().charAt(0));
    char f = familyCore.isEmpty() ? ' ' : Character.toUpperCase(familyCore.charAt(0));
    if (!Character.isLetter(g) || !Character.isLetter(f) || ABBREVIATIONS.contains("" + g + f)) {
      return null;
    }
    return Pattern.compile("(?<![A-Za-z.])" + Pattern.quote(String.valueOf(g)) + "\\.\\s?" + Pattern.quote(String.valueOf(f))
        + "\\.(?![A-Za-z])");
  }

  /**
   * The identifier, and its value without a leading letter prefix while what remains is long and
   * still looks like an identifier (six or more characters with a letter and a digit, or seven or
   * more digits): "QX77123" was left in the text where "MRNQX77123" was known. A shorter or
   * letter-only remainder would match ordinary words and numbers.
   */
  static List<String> identifierVariants(String id) {
    String compact = id.replaceAll("[^A-Za-z0-9]", "");
    List<String> out = new ArrayList<>(List.of(id));
    int letters = 0;
    while (letters < compact.length() && Character.isLetter(compact.charAt(letters))) {
      letters++;
    }
    for (int k = 1; k <= letters && k < compact.length(); k++) {
      String rest = compact.substring(k);
      boolean hasLetter = rest.chars().anyMatch(Character::isLetter);
      boolean hasDigit = rest.chars().anyMatch(Character::isDigit);
      if (hasDigit && (hasLetter ? rest.length() >= 6 : rest.length() >= 7)) {
        out.add(rest);
      }
    }
    return out;
  }

  static Pattern separatorsOptional(String id) {
    StringBuilder b = new StringBuilder("(?i)(?<![A-Za-z0-9])");
    String compact = id.replaceAll("[^A-Za-z0-9]", "");
    for (int i = 0; i < compact.length(); i++) {
      b.append(Pattern.quote(String.valueOf(compact.charAt(i))));
      if (i < compact.length() - 1) {
        b.append("[\\s-]?");
      }
    }
    return Pattern.compile(b.append("(?![A-Za-z0-9])").toString());
  }

  /**
   * The digits with any separators between them, and an opening parenthesis only with its closing
   * one: "(508) 555-0142" was taken from the 5, and "(" stayed before the token.
   */
  static Pattern digitsAnyFormat(String digits) {
    StringBuilder b = new StringBuilder("(?<!\\d)(?:\\((?=\\d{3}\\)))?");
    for (int i = 0; i < digits.length(); i++) {
      b.append(digits.charAt(i));
      if (i < digits.length() - 1) {
        b.append("[\\s().-]{0,2}");
      }
    }
    return Pattern.compile(b.append("(?!\\d)").toString());
  }

  /** Street types and their abbreviations (USPS), the full word first. */
  private static final List<List<String>> STREET_TYPES = List.of(List.of("street", "st", "str"),
      List.of("avenue", "ave", "av"), List.of("road", "rd"), List.of("drive", "dr", "drv"), List.of("boulevard", "blvd"),
      List.of("court", "ct"), List.of("lane", "ln"), List.of("place", "pl"), List.of("terrace", "ter", "terr"),
      List.of("circle", "cir"), List.of("parkway", "pkwy"), List.of("highway", "hwy"), List.of("way", "wy"),
      List.of("square", "sq"), List.of("trail", "trl"), List.of("plaza", "plz"), List.of("crescent", "cres"),
      List.of("alley", "aly"), List.of("point", "pt"), List.of("route", "rte"));
  private static final List<List<String>> DIRECTIONS = List.of(List.of("north", "n"), List.of("south", "s"),
      List.of("east", "e"), List.of("west", "w"), List.of("northeast", "ne"), List.of("northwest", "nw"),
      List.of("southeast", "se"), List.of("southwest", "sw"));

  /**
   * A known street line as notes shorten it: the street type written out or abbreviated (Lane, Ln),
   * with or without the house number, or the number and street name without the type. Only the
   * line as recorded was found: "4417 Wobblecrest Ln", "Wobblecrest Lane" and "4417 Wobblecrest"
   * were not. The name alone, without a type or number after or before it, is not matched.
   */
  static List<Pattern> streetVariants(String line) {
    String[] words = line.strip().replace(",", " ").split("\\s+");
    int first = words.length > 0 && words[0].matches("\\d+[A-Za-z]?(?:-\\d+[A-Za-z]?)?") ? 1 : 0;
    int type = -1;
    for (int j = words.length - 1; j > first && type < 0; j--) {
      if (alternatives(STREET_TYPES, words[j]) != null) {
        type = j;
      }
    }
    int nameEnd = type < 0 ? words.length : type;
    int nameStart = first;
    String direction = null;
    if (nameEnd - nameStart > 1 && alternatives(DIRECTIONS, words[nameStart]) != null) {
      direction = "(?:(?:" + String.join("|", alternatives(DIRECTIONS, words[nameStart])) + ")\\.?\\s+)?";
      nameStart++;
    }
    if (nameStart >= nameEnd || (type < 0 && first == 0)) {
      return List.of();
    }
    StringBuilder name = new StringBuilder(direction == null ? "" : direction);
    for (int j = nameStart; j < nameEnd; j++) {
      name.append(j > nameStart ? "\\s+" : "").append(Pattern.quote(words[j].replaceAll("\\.$", ""))).append("\\.?");
    }
    String number = first == 1 ? Pattern.quote(words[0]) + "\\s+" : null;
    List<Pattern> out = new ArrayList<>();
    if (number != null) {
      out.add(Pattern.compile("(?i)\\b" + number + name + "\\b"));
    }
    if (type >= 0) {
      out.add(Pattern.compile("(?i)\\b(?:" + (number == null ? "" : number) + ")?" + name + "\\s+(?:"
          + String.join("|", alternatives(STREET_TYPES, words[type])) + ")\\b"));
    }
    return out;
  }

  private static List<String> alternatives(List<List<String>> table, String word) {
    String w = word.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
    return table.stream().filter(t -> t.contains(w)).findFirst().orElse(null);
  }

  /** A US ZIP code with or without its +4, whichever was recorded: "02917-1234" left "-1234" after the token. */
  static Pattern postalCodeRegex(String code) {
    Matcher m = Pattern.compile("(\\d{5})(?:-?\\d{4})?").matcher(code);
    return m.matches() ? Pattern.compile("\\b" + m.group(1) + "(?:-?\\d{4})?\\b")
        : Pattern.compile("(?i)\\b" + Pattern.quote(code) + "\\b");
  }

  /**
   * Spans of a pattern's matches, or of its group {@code v} (a value behind a label). A match with
   * no letter or digit in it is no identifier, and never a token.
   */
  private static void add(List<Span> spans, String text, Pattern p, IdentifierClass cls, String prefix) {
    add(spans, text, p, cls, prefix, null);
  }

  private static void add(List<Span> spans, String text, Pattern p, IdentifierClass cls, String prefix, String identity) {
    add(spans, text, p, cls, prefix, identity, null);
  }

  private static void add(List<Span> spans, String text, Pattern p, IdentifierClass cls, String prefix, String identity,
      ValueTest test) {
    boolean valued = p.pattern().contains("(?<v>");
    // a second value group, "w", for an alternative whose value is another shape
    boolean valuedW = valued && p.pattern().contains("(?<w>");
    Matcher m = p.matcher(text);
    while (m.find()) {
      // a pattern may hold a value group in some of its alternatives only
      String group = valuedW && m.start("v") < 0 && m.start("w") >= 0 ? "w" : "v";
      boolean value = valued && m.start(group) >= 0;
      int start = value ? m.start(group) : m.start();
      int end = value ? m.end(group) : m.end();
      if (end > start && text.substring(start, end).chars().anyMatch(Character::isLetterOrDigit)
          && (test == null || test.accepts(text, start, end))) {
        spans.add(new Span(start, end, cls, prefix, identity));
      }
    }
  }

  /**
   * A first and last name before a degree without a comma ("Jennifer Alvarez NP"). One word before a
   * degree is a service more often than a name ("Cardiology NP"), and so are two words of which one
   * names a service ("Peds Cardiology NP", "Pain Management NP"): those stay.
   */
  private static final Pattern NAME_BEFORE_DEGREE = Pattern.compile("(?<![A-Za-z.'’-])(?<first>[A-Z][a-z][a-zA-Z'’-]*)"
      + "(?:\\s+[A-Z]\\.)?\\s+(?<last>[A-Z][a-z][a-zA-Z'’-]*)\\s+(?:" + DEGREE + ")\\b");

  private static void addNamesBeforeDegrees(List<Span> spans, String text) {
    Matcher m = NAME_BEFORE_DEGREE.matcher(text);
    while (m.find()) {
      boolean service = false;
      for (String word : List.of(m.group("first"), m.group("last"))) {
        String w = word.toLowerCase(Locale.ROOT);
        service |= GENERIC.contains(w) || NOT_A_NAME.contains(w) || NOT_A_PLACE.contains(w);
      }
      // a medical center called by a surname ("Johns Hopkins MD", an over-removal known since set 9)
      service |= CENTERS_BY_A_SURNAME.contains(m.group("last").toLowerCase(Locale.ROOT));
      if (!service) {
        spans.add(new Span(m.start("first"), m.end("last"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
      }
    }
  }

  /**
   * A number abroad: a "+" or "011" and a country code, then groups of digits ("+44 20 7946 0958", "+52 55 5123
   * 4567", "011 44 7700 900123"), of 8 to 15 digits in all; "+2 pitting edema" and "+1 reflexes" have too few.
   */
  private static final Pattern INTERNATIONAL_PHONE = Pattern.compile("(?<![\\w+])(?:\\+|011[ .-]?)\\d{1,3}"
      + "(?:[ .-]?\\(?\\d{1,5}\\)?){2,5}(?![\\d.-]?\\d)");

  static void addInternationalPhones(List<Span> spans, String text) {
    Matcher m = INTERNATIONAL_PHONE.matcher(text);
    while (m.find()) {
      long digits = m.group().chars().filter(Character::isDigit).count();
      if (digits >= 8 && digits <= 15) {
        spans.add(new Span(m.start(), m.end(), IdentifierClass.PHONE, IdentifierClass.PHONE.prefix()));
      }
    }
  }

  /** An extension after a phone: "ext. 4432", "x221", "extension 3057", "ext 12". */
  private static final Pattern EXTENSION = Pattern.compile(",?[ \\t]*+(?i:ext\\.?|extension|x)[ \\t]*+#?[ \\t]*+\\d{1,6}\\b");

  /**
   * A phone's extension belongs to it: "(312) 555-0187 ext. 4432" left "ext. 4432" beside the token, which with
   * the practice's main number reaches one desk.
   */
  static void addPhoneExtensions(List<Span> spans, String text) {
    for (int i = 0; i < spans.size(); i++) {
      Span s = spans.get(i);
      if (s.cls() == IdentifierClass.PHONE || s.cls() == IdentifierClass.FAX) {
        Matcher m = EXTENSION.matcher(text).region(s.end(), text.length());
        if (m.lookingAt()) {
          spans.set(i, new Span(s.start(), m.end(), s.cls(), s.prefix(), s.identity()));
        }
      }
    }
  }

  /** A sender's name before the address in angle brackets, as a mail's header writes it: "Dana Whitfield <dw@x.org>". */
  private static final Pattern SENDER = Pattern.compile("(?<![\\p{L}.'’-])(?<v>" + NAME_WORD + "(?:\\s+[A-Z]\\.)?(?:\\s+(?:"
      + PARTICLES + ")?" + NAME_WORD + "){1,2})[ \\t]*+<[^<>@\\s]++@");

  static void addSenderNames(List<Span> spans, String text) {
    if (text.indexOf('<') < 0) {
      return; // no header: the look at every capitalized word was a tenth of the detectors' time
    }
    Matcher m = SENDER.matcher(text);
    while (m.find()) {
      spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
  }

  /**
   * Initials before a day, written without periods: the patient's own ("Chart review RA 9/21"), and anyone's two
   * or three capitals after a dash that signs a note off ("-- JS 4/17"). Both are a person, and the day theirs;
   * the common abbreviations ("PT 3/4", "MS 3/6") stay, and the numbers must be a day, not an amount.
   */
  private static final Pattern SIGN_OFF_INITIALS = Pattern.compile("(?:--|[—–~]|(?<![\\w-])-)[ \\t]*+(?<v>[A-Z]{2,3})(?![\\w/-])");

  static void addInitialsBeforeDays(List<Span> spans, String text, KnownIdentifiers known) {
    List<int[]> found = new ArrayList<>();
    Matcher m = SIGN_OFF_INITIALS.matcher(text);
    while (m.find()) {
      found.add(new int[] {m.start("v"), m.end("v"), -1});
    }
    for (int k = 0; k < known.names().size(); k++) {
      KnownIdentifiers.Name n = known.names().get(k);
      if (n.family() == null || n.family().isBlank() || n.given().isEmpty() || n.given().get(0) == null
          || n.given().get(0).isBlank()) {
        continue;
      }
      String family = trimSeparators(n.family().strip());
      String initials = ("" + n.given().get(0).strip().charAt(0) + (family.isEmpty() ? "" : family.charAt(0)))
          .toUpperCase(Locale.ROOT);
      if (initials.length() == 2 && initials.chars().allMatch(Character::isLetter)) {
        Matcher own = Pattern.compile("(?<![\\w/-])" + Pattern.quote(initials) + "(?![\\w/-])").matcher(text);
        while (own.find()) {
          found.add(new int[] {own.start(), own.end(), k});
        }
      }
    }
    for (int[] f : found) {
      String initials = text.substring(f[0], f[1]);
      if (ABBREVIATIONS.contains(initials) || Dates.dayAfterName(text, f[1]).isEmpty()) {
        continue;
      }
      KnownIdentifiers.Name n = f[2] < 0 ? null : known.names().get(f[2]);
      spans.add(new Span(f[0], f[1], IdentifierClass.NAME, n == null ? IdentifierClass.NAME.prefix() : prefix(n)));
    }
  }

  /**
   * A surname without a title before a visit's day, after "with", "w/" or "see", in a visit's words ("F/u w/ Okafor
   * 4/9", "see Lindqvist 3/12 appt"): the clinician seen. Without a word of a visit before the cue or after the day
   * it may be a drug's start ("bridge with Lovenox 3/4"), and a word before a day alone is no person (see
   * DetectorsTest); a service ("f/u with Cardiology 3/4 appt", "see Ortho 5/2 f/u") names no one and stays.
   */
  private static final String VISIT_WORDS = "f/u|fu|follow[- ]?up|visit|appt|appointment|rtc";
  private static final String VISIT = "(?i:" + VISIT_WORDS + ")(?![\\w-])";
  private static final Pattern SURNAME_BEFORE_DAY = Pattern.compile("(?i:\\b(?:with|w/|see|seeing|saw))[ \\t]++"
      + "(?<v>\\p{Lu}\\p{Ll}[\\p{L}'’-]+)(?=,?[ \\t]+\\d{1,2}/\\d{1,2}(?![/\\d])(?<after>[ \\t]+" + VISIT + ")?)");
  private static final Pattern VISIT_BEFORE = Pattern.compile("(?i:" + VISIT_WORDS + "|return)[ \\t]++$");
  /** Services and clinicians' kinds that notes abbreviate, seen on a day as a person is: not a name. */
  private static final Set<String> SERVICES = Set.of("ortho", "derm", "neuro", "cards", "onc", "pulm", "endo", "rheum",
      "psych", "podiatry", "ent", "ophtho", "optho", "gyn", "uro", "nephro", "heme", "pcp", "slp", "lab", "labs", "echo",
      "dietitian", "dietician", "nutrition", "sw", "chaplain", "wound", "gi", "id", "np", "pa", "rn", "ot", "pt", "surgery",
      "nurse", "dentist", "dental", "optometry", "audiology", "counseling", "counselor", "therapist", "therapy",
      "cardiologist", "neurologist", "oncologist", "surgeon", "podiatrist", "dermatologist", "psychiatrist",
      "psychologist", "urologist", "endocrinologist", "nephrologist", "rheumatologist", "pulmonologist", "hematology",
      "physiatry", "pmr", "sports", "allergist", "immunology", "genetics", "hepatology", "transplant", "anesthesia");

  static void addSurnamesBeforeVisitDays(List<Span> spans, String text) {
    Matcher m = SURNAME_BEFORE_DAY.matcher(text);
    while (m.find()) {
      String w = m.group("v").toLowerCase(Locale.ROOT);
      boolean visit = m.group("after") != null
          || VISIT_BEFORE.matcher(text).region(Math.max(0, m.start() - 24), m.start()).find();
      if (!visit || SERVICES.contains(w) || GENERIC.contains(w) || NOT_A_NAME.contains(w) || NOT_A_PLACE.contains(w)
          || Dates.dayAfterName(text, m.end("v")).isEmpty()) {
        continue;
      }
      spans.add(new Span(m.start("v"), m.end("v"), IdentifierClass.NAME, IdentifierClass.NAME.prefix()));
    }
  }

  /** Overlaps: earliest start wins, then the longest; known identifiers were added first and win ties. */
  static List<Span> resolve(List<Span> spans) {
    List<Span> sorted = new ArrayList<>(spans);
    sorted.sort((a, b) -> a.start() != b.start() ? Integer.compare(a.start(), b.start())
        : Integer.compare(b.end() - b.start(), a.end() - a.start()));
    List<Span> out = new ArrayList<>();
    int end = -1;
    for (Span s : sorted) {
      if (s.start() >= end) {
        out.add(s);
        end = s.end();
      }
    }
    return out;
  }
}
