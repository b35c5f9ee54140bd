package io.carecontext.retrieval.deid;

import io.carecontext.fhir.KnownIdentifiers;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Replaces identifiers in the texts of one request with tokens that stay consistent across the
 * request ({@code [PATIENT_1]}, {@code [DATE_3]}, …). Dates follow the tenant's policy: a token, a
 * shift by the request's offset, or the year only.
 */
public final class Deidentifier {

  private static final List<DateTimeFormatter> DATE_FORMATS = List.of(
      DateTimeFormatter.ISO_LOCAL_DATE, DateTimeFormatter.ofPattern("M/d/yyyy"), DateTimeFormatter.ofPattern("M/d/yy"),
      new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern("MMMM d, yyyy").toFormatter(Locale.US),
      new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern("MMM d, yyyy").toFormatter(Locale.US),
      new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern("d MMMM yyyy").toFormatter(Locale.US));

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
      out.add(b.append(text.substring(at)).toString());
    }
    return new DeidResult(List.copyOf(out), tokens, Map.copyOf(counts));
  }

  private static String replacement(TokenMap tokens, Detectors.Span s, String value, DatePolicy policy, int shift) {
    if (s.cls() == IdentifierClass.DATE && policy != DatePolicy.TOKEN) {
      Optional<LocalDate> d = parse(value);
      if (d.isPresent()) {
        return policy == DatePolicy.YEAR ? Integer.toString(d.get().getYear()) : d.get().plusDays(shift).toString();
      }
    }
    return tokens.tokenFor(s.prefix(), value);
  }

  static Optional<LocalDate> parse(String value) {
    String v = value.replaceAll("(\\d)(st|nd|rd|th)", "$1").replace(".", "").replaceAll("\\s+", " ").strip();
    for (DateTimeFormatter f : DATE_FORMATS) {
      try {
        return Optional.of(LocalDate.parse(v, f));
      } catch (RuntimeException ignored) {
        // next format
      }
    }
    return Optional.empty();
  }
}
