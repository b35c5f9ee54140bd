package io.carecontext.services.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class QueryInputTest {

  @Test
  void aMissingQueryIsRequiredAndAnOverlongOneIsTooLong() {
    assertEquals("query is required (1 to 4000 characters)", refusal(null, null));
    assertEquals("query is required (1 to 4000 characters)", refusal("  ", null));
    // was "query is required (1 to 4000 characters)" for a query that was there, only too long
    assertEquals("question is too long: at most 4000 characters",
        assertThrows(ApiException.class, () -> QueryInput.require("question", "x".repeat(6000), null)).getMessage());
    assertEquals("k must be 1 to 100 (the role's policy may cap it lower)", refusal("q", 0));
    QueryInput.require("query", "x".repeat(4000), 100);
  }

  private static String refusal(String text, Integer k) {
    return assertThrows(ApiException.class, () -> QueryInput.require("query", text, k)).getMessage();
  }
}
