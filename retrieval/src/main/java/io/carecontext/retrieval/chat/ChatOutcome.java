package io.carecontext.retrieval.chat;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A chat answer (or, for a dry run, the exact prompt that would leave), with its audit id, and when
 * the break-glass window it was served in closes (null for any other request).
 */
public record ChatOutcome(String answer, List<String> citations, String model, UUID auditId, String dryRunPrompt,
                          int promptTokens, int outputTokens, Instant breakGlassUntil) {
  @Override
  public String toString() {
    return "ChatOutcome[model=" + model + ", citations=" + citations.size() + "]";
  }
}
