package io.carecontext.retrieval.deid;

/** What happens to dates in a de-identified prompt: a token, a per-request shift, or the year only. */
public enum DatePolicy {
  TOKEN, SHIFT, YEAR;

  public static DatePolicy fromSetting(Object setting) {
    return switch (String.valueOf(setting)) {
      case "token" -> TOKEN;
      case "year" -> YEAR;
      default -> SHIFT;
    };
  }
}
