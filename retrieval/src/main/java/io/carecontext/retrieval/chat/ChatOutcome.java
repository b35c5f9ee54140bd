package io.carecontext.retrieval.chat;

import java.util.List;
import java.util.UUID;

/** A chat answer (or, for a dry run, the exact prompt that would leave), with its audit id. */
public record ChatOutcome(String answer, List<String> citations, String model, UUID auditId, String dryRunPrompt,
                          int promptTokens, int outputTokens) {
  @Override
  public String toString() {
    return "ChatOutcome[model=" + model + ", citations=" + citations.size() + "]";
  }
}
