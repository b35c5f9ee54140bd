package io.carecontext.services.http;

/** Checks shared by the endpoints that take a question about patient data. */
public final class QueryInput {

  static final int MAX_CHARS = 4000;

  private QueryInput() {}

  /** A query text of 1 to 4,000 characters, and an optional k of 1 to 100. */
  public static void require(String field, String text, Integer k) {
    if (text == null || text.isBlank()) {
      throw ApiException.badRequest(field + " is required (1 to " + MAX_CHARS + " characters)");
    }
    if (text.length() > MAX_CHARS) {
      throw ApiException.badRequest(field + " is too long: at most " + MAX_CHARS + " characters");
    }
    if (k != null && (k < 1 || k > 100)) {
      throw ApiException.badRequest("k must be 1 to 100 (the role's policy may cap it lower)");
    }
  }
}
