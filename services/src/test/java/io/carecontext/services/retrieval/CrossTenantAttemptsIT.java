package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A key used on another tenant's patient data is answered like an unknown tenant (404), and the
 * attempt is recorded in the key's own tenant's trail with its true reason, on every path that reads
 * patient data: context (which did), chat, research search and FHIR reads (which did not).
 */
class CrossTenantAttemptsIT {

  static TestServer app;
  static String prober;
  static final String FHIR = "application/fhir+json";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    app.tenantWithKey("target", "dr-t", "[\"clinician\"]", null);
    prober = app.tenantWithKey("probing", "multi", "[\"clinician\",\"researcher\",\"ehr-integration\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The tenant's access rows, oldest first (the rows of its keys' creation left out). */
  static List<String> trail(String tenant) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT action || ' ' || decision || ' ' || reason || ' ' || principal FROM tenant_"
            + tenant + ".audit_log WHERE action NOT LIKE 'key-%' ORDER BY at, seq")) { // not the keys' own rows
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @Test
  void everyPatientDataPathRecordsTheAttemptInTheCallersOwnTrail() throws SQLException {
    List<HttpResponse<String>> answers = List.of(
        app.call("POST", "/v1/target/patients/pt-1/context", prober, "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}"),
        app.call("POST", "/v1/target/patients/pt-1/chat", prober,
            "{\"question\":\"x\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}"),
        app.call("POST", "/v1/target/research/search", prober, "{\"query\":\"x\",\"purposeOfUse\":\"HRESCH\"}"),
        app.call("GET", "/fhir/target/Patient/pt-1", prober, null, FHIR),
        app.call("GET", "/fhir/target/Patient/pt-1/_history/1", prober, null, FHIR));
    assertThat(answers).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(404));
    assertThat(trail("probing")).containsExactly(
        "context denied other_tenant multi",
        "chat-dry-run denied other_tenant multi",
        "research denied other_tenant multi",
        "fhir-read denied other_tenant multi",
        "fhir-read denied other_tenant multi");
    assertThat(trail("target")).isEmpty(); // nothing is written where the key has no business
  }

  /**
   * A key on its own tenant's id in other letter case ({@code /v1/MIXED/…} for tenant {@code mixed}) was
   * recorded as an attempt on another tenant, and an auditor read a key of the tenant as probing another
   * one. It names no tenant at all (ids are lower case): recorded as {@code tenant_miscased}, and answered
   * with the 404 of a tenant that does not exist, saying why; a key of another tenant is answered as before.
   */
  @Test
  void aKeyOnItsOwnTenantsIdInOtherLetterCaseIsRecordedAsSuch() throws SQLException {
    String key = app.tenantWithKey("mixed", "dr-m", "[\"clinician\",\"auditor\",\"ehr-integration\"]", null);
    List<HttpResponse<String>> answers = List.of(
        app.call("POST", "/v1/MIXED/patients/pt-1/context", key, "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}"),
        app.call("GET", "/v1/Mixed/audit", key, null),
        app.call("GET", "/fhir/mixeD/Patient/pt-1", key, null, FHIR));
    assertThat(answers).allSatisfy(r -> {
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.body()).contains("tenant ids are lower case").doesNotContain("MIXED").doesNotContain("Mixed")
          .doesNotContain("mixeD");
    });
    assertThat(answers.get(0).body()).contains("\"error\":\"tenant_not_found\"");
    // and on the admin paths, for the tenant's own tenant-admin key
    String admin = app.tenantWithKey("mixed", "ta-m", "[\"tenant-admin\"]", null);
    HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/Mixed", admin, "{\"settings\":{}}");
    assertThat(patched.statusCode()).isEqualTo(404);
    assertThat(patched.body()).contains("tenant ids are lower case").doesNotContain("Mixed");
    assertThat(trail("mixed")).containsExactly(
        "context denied tenant_miscased dr-m",
        "audit-read denied tenant_miscased dr-m",
        "fhir-read denied tenant_miscased dr-m",
        "tenant-settings denied tenant_miscased ta-m");
    // another tenant's key on the same path: the answer of a tenant that does not exist, as before
    String outsider = app.tenantWithKey("outside", "aud-o", "[\"auditor\"]", null);
    HttpResponse<String> other = app.call("GET", "/v1/MIXED/audit", outsider, null);
    assertThat(other.statusCode()).isEqualTo(404);
    assertThat(other.body()).doesNotContain("lower case");
    assertThat(trail("outside")).containsExactly("audit-read denied other_tenant aud-o");
  }
}
