package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.migrations.testing.TestDirectories;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.MigrationVersion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Platform migration 15: settings an earlier version stored with whole numbers written as 7.0 hold
 * them as 7 after it, at any depth, so the application need not rewrite them on every request that
 * reads them. An installation stands at platform migration 14, with such settings stored; then the
 * current release starts.
 */
class StoredSettingsWholeNumbersIT {

  static DatabaseConfig config;
  static final String BEFORE = """
      {"retentionYears": 7.0, "rateLimitPerMinute": 600, "consentMode": "opt-in", "careRelationship": true,
       "rolePolicies": {"billing": {"kMax": 3.00, "breakGlass": {"maxMinutes": 0.0}}},
       "llm": {"endpoints": [{"name": "a", "timeoutSeconds": 30.0, "temperature": 0.5, "model": "7.0"},
                             {"name": "b", "maxRetries": -2.0}],
               "dailyTokenBudgetPerKey": 100000.000, "allowDeidentifiedToNonBaa": false},
       "embedding": {"provider": "in-process", "dimensions": 384.0, "ratio": 7.25},
       "contextTokenBudget": 2000.5}""";

  @BeforeAll
  static void setUp() throws SQLException {
    config = TestPostgres.freshDatabase();
    try (PlatformDatabase older = PlatformDatabase.bootstrap(config, MigrationVersion.fromVersion("14"))) {
      TenantKeys keys = new TenantKeys(new LocalFileKeyProvider(TestDirectories.create("cc-kek").resolve("kek.key")),
          older.appDataSource());
      TenantProvisioner provisioner = new TenantProvisioner(older, keys);
      for (String id : new String[] {"wholes", "misfit", "plain"}) {
        provisioner.provision(TenantId.of(id), id);
      }
      owner(older, "UPDATE platform.tenants SET settings = '" + BEFORE + "', updated_at = '2026-01-02T03:04:05Z' "
          + "WHERE tenant_id = 'wholes'");
      owner(older, "UPDATE platform.tenants SET settings = '{\"retentionYears\": 8, \"contextTokenBudget\": 1500}' "
          + "WHERE tenant_id = 'plain'");
    }
    // a policy for a role without a default, as settings stored before platform migration 9 may hold
    // one (that migration's check refuses any new settings of such a tenant)
    try (Connection su = TestPostgres.superuser(config); Statement st = su.createStatement()) {
      st.execute("ALTER TABLE platform.tenants DISABLE TRIGGER tenants_role_policies_within_limits");
      st.execute("UPDATE platform.tenants SET settings = '{\"retentionYears\": 9.0, \"rolePolicies\": "
          + "{\"tenant-admin\": {\"kMax\": 4.0}}}' WHERE tenant_id = 'misfit'");
      st.execute("ALTER TABLE platform.tenants ENABLE TRIGGER tenants_role_policies_within_limits");
    }
    String plainRow = query("SELECT xmin::text FROM platform.tenants WHERE tenant_id = 'plain'");
    assertThat(query("SELECT max(version::int)::text FROM platform.flyway_schema_history WHERE success"))
        .isEqualTo("14");
    // the current release starts
    PlatformDatabase.bootstrap(config).close();
    assertThat(query("SELECT xmin::text FROM platform.tenants WHERE tenant_id = 'plain'"))
        .as("a row with nothing to rewrite is left alone").isEqualTo(plainRow);
  }

  @Test
  void wholeNumbersStoredWithAFractionReadAsWholeNumbersAtAnyDepth() throws SQLException {
    assertThat(query("SELECT settings -> 'retentionYears' FROM platform.tenants WHERE tenant_id = 'wholes'"))
        .isEqualTo("7");
    assertThat(query("SELECT settings::text FROM platform.tenants WHERE tenant_id = 'wholes'")).isEqualTo(query(
        "SELECT '" + """
            {"retentionYears": 7, "rateLimitPerMinute": 600, "consentMode": "opt-in", "careRelationship": true,
             "rolePolicies": {"billing": {"kMax": 3, "breakGlass": {"maxMinutes": 0}}},
             "llm": {"endpoints": [{"name": "a", "timeoutSeconds": 30, "temperature": 0.5, "model": "7.0"},
                                   {"name": "b", "maxRetries": -2}],
                     "dailyTokenBudgetPerKey": 100000, "allowDeidentifiedToNonBaa": false},
             "embedding": {"provider": "in-process", "dimensions": 384, "ratio": 7.25},
             "contextTokenBudget": 2000.5}""" + "'::jsonb::text"));
    // the values did not change, so neither did the tenant
    assertThat(query("SELECT updated_at = '2026-01-02T03:04:05Z' FROM platform.tenants WHERE tenant_id = 'wholes'"))
        .isEqualTo("t");
    // and the database reads the same scopes from them
    assertThat(query("SELECT count(*) FROM platform.role_scopes WHERE tenant_id = 'wholes'")).isEqualTo("4");
  }

  @Test
  void settingsThatPlatformMigration9WouldRefuseAreRewrittenToo() throws SQLException {
    assertThat(query("SELECT settings::text FROM platform.tenants WHERE tenant_id = 'misfit'"))
        .isEqualTo("{\"rolePolicies\": {\"tenant-admin\": {\"kMax\": 4}}, \"retentionYears\": 9}");
    // its check is in force again
    assertThat(query("SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'tenants_role_policies_within_limits'"))
        .isEqualTo("O");
    assertThat(query("SELECT count(*) FROM pg_proc WHERE proname = 'settings_whole_numbers'")).isEqualTo("0");
  }

  private static void owner(PlatformDatabase db, String sql) throws SQLException {
    try (Connection c = db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static String query(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(config); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
