package io.carecontext.retrieval;

import java.util.List;

/**
 * Who asks: principal and key of one tenant, with roles and (for clinicians) a practitioner id.
 *
 * @param keySecretHash the SHA-256 of the key's secret (hex), as {@code platform.api_keys} stores
 *                      it: the read transactions present it to the database, whose policies admit
 *                      rows only for a live key of the tenant ({@code PolicySettings#withCaller})
 */
public record Requester(String principal, String keyId, List<String> roles, String practitionerId,
                        String keySecretHash) {
  public Requester {
    roles = List.copyOf(roles);
  }

  /** Without the key's hash, which opens the database's read policies. */
  @Override
  public String toString() {
    return "Requester[principal=" + principal + ", keyId=" + keyId + ", roles=" + roles + ", practitionerId="
        + practitionerId + "]";
  }
}
