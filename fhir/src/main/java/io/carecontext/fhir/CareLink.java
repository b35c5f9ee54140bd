package io.carecontext.fhir;

/** A practitioner's care relationship with a patient, and the resource that states it. */
public record CareLink(String practitionerId, String patientId, String sourceType, String sourceId) {

  /** Names no patient: a patient id may be an MRN. */
  @Override
  public String toString() {
    return "CareLink[" + sourceType + "]";
  }
}
