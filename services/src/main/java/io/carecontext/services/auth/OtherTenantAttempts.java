package io.carecontext.services.auth;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.core.annotation.Nullable;
import java.util.List;

/**
 * A key used on another tenant's patient data: answered exactly like an unknown tenant, and
 * recorded in the key's own tenant's trail with the true reason (never in the other tenant's).
 * The platform operator's key on a tenant's patient data is refused by the path itself (403); its
 * attempt is recorded here in that tenant's trail (reason {@code platform_operator}), when the tenant
 * exists. Every path that reads patient data (context, chat, research search, FHIR reads) calls
 * this first.
 */
public final class OtherTenantAttempts {

  private OtherTenantAttempts() {}

  public static void refuse(AuditLog audit, TenantDirectory tenants, Caller caller, String pathTenant,
                            @Nullable String purpose, String action) {
    if (caller.platformAdmin() && TenantId.isValid(pathTenant)
        && tenants.active(TenantId.of(pathTenant)).isPresent()) {
      audit.record(TenantId.of(pathTenant), AuditEntry.of(caller.principal(), caller.keyId(), List.of(), null,
          purpose, action, AuditEntry.Decision.DENIED, "platform_operator"));
      return; // the path answers 403 itself, with the message that names what to use instead
    }
    if (caller.tenant() != null && !caller.tenant().value().equals(pathTenant)) {
      audit.record(caller.tenant(), AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null,
          purpose, action, AuditEntry.Decision.DENIED, "other_tenant"));
      throw ApiException.tenantNotFound();
    }
  }
}
