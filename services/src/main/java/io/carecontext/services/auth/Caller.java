package io.carecontext.services.auth;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.Requester;
import io.carecontext.services.http.ApiException;
import java.util.Arrays;
import java.util.Set;

/**
 * Who is calling: the platform operator (bootstrap admin key), or a principal of one tenant with
 * roles. Attached to the request by {@link AuthenticationFilter}, with the settings (JSON) of the
 * key's tenant as read in the same statement as the key (null for the platform operator), and the
 * SHA-256 of the key's secret (hex), which the read transactions present to the database.
 */
public record Caller(TenantId tenant, String principal, String keyId, Set<Role> roles, String practitionerId,
                     boolean platformAdmin, String tenantSettings, String keySecretHash) {

  public static final String ATTRIBUTE = "carecontext.caller";

  public Caller {
    roles = Set.copyOf(roles);
  }

  /** Without the tenant's settings (configuration, not for log lines) and the key's hash. */
  @Override
  public String toString() {
    return "Caller[tenant=" + tenant + ", principal=" + principal + ", keyId=" + keyId + ", roles=" + roles
        + ", platformAdmin=" + platformAdmin + "]";
  }

  /**
   * The caller as the read path knows it: principal, key, role codes (in their declared order),
   * practitioner, and the key's hash for the database's read policies.
   */
  public Requester requester() {
    return new Requester(principal, keyId, Arrays.stream(Role.values()).filter(roles::contains).map(Role::code).toList(),
        practitionerId, keySecretHash);
  }

  /** What a refusal budget counts the caller by: its key, or its principal where it has no key id. */
  public String budgetKey() {
    return keyId != null ? keyId : principal;
  }

  public static Caller platformOperator() {
    return new Caller(null, "platform-admin", "bootstrap", Set.of(), null, true, null, null);
  }

  /**
   * The caller's view of the tenant in the path: a tenant that is not the caller's is answered
   * exactly like one that does not exist, so a key learns nothing about other tenants.
   */
  public TenantId requireTenant(String pathTenant) {
    if (platformAdmin) {
      if (!TenantId.isValid(pathTenant)) {
        throw ApiException.tenantNotFound();
      }
      return TenantId.of(pathTenant);
    }
    if (tenant == null || !tenant.value().equals(pathTenant)) {
      throw ApiException.tenantNotFound();
    }
    return tenant;
  }

  /** The tenant of the path, for reading patient data: never with the platform operator key. */
  public TenantId requirePatientDataTenant(String pathTenant) {
    TenantId t = requireTenant(pathTenant);
    if (platformAdmin) {
      throw ApiException.forbidden("the platform operator key cannot read patient data; use a key of the tenant");
    }
    return t;
  }

  /** Requires the tenant of the path and at least one of the roles. */
  public TenantId requireRole(String pathTenant, Role... anyOf) {
    TenantId t = requireTenant(pathTenant);
    if (platformAdmin) {
      throw ApiException.forbidden("the platform operator key manages tenants; use a tenant key with role "
          + anyOf[0].code() + " for this");
    }
    for (Role r : anyOf) {
      if (roles.contains(r)) {
        return t;
      }
    }
    throw ApiException.forbidden("this key lacks the role this needs (" + anyOf[0].code() + ")");
  }

  public void requirePlatformAdmin() {
    if (!platformAdmin) {
      // a tenant-admin key on POST /admin/tenants heard only "may do this", not which key it needs
      throw ApiException.forbidden("only the platform operator key may do this (the service's CARECONTEXT_ADMIN_KEY, "
          + "else the one in its $CARECONTEXT_HOME/admin.key); a tenant's keys, tenant-admin included, manage only "
          + "their own tenant");
    }
  }

  /** Platform operator, or a tenant-admin key of that tenant. */
  public TenantId requireTenantAdmin(String pathTenant) {
    TenantId t = requireTenant(pathTenant);
    if (!platformAdmin && !roles.contains(Role.TENANT_ADMIN)) {
      throw ApiException.forbidden("this needs the platform operator key or a tenant-admin key");
    }
    return t;
  }
}
