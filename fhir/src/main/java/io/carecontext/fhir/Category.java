package io.carecontext.fhir;

/**
 * What a chunk is about. Role policies allow categories: billing sees only ADMINISTRATIVE,
 * clinicians see the clinical ones and notes.
 */
public enum Category {
  DEMOGRAPHIC("demographic"),
  CLINICAL("clinical"),
  LAB("lab"),
  MEDICATION("medication"),
  NOTE("note"),
  ADMINISTRATIVE("administrative");

  private final String code;

  Category(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
