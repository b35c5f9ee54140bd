package io.carecontext.services.auth;

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
 * A valid key's request refused before its handler ran (405, 406, 415) is recorded in the tenant's
 * trail with that reason, on every path (only the FHIR write path recorded its own 415); and a JSON
 * body sent without a Content-Type is a 415, as a body of another type is (it was read as JSON).
 */
class RefusedRequestsIT {

  static TestServer app;
  static String doc;
  static String feed;
  static String outsider;
  static String auditor;
  static final String QUERY = "{\"query\":\"x\",\"k\":3,\"purposeOfUse\":\"TREAT\"}";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    doc = app.tenantWithKey("refusals", "dr-r", "[\"clinician\"]", "\"practitionerId\":\"pr-r\"");
    feed = app.tenantWithKey("refusals", "feed-r", "[\"ehr-integration\"]", null);
    outsider = app.tenantWithKey("elsewhere", "dr-e", "[\"clinician\"]", null);
    auditor = app.tenantWithKey("refusals", "aud-r", "[\"auditor\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The tenant's rows, oldest first, but the keys' own. */
  static List<String> trail(String tenant) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT action || ' ' || decision || ' ' || reason || ' ' || coalesce(patient_id, '-') "
            + "|| ' ' || principal || ' ' || details FROM tenant_" + tenant + ".audit_log "
            + "WHERE action NOT LIKE 'key-%' ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @Test
  void aBodyWithoutContentTypeIsRefusedAndRecorded() throws SQLException {
    HttpResponse<String> r = app.call("POST", "/v1/refusals/patients/pt-1/context", doc, QUERY, null);
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(r.body()).contains("\"error\":\"unsupported_media_type\"").contains("Content-Type: application/json")
        .doesNotContain("pt-1");
    HttpResponse<String> patch = app.call("PATCH", "/admin/tenants/refusals", app.adminKey(), "{}", null);
    assertThat(patch.statusCode()).isEqualTo(415);
    assertThat(patch.body()).contains("application/merge-patch+json");
    // a request without a body, as DELETE and retry are, needs no type
    assertThat(app.call("POST", "/admin/tenants/refusals/ingest/parked/retry", app.adminKey(), null).statusCode())
        .isEqualTo(200);
    assertThat(trail("refusals")).contains(
        "context denied unsupported_media_type pt-1 dr-r {\"route\":\"/v1/refusals/patients/{id}/context\",\"method\":\"POST\"}",
        "tenant-settings denied unsupported_media_type - platform-admin {\"route\":\"/admin/tenants/refusals\",\"method\":\"PATCH\"}");
  }

  @Test
  void refusalsBeforeTheHandlerAreRecordedWithTheirReason() throws SQLException {
    assertThat(app.call("PUT", "/v1/refusals/patients/pt-2/context", doc, QUERY).statusCode()).isEqualTo(405);
    assertThat(app.call("POST", "/v1/refusals/patients/pt-3/chat", doc, "{}", "text/plain").statusCode()).isEqualTo(415);
    assertThat(app.call("POST", "/v1/refusals/patients/pt-4/context", doc, QUERY, "application/json",
        Map.of("Accept", "text/html")).statusCode()).isEqualTo(406);
    assertThat(app.call("PATCH", "/fhir/refusals/Patient/pt-5", feed, "{}", "application/fhir+json").statusCode())
        .isEqualTo(405);
    assertThat(app.call("GET", "/fhir/refusals/Patient/pt-6?_format=xml", feed, null).statusCode()).isEqualTo(406);
    // a write whose answer is asked for in R5: refused before the body is read, and on record as the refused write
    assertThat(app.call("PUT", "/fhir/refusals/Patient/pt-8", feed, "{\"resourceType\":\"Patient\",\"id\":\"pt-8\"}",
        "application/fhir+json", Map.of("Accept", "application/fhir+json; fhirVersion=5.0")).statusCode()).isEqualTo(406);
    List<String> rows = trail("refusals");
    assertThat(rows).contains(
        "context denied method_not_allowed pt-2 dr-r {\"route\":\"/v1/refusals/patients/{id}/context\",\"method\":\"PUT\"}",
        "chat denied unsupported_media_type pt-3 dr-r {\"route\":\"/v1/refusals/patients/{id}/chat\",\"method\":\"POST\"}",
        "context denied not_acceptable pt-4 dr-r {\"route\":\"/v1/refusals/patients/{id}/context\",\"method\":\"POST\"}",
        "fhir-write denied method_not_allowed pt-5 feed-r {\"route\":\"/fhir/refusals/Patient/{id}\",\"method\":\"PATCH\"}",
        "fhir-read denied not_acceptable pt-6 feed-r {\"route\":\"/fhir/refusals/Patient/{id}\",\"method\":\"GET\"}",
        "fhir-write denied not_acceptable pt-8 feed-r {\"route\":\"/fhir/refusals/Patient/{id}\",\"method\":\"PUT\"}");
    // the FHIR write path's own 415 is recorded once, by that path
    assertThat(app.call("PUT", "/fhir/refusals/Patient/pt-7", feed, "{\"resourceType\":\"Patient\"}", null).statusCode())
        .isEqualTo(415);
    assertThat(trail("refusals").stream().filter(row -> row.contains(" pt-7 "))).hasSize(1);
  }

  /** The actions such rows carry on paths that have none of their own are ones the audit list filters by. */
  @Test
  void theAuditorFindsRefusalsByTheirAction() {
    assertThat(app.call("PUT", "/admin/tenants/refusals/keys", app.tenantAdmin("refusals"), "{}").statusCode())
        .isEqualTo(405);
    HttpResponse<String> listed = app.call("GET", "/v1/refusals/audit?action=admin-request", auditor, null);
    assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
    assertThat(listed.body()).contains("\"reason\":\"method_not_allowed\"").contains("/admin/tenants/refusals/keys");
    assertThat(app.call("GET", "/v1/refusals/audit?action=request", auditor, null).statusCode()).isEqualTo(200);
  }

  @Test
  void anotherTenantsPathLeavesNoRowThere() throws SQLException {
    assertThat(app.call("PUT", "/v1/refusals/patients/pt-9/context", outsider, QUERY).statusCode()).isEqualTo(405);
    assertThat(trail("refusals")).noneMatch(row -> row.contains("pt-9"));
    assertThat(trail("elsewhere")).noneMatch(row -> row.contains("pt-9"));
  }

  /** Fail closed on both of the filter's paths: before the handler (no Content-Type) and after it (405). */
  @Test
  void aRefusalWhoseRowCannotBeWrittenIsA503() throws SQLException {
    superuser("ALTER TABLE tenant_refusals.audit_log ADD CONSTRAINT no_closed CHECK (patient_id IS DISTINCT FROM 'pt-closed') NOT VALID");
    try {
      HttpResponse<String> untyped = app.call("POST", "/v1/refusals/patients/pt-closed/context", doc, QUERY, null);
      assertThat(untyped.statusCode()).as(untyped.body()).isEqualTo(503);
      assertThat(untyped.body()).contains("\"error\"").doesNotContain("pt-closed");
      HttpResponse<String> method = app.call("PUT", "/v1/refusals/patients/pt-closed/context", doc, QUERY);
      assertThat(method.statusCode()).as(method.body()).isEqualTo(503);
      assertThat(method.body()).doesNotContain("pt-closed");
    } finally {
      superuser("ALTER TABLE tenant_refusals.audit_log DROP CONSTRAINT no_closed");
    }
    // the filter's other requests are untouched: a served request passes on as before
    assertThat(app.call("PUT", "/v1/refusals/patients/pt-open/context", doc, QUERY).statusCode()).isEqualTo(405);
  }

  /** One key's refusals add at most a budget of rows; the next row it earns says how many went unrecorded. */
  @Test
  void aKeysRefusalsAreRecordedWithinABudget() throws SQLException, InterruptedException {
    String flood = app.tenantWithKey("refusals", "dr-flood", "[\"clinician\"]", null);
    int perMinute = io.carecontext.retrieval.RefusalRows.PER_MINUTE;
    int sent = perMinute + 5;
    long started = System.nanoTime();
    for (int i = 0; i < sent; i++) {
      assertThat(app.call("PUT", "/v1/refusals/patients/pt-flood/context", flood, QUERY).statusCode()).isEqualTo(405);
    }
    long took = System.nanoTime() - started;
    // the burst, and a row for each refill that came while the loop ran (one every 60/PER_MINUTE s): on a busy
    // machine the loop itself outlasts a refill, and it asserted exactly the burst
    int recorded = (int) trail("refusals").stream().filter(row -> row.contains(" dr-flood ")).count();
    assertThat(recorded).isBetween(perMinute, perMinute + refills(took));
    Thread.sleep(60_000 / perMinute + 500); // one row's worth of budget back
    assertThat(app.call("PUT", "/v1/refusals/patients/pt-flood/context", flood, QUERY).statusCode()).isEqualTo(405);
    List<String> rows = trail("refusals").stream().filter(row -> row.contains(" dr-flood ")).toList();
    assertThat(rows).hasSize(recorded + 1);
    // every refusal is a row or counted in a later one (a refill's row counts those before it)
    assertThat(rows.stream().mapToInt(RefusedRequestsIT::unrecordedBefore).sum()).isEqualTo(sent - recorded);
    if (recorded == perMinute) {
      assertThat(rows.get(rows.size() - 1)).contains("\"unrecordedBefore\":5");
    }
  }

  /** How many rows the budget can have refilled in {@code nanos}: one every 60/PER_MINUTE s. */
  static int refills(long nanos) {
    return (int) (nanos / (60_000_000_000L / io.carecontext.retrieval.RefusalRows.PER_MINUTE));
  }

  static int unrecordedBefore(String row) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"unrecordedBefore\":(\\d+)").matcher(row);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  static void superuser(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
