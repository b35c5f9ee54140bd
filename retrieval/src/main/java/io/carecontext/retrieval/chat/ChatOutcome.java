package io.carecontext.retrieval.chat;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A chat answer (or, for a dry run, the exact prompt that would leave), with its audit id, and when
 * the break-glass window it was served in closes (null for any other request). {@code sources}: each
 * citation's resource and its clinical date as the record writes it, in the order of {@code citations}
 * (null for a role served de-identified, whose citations are handles). {@code pending}: as
 * {@link io.carecontext.retrieval.ContextResult#pending()}, of the retrieval this answer was built on.
 */
public record ChatOutcome(String answer, List<String> citations, String model, UUID auditId, String dryRunPrompt,
                          int promptTokens, int outputTokens, Instant breakGlassUntil, List<Source> sources,
                          int pending) {

  /**
   * Where a cited fact came from: the resource and its clinical date as written (a year, a month or a day;
   * null when the resource has none), the record's own date, never the prompt's shifted one.
   */
  public record Source(String resource, String date) {
    @Override
    public String toString() {
      return "Source"; // a resource id of a patient's record
    }
  }

  @Override
  public String toString() {
    return "ChatOutcome[model=" + model + ", citations=" + citations.size() + "]";
  }
}
