package io.carecontext.retrieval.audit;

import java.time.Instant;

/** Which audit entries to list. */
public record AuditFilter(String patient, String principal, Instant from, Instant to, int limit) {
  public AuditFilter {
    if (limit <= 0 || limit > 10_000) {
      limit = 1000;
    }
  }
}
