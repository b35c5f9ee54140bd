package io.carecontext.ingest;

import java.time.Instant;

/** A stored version of a resource (the current one unless asked for another); {@code json} is PHI (decrypted), null when deleted. */
public record StoredResource(String resourceType, String id, long version, Instant lastUpdated, boolean deleted,
                             String json) {
  @Override
  public String toString() {
    // No id: it may be an MRN.
    return "StoredResource[" + resourceType + ", version " + version + (deleted ? ", deleted" : "") + "]";
  }
}
