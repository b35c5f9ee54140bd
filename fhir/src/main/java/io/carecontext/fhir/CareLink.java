package io.carecontext.fhir;

import java.time.Instant;

/**
 * A practitioner's care relationship with a patient, and the resource that states it; in force from
 * {@code validFrom} and before {@code validUntil} (either null: unbounded), as the CareTeam's and the
 * participant's periods say. An Encounter's {@code validUntil} is when the care it records ended; the
 * database keeps such a link in force for the tenant's follow-up after it (tenant migration 44).
 */
public record CareLink(String practitionerId, String patientId, String sourceType, String sourceId,
                       Instant validFrom, Instant validUntil) {

  /** A link without a period. */
  public CareLink(String practitionerId, String patientId, String sourceType, String sourceId) {
    this(practitionerId, patientId, sourceType, sourceId, null, null);
  }

  /** Names no patient: a patient id may be an MRN. */
  @Override
  public String toString() {
    return "CareLink[" + sourceType + "]";
  }
}
