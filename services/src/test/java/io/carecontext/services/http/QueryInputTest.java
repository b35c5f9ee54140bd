package io.carecontext.services.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class QueryInputTest {

  @Test
  void aMissingQueryIsRequiredAndAnOverlongOneIsTooLong() {
    assertEquals(new QueryInput.Refusal("query_missing", "query is required (1 to 4000 characters)"), refusal(null, null));
    assertEquals(new QueryInput.Refusal("query_missing", "query is required (1 to 4000 characters)"), refusal("  ", null));
    // was "query is required (1 to 4000 characters)" for a query that was there, only too long
    assertEquals(new QueryInput.Refusal("query_too_long", "question is too long: at most 4000 characters"),
        QueryInput.check("question", "x".repeat(6000), null).orElseThrow());
    assertEquals(new QueryInput.Refusal("k_out_of_range", "k must be 1 to 100 (the role's policy may cap it lower)"),
        refusal("q", 0));
    assertTrue(QueryInput.check("query", "x".repeat(4000), 100).isEmpty());
  }

  private static QueryInput.Refusal refusal(String text, Integer k) {
    return QueryInput.check("query", text, k).orElseThrow();
  }
}
