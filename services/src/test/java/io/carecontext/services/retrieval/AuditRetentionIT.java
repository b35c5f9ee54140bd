package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each tenant's audit retention is enforced by the service itself, and the rows kept still verify. */
class AuditRetentionIT {

  static TestServer app;
  static final Map<String, String[]> KEYS = new LinkedHashMap<>(); // tenant -> clinician key, auditor key

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    for (String tenant : new String[] {"trim", "keep"}) {
      KEYS.put(tenant, new String[] {
          app.tenantWithKey(tenant, "dr-" + tenant, "[\"clinician\"]", "\"practitionerId\":\"pr-1\""),
          app.tenantWithKey(tenant, "aud-" + tenant, "[\"auditor\"]", null)});
    }
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/keep", app.adminKey(),
        "{\"settings\":{\"retentionYears\":10}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void rowsOlderThanEachTenantsRetentionArePurgedAndTheRestStillVerifies() throws SQLException {
    for (String tenant : KEYS.keySet()) {
      for (int i = 0; i < 12; i++) { // unknown patients: 12 denials, 12 audit rows over the shards
        context(tenant, "nobody-" + i);
      }
      // Seven years pass for these rows (the hashes of the backdated rows no longer match, but
      // the purge deletes them, and the next row's link is kept as the shard's anchor).
      TestPostgres.changeAuditRows(app.database, "tenant_" + tenant,
          "UPDATE tenant_" + tenant + ".audit_log SET at = at - interval '7 years'");
      context(tenant, "nobody-recent"); // one row of today
    }

    Map<TenantId, Integer> purged = app.bean(AuditRetention.class).purgeAll(Instant.now());

    // the three keys' creation rows (the tenant-admin key that made the other two, since platform
    // migration 11) are as old as the denials (KeyController records them), and so is keep's settings
    // change (TenantController records it)
    assertThat(purged).containsEntry(TenantId.of("trim"), 15).containsEntry(TenantId.of("keep"), 0);
    // the row of today, and the purge's own row: the trail says that rows were removed, how many and up to when
    assertThat(count("trim")).isEqualTo(2);
    assertThat(count("keep")).isEqualTo(17);
    assertThat(verify("trim")).contains("\"valid\":true");
    HttpResponse<String> purges = app.call("GET", "/v1/trim/audit?action=audit-purge", KEYS.get("trim")[1], null);
    assertThat(purges.statusCode()).as(purges.body()).isEqualTo(200);
    assertThat(purges.body()).contains("\"count\":1,").contains("\"principal\":\"system:audit-retention\"")
        .doesNotContain("\"patient\":\"").contains("\"purged\":15").contains("\"before\":\"");
    assertThat(app.call("GET", "/v1/keep/audit?action=audit-purge", KEYS.get("keep")[1], null).body())
        .as("a purge that removed nothing writes no row").contains("\"count\":0,");
    context("trim", "nobody-after");
    assertThat(verify("trim")).contains("\"valid\":true");
    // a second run finds nothing more to purge, and writes no second row
    assertThat(app.bean(AuditRetention.class).purgeAll(Instant.now())).containsEntry(TenantId.of("trim"), 0);
    assertThat(app.call("GET", "/v1/trim/audit?action=audit-purge", KEYS.get("trim")[1], null).body())
        .contains("\"count\":1,");
  }

  /**
   * Retention deletes as the schema owner, by a setting the application role may write
   * (platform.tenants.settings): a retention of zero or fewer years, written past the admin API's
   * check (1 to 100), would have had the owner delete every row of the trail and move the anchors,
   * so verify still said valid. The application role may insert audit rows, never delete them.
   */
  @Test
  void aRetentionTheAdminApiWouldRefuseDeletesNothing() throws SQLException {
    String[] keys = {app.tenantWithKey("wiped", "dr-wiped", "[\"clinician\"]", "\"practitionerId\":\"pr-1\""),
        app.tenantWithKey("wiped", "aud-wiped", "[\"auditor\"]", null)};
    KEYS.put("wiped", keys);
    for (int i = 0; i < 5; i++) {
      context("wiped", "nobody-" + i);
    }
    int before = count("wiped");
    for (String years : new String[] {"0", "-3"}) {
      try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
        // written past the admin API as the owner: the application role could not (platform migration 5)
        st.execute("UPDATE platform.tenants SET settings = settings || '{\"retentionYears\":" + years
            + "}'::jsonb WHERE tenant_id = 'wiped'");
      }
      Map<TenantId, Integer> purged = app.bean(AuditRetention.class).purgeAll(Instant.now());
      assertThat(purged.getOrDefault(TenantId.of("wiped"), 0)).as(years).isZero();
      assertThat(count("wiped")).as(years).isEqualTo(before);
    }
    assertThat(verify("wiped")).contains("\"valid\":true");
  }

  /**
   * HIPAA keeps the documentation of what was done with PHI six years (45 CFR 164.316(b)(2)): a tenant
   * admin who set retentionYears to 1 had the next daily run delete five of those years of the trail,
   * its own accesses among them. The admin API takes 6 to 100 now, and the purge obeys nothing lower
   * that an earlier version stored.
   */
  @Test
  void noRetentionShorterThanSixYearsIsTakenOrObeyed() throws SQLException {
    String admin = app.tenantWithKey("brief", "ta-brief", "[\"tenant-admin\"]", null);
    String[] keys = {app.tenantWithKey("brief", "dr-brief", "[\"clinician\"]", "\"practitionerId\":\"pr-1\""),
        app.tenantWithKey("brief", "aud-brief", "[\"auditor\"]", null)};
    KEYS.put("brief", keys);
    for (String years : new String[] {"1", "5"}) {
      HttpResponse<String> r = app.call("PATCH", "/admin/tenants/brief", admin,
          "{\"settings\":{\"retentionYears\":" + years + "}}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(r.body()).contains("settings.retentionYears must be a whole number from 6 to 100");
    }
    for (int i = 0; i < 3; i++) {
      context("brief", "nobody-" + i);
    }
    TestPostgres.changeAuditRows(app.database, "tenant_brief",
        "UPDATE tenant_brief.audit_log SET at = at - interval '2 years'");
    int before = count("brief");
    superuser("UPDATE platform.tenants SET settings = settings || '{\"retentionYears\":1}'::jsonb "
        + "WHERE tenant_id = 'brief'");
    assertThat(app.bean(AuditRetention.class).purgeAll(Instant.now()).getOrDefault(TenantId.of("brief"), 0)).isZero();
    assertThat(count("brief")).isEqualTo(before);
  }

  private static void context(String tenant, String patient) {
    HttpResponse<String> r = app.call("POST", "/v1/" + tenant + "/patients/" + patient + "/context",
        KEYS.get(tenant)[0], "{\"query\":\"labs\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
  }

  private static String verify(String tenant) {
    HttpResponse<String> r = app.call("GET", "/v1/" + tenant + "/audit/verify", KEYS.get(tenant)[1], null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private static int count(String tenant) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM tenant_" + tenant + ".audit_log")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void superuser(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
