package io.carecontext.retrieval.deid;

import io.carecontext.fhir.KnownIdentifiers;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scans a model's answer (still in tokens) for identifiers that did not come from the token map —
 * a recited SSN, phone number, e-mail, record number or a known name — and redacts them. A failure
 * here must stop the answer: callers treat any exception as "return nothing".
 */
public final class OutputPhiFilter {

  private OutputPhiFilter() {}

  public record Filtered(String text, Map<IdentifierClass, Integer> redactions) {
    @Override
    public String toString() {
      return "Filtered" + redactions;
    }
  }

  /** As {@link #filter(String, KnownIdentifiers, boolean)} for an answer that will be re-identified. */
  public static Filtered filter(String answer, KnownIdentifiers known) {
    return filter(answer, known, false);
  }

  /**
   * A store's number right after a facility's or an employer's token ("[FACILITY_1] #4521"): the
   * token hides the name, the number still names the one shop.
   */
  private static final Pattern NUMBER_AFTER_PLACE_TOKEN = Pattern.compile("(?<=\\[(?:S\\d{1,4}_)?(?:"
      + IdentifierClass.FACILITY.prefix() + "|" + Detectors.EMPLOYER + ")_\\d{1,4}\\][ \\t]{0,3})(?:(?i:store|branch|location"
      + "|no\\.?|number)[ \\t]*+#?[ \\t]*+|#[ \\t]*+)\\d{1,6}\\b");

  /**
   * The answer with every identifier the model wrote itself redacted. {@code deidentified}: the caller
   * is served de-identified (a researcher), and the answer is never re-identified. Then a facility
   * the model names is redacted too, and a store's number after a facility's token: the model cannot
   * tell its advice ("such as Mayo Clinic") from a place it recalls of the patient's notes (a name or a
   * number the detectors missed in the prompt, written out again), and a de-identified caller may
   * learn neither. For an answer that is re-identified (a clinician's), the record's facilities came
   * back as their tokens and the model's own are advice: they stay.
   */
  public static Filtered filter(String answer, KnownIdentifiers known, boolean deidentified) {
    if (answer == null) {
      throw new DeidentificationException("no answer to filter");
    }
    Map<IdentifierClass, Integer> counts = new EnumMap<>(IdentifierClass.class);
    List<Detectors.Span> spans = new ArrayList<>(Detectors.find(answer, known));
    if (deidentified) {
      Matcher number = NUMBER_AFTER_PLACE_TOKEN.matcher(answer);
      while (number.find()) {
        spans.add(new Detectors.Span(number.start(), number.end(), IdentifierClass.FACILITY,
            IdentifierClass.FACILITY.prefix()));
      }
      spans = Detectors.resolve(spans);
    }
    StringBuilder b = new StringBuilder();
    int at = 0;
    for (Detectors.Span s : spans) {
      // Dates alone in an answer are clinical timing, already shifted or tokenized in the prompt (for a
      // de-identified caller the re-identifier's keepTokens cuts them to the year). A facility the model
      // names for a caller who may see identities ("refer to a transplant centre such as Mayo Clinic")
      // is not from the record, whose facilities reached it as tokens: it is advice, and stays.
      if (s.cls() == IdentifierClass.DATE || s.cls() == IdentifierClass.FACILITY && !deidentified) {
        continue;
      }
      b.append(answer, at, s.start()).append("[REDACTED]");
      counts.merge(s.cls(), 1, Integer::sum);
      at = s.end();
    }
    return new Filtered(b.append(answer.substring(at)).toString(), Map.copyOf(counts));
  }

  /** The filter could not run; no answer may be returned. Carries no PHI. */
  public static final class DeidentificationException extends RuntimeException {
    public DeidentificationException(String message) {
      super(message, null, false, false);
    }
  }
}
