package io.carecontext.retrieval.deid;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts identities back into a model's answer for callers that may see them. Tokens the model
 * invented or mangled are never guessed: each becomes {@link #UNRESOLVED}, so the reader sees that
 * something stood there (removed outright, "Seen on [DATE_9]." read "Seen on ."). Under {@code datePolicy} shift the model saw
 * every date moved by the patient's offset, so every date it writes is in that frame: each is moved
 * back, or a clinician would read a wrong date as the record's.
 */
public final class Reidentifier {

  /** A token, or what the model made of one ("PERSON 2", "[DATE_3"): of any prefix the detectors give. */
  private static final Pattern TOKENISH = Pattern.compile(
      "\\[?\\b(?:" + String.join("|", Detectors.TOKEN_PREFIXES) + ")[ _]\\d+\\b\\]?");

  /** What stands in an answer where the model wrote a token that names nothing it was given. */
  public static final String UNRESOLVED = "[unresolved]";

  private Reidentifier() {}

  public static String reidentify(String answer, TokenMap tokens) {
    return reidentify(answer, tokens, 0);
  }

  /** As {@link #reidentify(String, TokenMap)}, each date first moved back by {@code shiftDays} (ISO form). */
  public static String reidentify(String answer, TokenMap tokens, int shiftDays) {
    // dates first: a date a token stands for is the record's own, and must not be moved
    return replace(shiftDays == 0 ? answer : unshift(answer, shiftDays), tokens, true);
  }

  /** Each date the de-identifier would have shifted, moved back: the same detector in both directions. */
  static String unshift(String answer, int shiftDays) {
    return Dates.shift(answer, -shiftDays);
  }

  /**
   * For callers that must never see identities (researchers): known tokens stay, invented ones are
   * marked, and as in the sources every date is cut to its year and an age over 89 is one category.
   * The model's own dates reached a researcher whole ("1947-03-19"), though its prompt had years
   * only: a model can recite a date from a note the detectors missed, or guess one.
   */
  public static String keepTokens(String answer, TokenMap tokens) {
    int currentYear = LocalDate.now(ZoneOffset.UTC).getYear();
    String years = Dates.replace(answer, d -> !d.hasYear() ? "[DATE]"
        : Deidentifier.showsAgeOver89(d.year(), currentYear) ? "[YEAR]" : Integer.toString(d.year()));
    return replace(Deidentifier.agesOver89(years, currentYear), tokens, false);
  }

  private static String replace(String answer, TokenMap tokens, boolean reveal) {
    Matcher m = TOKENISH.matcher(answer);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String token = m.group();
      String value = tokens.valueOf(token).map(v -> reveal ? v : token).orElse(UNRESOLVED);
      m.appendReplacement(b, Matcher.quoteReplacement(value));
    }
    m.appendTail(b);
    return b.toString();
  }
}
