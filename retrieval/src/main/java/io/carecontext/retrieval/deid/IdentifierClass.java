package io.carecontext.retrieval.deid;

/**
 * The HIPAA Safe Harbor identifier classes as detected in text, with their token prefixes.
 * Photographs, biometrics and full-face images do not occur in text chunks: nothing to detect.
 * {@code FACILITY} (a hospital, clinic or laboratory by name) is Safe Harbor's geographic subdivision
 * smaller than a state: "Banner Health Clinic - Oro Valley" or "Tucson Medical Center" places the
 * patient's care, and usually the patient, in a town.
 */
public enum IdentifierClass {
  NAME("PERSON"), DATE("DATE"), PHONE("PHONE"), FAX("FAX"), EMAIL("EMAIL"), SSN("SSN"), MRN("MRN"),
  HEALTH_PLAN("PLAN"), ACCOUNT("ACCOUNT"), LICENSE("LICENSE"), VEHICLE("VEHICLE"), DEVICE("DEVICE"), URL("URL"),
  IP("IP"), ADDRESS("ADDRESS"), CITY("CITY"), ZIP("ZIP"), FACILITY("FACILITY"), OTHER_ID("ID");

  private final String prefix;

  IdentifierClass(String prefix) {
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }
}
