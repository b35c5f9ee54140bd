package io.carecontext.migrations.dblayer;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The grant layer alone, for every role that can reach a tenant's or the platform's tables: SQL
 * issued directly as the role (no application code, no WHERE clause of the application's), once per
 * table, column and privilege (SELECT, INSERT, UPDATE, DELETE, TRUNCATE), with the settings and a
 * live key that open the role's own policies widest. Every privilege the README does not give a role
 * must be refused with insufficient_privilege; a table added later without an entry here is expected
 * to grant nothing, so a new grant fails this test until it is written down.
 *
 * <p>TRUNCATE matters most: it bypasses row-level security entirely, so for the PHI tables and the
 * audit trail the grant is the only layer that stops it.
 */
class GrantMatrixIT {

  static TestPlatform platform;
  static DatabaseConfig config;
  static final TenantId A = TenantId.of("alpha");
  static final TenantId B = TenantId.of("bravo");
  static final Map<String, Map<String, String>> SETTINGS = new LinkedHashMap<>();

  /** Table-level privileges the README (and the migrations that win) give each path's role. */
  static final Map<String, String> TABLE_GRANTS = Map.ofEntries(
      Map.entry("tenant care_links", "SIUD"), Map.entry("tenant chunks", "SIUD"), Map.entry("tenant consents", "SIUD"),
      Map.entry("tenant embedding_cache", "SIUD"), Map.entry("tenant llm_usage", "SIU"),
      Map.entry("tenant outbox", "SIUD"), Map.entry("tenant research_build", "SU"), Map.entry("tenant practitioner_roles", "SIUD"),
      Map.entry("tenant practitioner_roles_without_holder", "SIUD"), Map.entry("tenant resource_identifiers", "SIUD"),
      Map.entry("tenant resource_versions", "SIUD"), Map.entry("tenant resources", "SIUD"),
      Map.entry("reader break_glass", "SI"), Map.entry("reader care_links", "S"), Map.entry("reader chunks", "S"),
      Map.entry("reader consents", "S"), Map.entry("reader research_subjects", "S"),
      Map.entry("research chunks", "S"), Map.entry("research consents", "S"), Map.entry("research research_subjects", "SI"),
      Map.entry("audit audit_anchors", "S"), Map.entry("audit audit_heads", "SU"), Map.entry("audit audit_log", "SI"),
      Map.entry("audit audit_seals", "SI"),
      // tenant migration 79: a Patient's ids under an identifier's keyed hash, for the accounting by MRN
      Map.entry("audit resource_identifiers", "S"),
      Map.entry("identity care_links", "S"), Map.entry("identity resources", "S"),
      Map.entry("fhir resource_versions", "S"), Map.entry("fhir resources", "S"),
      Map.entry("app api_keys", "I"), Map.entry("app tenant_keys", "S"), Map.entry("app tenant_offboardings", "S"),
      Map.entry("app tenants", "S"));

  /** Column-level privileges: "role table privilege" to the columns it covers. */
  static final Map<String, Set<String>> COLUMN_GRANTS = Map.of(
      // tenant migration 65: a resource's labels, for judging a care link's source by the consent's label rules
      "reader resources S", Set.of("resource_type", "resource_id", "deleted", "security_labels"),
      "reader break_glass U", Set.of("opened_at", "expires_at"),
      "app api_keys S", Set.of("key_id", "tenant_id", "principal", "roles", "practitioner_id", "created_at",
          "expires_at", "revoked_at"),
      "app api_keys U", Set.of("revoked_at"),
      "app tenants U", Set.of("name", "settings", "updated_at"));

  /**
   * SECURITY DEFINER functions and the one path allowed to call each. Called with constants that are not
   * NULL: the planner folds a STRICT function of a NULL constant to NULL without ever checking EXECUTE.
   */
  static final Map<String, String> DEFINER_FUNCTIONS = Map.ofEntries(
      Map.entry("{schema}.shorten_break_glass_windows()", "tenant"),
      Map.entry("{schema}.erase_patient_windows_and_code()", "tenant"),
      Map.entry("{schema}.subject_exists_whatever_its_labels()", "reader"),
      Map.entry("{schema}.subject_pending_resources()", "reader"),
      Map.entry("{schema}.chunks_of_another_model_exist('m'::text, 3)", "research"),
      Map.entry("{schema}.research_embeddings_pending()", "research"),
      Map.entry("{schema}.research_build_completed()", "research"),
      Map.entry("{schema}.research_enabled()", "research"),
      Map.entry("platform.api_key_creation_recorded('alpha'::text, 'k'::text)", "app"),
      Map.entry("platform.api_key_creation_row('alpha'::text, 'k'::text)", "app"),
      Map.entry("platform.api_key_revocation_recorded('alpha'::text, 'k'::text)", "app"),
      Map.entry("platform.api_key_secret_matches('k'::text, '\\x00'::bytea)", "app"),
      Map.entry("platform.tenant_change_recorded('alpha'::text, 'k'::text)", "app"),
      Map.entry("platform.audit_row_recorded('alpha'::text, 'key-create'::text, '%'::text)", "-"),
      Map.entry("platform.refresh_role_scopes('alpha'::text)", "-"));

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    config = platform.db.config();
    platform.tenant(A.value());
    platform.tenant(B.value());
    TestPlatform.TestKey clinician = platform.issueKey(A, "dr-a", List.of("clinician"), null);
    TestPlatform.TestKey researcher = platform.issueKey(A, "res-a", List.of("researcher"), null);
    TestPlatform.TestKey auditor = platform.issueKey(A, "aud-a", List.of("auditor"), null);
    TestPlatform.TestKey feed = platform.issueKey(A, "feed-a", List.of("ehr-integration"), null);
    SETTINGS.put("tenant", key(feed, Map.of("cc.access", "ingest")));
    SETTINGS.put("reader", key(clinician, Map.of("cc.access", "read", "cc.patients", "p1", "cc.subject", "p1")));
    SETTINGS.put("research", key(researcher, Map.of("cc.access", "research", "cc.purpose", "HRESCH")));
    SETTINGS.put("audit", key(auditor, Map.of("cc.access", "audit")));
    SETTINGS.put("identity", key(clinician, Map.of("cc.access", "identity", "cc.patients", "p1")));
    SETTINGS.put("fhir", key(feed, Map.of("cc.access", "fhir-read")));
    // the login role with every setting a policy opens to PUBLIC: they open nothing without a grant
    SETTINGS.put("app", Map.of("cc.access", "retention"));
  }

  static Map<String, String> key(TestPlatform.TestKey key, Map<String, String> settings) {
    Map<String, String> s = new LinkedHashMap<>(settings);
    s.put("cc.key", key.keyId());
    s.put("cc.key_hash", key.secretHashHex());
    return s;
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /** Each path's role of a tenant, by its kind. */
  static Map<String, String> roles(TenantId t) {
    Map<String, String> r = new LinkedHashMap<>();
    r.put("tenant", config.tenantRole(t));
    r.put("reader", config.readerRole(t));
    r.put("research", config.researchRole(t));
    r.put("audit", config.auditRole(t));
    r.put("identity", config.identityRole(t));
    r.put("fhir", config.fhirReaderRole(t));
    return r;
  }

  static boolean allowed(String kind, String table, char privilege, String column) {
    if (TABLE_GRANTS.getOrDefault(kind + " " + table, "").indexOf(privilege) >= 0) {
      return true;
    }
    return column != null && COLUMN_GRANTS.getOrDefault(kind + " " + table + " " + privilege, Set.of()).contains(column);
  }

  /** Every statement of the matrix for one table: per column for SELECT and UPDATE, per table otherwise. */
  static List<Object[]> statements(Connection su, String schema, String table) throws SQLException {
    String t = schema + "." + table;
    List<Object[]> out = new ArrayList<>();
    for (String column : AsRole.strings(su, "SELECT column_name FROM information_schema.columns "
        + "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", schema, table)) {
      out.add(new Object[] {'S', column, "SELECT \"" + column + "\" FROM " + t + " WHERE false"});
      out.add(new Object[] {'U', column, "UPDATE " + t + " SET \"" + column + "\" = DEFAULT WHERE false"});
    }
    out.add(new Object[] {'I', null, "INSERT INTO " + t + " DEFAULT VALUES"});
    out.add(new Object[] {'D', null, "DELETE FROM " + t + " WHERE false"});
    out.add(new Object[] {'T', null, "TRUNCATE " + t});
    return out;
  }

  /**
   * Runs the matrix of {@code schema}'s base tables for the given roles (kind to role name; a kind
   * that is not a path of {@code schema}'s tenant is expected to be refused everything) and returns
   * every statement whose outcome is not the expected one.
   */
  static List<String> matrix(String schema, Map<String, String> roles, boolean ownTenant) throws SQLException {
    List<String> wrong = new ArrayList<>();
    int refusals = 0;
    int allowances = 0;
    try (Connection su = TestPostgres.superuser(platform.config);
         Connection login = platform.db.appDataSource().getConnection()) {
      List<String> tables = AsRole.strings(su, "SELECT tablename FROM pg_tables WHERE schemaname = ? ORDER BY 1", schema);
      assertThat(tables).as(schema).isNotEmpty();
      for (Map.Entry<String, String> role : roles.entrySet()) {
        String kind = role.getKey();
        Map<String, String> settings = SETTINGS.getOrDefault(kind, Map.of());
        for (String table : tables) {
          for (Object[] s : statements(su, schema, table)) {
            char privilege = (Character) s[0];
            boolean expected = ownTenant && allowed(kind, table, privilege, (String) s[1]);
            if (expected && privilege == 'I') {
              continue; // an allowed insert of DEFAULT VALUES fails on NOT NULL or a WITH CHECK policy: not a grant's answer
            }
            AsRole.Outcome o = AsRole.run(login, role.getValue(), schema, settings, (String) s[2]);
            if (expected) {
              allowances++;
              if (o.error() != null) {
                wrong.add(kind + " should be allowed: " + o);
              }
            } else {
              refusals++;
              if (!o.refused()) {
                wrong.add(kind + " should be refused: " + o);
              }
            }
          }
        }
      }
    }
    assertThat(refusals).as("refusals checked in " + schema).isPositive();
    if (ownTenant) {
      assertThat(allowances).as("allowed statements that show the harness can succeed").isPositive();
    }
    return wrong;
  }

  @Test
  void eachPathRoleOfATenantHasOnlyTheGrantsTheReadmeGivesIt() throws SQLException {
    Map<String, String> roles = roles(A);
    roles.put("app", null); // the login role itself: no grant on any tenant table
    assertThat(matrix(A.schemaName(), roles, true)).isEmpty();
  }

  /** Cross-tenant: every role of tenant B, against every table of tenant A, whatever B's settings and key. */
  @Test
  void noRoleOfAnotherTenantReachesAnyTableOfThisTenant() throws SQLException {
    Map<String, String> others = new LinkedHashMap<>();
    roles(B).forEach((kind, role) -> others.put("bravo-" + kind, role));
    assertThat(matrix(A.schemaName(), others, false)).isEmpty();
    // ... the same statements, B's roles against A's schema, with A's own (live) keys presented
    Map<String, String> withAsKeys = new LinkedHashMap<>();
    roles(B).forEach((kind, role) -> withAsKeys.put(kind, role));
    assertThat(matrix(A.schemaName(), withAsKeys, false)).isEmpty();
  }

  @Test
  void onThePlatformSchemaTheLoginRoleHasOnlyItsGrantsAndNoTenantRoleHasAny() throws SQLException {
    Map<String, String> roles = new LinkedHashMap<>();
    roles.put("app", null);
    assertThat(matrix("platform", roles, true)).isEmpty();
    Map<String, String> tenantRoles = new LinkedHashMap<>();
    roles(A).forEach((kind, role) -> tenantRoles.put("alpha-" + kind, role));
    roles(B).forEach((kind, role) -> tenantRoles.put("bravo-" + kind, role));
    assertThat(matrix("platform", tenantRoles, false)).isEmpty();
  }

  /** SECURITY DEFINER functions run as the owner, past RLS: each may be called only by the path it serves. */
  @Test
  void definerFunctionsAreCalledOnlyByThePathTheyServe() throws SQLException {
    List<String> wrong = new ArrayList<>();
    Map<String, String> callers = new LinkedHashMap<>(roles(A));
    callers.put("app", null);
    roles(B).forEach((kind, role) -> callers.put("bravo-" + kind, role));
    try (Connection login = platform.db.appDataSource().getConnection()) {
      for (Map.Entry<String, String> fn : DEFINER_FUNCTIONS.entrySet()) {
        String call = "SELECT " + fn.getKey().replace("{schema}", A.schemaName());
        for (Map.Entry<String, String> caller : callers.entrySet()) {
          AsRole.Outcome o = AsRole.run(login, caller.getValue(), A.schemaName(),
              SETTINGS.getOrDefault(caller.getKey(), Map.of()), call);
          boolean expected = caller.getKey().equals(fn.getValue());
          if (expected ? o.refused() : !o.refused()) {
            wrong.add(caller.getKey() + (expected ? " should be allowed: " : " should be refused: ") + o);
          }
        }
      }
    }
    assertThat(wrong).isEmpty();
  }
}
