package io.carecontext.services.http;

import io.carecontext.retrieval.FreeText;
import java.util.Optional;

/** Checks shared by the endpoints that take a question about patient data. */
public final class QueryInput {

  static final int MAX_CHARS = 4000;

  private QueryInput() {}

  /** Why a question was refused: {@code reason} for the audit trail, {@code message} for the caller. */
  public record Refusal(String reason, String message) {}

  /**
   * A query text of 1 to 4,000 characters with a letter or digit and no control character but tab, line feed
   * and carriage return, an optional k of 1 to 100; empty when both are fine.
   */
  public static Optional<Refusal> check(String field, String text, Integer k) {
    if (text == null || text.isBlank()) {
      return Optional.of(new Refusal("query_missing", field + " is required (1 to " + MAX_CHARS + " characters)"));
    }
    // No letter or digit: a question of invisible or control characters alone (a zero-width space, a
    // NUL, a byte-order mark, a no-break space) left the in-process model no token to embed, and the
    // caller was told 502 embedding_unavailable, "retry later", as for a model outage. Nor does "???"
    // ask anything to search for.
    if (!FreeText.hasWords(text)) {
      return Optional.of(new Refusal("query_missing", field + " has no words: send a question of 1 to " + MAX_CHARS
          + " characters with at least one letter or digit"));
    }
    // A control character (a NUL, an escape, a backspace; C0, DEL or C1) is no part of a question a clinician
    // typed: a "\\u0000" escaped in JSON was embedded, sent to the model and answered 200, where a FHIR string
    // refuses it (JsonShapes). Tab, line feed and carriage return are how a pasted question is laid
    // out, and stay (as in a FHIR string). The message names the kind, never the character or the question.
    if (FreeText.hasControlCharacter(text)) {
      return Optional.of(new Refusal("query_malformed", field + " holds " + FreeText.CONTROL_CHARACTERS
          + ": send the question as text"));
    }
    // characters as the caller counts them (code points): length() counts UTF-16 units, so a question of
    // 3,000 emoji or CJK extension characters (two units each) was "too long: at most 4000 characters"
    if (text.length() > MAX_CHARS && text.codePointCount(0, text.length()) > MAX_CHARS) {
      return Optional.of(new Refusal("query_too_long", field + " is too long: at most " + MAX_CHARS + " characters"));
    }
    if (k != null && (k < 1 || k > 100)) {
      return Optional.of(new Refusal("k_out_of_range", "k must be 1 to 100 (the role's policy may cap it lower)"));
    }
    return Optional.empty();
  }
}
