package io.carecontext.fhir;

import java.time.Instant;

/**
 * A practitioner's care relationship with a patient, and the resource that states it; in force from
 * {@code validFrom} and before {@code validUntil} (either null: unbounded), as the CareTeam's and the
 * participant's periods say. An Encounter's {@code validUntil} is when the care it records ended; the
 * database keeps such a link in force for the tenant's follow-up after it (tenant migration 44). An
 * encounter under way without an end has none: {@code openSince} is then when the feed stored that
 * version (its start only when that is not known), and the database keeps the link in force for the
 * tenant's {@code openEncounterMaxDays} after it (tenant migration 60); an Encounter link whose end was
 * still ahead when stored has it too, and holds until the earlier of the two bounds (tenant migration
 * 63); null for any other link.
 */
public record CareLink(String practitionerId, String patientId, String sourceType, String sourceId,
                       Instant validFrom, Instant validUntil, Instant openSince) {

  /** A link without a period. */
  public CareLink(String practitionerId, String patientId, String sourceType, String sourceId) {
    this(practitionerId, patientId, sourceType, sourceId, null, null, null);
  }

  /** A link with a period (or an ended encounter's end), not open. */
  public CareLink(String practitionerId, String patientId, String sourceType, String sourceId, Instant validFrom,
                  Instant validUntil) {
    this(practitionerId, patientId, sourceType, sourceId, validFrom, validUntil, null);
  }

  /** Names no patient: a patient id may be an MRN. */
  @Override
  public String toString() {
    return "CareLink[" + sourceType + "]";
  }
}
