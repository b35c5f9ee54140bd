package io.carecontext.migrations;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Tenants as an earlier release left them, for the upgrade tests of every module: provisioning
 * stopped at a template version, then the start of the current release migrating them forward.
 * Lives in the test jar, in this package, so that the hook it reaches
 * ({@link TenantProvisioner#atTemplateVersion}) stays package-private in the product.
 */
public final class OlderTemplates {

  private OlderTemplates() {}

  /** Provisions {@code id} with the tenant template applied up to {@code version} only. */
  public static TenantId provision(TestPlatform platform, String id, int version) {
    TenantId tenant = TenantId.of(id);
    TenantProvisioner.atTemplateVersion(platform.db, platform.keys, version).provision(tenant, id);
    int reached = version(platform, tenant);
    if (reached != version) {
      throw new IllegalStateException("tenant " + id + " stands at template V" + reached + ", not V" + version);
    }
    return tenant;
  }

  /**
   * What a start of the current release does to existing tenants: bootstraps the platform database
   * again, which migrates every active tenant to the latest template (then closes its pools).
   */
  public static void startCurrentRelease(TestPlatform platform) {
    PlatformDatabase.bootstrap(platform.config).close();
  }

  /**
   * The template versions the tenant's schema has applied, in order. Not every number below the
   * latest is one: a number may be reserved for a migration not written yet (V49 is, beside V50).
   */
  public static java.util.List<Integer> versions(TestPlatform platform, TenantId tenant) {
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement();
        ResultSet rs = st.executeQuery("SELECT version::int FROM " + Identifiers.quote(tenant.schemaName())
            + ".flyway_schema_history WHERE success AND version IS NOT NULL ORDER BY version::int")) {
      java.util.List<Integer> out = new java.util.ArrayList<>();
      while (rs.next()) {
        out.add(rs.getInt(1));
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException("could not read the template versions of tenant " + tenant, e);
    }
  }

  /** The latest template version the tenant's schema has applied. */
  public static int version(TestPlatform platform, TenantId tenant) {
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement();
        ResultSet rs = st.executeQuery("SELECT max(version::int) FROM "
            + Identifiers.quote(tenant.schemaName()) + ".flyway_schema_history WHERE success")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException("could not read the template version of tenant " + tenant, e);
    }
  }
}
