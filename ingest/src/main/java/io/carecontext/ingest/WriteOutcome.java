package io.carecontext.ingest;

import java.time.Instant;

/** What one write did: the resource's version, and whether it created, changed or left it. */
public record WriteOutcome(String resourceType, String id, long version, Instant lastUpdated, Status status) {

  public enum Status { CREATED, UPDATED, UNCHANGED, DELETED }

  public String location() {
    return resourceType + "/" + id + "/_history/" + version;
  }
}
