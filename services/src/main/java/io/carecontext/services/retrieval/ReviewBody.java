package io.carecontext.services.retrieval;

import io.carecontext.retrieval.FreeText;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.services.http.ApiException;
import io.micronaut.core.annotation.Nullable;
import java.util.Map;

/**
 * The body of {@code POST /v1/{tenant}/audit/{auditId}/review}: {@code {"outcome","note"}}. The outcome is one of
 * {@link AuditEntry#REVIEW_OUTCOMES}; the note, free text about a patient's access (PHI: stored encrypted, never
 * logged, never quoted back), is required for {@code inappropriate} and {@code needs_follow_up}, at most
 * {@value #MAX_NOTE} characters, with a letter or digit in it and no control character but tab and newlines
 * ({@link FreeText}). Refusals name the field, never its value.
 */
record ReviewBody(String outcome, @Nullable String note) {

  /** The longest note, in characters (code points). */
  static final int MAX_NOTE = 1_000;

  /** The largest body read: a note of {@value #MAX_NOTE} characters of four bytes each, escaped, fits. */
  static final int MAX_BYTES = 16 * 1024;

  static final String BODY = "the body must be a JSON object {\"outcome\":\"appropriate\"|\"inappropriate\"|"
      + "\"needs_follow_up\",\"note\":\"…\"} (note required for inappropriate and needs_follow_up)";

  @Override
  public String toString() {
    return "ReviewBody[" + outcome + ", note " + (note == null ? "none" : "given") + "]";
  }

  /** The review a parsed body asks for; a 400 naming the field (never its value) otherwise. */
  static ReviewBody of(@Nullable Object parsed) {
    if (!(parsed instanceof Map<?, ?> body)) {
      throw ApiException.badRequest(BODY);
    }
    for (Object name : body.keySet()) {
      if (!"outcome".equals(name) && !"note".equals(name)) { // the caller's text: never quoted back
        throw ApiException.badRequest("an unknown field; " + BODY);
      }
    }
    if (!(body.get("outcome") instanceof String outcome) || !AuditEntry.REVIEW_OUTCOMES.contains(outcome)) {
      throw ApiException.badRequest("outcome is required: one of " + String.join(", ", AuditEntry.REVIEW_OUTCOMES));
    }
    Object note = body.get("note");
    if (note == null) {
      if (!"appropriate".equals(outcome)) {
        throw ApiException.badRequest("note is required for the outcome " + outcome + ": say what was found and what "
            + "follows (at most " + MAX_NOTE + " characters)");
      }
      return new ReviewBody(outcome, null);
    }
    if (!(note instanceof String text)) {
      throw ApiException.badRequest("note must be a string (at most " + MAX_NOTE + " characters)");
    }
    if (text.codePointCount(0, text.length()) > MAX_NOTE) {
      throw ApiException.badRequest("note must be at most " + MAX_NOTE + " characters");
    }
    if (!FreeText.hasWords(text)) {
      throw ApiException.badRequest("note must say something: it holds no letter or digit");
    }
    if (FreeText.hasControlCharacter(text)) {
      // as a break-glass reason: the note is read by the next reviewer, and a NUL or an escape is none of it
      throw ApiException.badRequest("note holds " + FreeText.CONTROL_CHARACTERS + ": send it as text");
    }
    return new ReviewBody(outcome, text);
  }
}
