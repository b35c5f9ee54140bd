package io.carecontext.services.admin;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.RefusalRows;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.auth.AuthenticationFilter;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.auth.OtherTenantAttempts;
import io.carecontext.services.auth.Role;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.platform.TenantRepository;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The tenant of a change to its keys or settings ({@code key-create}, {@code key-revoke},
 * {@code tenant-settings}), for the platform operator or a tenant-admin key of that tenant. A tenant
 * key that may not make the change is refused as before and the attempt is recorded first, in the
 * key's own tenant's trail, denied: {@code role_not_allowed} for a key of the tenant without
 * tenant-admin (a clinician minting itself an auditor key, turning consent to opt-out), {@code other_tenant}
 * for a key of another tenant (answered like a tenant that does not exist, whether the path's tenant
 * exists or not, as on the patient paths), {@code tenant_miscased} for a key on its own tenant's id in other
 * letter case (the same 404, saying that tenant ids are lower case). Only the operator key's refused key creations were recorded:
 * a tenant's own keys trying to widen their access left no row. The row names the route's shape (with
 * the path's tenant id when it is a valid one, never a key id from the path) and method; no key id or
 * settings digest, so that no database check takes it for the row that allows a change. A key refused
 * in a loop adds at most {@link RefusalRows#PER_MINUTE} such rows a minute, as on the other paths; the
 * next one says how many went unrecorded.
 */
@Singleton
public final class AdminAttempts {

  private final AuditLog audit;
  private final TenantRepository tenants;
  private final RefusalRows refused = new RefusalRows();
  private final RefusalRows invalid = new RefusalRows();

  AdminAttempts(AuditLog audit, TenantRepository tenants) {
    this.audit = audit;
    this.tenants = tenants;
  }

  /** The reason of a refused admin request that carried a query parameter. */
  static final String QUERY_PARAMETERS = "query_parameters_refused";

  static final String NO_QUERY_PARAMETERS = "this endpoint takes no query parameters (nothing after '?'): send the "
      + "request without them; /openapi.yml describes what each path takes";

  public TenantId requireTenantAdmin(Caller caller, String pathTenant, String action, HttpRequest<?> request) {
    return requireTenantAdmin(caller, pathTenant, action, request, UnaryOperator.identity());
  }

  /** As above; {@code details} adds what the refused request asked for to a {@code role_not_allowed} row. */
  TenantId requireTenantAdmin(Caller caller, String pathTenant, String action, HttpRequest<?> request,
                              UnaryOperator<AuditEntry> details) {
    if (caller.platformAdmin() || caller.tenant() == null) {
      TenantId admitted = caller.requireTenantAdmin(pathTenant);
      refuseQueryParameters(caller, admitted, action, request);
      return admitted;
    }
    boolean otherTenant = !caller.tenant().value().equals(pathTenant);
    boolean miscased = otherTenant && OtherTenantAttempts.miscased(caller.tenant(), pathTenant);
    if (otherTenant || !caller.roles().contains(Role.TENANT_ADMIN)) {
      AuditEntry row = refusal(caller, action, request, miscased ? OtherTenantAttempts.TENANT_MISCASED
          : otherTenant ? "other_tenant" : "role_not_allowed");
      refused.record(audit, caller.tenant(), caller.keyId(), otherTenant ? row : details.apply(row));
    }
    if (miscased) {
      throw OtherTenantAttempts.miscasedTenant();
    }
    TenantId admitted = caller.requireTenantAdmin(pathTenant);
    refuseQueryParameters(caller, admitted, action, request);
    return admitted;
  }

  /**
   * No admin path takes a query parameter: one sent ({@code ?principal=…} on the key list, {@code ?limit=10} on the
   * offboardings) was dropped, and the answer read as if it had been applied. Refused (400) once the caller is
   * admitted, so a key that may not make the request is refused for that first, with that reason; and recorded
   * denied in the admitted tenant's trail (while it is active) as a refused body is, with {@code action}, the route
   * and the method: the authentication filter refused these before any controller, and they left no row. The
   * parameters are never named, in the answer or the row: they are the caller's text.
   */
  private void refuseQueryParameters(Caller caller, @Nullable TenantId admitted, String action,
                                     HttpRequest<?> request) {
    if (request.getParameters().isEmpty()) {
      return;
    }
    if (admitted != null && tenants.findById(admitted.value()).filter(t -> "active".equals(t.status())).isPresent()) {
      recordRefusedChange(caller, admitted, action, request, QUERY_PARAMETERS, List.of());
    }
    throw ApiException.badRequest(NO_QUERY_PARAMETERS);
  }

  /**
   * For a path only the platform operator takes (offboarding a tenant): a tenant key is refused as
   * before (403, whichever tenant the path names), and its attempt recorded in its own tenant's trail,
   * {@code role_not_allowed} on its own tenant (a tenant admin deleting its tenant), {@code other_tenant}
   * or {@code tenant_miscased} on another id.
   */
  public void requirePlatformOperator(Caller caller, String pathTenant, String action, HttpRequest<?> request) {
    if (!caller.platformAdmin() && caller.tenant() != null) {
      boolean otherTenant = !caller.tenant().value().equals(pathTenant);
      refused.record(audit, caller.tenant(), caller.keyId(), refusal(caller, action, request,
          otherTenant && OtherTenantAttempts.miscased(caller.tenant(), pathTenant) ? OtherTenantAttempts.TENANT_MISCASED
              : otherTenant ? "other_tenant" : "role_not_allowed"));
    }
    caller.requirePlatformAdmin();
    refuseQueryParameters(caller, TenantId.isValid(pathTenant) ? TenantId.of(pathTenant) : null, action, request);
  }

  /**
   * For a path without a tenant that only the platform operator takes (creating and listing tenants,
   * listing offboardings): a tenant key is refused (403) and its attempt recorded in its own tenant's
   * trail, {@code role_not_allowed}: a tenant admin trying to provision tenants or to learn the others
   * is an attempt to reach beyond its tenant, and left no row before.
   */
  public void requirePlatformOperator(Caller caller, String action, HttpRequest<?> request) {
    if (!caller.platformAdmin() && caller.tenant() != null) {
      refused.record(audit, caller.tenant(), caller.keyId(), refusal(caller, action, request, "role_not_allowed"));
    }
    caller.requirePlatformAdmin();
    refuseQueryParameters(caller, null, action, request); // no tenant's trail holds the operator's tenant-less calls
  }

  /**
   * A change of the path's tenant that the caller may make but whose body was refused (400): recorded
   * denied in that tenant's trail with {@code reason}, the route and method, and in {@code asked} the known
   * fields it named. A key (the operator's included) sending bad bodies in a loop adds at most
   * {@link RefusalRows#PER_MINUTE} such rows a minute, on a budget of its own.
   */
  void recordRefusedChange(Caller caller, TenantId tenant, String action, HttpRequest<?> request, String reason,
                           List<String> asked) {
    recordRefusedChange(caller, tenant, action, request, reason, asked, UnaryOperator.identity());
  }

  /** As above; {@code details} adds what the refused request was about (the patient a refused erasure named). */
  void recordRefusedChange(Caller caller, TenantId tenant, String action, HttpRequest<?> request, String reason,
                           List<String> asked, UnaryOperator<AuditEntry> details) {
    AuditEntry row = details.apply(refusal(caller, action, request, reason));
    invalid.record(audit, tenant, caller.budgetKey() + " " + tenant.value() + " " + action,
        asked.isEmpty() ? row : row.withDetail("asked", AuditEntry.jsonStrings(asked)));
  }

  private static AuditEntry refusal(Caller caller, String action, HttpRequest<?> request, String reason) {
    return AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null, action,
            AuditEntry.Decision.DENIED, reason)
        .withDetail("route", AuditEntry.jsonString(AuthenticationFilter.routeShape(request.getPath())))
        .withDetail("method", AuditEntry.jsonString(request.getMethodName()));
  }
}
