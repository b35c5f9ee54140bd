package io.carecontext.ingest;

import java.time.Instant;

/** The current version of a stored resource; {@code json} is PHI (decrypted), null when deleted. */
public record StoredResource(String resourceType, String id, long version, Instant lastUpdated, boolean deleted,
                             String json) {
  @Override
  public String toString() {
    return "StoredResource[" + resourceType + "/" + id + "/_history/" + version + (deleted ? ", deleted" : "") + "]";
  }
}
