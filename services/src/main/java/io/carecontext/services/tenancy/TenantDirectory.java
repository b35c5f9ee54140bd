package io.carecontext.services.tenancy;

import io.carecontext.migrations.TenantId;
import io.carecontext.services.admin.TenantSettings;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.platform.TenantRecord;
import io.carecontext.services.platform.TenantRepository;
import io.micronaut.core.type.Argument;
import io.micronaut.json.JsonMapper;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Active tenants and their settings (defaults merged in), for every part of the service. */
@Singleton
public class TenantDirectory {

  private final TenantRepository tenants;
  private final JsonMapper json;

  public TenantDirectory(TenantRepository tenants, JsonMapper json) {
    this.tenants = tenants;
    this.json = json;
  }

  public Optional<TenantRecord> active(TenantId tenant) {
    return tenants.findById(tenant.value()).filter(r -> "active".equals(r.status()));
  }

  /** The tenant's settings with defaults; 404 (tenant_not_found) when it is not active. */
  public Map<String, Object> settings(TenantId tenant) {
    return merged(active(tenant).orElseThrow(ApiException::tenantNotFound).settings());
  }

  /**
   * The settings of the tenant a request works on. For the caller's own tenant they are those
   * authentication read with the caller's key, in the statement that found the tenant active: the
   * settings in force when the request arrived, without a second read. Any other tenant (the
   * platform operator's) is read.
   */
  public Map<String, Object> settings(Caller caller, TenantId tenant) {
    if (caller.tenantSettings() != null && tenant.equals(caller.tenant())) {
      return merged(caller.tenantSettings());
    }
    return settings(tenant);
  }

  /** Every active tenant with its settings (defaults merged in), in tenant id order: one read. */
  public Map<TenantId, Map<String, Object>> activeWithSettings() {
    Map<TenantId, Map<String, Object>> all = new LinkedHashMap<>();
    for (TenantRecord row : tenants.findByStatusOrderByTenantId("active")) {
      all.put(TenantId.of(row.tenantId()), merged(row.settings()));
    }
    return all;
  }

  private Map<String, Object> merged(String settings) {
    return TenantSettings.merge(parse(settings), Map.of());
  }

  @SuppressWarnings("unchecked")
  public Map<String, Object> section(TenantId tenant, String key) {
    Object v = settings(tenant).get(key);
    return v instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private Map<String, Object> parse(String settings) {
    try {
      return settings == null ? Map.of() : json.readValue(settings, Argument.mapOf(String.class, Object.class));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
