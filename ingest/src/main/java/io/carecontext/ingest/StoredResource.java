package io.carecontext.ingest;

import java.time.Instant;

/**
 * A stored version of a resource (the current one unless asked for another); {@code json} is PHI
 * (decrypted), null when deleted; {@code patientId} the patient whose compartment it is in (null
 * for none), for the audit row of whoever reads it.
 */
public record StoredResource(String resourceType, String id, long version, Instant lastUpdated, boolean deleted,
                             String json, String patientId) {

  public StoredResource(String resourceType, String id, long version, Instant lastUpdated, boolean deleted,
                        String json) {
    this(resourceType, id, version, lastUpdated, deleted, json, null);
  }

  @Override
  public String toString() {
    // No id: it may be an MRN.
    return "StoredResource[" + resourceType + ", version " + version + (deleted ? ", deleted" : "") + "]";
  }
}
