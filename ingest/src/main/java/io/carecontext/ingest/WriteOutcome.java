package io.carecontext.ingest;

import java.time.Instant;

/**
 * What one write did: the resource's version, and whether it created, changed or left it;
 * {@code patientId} is the patient whose compartment the resource is in (null for none, and for a
 * delete of what was not there); {@code previousPatientId} the patient whose compartment it was in
 * before this write, which differs only for an update that moved it to another patient (or out of
 * every compartment): that patient's record changed too.
 */
public record WriteOutcome(String resourceType, String id, long version, Instant lastUpdated, Status status,
                           String patientId, String previousPatientId) {

  public enum Status { CREATED, UPDATED, UNCHANGED, DELETED }

  /** A write that left the resource in the compartment it was in (or that created it). */
  public WriteOutcome(String resourceType, String id, long version, Instant lastUpdated, Status status,
                      String patientId) {
    this(resourceType, id, version, lastUpdated, status, patientId, patientId);
  }

  /** Whether this write took the resource out of another patient's compartment. */
  public boolean movedFromAnotherPatient() {
    return status == Status.UPDATED && previousPatientId != null && !previousPatientId.equals(patientId);
  }

  public String location() {
    return resourceType + "/" + id + "/_history/" + version;
  }
}
