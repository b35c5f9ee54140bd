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

  @Test
  void aQuestionWithoutALetterOrDigitIsRefusedAsMissingNotSentToTheModel() {
    // the in-process model failed on these, and the caller was told 502 embedding_unavailable, retry later
    for (String nothing : new String[] {"\u200b", "\u0000", "\u0001", "\ufeff", "\u00a0", "\u200b\u00a0\ufeff", "???"}) {
      assertEquals(new QueryInput.Refusal("query_missing",
          "question has no words: send a question of 1 to 4000 characters with at least one letter or digit"),
          QueryInput.check("question", nothing, null).orElseThrow());
    }
    assertTrue(QueryInput.check("query", "\u200bHbA1c?", null).isEmpty());
    assertTrue(QueryInput.check("query", "血糖", null).isEmpty());
  }

  @Test
  void aControlCharacterInAQuestionIsRefusedAsMalformedButTabAndNewlinesAreText() {
    // "a\\u0000b" (a NUL escaped in JSON) was embedded, sent to the model and answered 200
    for (String control : new String[] {"a\u0000b", "HbA1c\u001b[2J", "x\bHbA1c", "HbA1c\u007f", "HbA1c\u0085"}) {
      assertEquals(new QueryInput.Refusal("query_malformed", "question holds a control character (U+0000 to U+001F, "
          + "U+007F to U+009F, other than tab, line feed and carriage return): send the question as text"),
          QueryInput.check("question", control, null).orElseThrow(), control.replaceAll("\\p{Cntrl}", "?"));
    }
    // a question pasted from a note keeps its layout
    assertTrue(QueryInput.check("question", "HbA1c trend\r\n\tsince 2019?\n", null).isEmpty());
    // a NUL alone is still a question without words (the earlier check), not a malformed one
    assertEquals("query_missing", QueryInput.check("query", "\u0000", null).orElseThrow().reason());
  }

  @Test
  void charactersAreCountedAsTheCallerCountsThemNotAsUtf16Units() {
    // an emoji (or a CJK extension character) is one character and two UTF-16 units: 3,000 of them were too long
    String emoji = "\uD83D\uDE00";
    assertTrue(QueryInput.check("query", "HbA1c " + emoji.repeat(3000), null).isEmpty());
    assertTrue(QueryInput.check("query", "a" + "\uD840\uDC0B".repeat(3999), null).isEmpty());
    assertEquals(new QueryInput.Refusal("query_too_long", "query is too long: at most 4000 characters"),
        refusal("a" + emoji.repeat(4000), null));
  }

  private static QueryInput.Refusal refusal(String text, Integer k) {
    return QueryInput.check("query", text, k).orElseThrow();
  }
}
