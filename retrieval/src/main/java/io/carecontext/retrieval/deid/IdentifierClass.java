package io.carecontext.retrieval.deid;

/**
 * The HIPAA Safe Harbor identifier classes as detected in text, with their token prefixes.
 * Photographs, biometrics and full-face images do not occur in text chunks: nothing to detect.
 */
public enum IdentifierClass {
  NAME("PERSON"), DATE("DATE"), PHONE("PHONE"), FAX("FAX"), EMAIL("EMAIL"), SSN("SSN"), MRN("MRN"),
  HEALTH_PLAN("PLAN"), ACCOUNT("ACCOUNT"), LICENSE("LICENSE"), VEHICLE("VEHICLE"), DEVICE("DEVICE"), URL("URL"),
  IP("IP"), ADDRESS("ADDRESS"), CITY("CITY"), ZIP("ZIP"), OTHER_ID("ID");

  private final String prefix;

  IdentifierClass(String prefix) {
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }
}
