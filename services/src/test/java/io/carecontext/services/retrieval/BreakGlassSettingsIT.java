package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant admin who shortens break-glass windows, or withdraws break-glass from a role, binds the
 * windows already open, not only the next ones; lengthening never extends an open window. The clock is
 * not waited for: a window is moved into the past as the owner, as if its minutes had passed.
 */
class BreakGlassSettingsIT {

  static TestServer app;
  static final String ETREAT = "{\"query\":\"diabetes\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"unresponsive in the ED\"}";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** A tenant with one patient (no consent: only break-glass reads it) and a clinician's key; returns that key. */
  static String tenantWithPatient(String tenant) {
    String ehr = app.tenantWithKey(tenant, "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey(tenant, "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    HttpResponse<String> r = app.call("POST", "/fhir/" + tenant, ehr, """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"pt-1","gender":"female"},"request":{"method":"PUT","url":"Patient/pt-1"}},
          {"resource":{"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/pt-1"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}},
           "request":{"method":"PUT","url":"Condition/cn-1"}}]}""", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    return dr;
  }

  static HttpResponse<String> breakGlass(String key, String tenant, String extra) {
    return app.call("POST", "/v1/" + tenant + "/patients/pt-1/context", key,
        extra == null ? ETREAT : ETREAT.replace("}", "," + extra + "}"));
  }

  static Instant until(HttpResponse<String> r) {
    Matcher m = Pattern.compile("\"breakGlassUntil\":\"([^\"]+)\"").matcher(r.body());
    assertThat(m.find()).as(r.body()).isTrue();
    return Instant.parse(m.group(1));
  }

  static HttpResponse<String> patch(String tenant, String settings) {
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":" + settings + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r;
  }

  /** The window as stored: opened_at, expires_at, and the minutes between them. */
  static String window(String tenant) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT opened_at, expires_at, expires_at > now(), "
             + "extract(epoch FROM expires_at - opened_at)::int / 60 FROM tenant_" + tenant + ".break_glass")) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1) + " " + rs.getString(2) + " open=" + rs.getBoolean(3) + " minutes=" + rs.getInt(4);
    }
  }

  /** Moves the tenant's windows {@code minutes} into the past, as if that time had passed since they opened. */
  static void age(String tenant, int minutes) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE tenant_" + tenant + ".break_glass SET opened_at = opened_at - interval '" + minutes
          + " minutes', expires_at = expires_at - interval '" + minutes + " minutes'");
    }
  }

  static void execute(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** The tenant's audit rows of an action: reason, principal, patient, break-glass flag and details. */
  static List<String> rows(String tenant, String action) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT reason || ' ' || principal || ' ' || coalesce(patient_id, '-') || ' ' "
             + "|| break_glass || ' ' || details FROM tenant_" + tenant + ".audit_log WHERE action = '" + action
             + "' ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  static String keyId(String secret) {
    return secret.split("_")[1];
  }

  /**
   * A reviewer of break-glass accesses lists the flagged rows alone ({@code ?breakGlass=true}): the flag
   * was only in each row, so a review read the whole trail. {@code false} lists the others; any other
   * value is a 400, audited as {@code filter_malformed}, never quietly read as no filter.
   */
  @Test
  void anAuditorListsTheBreakGlassRowsForReview() throws SQLException {
    String dr = tenantWithPatient("reviewed");
    String auditor = app.tenantWithKey("reviewed", "compliance", "[\"auditor\"]", null);
    // no care relationship (nor consent): an ordinary read is refused, the break-glass one served
    assertThat(app.call("POST", "/v1/reviewed/patients/pt-1/context", dr,
        "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}").statusCode()).isEqualTo(404);
    assertThat(breakGlass(dr, "reviewed", null).statusCode()).isEqualTo(200);

    HttpResponse<String> flagged = app.call("GET", "/v1/reviewed/audit?breakGlass=true&patient=pt-1", auditor, null);
    assertThat(flagged.statusCode()).as(flagged.body()).isEqualTo(200);
    assertThat(flagged.body()).contains("\"count\":1,").contains("\"reason\":\"break_glass\"")
        .contains("\"breakGlass\":true").doesNotContain("\"breakGlass\":false");
    HttpResponse<String> others = app.call("GET", "/v1/reviewed/audit?breakGlass=false&patient=pt-1&action=context",
        auditor, null);
    assertThat(others.body()).contains("\"count\":1,").contains("\"reason\":\"no_care_relationship\"")
        .doesNotContain("\"breakGlass\":true");
    HttpResponse<String> bad = app.call("GET", "/v1/reviewed/audit?breakGlass=yes", auditor, null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("breakGlass must be true or false");
    assertThat(rows("reviewed", "audit-read")).containsExactly(
        // each listing's row says what it listed, besides the patient: a reviewer of the auditors can tell a
        // break-glass review from a read of the whole trail
        "list compliance pt-1 false {\"filters\":{\"breakGlass\":true,\"limit\":1000},\"count\":1}",
        "list compliance pt-1 false {\"filters\":{\"action\":\"context\",\"breakGlass\":false,\"limit\":1000},"
            + "\"count\":1}",
        "filter_malformed compliance - false {}");
  }

  @Test
  void aLowerLimitBindsAWindowAlreadyOpenAndTheCutIsInTheTrail() throws SQLException {
    String dr = tenantWithPatient("lowered");
    HttpResponse<String> opened = breakGlass(dr, "lowered", null);
    assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
    Instant first = until(opened);
    assertThat(window("lowered")).endsWith("open=true minutes=60");

    patch("lowered", "{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":5}}}}");
    assertThat(window("lowered")).endsWith("open=true minutes=5");
    HttpResponse<String> within = breakGlass(dr, "lowered", null);
    assertThat(within.statusCode()).as(within.body()).isEqualTo(200);
    assertThat(Duration.between(until(within), first).toMinutes()).isEqualTo(55);

    // minute 6 of the window: past the new limit, 54 minutes before the old one
    age("lowered", 6);
    HttpResponse<String> late = breakGlass(dr, "lowered", null);
    assertThat(late.statusCode()).as(late.body()).isEqualTo(403);
    assertThat(late.body()).contains("\"error\":\"break_glass_expired\"").doesNotContain("diabetes");
    assertThat(rows("lowered", "context")).last().asString().startsWith("break_glass_expired dr-a pt-1 true");

    // the cut is in the patient's trail, flagged break-glass, by whoever changed the settings, naming the
    // window's key and the change's own tenant-settings row
    List<String> cuts = rows("lowered", "break-glass-window");
    assertThat(cuts).hasSize(1);
    assertThat(cuts.get(0)).startsWith("break_glass_window_shortened platform-admin pt-1 true {\"breakGlass\":true,")
        .contains("\"windowKeyId\":\"" + keyId(dr) + "\"", "\"windowPrincipal\":\"dr-a\"", "\"openedAt\":\"",
            "\"wasUntil\":\"", "\"until\":\"", "\"settingsAuditId\":\"");
    String auditor = app.tenantWithKey("lowered", "aud", "[\"auditor\"]", null);
    HttpResponse<String> trail = app.call("GET", "/v1/lowered/audit?patient=pt-1&action=break-glass-window", auditor,
        null);
    assertThat(trail.statusCode()).as(trail.body()).isEqualTo(200);
    assertThat(trail.body()).contains("break_glass_window_shortened").contains("\"breakGlass\":true");
    HttpResponse<String> export = app.call("GET", "/v1/lowered/audit/export", auditor, null);
    assertThat(export.body()).contains("break-glass-window").contains("110137");

    // the next emergency reopens for the new limit
    HttpResponse<String> reopened = breakGlass(dr, "lowered", "\"reopen\":true");
    assertThat(reopened.statusCode()).as(reopened.body()).isEqualTo(200);
    assertThat(window("lowered")).endsWith("open=true minutes=5");
  }

  /**
   * The database holds the window to the lower limit by itself: with the settings changed underneath
   * the application (as the owner, so no window's row was brought down), the window's row still says
   * open, and the read is refused all the same.
   */
  @Test
  void theDatabaseAloneHoldsAWindowToTheLimitInForce() throws SQLException {
    String dr = tenantWithPatient("underneath");
    assertThat(breakGlass(dr, "underneath", null).statusCode()).isEqualTo(200);
    execute("UPDATE platform.tenants SET settings = settings || "
        + "'{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":5}}}}' WHERE tenant_id = 'underneath'");
    age("underneath", 6);
    assertThat(window("underneath")).endsWith("open=true minutes=60");
    HttpResponse<String> late = breakGlass(dr, "underneath", null);
    assertThat(late.statusCode()).as(late.body()).isEqualTo(403);
    assertThat(late.body()).contains("break_glass_expired");
  }

  @Test
  void withdrawingBreakGlassClosesOpenWindowsAndAllowingItAgainReopensNone() throws SQLException {
    String dr = tenantWithPatient("withdrawn");
    assertThat(breakGlass(dr, "withdrawn", null).statusCode()).isEqualTo(200);
    patch("withdrawn", "{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"allowed\":false}}}}");
    assertThat(window("withdrawn")).contains("open=false");
    assertThat(rows("withdrawn", "break-glass-window")).singleElement().asString()
        .startsWith("break_glass_window_closed platform-admin pt-1 true");
    HttpResponse<String> refused = breakGlass(dr, "withdrawn", null);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    // what to do next: who sets the policy, and the purpose a patient in the caller's care is read with
    assertThat(refused.body()).contains("set by a tenant admin").contains("read with TREAT");
    assertThat(rows("withdrawn", "context")).last().asString().startsWith("break_glass_not_allowed");

    // allowed again: the closed window stays closed until the clinician breaks the glass anew
    patch("withdrawn", "{\"rolePolicies\":null}");
    assertThat(window("withdrawn")).contains("open=false");
    HttpResponse<String> closed = breakGlass(dr, "withdrawn", null);
    assertThat(closed.statusCode()).as(closed.body()).isEqualTo(403);
    assertThat(closed.body()).contains("break_glass_expired");
    assertThat(breakGlass(dr, "withdrawn", "\"reopen\":true").statusCode()).isEqualTo(200);
    assertThat(rows("withdrawn", "break-glass-window")).hasSize(1);
  }

  @Test
  void lengtheningNeverExtendsAnOpenWindow() throws SQLException {
    String dr = tenantWithPatient("lengthened");
    Instant first = until(breakGlass(dr, "lengthened", null));
    String before = window("lengthened");
    patch("lengthened", "{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":120}}}}");
    assertThat(window("lengthened")).isEqualTo(before);
    assertThat(until(breakGlass(dr, "lengthened", null))).isEqualTo(first);
    assertThat(rows("lengthened", "break-glass-window")).isEmpty();
    // a window whose old limit has passed is closed, not kept open by the longer one
    age("lengthened", 61);
    assertThat(breakGlass(dr, "lengthened", null).body()).contains("break_glass_expired");
  }

  /** The settings and the windows change together or not at all. */
  @Test
  void aSettingsChangeThatCannotHoldTheWindowsChangesNothing() throws SQLException {
    String dr = tenantWithPatient("atomic");
    assertThat(breakGlass(dr, "atomic", null).statusCode()).isEqualTo(200);
    String before = window("atomic");
    String revoke = "REVOKE EXECUTE ON FUNCTION tenant_atomic.shorten_break_glass_windows() FROM "
        + "\"" + app.database.tenantRole(TenantId.of("atomic")) + "\"";
    execute(revoke);
    try {
      HttpResponse<String> r = app.call("PATCH", "/admin/tenants/atomic", app.adminKey(),
          "{\"settings\":{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":5}}}}}");
      assertThat(r.statusCode()).as(r.body()).isGreaterThanOrEqualTo(500);
    } finally {
      execute(revoke.replace("REVOKE", "GRANT").replace(" FROM ", " TO "));
    }
    assertThat(window("atomic")).isEqualTo(before);
    assertThat(app.call("GET", "/admin/tenants/atomic", app.adminKey(), null).body())
        .contains("\"maxMinutes\":60").doesNotContain("\"maxMinutes\":5");
    assertThat(rows("atomic", "break-glass-window")).isEmpty();
  }
}
