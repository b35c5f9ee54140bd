package io.carecontext.services.auth;

import java.util.Locale;
import java.util.Optional;

/** The roles of API.md. A key may hold several. */
public enum Role {
  EHR_INTEGRATION, CLINICIAN, CARE_COORDINATOR, BILLING, RESEARCHER, TENANT_ADMIN, AUDITOR;

  public String code() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static Optional<Role> fromCode(String code) {
    for (Role r : values()) {
      if (r.code().equals(code)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
