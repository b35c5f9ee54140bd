package io.carecontext.retrieval.deid;

import java.util.List;
import java.util.Map;

/** De-identified texts, the request's token map, and counts per identifier class (never values). */
public record DeidResult(List<String> texts, TokenMap tokens, Map<IdentifierClass, Integer> counts) {
  @Override
  public String toString() {
    return "DeidResult" + counts;
  }
}
