package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The application role's rights on the platform schema, proven by the database alone: it may
 * revoke a key and change a tenant's name and settings, which is all the service does there; it
 * may not rewrite what authentication trusts (a key's tenant, roles, secret, expiry or practitioner),
 * bring a revoked key back, or make and activate tenants (provisioning does that, as the owner).
 */
class PlatformGrantsIT {

  static TestPlatform platform;

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    platform.tenant("alpha");
    platform.tenant("bravo");
    platform.tenant("charlie");
    // as the owner: the application role adds a key only after its audit row (platform migration 4)
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash) VALUES "
          + "('aaaaaaaaaaaaaaaa', 'alpha', 'nurse', '{care-coordinator}', '\\x01'), "
          + "('bbbbbbbbbbbbbbbb', 'alpha', 'other', '{billing}', '\\x02')");
    }
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static int update(String sql) throws SQLException {
    try (Connection c = platform.db.appDataSource().getConnection(); Statement st = c.createStatement()) {
      return st.executeUpdate(sql);
    }
  }

  static String query(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * No temporary tables for the application or any tenant role. PostgreSQL grants them to PUBLIC,
   * and on a pooled connection one outlives its transaction: rows left there as one tenant's role,
   * granted to PUBLIC, were readable by the next request, as another tenant's role, past RLS.
   */
  @Test
  void noRoleOfTheApplicationMayCreateTemporaryTables() throws SQLException {
    TenantId alpha = TenantId.of("alpha");
    DatabaseConfig config = platform.db.config();
    try (Connection c = platform.db.appDataSource().getConnection(); Statement st = c.createStatement()) {
      assertThatThrownBy(() -> st.execute("CREATE TEMP TABLE carried (x text)"))
          .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
      c.setAutoCommit(false);
      for (String role : java.util.List.of(config.tenantRole(alpha), config.readerRole(alpha),
          config.researchRole(alpha), config.auditRole(alpha), config.identityRole(alpha),
          config.fhirReaderRole(alpha))) {
        st.execute("SET LOCAL ROLE " + Identifiers.quote(role));
        assertThatThrownBy(() -> st.execute("CREATE TEMP TABLE carried AS SELECT 1 AS x"))
            .as(role).isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        c.rollback();
      }
      c.setAutoCommit(true);
    }
    assertThat(query("SELECT has_database_privilege('" + config.appUser() + "', current_database(), 'TEMPORARY')"))
        .isEqualTo("f");
  }

  @Test
  void theApplicationMayNotRewriteWhatAuthenticationTrusts() throws SQLException {
    for (String set : new String[] {"tenant_id = 'bravo'", "roles = '{tenant-admin,clinician}'",
        "secret_hash = '\\x03'", "expires_at = now() + interval '10 years'", "practitioner_id = 'someone-else'",
        "principal = 'x'", "key_id = 'cccccccccccccccc'"}) {
      assertThatThrownBy(() -> update("UPDATE platform.api_keys SET " + set + " WHERE key_id = 'aaaaaaaaaaaaaaaa'"))
          .as(set).isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
    }
    assertThat(query("SELECT tenant_id || ' ' || array_to_string(roles, ',') FROM platform.api_keys "
        + "WHERE key_id = 'aaaaaaaaaaaaaaaa'")).isEqualTo("alpha care-coordinator");
  }

  @Test
  void aKeyCanBeRevokedAndStaysRevoked() throws SQLException {
    recordKeyRevoke("alpha", "bbbbbbbbbbbbbbbb", "now()");
    assertThat(update("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = 'bbbbbbbbbbbbbbbb' "
        + "AND tenant_id = 'alpha' AND revoked_at IS NULL")).isEqualTo(1);
    assertThatThrownBy(() -> update("UPDATE platform.api_keys SET revoked_at = NULL WHERE key_id = 'bbbbbbbbbbbbbbbb'"))
        .isInstanceOf(SQLException.class).hasMessageContaining("revoked");
    assertThatThrownBy(() -> update("UPDATE platform.api_keys SET revoked_at = now() + interval '1 year' "
        + "WHERE key_id = 'bbbbbbbbbbbbbbbb'")).isInstanceOf(SQLException.class).hasMessageContaining("revoked");
    assertThat(query("SELECT revoked_at IS NOT NULL FROM platform.api_keys WHERE key_id = 'bbbbbbbbbbbbbbbb'"))
        .isEqualTo("t");
  }

  @Test
  void theApplicationChangesATenantsNameAndSettingsOnly() throws SQLException {
    recordTenantChange("alpha", "Alpha", "{\"consentMode\": \"opt-out\"}", "now()");
    assertThat(update("UPDATE platform.tenants SET name = 'Alpha', settings = '{\"consentMode\":\"opt-out\"}', "
        + "updated_at = now() WHERE tenant_id = 'alpha' AND status = 'active'")).isEqualTo(1);
    assertThatThrownBy(() -> update("UPDATE platform.tenants SET status = 'active' WHERE tenant_id = 'bravo'"))
        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
    assertThatThrownBy(() -> update("UPDATE platform.tenants SET tenant_id = 'charlie' WHERE tenant_id = 'bravo'"))
        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
    assertThatThrownBy(() -> update("INSERT INTO platform.tenants (tenant_id, name, status) "
        + "VALUES ('delta', 'Delta', 'active')")).isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
  }

  /**
   * Platform migration 5: the application role changes a tenant's name or settings only when its
   * trail already holds the tenant-settings row naming exactly the new name and settings (their
   * digest), so code that lowers the retention, turns consent to opt-out or the care relationship off
   * leaves a row the auditor sees.
   */
  @Test
  void theApplicationChangesATenantOnlyAfterTheAuditRowThatNamesTheChange() throws SQLException {
    String lower = "UPDATE platform.tenants SET settings = '{\"retentionYears\":1}' WHERE tenant_id = 'bravo'";
    assertThatThrownBy(() -> update(lower)).isInstanceOf(SQLException.class).hasMessageContaining("tenant-settings row");
    // a row for other settings, in another tenant's trail, or from long ago, does not count
    recordTenantChange("bravo", "bravo", "{\"retentionYears\": 2}", "now()");
    recordTenantChange("alpha", "bravo", "{\"retentionYears\": 1}", "now()");
    recordTenantChange("bravo", "bravo", "{\"retentionYears\": 1}", "now() - interval '1 hour'");
    // nor a refused attempt's row that names the same change (platform migration 13)
    recordTenantChange("bravo", "bravo", "{\"retentionYears\": 1}", "now()", "denied");
    assertThatThrownBy(() -> update(lower)).isInstanceOf(SQLException.class).hasMessageContaining("tenant-settings row");
    assertThatThrownBy(() -> update("UPDATE platform.tenants SET name = 'Renamed' WHERE tenant_id = 'bravo'"))
        .isInstanceOf(SQLException.class).hasMessageContaining("tenant-settings row");
    assertThat(query("SELECT settings::text FROM platform.tenants WHERE tenant_id = 'bravo'")).isEqualTo("{}");
    // touching the row without changing it needs none
    assertThat(update("UPDATE platform.tenants SET updated_at = now() WHERE tenant_id = 'bravo'")).isEqualTo(1);
    recordTenantChange("bravo", "bravo", "{\"retentionYears\": 1}", "now()");
    assertThat(update(lower)).isEqualTo(1);
  }

  /**
   * Platform migration 7: the role defaults and each tenant's role scopes, which bound what a read
   * may ask for, are not the application role's to write; they follow the tenant's settings, which
   * it changes only with their audit row, in the same transaction.
   */
  @Test
  void theApplicationCannotWidenARoleScopeButItsScopesFollowTheSettings() throws SQLException {
    for (String sql : java.util.List.of(
        "UPDATE platform.role_defaults SET policy = policy || '{\"categories\":[\"note\"]}'",
        "INSERT INTO platform.role_defaults VALUES ('auditor', '{}')",
        "UPDATE platform.role_scopes SET categories = '{note}'",
        "DELETE FROM platform.role_scopes",
        "INSERT INTO platform.role_scopes SELECT * FROM platform.role_scopes",
        "SELECT platform.refresh_role_scopes('alpha')")) {
      assertThatThrownBy(() -> update(sql)).as(sql).isInstanceOf(SQLException.class)
          .hasMessageContaining("permission denied");
    }
    String settings = "{\"careRelationship\": false, \"rolePolicies\": {\"billing\": {\"categories\": [\"lab\"]}}}";
    platform.tenant("charlie"); // a tenant of its own: other tests here look at bravo's settings
    assertThat(query("SELECT categories::text || care FROM platform.role_scopes WHERE tenant_id = 'charlie' "
        + "AND role = 'billing'")).isEqualTo("{administrative}false");
    recordTenantChange("charlie", "charlie", settings, "now()");
    assertThat(update("UPDATE platform.tenants SET settings = '" + settings + "' WHERE tenant_id = 'charlie'"))
        .isEqualTo(1);
    assertThat(query("SELECT categories::text || care FROM platform.role_scopes WHERE tenant_id = 'charlie' "
        + "AND role = 'billing'")).isEqualTo("{lab}false");
    assertThat(query("SELECT categories::text || care FROM platform.role_scopes WHERE tenant_id = 'charlie' "
        + "AND role = 'clinician'")).isEqualTo("{demographic,clinical,lab,medication,note}false");
  }

  /**
   * Platform migration 9: some limits of a role are the platform's, not the tenant's settings' to lift.
   * A tenant admin gave its own role a patient policy ({@code rolePolicies.tenant-admin}), and the
   * database made it a scope its key's reads were admitted under; a researcher's policy could say
   * {@code deidentifiedOnly: false}. The database refuses both, even with the change's audit row, and a
   * role without a default gets no scope from settings stored before.
   */
  @Test
  void noSettingsGiveARoleMoreThanThePlatformPermits() throws SQLException {
    platform.tenant("echo");
    for (String settings : java.util.List.of(
        "{\"rolePolicies\": {\"tenant-admin\": {\"categories\": [\"clinical\"], \"purposes\": [\"TREAT\"]}}}",
        "{\"rolePolicies\": {\"auditor\": {\"purposes\": [\"TREAT\"]}}}",
        "{\"rolePolicies\": {\"ehr-integration\": {}}}",
        "{\"rolePolicies\": {\"researcher\": {\"deidentifiedOnly\": false}}}")) {
      recordTenantChange("echo", "echo", settings, "now()");
      assertThatThrownBy(() -> update("UPDATE platform.tenants SET settings = '" + settings
          + "' WHERE tenant_id = 'echo'")).as(settings).isInstanceOf(SQLException.class)
          .hasMessageContaining("role_policies_within_the_platforms_limits");
    }
    String allowed = "{\"rolePolicies\": {\"researcher\": {\"deidentifiedOnly\": true, \"kMax\": 5}}}";
    recordTenantChange("echo", "echo", allowed, "now()");
    assertThat(update("UPDATE platform.tenants SET settings = '" + allowed + "' WHERE tenant_id = 'echo'"))
        .isEqualTo(1);
    // settings stored before this migration: the role they name gets no scope
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("ALTER TABLE platform.tenants DISABLE TRIGGER tenants_role_policies_within_limits");
      try {
        st.executeUpdate("UPDATE platform.tenants SET settings = '{\"rolePolicies\": {\"tenant-admin\": "
            + "{\"purposes\": [\"TREAT\"]}}}' WHERE tenant_id = 'echo'");
      } finally {
        st.execute("ALTER TABLE platform.tenants ENABLE TRIGGER tenants_role_policies_within_limits");
      }
    }
    assertThat(query("SELECT count(*) FROM platform.role_scopes WHERE tenant_id = 'echo' AND role = 'tenant-admin'"))
        .isEqualTo("0");
    assertThat(query("SELECT count(*) FROM platform.role_scopes WHERE tenant_id = 'echo'")).isEqualTo("4");
  }

  /**
   * Platform migration 16: a role the platform serves de-identified only (researcher) reads for research
   * with the patient's consent. A tenant admin could give it treatment purposes and break-glass
   * ({"purposes":["HRESCH","TREAT","ETREAT"],"breakGlass":{"allowed":true,"overrideConsent":true}}), and its
   * scope then admitted a researcher key's reads under them, without consent. The database refuses such
   * settings whoever writes them, and settings stored before grant the role nothing wider.
   */
  @Test
  void aDeidentifiedRoleHasNoPurposeButResearchAndNoBreakGlassWhateverTheSettings() throws SQLException {
    platform.tenant("foxtrot");
    java.util.List<String> refused = java.util.List.of(
        "{\"rolePolicies\": {\"researcher\": {\"purposes\": [\"HRESCH\", \"TREAT\", \"ETREAT\"], "
            + "\"breakGlass\": {\"allowed\": true, \"overrideConsent\": true}}}}",
        "{\"rolePolicies\": {\"researcher\": {\"purposes\": [\"HRESCH\", \"TREAT\"]}}}",
        "{\"rolePolicies\": {\"researcher\": {\"purposes\": [\"HOPERAT\"]}}}",
        "{\"rolePolicies\": {\"researcher\": {\"purposes\": [7]}}}",
        "{\"rolePolicies\": {\"researcher\": {\"breakGlass\": {\"allowed\": true}}}}",
        "{\"rolePolicies\": {\"researcher\": {\"breakGlass\": {\"overrideConsent\": true}}}}");
    for (String settings : refused) {
      // as the application role, with the change's audit row (platform migration 5)
      recordTenantChange("foxtrot", "foxtrot", settings, "now()");
      assertThatThrownBy(() -> update("UPDATE platform.tenants SET settings = '" + settings
          + "' WHERE tenant_id = 'foxtrot'")).as(settings).isInstanceOf(SQLException.class)
          .hasMessageContaining("role_policies_within_the_platforms_limits");
      // and as the owner, which platform migration 5 does not bind
      try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
        assertThatThrownBy(() -> st.executeUpdate("UPDATE platform.tenants SET settings = '" + settings
            + "' WHERE tenant_id = 'foxtrot'")).as(settings).isInstanceOf(SQLException.class)
            .hasMessageContaining("role_policies_within_the_platforms_limits");
      }
    }
    assertThat(query("SELECT settings::text FROM platform.tenants WHERE tenant_id = 'foxtrot'")).isEqualTo("{}");
    // what is the tenant's to set still is: narrower research settings, and treatment and break-glass for
    // the roles that have them
    String allowed = "{\"rolePolicies\": {\"researcher\": {\"purposes\": [\"HRESCH\"], \"kMax\": 5, "
        + "\"categories\": [\"lab\"], \"breakGlass\": {\"allowed\": false, \"overrideConsent\": false}}, "
        + "\"care-coordinator\": {\"purposes\": [\"TREAT\", \"ETREAT\"], \"breakGlass\": {\"allowed\": true}}}}";
    recordTenantChange("foxtrot", "foxtrot", allowed, "now()");
    assertThat(update("UPDATE platform.tenants SET settings = '" + allowed + "' WHERE tenant_id = 'foxtrot'"))
        .isEqualTo(1);
    String scope = "SELECT purposes::text || ' ' || categories::text || ' ' || break_glass || ' ' || overrides_consent "
        + "|| ' ' || break_glass_minutes FROM platform.role_scopes WHERE tenant_id = 'foxtrot' AND role = ";
    assertThat(query(scope + "'researcher'")).isEqualTo("{HRESCH} {lab} false false 0");
    assertThat(query(scope + "'care-coordinator'")).startsWith("{TREAT,ETREAT} ").contains(" true false ");
    // settings stored before this migration: the role keeps only its research purposes, and no break-glass
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("ALTER TABLE platform.tenants DISABLE TRIGGER tenants_role_policies_within_limits");
      try {
        st.executeUpdate("UPDATE platform.tenants SET settings = '" + refused.get(0) + "' WHERE tenant_id = 'foxtrot'");
      } finally {
        st.execute("ALTER TABLE platform.tenants ENABLE TRIGGER tenants_role_policies_within_limits");
      }
    }
    assertThat(query(scope + "'researcher'")).isEqualTo("{HRESCH} {demographic,clinical,lab,medication} false false 0");
    assertThat(query(scope + "'clinician'")).startsWith("{TREAT,ETREAT} ").endsWith(" true true 60");
  }

  /**
   * Platform migration 6: the application role revokes a key only when its tenant's trail already
   * holds the key-revoke row naming it, so code that cuts off every feed and clinician at once leaves
   * rows the auditor sees.
   */
  @Test
  void theApplicationRevokesAKeyOnlyAfterTheAuditRowThatNamesIt() throws SQLException {
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash) VALUES "
          + "('cutoffcutoffcut0', 'alpha', 'feed', '{ehr-integration}', '\\x05')");
    }
    String revoke = "UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = 'cutoffcutoffcut0'";
    assertThatThrownBy(() -> update(revoke)).isInstanceOf(SQLException.class).hasMessageContaining("key-revoke row");
    // a row in another tenant's trail, one for another key, or one from long ago, does not count
    recordKeyRevoke("bravo", "cutoffcutoffcut0", "now()");
    recordKeyRevoke("alpha", "cutoffcutoffcut1", "now()");
    recordKeyRevoke("alpha", "cutoffcutoffcut0", "now() - interval '1 hour'");
    recordKeyRevoke("alpha", "cutoffcutoffcut0", "now()", "denied"); // a refused attempt's row (migration 13)
    assertThatThrownBy(() -> update(revoke)).isInstanceOf(SQLException.class).hasMessageContaining("key-revoke row");
    assertThat(query("SELECT revoked_at IS NULL FROM platform.api_keys WHERE key_id = 'cutoffcutoffcut0'"))
        .isEqualTo("t");
    recordKeyRevoke("alpha", "cutoffcutoffcut0", "now()");
    assertThat(update(revoke)).isEqualTo(1);
  }

  /** As the admin API does before a revocation: the key-revoke row naming the key, here written as the owner. */
  static void recordKeyRevoke(String tenant, String keyId, String at) throws SQLException {
    recordKeyRevoke(tenant, keyId, at, "allowed");
  }

  static void recordKeyRevoke(String tenant, String keyId, String at, String decision) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_" + tenant + ".audit_log (audit_id, shard, seq, at, principal, action, decision, "
          + "reason, details, prev_hash, row_hash) SELECT gen_random_uuid(), 5, coalesce(max(seq), 0) + 1, " + at
          + ", 'ta-1', 'key-revoke', '" + decision + "', 'key_revoked', '{\"keyId\":\"" + keyId + "\"}', '\\x00', '\\x00' "
          + "FROM tenant_" + tenant + ".audit_log WHERE shard = 5");
    }
  }

  /** As the admin API does before a change: the tenant-settings row naming its digest, here written as the owner. */
  static void recordTenantChange(String tenant, String name, String settings, String at) throws SQLException {
    recordTenantChange(tenant, name, settings, at, "allowed");
  }

  static void recordTenantChange(String tenant, String name, String settings, String at, String decision)
      throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_" + tenant + ".audit_log (audit_id, shard, seq, at, principal, action, decision, "
          + "reason, details, prev_hash, row_hash) SELECT gen_random_uuid(), 6, coalesce(max(seq), 0) + 1, " + at
          + ", 'ta-1', 'tenant-settings', '" + decision + "', 'settings_changed', '{\"changed\":[],\"settingsDigest\":\"' || "
          + "platform.tenant_change_digest('" + name + "', '" + settings + "') || '\"}', '\\x00', '\\x00' "
          + "FROM tenant_" + tenant + ".audit_log WHERE shard = 6");
    }
  }

  /**
   * Platform migration 4: the application role adds a key only when its tenant's trail already holds
   * the key-create row naming it, so code that mints a key leaves a row the auditor sees.
   */
  @Test
  void theApplicationAddsAKeyOnlyAfterTheAuditRowThatNamesIt() throws SQLException {
    String mint = "INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash) VALUES "
        + "('%s', '%s', 'intruder', '{tenant-admin}', '\\x09')";
    assertThatThrownBy(() -> update(mint.formatted("mintedmintedmint", "alpha")))
        .isInstanceOf(SQLException.class).hasMessageContaining("key-create row");
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      // written by the operator key, the first tenant-admin key of the tenant (platform migration 11)
      st.execute("INSERT INTO tenant_alpha.audit_log (audit_id, shard, seq, at, principal, key_id, action, decision, reason, "
          + "details, prev_hash, row_hash) VALUES (gen_random_uuid(), 7, 999999, now(), 'platform-admin', 'bootstrap', "
          + "'key-create', 'allowed', 'key_created', "
          + "'{\"keyId\":\"recordedrecorded\",\"keyPrincipal\":\"intruder\",\"roles\":[\"tenant-admin\"]}', '\\x00', '\\x00'), "
          + "(gen_random_uuid(), 7, 999998, now() - interval '1 hour', 'platform-admin', 'bootstrap', 'key-create', 'allowed', "
          + "'key_created', '{\"keyId\":\"stalestalestale0\",\"keyPrincipal\":\"intruder\",\"roles\":[\"tenant-admin\"]}', "
          + "'\\x00', '\\x00')");
    }
    // a row in another tenant's trail, or one from long ago, does not count
    assertThatThrownBy(() -> update(mint.formatted("recordedrecorded", "bravo")))
        .isInstanceOf(SQLException.class).hasMessageContaining("key-create row");
    assertThatThrownBy(() -> update(mint.formatted("stalestalestale0", "alpha")))
        .isInstanceOf(SQLException.class).hasMessageContaining("key-create row");
    assertThat(update(mint.formatted("recordedrecorded", "alpha"))).isEqualTo(1);
  }

  /** A key-create row in the tenant's trail, written now by {@code creator} (principal and key id), as the admin API writes it. */
  static void recordKeyCreate(String tenant, String creator, String creatorKey, String details) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_" + tenant + ".audit_log (audit_id, shard, seq, at, principal, key_id, action, "
          + "decision, reason, details, prev_hash, row_hash) SELECT gen_random_uuid(), 4, coalesce(max(seq), 0) + 1, "
          + "now(), '" + creator + "', '" + creatorKey + "', 'key-create', 'allowed', 'key_created', '" + details
          + "', '\\x00', '\\x00' FROM tenant_" + tenant + ".audit_log WHERE shard = 4");
    }
  }

  static String mint(String keyId, String tenant, String principal, String roles) {
    return "INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash) VALUES ('" + keyId + "', '"
        + tenant + "', '" + principal + "', '" + roles + "', '\\x0a')";
  }

  /**
   * Platform migration 11: the application role adds a key only as its key-create row names it, the
   * operator key only a tenant's tenant-admin key while it has no live one, any other key only a live
   * tenant-admin key of the tenant, and never a second unrevoked key of one principal.
   */
  @Test
  void theApplicationAddsAKeyOnlyWithinItsCreatorsPower() throws SQLException {
    // the operator key: no data-writing or reading role
    recordKeyCreate("charlie", "platform-admin", "bootstrap",
        "{\"keyId\":\"feedfeedfeedfeed\",\"keyPrincipal\":\"feed\",\"roles\":[\"ehr-integration\"]}");
    assertThatThrownBy(() -> update(mint("feedfeedfeedfeed", "charlie", "feed", "{ehr-integration}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("only tenant-admin keys");
    // its first tenant-admin key, and not a second while that one is live
    recordKeyCreate("charlie", "platform-admin", "bootstrap",
        "{\"keyId\":\"firstadminfirst0\",\"keyPrincipal\":\"boss\",\"roles\":[\"tenant-admin\"]}");
    assertThat(update(mint("firstadminfirst0", "charlie", "boss", "{tenant-admin}"))).isEqualTo(1);
    recordKeyCreate("charlie", "platform-admin", "bootstrap",
        "{\"keyId\":\"secondadminsecon\",\"keyPrincipal\":\"boss2\",\"roles\":[\"tenant-admin\"]}");
    assertThatThrownBy(() -> update(mint("secondadminsecon", "charlie", "boss2", "{tenant-admin}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("no live one");
    // the tenant-admin key's row must name what the key gets: not clinician for a tenant-admin key
    recordKeyCreate("charlie", "boss", "firstadminfirst0",
        "{\"keyId\":\"nursenursenurse0\",\"keyPrincipal\":\"nurse\",\"roles\":[\"clinician\"]}");
    assertThatThrownBy(() -> update(mint("nursenursenurse0", "charlie", "nurse", "{clinician,tenant-admin}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("names it");
    assertThatThrownBy(() -> update(mint("nursenursenurse0", "charlie", "dr-lee", "{clinician}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("names it");
    assertThat(update(mint("nursenursenurse0", "charlie", "nurse", "{clinician}"))).isEqualTo(1);
    // one unrevoked key a principal, whatever its case
    recordKeyCreate("charlie", "boss", "firstadminfirst0",
        "{\"keyId\":\"nursetwonursetwo\",\"keyPrincipal\":\"NURSE\",\"roles\":[\"clinician\"]}");
    assertThatThrownBy(() -> update(mint("nursetwonursetwo", "charlie", "NURSE", "{clinician}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("already holds this principal");
    // a key that is not a tenant-admin key of the tenant makes none
    recordKeyCreate("charlie", "nurse", "nursenursenurse0",
        "{\"keyId\":\"sneakysneakysnea\",\"keyPrincipal\":\"sneaky\",\"roles\":[\"clinician\"]}");
    assertThatThrownBy(() -> update(mint("sneakysneakysnea", "charlie", "sneaky", "{clinician}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("live tenant-admin key");
    // nor does a revoked tenant-admin key; then the operator may make a new first one
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = 'firstadminfirst0'");
    }
    recordKeyCreate("charlie", "boss", "firstadminfirst0",
        "{\"keyId\":\"afterrevokeafter\",\"keyPrincipal\":\"late\",\"roles\":[\"billing\"]}");
    assertThatThrownBy(() -> update(mint("afterrevokeafter", "charlie", "late", "{billing}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("live tenant-admin key");
    assertThat(update(mint("secondadminsecon", "charlie", "boss2", "{tenant-admin}"))).isEqualTo(1);
  }

  /**
   * Platform migration 14: a key made by a tenant key that expires expires too, and no later, so that
   * a tenant admin given access for a week cannot leave itself a key that outlives it.
   */
  @Test
  void theApplicationAddsAKeyThatExpiresNoLaterThanTheKeyThatMadeIt() throws SQLException {
    java.time.Instant creatorExpiry = java.time.Instant.now().plus(java.time.Duration.ofDays(1))
        .truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash, expires_at) VALUES "
          + "('weekadminweekadm', 'bravo', 'contractor', '{tenant-admin}', '\\x06', '" + creatorExpiry + "')");
    }
    String never = "{\"keyId\":\"%s\",\"keyPrincipal\":\"%s\",\"roles\":[\"tenant-admin\"]}";
    String until = "{\"keyId\":\"%s\",\"keyPrincipal\":\"%s\",\"roles\":[\"tenant-admin\"],\"expiresAt\":\"%s\"}";
    String mintUntil = "INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash, expires_at) "
        + "VALUES ('%s', 'bravo', '%s', '{tenant-admin}', '\\x0a', '%s')";
    // a key that never expires, or expires after its maker
    recordKeyCreate("bravo", "contractor", "weekadminweekadm", never.formatted("foreverforever00", "successor"));
    assertThatThrownBy(() -> update(mint("foreverforever00", "bravo", "successor", "{tenant-admin}")))
        .isInstanceOf(SQLException.class).hasMessageContaining("expires no later than the key that made it");
    java.time.Instant later = creatorExpiry.plus(java.time.Duration.ofHours(1));
    recordKeyCreate("bravo", "contractor", "weekadminweekadm", until.formatted("laterlaterlater0", "successor", later));
    assertThatThrownBy(() -> update(mintUntil.formatted("laterlaterlater0", "successor", later)))
        .isInstanceOf(SQLException.class).hasMessageContaining("expires no later than the key that made it");
    assertThat(query("SELECT count(*) FROM platform.api_keys WHERE principal = 'successor'")).isEqualTo("0");
    // one that expires with it, or before, is made
    recordKeyCreate("bravo", "contractor", "weekadminweekadm", until.formatted("withwithwithwith", "successor",
        creatorExpiry));
    assertThat(update(mintUntil.formatted("withwithwithwith", "successor", creatorExpiry))).isEqualTo(1);
  }

  /**
   * Since tenant migration 27 a key's hash is what a read transaction presents to the database, so
   * the application role may not read the stored ones (platform migration 3): it reads every other
   * column and asks the database whether the hash of a presented secret is a key's.
   */
  @Test
  void theApplicationReadsNoKeyHashButMayAskWhetherOneMatches() throws SQLException {
    try (Connection c = platform.db.appDataSource().getConnection(); Statement st = c.createStatement()) {
      for (String read : new String[] {"SELECT secret_hash FROM platform.api_keys", "SELECT * FROM platform.api_keys",
          "SELECT count(*) FROM platform.api_keys WHERE secret_hash = '\\x01'",
          "SELECT count(*) FROM platform.api_keys k WHERE k IS NOT NULL"}) {
        assertThatThrownBy(() -> st.executeQuery(read)).as(read).hasMessageContaining("permission denied");
      }
      try (ResultSet rs = st.executeQuery("SELECT key_id, tenant_id, principal, roles, practitioner_id, created_at, "
          + "expires_at, revoked_at FROM platform.api_keys WHERE key_id = 'aaaaaaaaaaaaaaaa'")) {
        assertThat(rs.next()).isTrue();
      }
      assertThat(matches(st, "aaaaaaaaaaaaaaaa", "\\x01")).isTrue();
      assertThat(matches(st, "aaaaaaaaaaaaaaaa", "\\x02")).isFalse();
      assertThat(matches(st, "bbbbbbbbbbbbbbbb", "\\x01")).isFalse();
      assertThat(matches(st, "nosuchkeyatall00", "\\x01")).isFalse();
    }
  }

  static boolean matches(Statement st, String keyId, String hash) throws SQLException {
    try (ResultSet rs = st.executeQuery("SELECT platform.api_key_secret_matches('" + keyId + "', '" + hash + "')")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }
}
