package io.carecontext.services.auth;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.RefusalRows;
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
 * exists. Every path that reads patient data (context, chat, research search, FHIR reads) and the
 * audit trail's calls this first.
 *
 * <p>Each path holds an instance of its own: its refusals here are one kind of refusal, whose rows
 * are bounded per key and trail ({@link RefusalRows}). A key looping on another tenant's path, or on a
 * path its roles do not open, was recorded once a request, without bound, and held the audit writer
 * every tenant's reads wait on; past the budget it is still refused the same way, and counted.
 */
public final class OtherTenantAttempts {

  private final AuditLog audit;
  private final TenantDirectory tenants;
  private final RefusalRows rows = new RefusalRows();

  public OtherTenantAttempts(AuditLog audit, TenantDirectory tenants) {
    this.audit = audit;
    this.tenants = tenants;
  }

  public void refuse(Caller caller, String pathTenant, @Nullable String purpose, String action) {
    refuse(caller, pathTenant, purpose, action, null);
  }

  /**
   * As {@link #refuse(Caller, String, String, String)}, on a path that names a patient: the
   * operator's attempt is recorded with it, so that {@code ?patient=} finds it. (Another tenant's key
   * is recorded without it: the id names a patient of a tenant that is not the key's.)
   */
  public void refuse(Caller caller, String pathTenant, @Nullable String purpose, String action,
                     @Nullable String patientId) {
    if (caller.platformAdmin() && TenantId.isValid(pathTenant)
        && tenants.active(TenantId.of(pathTenant)).isPresent()) {
      record(TenantId.of(pathTenant), caller, AuditEntry.of(caller.principal(), caller.keyId(), List.of(), patientId,
          purpose, action, AuditEntry.Decision.DENIED, "platform_operator"));
      return; // the path answers 403 itself, with the message that names what to use instead
    }
    if (caller.tenant() != null && !caller.tenant().value().equals(pathTenant)) {
      boolean miscased = miscased(caller.tenant(), pathTenant);
      record(caller.tenant(), caller, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(),
          null, purpose, action, AuditEntry.Decision.DENIED, miscased ? TENANT_MISCASED : "other_tenant"));
      throw miscased ? miscasedTenant() : ApiException.tenantNotFound();
    }
  }

  /** The reason of a key's attempt on its own tenant with the id in the wrong case ({@link #miscased}). */
  public static final String TENANT_MISCASED = "tenant_miscased";

  /**
   * Whether {@code pathTenant} is the key's own tenant id in other letter case ({@code /v1/PA/…} for
   * tenant {@code pa}). Tenant ids are lower case, so such a path names no tenant at all; it was recorded
   * as {@code other_tenant}, and an auditor read a key of the tenant as probing another one. ASCII only:
   * Java's case-insensitive comparison also matches, say, the Kelvin sign to {@code k}.
   */
  public static boolean miscased(TenantId own, String pathTenant) {
    return pathTenant.chars().allMatch(c -> c < 128) && own.value().equalsIgnoreCase(pathTenant);
  }

  /**
   * The answer to a key on its own tenant's id in the wrong case: still the 404 of a tenant that does not
   * exist, since none has that id, saying why. It depends on the key's own tenant only, so it tells the key
   * nothing about any other; and it repeats nothing of the path.
   */
  public static ApiException miscasedTenant() {
    return ApiException.notFound("tenant_not_found", "no such tenant: tenant ids are lower case (letters a-z, "
        + "digits and _): write the tenant id in the path in lower case");
  }

  /**
   * The path's tenant, for a key that holds {@code role}; every refusal recorded with its reason:
   * another tenant's key and the operator's key as {@link #refuse} records them, a key of the tenant
   * without the role as {@code role_not_allowed}. (A clinician's attempt on the audit trail left no
   * row, unlike the same attempt on FHIR data.)
   */
  public TenantId requireRole(Caller caller, String pathTenant, String action, @Nullable String patientId, Role role) {
    refuse(caller, pathTenant, null, action, patientId);
    if (!caller.platformAdmin() && !caller.roles().contains(role)) {
      record(caller.requireTenant(pathTenant), caller, AuditEntry.of(caller.principal(), caller.keyId(),
          caller.requester().roles(), patientId, null, action, AuditEntry.Decision.DENIED, "role_not_allowed"));
    }
    return caller.requireRole(pathTenant, role);
  }

  /**
   * The refusal's row, while the key's rows in {@code tenant}'s trail are within the budget. Counted
   * per trail as well as per key: the operator's key is recorded in every tenant's trail, and one
   * tenant's row must not count refusals that happened in another's.
   */
  private void record(TenantId tenant, Caller caller, AuditEntry entry) {
    String key = caller.budgetKey();
    rows.record(audit, tenant, tenant.value() + "/" + key, entry);
  }
}
