package io.carecontext.ingest;

import java.time.Instant;

/**
 * What one write did: the resource's version, and whether it created, changed or left it;
 * {@code patientId} is the patient whose compartment the resource is in (null for none, and for a
 * delete of what was not there).
 */
public record WriteOutcome(String resourceType, String id, long version, Instant lastUpdated, Status status,
                           String patientId) {

  public enum Status { CREATED, UPDATED, UNCHANGED, DELETED }

  public String location() {
    return resourceType + "/" + id + "/_history/" + version;
  }
}
