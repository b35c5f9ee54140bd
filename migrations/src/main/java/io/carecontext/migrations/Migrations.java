package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Flyway runs for the platform schema ({@code db/platform}) and for each tenant schema from the
 * template ({@code db/tenant}). Each tenant schema keeps its own history table, so an upgrade
 * brings every tenant to the same template version independently.
 */
final class Migrations {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Migrations.class);

  static final String PLATFORM_LOCATION = "classpath:db/platform";
  static final String TENANT_LOCATION = "classpath:db/tenant";

  private Migrations() {}

  /** Up to {@code target} (tests of the upgrade path; every other caller takes the latest). */
  static MigrateResult migratePlatform(DataSource owner, DatabaseConfig config, MigrationVersion target) {
    return Flyway.configure()
        .dataSource(owner)
        .schemas("platform")
        .defaultSchema("platform")
        .locations(PLATFORM_LOCATION)
        .placeholders(Map.of("app_role", Identifiers.quote(config.appUser())))
        .target(target)
        .failOnMissingLocations(true)
        .load()
        .migrate();
  }

  static MigrateResult migrateTenant(DataSource owner, DatabaseConfig config, TenantId tenant, List<String> locations) {
    return migrateTenant(owner, config, tenant, locations, MigrationVersion.LATEST);
  }

  /**
   * Up to {@code target} only: a tenant as a release whose template ended there left it (tests of
   * the upgrade path). Every other caller takes the latest.
   */
  static MigrateResult migrateTenant(DataSource owner, DatabaseConfig config, TenantId tenant, List<String> locations,
                                     MigrationVersion target) {
    return Flyway.configure()
        .dataSource(owner)
        .schemas(tenant.schemaName())
        .defaultSchema(tenant.schemaName())
        .createSchemas(false)
        .locations(locations.toArray(String[]::new))
        .placeholders(Map.of(
            "tenant_role", Identifiers.quote(config.tenantRole(tenant)),
            "reader_role", Identifiers.quote(config.readerRole(tenant)),
            "research_role", Identifiers.quote(config.researchRole(tenant)),
            "audit_role", Identifiers.quote(config.auditRole(tenant)),
            "identity_role", Identifiers.quote(config.identityRole(tenant)),
            "fhir_reader_role", Identifiers.quote(config.fhirReaderRole(tenant)),
            "tenant_schema", Identifiers.quote(tenant.schemaName()),
            "tenant_id", Identifiers.literal(tenant.value()),
            "app_role", Identifiers.quote(config.appUser())))
        // All pending template migrations of one tenant in one transaction: all or nothing.
        .group(true)
        .target(target)
        .failOnMissingLocations(true)
        .load()
        .migrate();
  }

  /**
   * Brings every tenant up to date: its roles first (a tenant may predate one), then its schema.
   * Each tenant that had migrations to apply is logged with how far the run is: Flyway's own lines are
   * off, and an upgrade of many tenants (the Helm chart's migrate Job, a start after an upgrade) ran
   * for minutes without a line until the last one.
   */
  static int migrateAllTenants(DataSource owner, DatabaseConfig config, List<TenantId> tenants) {
    int done = 0;
    for (TenantId tenant : tenants) {
      long start = System.nanoTime();
      try (Connection c = owner.getConnection()) {
        c.setAutoCommit(false); // a role is made, marked and granted together or not at all
        try {
          TenantRoles.ensure(c, config, tenant);
          c.commit();
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        }
      } catch (SQLException e) {
        throw new DatabaseException("could not create the roles of tenant '" + tenant + "' (" + e.getSQLState()
            + "); the owner role needs CREATEROLE", e);
      }
      MigrateResult result = migrateTenant(owner, config, tenant, List.of(TENANT_LOCATION));
      done++;
      if (result.migrationsExecuted > 0) {
        LOG.info(upgraded(tenant, result.migrationsExecuted, result.targetSchemaVersion, done, tenants.size(),
            (System.nanoTime() - start) / 1_000_000));
      }
    }
    return tenants.size();
  }

  static String upgraded(TenantId tenant, int migrations, String version, int done, int total, long millis) {
    return String.format(java.util.Locale.ROOT, "tenant %s: %d template migration(s) applied, now at V%s "
        + "(%d of %d tenants, %d ms)", tenant, migrations, version, done, total, millis);
  }
}
