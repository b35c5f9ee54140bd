package io.carecontext.services.auth;

import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.http.ApiException;
import io.micronaut.core.annotation.Nullable;

/**
 * A key used on another tenant's patient data: answered exactly like an unknown tenant, and
 * recorded in the key's own tenant's trail with the true reason (never in the other tenant's).
 * Every path that reads patient data (context, chat, research search, FHIR reads) calls this first.
 */
public final class OtherTenantAttempts {

  private OtherTenantAttempts() {}

  public static void refuse(AuditLog audit, Caller caller, String pathTenant, @Nullable String purpose, String action) {
    if (caller.tenant() != null && !caller.tenant().value().equals(pathTenant)) {
      audit.record(caller.tenant(), AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null,
          purpose, action, AuditEntry.Decision.DENIED, "other_tenant"));
      throw ApiException.tenantNotFound();
    }
  }
}
