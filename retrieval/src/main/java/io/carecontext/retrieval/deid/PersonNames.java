package io.carecontext.retrieval.deid;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A dictionary of personal names: the US Census Bureau's 1990 given names and surnames (public domain), less a
 * stop list of clinical words, eponyms and drugs (scripts/generate-person-names.py). A name that is also a
 * lower-case English word ("Frank", "Brown") is kept apart: it says "name" only beside another name. The detectors
 * never take a single dictionary word for a name without a context that says it is one.
 */
public final class PersonNames {

  private static final Set<String> GIVEN = load("person-given-names.txt");
  private static final Set<String> SURNAMES = load("person-surnames.txt");
  private static final Set<String> WORDS = load("person-name-words.txt");
  private static final Set<String> GIVEN_WORDS = load("person-given-name-words.txt");

  private PersonNames() {}

  /**
   * Whether a word is a known personal name (given or family), in any case: "Okafor", "BRENDA", "nguyen". Not a
   * name that is also a common English word ("Will", "Brown") or a clinical one ("Parkinson", "Foley").
   */
  public static boolean isKnownName(String word) {
    String k = key(word);
    return GIVEN.contains(k) || SURNAMES.contains(k);
  }

  /** Whether a word is a known given name, in any case, and not an English or clinical word. */
  public static boolean isGivenName(String word) {
    return GIVEN.contains(key(word));
  }

  /** Whether a word, or a part of it between hyphens, is a known surname, and not an English or clinical word. */
  public static boolean isSurname(String word) {
    for (String part : word.split("-", 4)) {
      if (SURNAMES.contains(key(part))) {
        return true;
      }
    }
    return false;
  }

  /** Whether a word is a name that is also a lower-case English word ("Frank", "Baker"): a name only beside another. */
  static boolean isNameWord(String word) {
    return WORDS.contains(key(word));
  }

  /** Whether a word is a given name that is also an English word ("John", "Maria", "Frank"): a name only before a surname. */
  static boolean isGivenNameWord(String word) {
    return GIVEN_WORDS.contains(key(word));
  }

  /** How many given names, surnames and names that are English words the dictionary holds. */
  static int[] size() {
    return new int[] {GIVEN.size(), SURNAMES.size(), WORDS.size()};
  }

  private static String key(String word) {
    String w = word.strip();
    if (w.endsWith("'s") || w.endsWith("’s")) {
      w = w.substring(0, w.length() - 2);
    }
    return w.toLowerCase(Locale.ROOT);
  }

  private static Set<String> load(String resource) {
    try (InputStream in = PersonNames.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      Set<String> out = new HashSet<>();
      new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().map(String::strip)
          .filter(s -> !s.isEmpty()).forEach(s -> out.add(s.toLowerCase(Locale.ROOT)));
      return Set.copyOf(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
