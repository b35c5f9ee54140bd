package io.carecontext.retrieval.chat;

import java.util.Map;

/** The minimal context put before a model: text with short source handles, and what each handle cites. */
public record Prompt(String system, String user, Map<String, String> handles, int chunksUsed) {
  @Override
  public String toString() {
    return "Prompt[chunks=" + chunksUsed + "]";
  }
}
