package io.carecontext.migrations.dblayer;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The audit trail's append-only guarantee, for every role the application's login can take (both
 * tenants' six path roles, and the login role itself): raw UPDATE, DELETE, TRUNCATE and
 * INSERT ... ON CONFLICT DO UPDATE on the trail, its seals and its retention anchors, with no WHERE
 * clause, under every cc.access value a policy of those tables names (retention and the key and
 * settings lookups are policies TO PUBLIC) and with a live auditor key presented. The rows are there
 * (the superuser counts them) and stay exactly as they were. The audit role's reads are held to a live
 * auditor key of its own tenant by RLS alone.
 */
class AuditTrailAppendOnlyIT {

  static TestPlatform platform;
  static DatabaseConfig config;
  static final TenantId A = TenantId.of("alpha");
  static final TenantId B = TenantId.of("bravo");
  static TestPlatform.TestKey auditorA;
  static TestPlatform.TestKey auditorB;
  static TestPlatform.TestKey clinicianA;
  static TestPlatform.TestKey revokedAuditorA;
  static String fingerprint;

  /** The trail's rows, seals and anchors, as the superuser reads them. */
  static final String FINGERPRINT = "SELECT (SELECT count(*) || ':' || string_agg(audit_id::text || reason || row_hash::text, ',' "
      + "ORDER BY audit_id) FROM tenant_alpha.audit_log) || '|' || (SELECT count(*) || ':' || string_agg(mac::text, ',' "
      + "ORDER BY shard, seq) FROM tenant_alpha.audit_seals) || '|' || (SELECT count(*) || ':' || "
      + "string_agg(anchor_hash::text, ',') FROM tenant_alpha.audit_anchors)";

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    config = platform.db.config();
    platform.tenant(A.value());
    platform.tenant(B.value());
    auditorA = platform.issueKey(A, "aud-a", List.of("auditor"), null);
    auditorB = platform.issueKey(B, "aud-b", List.of("auditor"), null);
    clinicianA = platform.issueKey(A, "dr-a", List.of("clinician"), null);
    revokedAuditorA = platform.issueKey(A, "aud-gone", List.of("auditor"), null);
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + revokedAuditorA.keyId() + "'");
      // rows of every action a policy names, so no policy's USING finds nothing for lack of a row
      st.executeUpdate("INSERT INTO tenant_alpha.audit_log (audit_id, shard, seq, at, principal, action, decision, reason, "
          + "details, prev_hash, row_hash) VALUES "
          + "(gen_random_uuid(), 0, 1, now(), 'dr-a', 'context', 'allowed', 'allowed', '{}', '\\x00', '\\x01'), "
          + "(gen_random_uuid(), 0, 2, now(), 'admin', 'key-create', 'allowed', 'allowed', '{\"keyId\":\"k\",}', '\\x01', '\\x02'), "
          + "(gen_random_uuid(), 1, 1, now(), 'admin', 'key-revoke', 'allowed', 'allowed', '{\"keyId\":\"k\"}', '\\x00', '\\x03'), "
          + "(gen_random_uuid(), 2, 1, now(), 'admin', 'tenant-settings', 'allowed', 'allowed', '{}', '\\x00', '\\x04')");
      st.executeUpdate("INSERT INTO tenant_alpha.audit_seals (shard, seq, head, mac) VALUES (0, 2, '\\x02', '\\x0a')");
      st.executeUpdate("INSERT INTO tenant_alpha.audit_anchors (shard, through_seq, anchor_hash) VALUES (3, 5, '\\x05')");
      st.executeUpdate("INSERT INTO tenant_bravo.audit_log (audit_id, shard, seq, at, principal, action, decision, reason, "
          + "prev_hash, row_hash) VALUES (gen_random_uuid(), 0, 1, now(), 'dr-b', 'context', 'allowed', 'allowed', '\\x00', '\\x01')");
      fingerprint = AsRole.strings(su, FINGERPRINT).get(0);
    }
    assertThat(fingerprint).startsWith("4:").contains("|1:").endsWith("\\x05");
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static Map<String, String> withKey(TestPlatform.TestKey key, String access) {
    return AsRole.settings(access, key);
  }

  static Map<String, String> everyRole() {
    Map<String, String> roles = new LinkedHashMap<>();
    roles.put("login", null);
    for (TenantId t : List.of(A, B)) {
      for (String role : config.tenantRoles(t)) {
        roles.put(role, role);
      }
    }
    return roles;
  }

  @Test
  void noRoleOfTheApplicationChangesOrRemovesAuditRowsSealsOrAnchorsWhateverItsSettings() throws SQLException {
    List<String> changes = List.of(
        "UPDATE tenant_alpha.audit_log SET reason = 'nothing to see'",
        "UPDATE tenant_alpha.audit_log SET row_hash = '\\x00', prev_hash = '\\x00'",
        "DELETE FROM tenant_alpha.audit_log",
        "TRUNCATE tenant_alpha.audit_log",
        "TRUNCATE tenant_alpha.audit_log, tenant_alpha.audit_heads, tenant_alpha.audit_seals",
        "INSERT INTO tenant_alpha.audit_log SELECT * FROM tenant_alpha.audit_log ON CONFLICT (audit_id) "
            + "DO UPDATE SET reason = 'rewritten'",
        "UPDATE tenant_alpha.audit_seals SET mac = head",
        "DELETE FROM tenant_alpha.audit_seals",
        "TRUNCATE tenant_alpha.audit_seals",
        "INSERT INTO tenant_alpha.audit_anchors (shard, through_seq, anchor_hash) VALUES (4, 9, '\\x09')",
        "UPDATE tenant_alpha.audit_anchors SET anchor_hash = '\\x00'",
        "DELETE FROM tenant_alpha.audit_anchors",
        "TRUNCATE tenant_alpha.audit_anchors");
    List<Map<String, String>> settings = new ArrayList<>();
    for (String access : new String[] {null, "audit", "retention", "key-create-lookup", "key-revoke-lookup",
        "tenant-settings-lookup", "ingest"}) {
      settings.add(withKey(auditorA, access));
    }
    settings.add(withKey(null, "retention"));
    List<String> wrong = new ArrayList<>();
    int tried = 0;
    try (Connection login = platform.db.appDataSource().getConnection()) {
      for (Map.Entry<String, String> role : everyRole().entrySet()) {
        for (Map<String, String> s : settings) {
          for (String sql : changes) {
            AsRole.Outcome o = AsRole.run(login, role.getValue(), A.schemaName(), s, sql);
            tried++;
            if (!o.refused()) {
              wrong.add(role.getKey() + " " + s.get("cc.access") + ": " + o);
            }
          }
        }
      }
    }
    assertThat(wrong).isEmpty();
    assertThat(tried).isEqualTo(13 * 8 * changes.size());
    try (Connection su = TestPostgres.superuser(platform.config)) {
      assertThat(AsRole.strings(su, FINGERPRINT).get(0)).isEqualTo(fingerprint);
    }
  }

  /**
   * The audit role appends (the positive control: the same harness inserts a row, rolled back) and
   * reads the trail only while a live auditor key of its own tenant is presented (tenant migration 34):
   * no key, a clinician's key, another tenant's auditor, a revoked auditor, a wrong hash, or settings a
   * PUBLIC policy names see none of the rows the superuser counts.
   */
  @Test
  void theAuditRoleReadsTheTrailOnlyForALiveAuditorKeyOfItsTenant() throws SQLException {
    String audit = config.auditRole(A);
    String count = "SELECT count(*) FROM tenant_alpha.audit_log";
    long rows;
    try (Connection su = TestPostgres.superuser(platform.config)) {
      rows = AsRole.superuserCount(su, count);
    }
    assertThat(rows).isEqualTo(4);
    try (Connection login = platform.db.appDataSource().getConnection()) {
      assertThat(String.valueOf(AsRole.run(login, audit, A.schemaName(), withKey(auditorA, "audit"), count).value()))
          .isEqualTo(String.valueOf(rows));
      AsRole.Outcome append = AsRole.run(login, audit, A.schemaName(), Map.of(), "INSERT INTO tenant_alpha.audit_log "
          + "(audit_id, shard, seq, at, principal, action, decision, reason, prev_hash, row_hash) VALUES "
          + "(gen_random_uuid(), 5, 1, now(), 'x', 'context', 'allowed', 'allowed', '\\x00', '\\x00')");
      assertThat((Throwable) append.error()).as(append.toString()).isNull();
      Map<String, Map<String, String>> hidden = new LinkedHashMap<>();
      hidden.put("no settings", Map.of());
      hidden.put("audit, no key", withKey(null, "audit"));
      hidden.put("audit, clinician key", withKey(clinicianA, "audit"));
      hidden.put("audit, bravo's auditor", withKey(auditorB, "audit"));
      hidden.put("audit, revoked auditor", withKey(revokedAuditorA, "audit"));
      hidden.put("audit, wrong hash", Map.of("cc.access", "audit", "cc.key", auditorA.keyId(),
          "cc.key_hash", auditorB.secretHashHex()));
      for (String access : List.of("retention", "key-create-lookup", "key-revoke-lookup", "tenant-settings-lookup")) {
        hidden.put(access + ", no key", withKey(null, access));
        hidden.put(access + ", clinician key", withKey(clinicianA, access));
      }
      for (Map.Entry<String, Map<String, String>> h : hidden.entrySet()) {
        AsRole.Outcome o = AsRole.run(login, audit, A.schemaName(), h.getValue(), count);
        assertThat((Throwable) o.error()).as(h.getKey()).isNull();
        assertThat(String.valueOf(o.value())).as(h.getKey()).isEqualTo("0");
      }
      // bravo's audit role, even with bravo's own live auditor key, does not reach alpha's trail
      AsRole.Outcome cross = AsRole.run(login, config.auditRole(B), B.schemaName(), withKey(auditorB, "audit"), count);
      assertThat(cross.refused()).as(cross.toString()).isTrue();
    }
  }

  /**
   * Tenant migration 57: the purge's setting opens the trail to the owner for reading and deleting only
   * (its policy was FOR ALL, so the owner could rewrite any row under it), and no role updates a row or
   * truncates the trail, not the owner with row-level security turned off and not the superuser, whom it
   * never binds: TRUNCATE is not row-level security's to refuse at all. The refusal names no row or value.
   */
  @Test
  void noRoleUpdatesOrTruncatesTheTrailTheOwnerAndTheSuperuserIncluded() throws SQLException {
    Map<String, String> retention = withKey(null, "retention");
    String noForce = "ALTER TABLE tenant_alpha.audit_log NO FORCE ROW LEVEL SECURITY; ";
    List<String> updates = List.of("UPDATE tenant_alpha.audit_log SET reason = 'nothing to see'",
        "UPDATE tenant_alpha.audit_log SET row_hash = '\\x00', prev_hash = '\\x00' WHERE shard = 0",
        "INSERT INTO tenant_alpha.audit_log SELECT * FROM tenant_alpha.audit_log ON CONFLICT (audit_id) "
            + "DO UPDATE SET reason = 'rewritten'");
    List<String> wrong = new ArrayList<>();
    try (Connection owner = platform.db.ownerDataSource().getConnection();
        Connection su = TestPostgres.superuser(platform.config)) {
      // the purge still reads and deletes (rolled back, as every statement here)
      assertThat(String.valueOf(AsRole.run(owner, null, A.schemaName(), retention,
          "SELECT count(*) FROM tenant_alpha.audit_log").value())).isEqualTo("4");
      assertThat(String.valueOf(AsRole.run(owner, null, A.schemaName(), retention,
          "DELETE FROM tenant_alpha.audit_log WHERE shard = 0").value())).isEqualTo("2");
      for (String sql : updates) {
        AsRole.Outcome withRetention = AsRole.run(owner, null, A.schemaName(), retention, sql);
        if (!withRetention.refused() && !"0".equals(String.valueOf(withRetention.value()))) {
          wrong.add("owner, retention: " + withRetention);
        }
        for (AsRole.Outcome o : List.of(AsRole.run(owner, null, A.schemaName(), retention, noForce + sql),
            AsRole.run(su, null, A.schemaName(), Map.of(), sql))) {
          if (!o.refused()) {
            wrong.add(o.toString());
          } else if (sql.startsWith("UPDATE")) {
            assertThat(o.error().getMessage()).contains("the audit trail is append-only")
                .doesNotContain("dr-a").doesNotContain("key-create").doesNotContain("\\x");
          }
        }
      }
      for (String sql : List.of("TRUNCATE tenant_alpha.audit_log",
          "TRUNCATE tenant_alpha.audit_log, tenant_alpha.audit_heads, tenant_alpha.audit_seals")) {
        for (AsRole.Outcome o : List.of(AsRole.run(owner, null, A.schemaName(), Map.of(), sql),
            AsRole.run(owner, null, A.schemaName(), retention, sql), AsRole.run(su, null, A.schemaName(), Map.of(), sql))) {
          if (!o.refused()) {
            wrong.add(o.toString());
          }
        }
      }
    }
    assertThat(wrong).isEmpty();
    try (Connection su = TestPostgres.superuser(platform.config)) {
      assertThat(AsRole.strings(su, FINGERPRINT).get(0)).isEqualTo(fingerprint);
    }
  }

  /**
   * The schema owner runs migrations and the retention purge; FORCE ROW LEVEL SECURITY binds it too,
   * so without the purge's setting its UPDATE and DELETE find no audit row.
   */
  @Test
  void theOwnerFindsNoAuditRowToChangeWithoutTheRetentionSetting() throws SQLException {
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      for (String sql : List.of("UPDATE tenant_alpha.audit_log SET reason = 'x'", "DELETE FROM tenant_alpha.audit_log",
          "UPDATE tenant_alpha.audit_seals SET mac = head", "DELETE FROM tenant_alpha.audit_seals")) {
        for (Map<String, String> s : List.of(Map.<String, String>of(), withKey(auditorA, "audit"), withKey(null, "ingest"))) {
          AsRole.Outcome o = AsRole.run(owner, null, A.schemaName(), s, sql);
          assertThat((Throwable) o.error()).as(o.toString()).isNull();
          assertThat(String.valueOf(o.value())).as(o + " " + s).isEqualTo("0");
        }
      }
    }
    try (Connection su = TestPostgres.superuser(platform.config)) {
      assertThat(AsRole.strings(su, FINGERPRINT).get(0)).isEqualTo(fingerprint);
    }
  }
}
