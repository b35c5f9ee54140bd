package io.carecontext.services.admin;

import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.services.auth.Caller;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /admin/offboardings}, for the platform operator: the tenants offboarded, newest first,
 * with when they were created and removed and by whom (platform migration 10). Their schema and audit
 * trail went with them; this is what remains.
 */
@Controller("/admin/offboardings")
@ExecuteOn(TaskExecutors.BLOCKING)
public class OffboardingController {

  static final int LIMIT = 1_000;

  private final TenantProvisioner provisioner;
  private final AdminAttempts attempts;

  public OffboardingController(TenantProvisioner provisioner, AdminAttempts attempts) {
    this.provisioner = provisioner;
    this.attempts = attempts;
  }

  @Get
  public Map<String, Object> list(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, HttpRequest<?> request) {
    attempts.requirePlatformOperator(caller, "admin-request", request);
    List<Map<String, Object>> rows = provisioner.offboardings(LIMIT).stream().map(o -> Map.<String, Object>of(
        "tenant", o.tenantId(), "name", o.name(), "createdAt", o.createdAt().toString(),
        "offboardedAt", o.offboardedAt().toString(), "offboardedBy", o.offboardedBy())).toList();
    return Map.of("offboardings", rows, "count", rows.size(), "limit", LIMIT);
  }
}
