package io.carecontext.ingest;

import java.time.Instant;

/** A stored version of a resource (the current one unless asked for another); {@code json} is PHI (decrypted), null when deleted. */
public record StoredResource(String resourceType, String id, long version, Instant lastUpdated, boolean deleted,
                             String json) {
  @Override
  public String toString() {
    return "StoredResource[" + resourceType + "/" + id + "/_history/" + version + (deleted ? ", deleted" : "") + "]";
  }
}
