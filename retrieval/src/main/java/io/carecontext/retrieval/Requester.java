package io.carecontext.retrieval;

import java.util.List;

/** Who asks: principal and key of one tenant, with roles and (for clinicians) a practitioner id. */
public record Requester(String principal, String keyId, List<String> roles, String practitionerId) {
  public Requester {
    roles = List.copyOf(roles);
  }
}
