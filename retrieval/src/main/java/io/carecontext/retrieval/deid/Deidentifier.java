package io.carecontext.retrieval.deid;

import io.carecontext.fhir.KnownIdentifiers;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces identifiers in the texts of one request with tokens that stay consistent across the
 * request ({@code [PATIENT_1]}, {@code [DATE_3]}, …). Dates follow the tenant's policy: a token, a
 * shift by the request's offset, or the year only.
 */
public final class Deidentifier {

  private Deidentifier() {}

  public static DeidResult deidentify(List<String> texts, KnownIdentifiers known, DatePolicy policy, int shiftDays) {
    TokenMap tokens = new TokenMap();
    Map<IdentifierClass, Integer> counts = new EnumMap<>(IdentifierClass.class);
    List<String> out = new ArrayList<>(texts.size());
    for (String text : texts) {
      StringBuilder b = new StringBuilder();
      int at = 0;
      for (Detectors.Span s : Detectors.find(text, known)) {
        b.append(text, at, s.start());
        String value = text.substring(s.start(), s.end());
        b.append(replacement(tokens, s, value, policy, shiftDays));
        counts.merge(s.cls(), 1, Integer::sum);
        at = s.end();
      }
      String clean = b.append(text.substring(at)).toString();
      String aggregated = agesOver89(clean, LocalDate.now(ZoneOffset.UTC).getYear());
      if (!aggregated.equals(clean)) {
        counts.merge(IdentifierClass.DATE, 1, Integer::sum);
      }
      out.add(aggregated);
    }
    return new DeidResult(List.copyOf(out), tokens, Map.copyOf(counts));
  }

  /** A capitalized word of three letters or more: a name as a question would write one. */
  private static final Pattern NAME_LIKE = Pattern.compile("\\b[A-Z][a-z'’-]{2,}\\b");

  /**
   * The question of a caller who must never learn identities (a researcher), de-identified without
   * the patient's identifiers, so that its treatment cannot tell the caller whether a name, number or
   * date it typed is the patient's. With them, the patient's name became [PATIENT_1] and any other
   * stayed as typed: a dry run (or the model's answer) confirmed a candidate name for a patient id.
   * Every Safe Harbor pattern becomes [REDACTED], a date its year, and every capitalized word that
   * does not begin a sentence [NAME] (a name typed in lower case, or shorter, reaches the model as
   * typed, but says nothing about the patient: the sources never name it). Returns the text and
   * the count of replacements.
   */
  public static DeidResult blind(String question) {
    StringBuilder b = new StringBuilder();
    int at = 0;
    int replaced = 0;
    for (Detectors.Span s : Detectors.find(question, KnownIdentifiers.empty())) {
      b.append(question, at, s.start());
      String value = question.substring(s.start(), s.end());
      b.append(s.cls() == IdentifierClass.DATE
          ? Dates.whole(value).map(d -> Integer.toString(d.year())).orElse("[REDACTED]") : "[REDACTED]");
      replaced++;
      at = s.end();
    }
    String patterned = agesOver89(b.append(question.substring(at)).toString(), LocalDate.now(ZoneOffset.UTC).getYear());
    Matcher m = NAME_LIKE.matcher(patterned);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String before = patterned.substring(0, m.start()).stripTrailing();
      boolean startsSentence = before.isEmpty() || ".!?".indexOf(before.charAt(before.length() - 1)) >= 0;
      if (!startsSentence) {
        replaced++;
      }
      m.appendReplacement(out, startsSentence ? Matcher.quoteReplacement(m.group()) : "[NAME]");
    }
    return new DeidResult(List.of(m.appendTail(out).toString()), new TokenMap(),
        replaced == 0 ? Map.of() : Map.of(IdentifierClass.NAME, replaced));
  }

  // A birth year as the renderer writes it ("born 1931"), and an age as notes write it ("94-year-old",
  // "94 years old", "age 94", "aged 94"); one pass, so a replacement is never read again, and an age
  // already written as the category ("aged 90 or older") is left as it is.
  private static final Pattern AGE = Pattern.compile("\\bborn (\\d{4})\\b"
      + "|\\b(\\d{2,3})[- ](?:years?|yrs?)[- ]old\\b"
      + "|\\b(?:age|aged)\\s*:?\\s*(\\d{2,3})\\b(?! or older)", Pattern.CASE_INSENSITIVE);

  /**
   * Safe Harbor: ages over 89, and every element of a date (the year included) that shows such an
   * age, are identifiers; they may stand only as one category, 90 or older. The year of birth was
   * the one date element the texts kept whatever the date policy ("born 1931"): for a patient of 90
   * or more it names a small group, and with a town or a rare condition, one person.
   */
  static String agesOver89(String text, int currentYear) {
    Matcher m = AGE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      int years = m.group(1) != null ? currentYear - Integer.parseInt(m.group(1))
          : Integer.parseInt(m.group(2) != null ? m.group(2) : m.group(3));
      m.appendReplacement(out, years >= 90 ? "aged 90 or older" : Matcher.quoteReplacement(m.group()));
    }
    return m.appendTail(out).toString();
  }

  private static String replacement(TokenMap tokens, Detectors.Span s, String value, DatePolicy policy, int shift) {
    if (s.cls() == IdentifierClass.DATE && policy != DatePolicy.TOKEN) {
      Optional<Dates.Found> d = Dates.whole(value);
      if (d.isPresent() && policy == DatePolicy.YEAR) {
        return Integer.toString(d.get().year());
      }
      if (d.isPresent() && d.get().date() != null) {
        return Dates.render(d.get().date().plusDays(shift), d.get().time());
      }
    }
    return tokens.tokenFor(s.prefix(), value);
  }
}
