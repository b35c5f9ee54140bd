package io.carecontext.retrieval.deid;

import io.carecontext.fhir.KnownIdentifiers;
import java.util.EnumMap;
import java.util.Map;

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

  public static Filtered filter(String answer, KnownIdentifiers known) {
    if (answer == null) {
      throw new DeidentificationException("no answer to filter");
    }
    Map<IdentifierClass, Integer> counts = new EnumMap<>(IdentifierClass.class);
    StringBuilder b = new StringBuilder();
    int at = 0;
    for (Detectors.Span s : Detectors.find(answer, known)) {
      // Dates alone in an answer are clinical timing, already shifted or tokenized in the prompt. A
      // facility the model names ("refer to a transplant centre such as Mayo Clinic") is not from the
      // record, whose facilities reached it as tokens: it is advice, not the patient's identifier.
      if (s.cls() == IdentifierClass.DATE || s.cls() == IdentifierClass.FACILITY) {
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
