package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.services.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Paging the trail with a keyset cursor: a full page carries {@code next}, and {@code ?after=next} lists
 * the rows strictly after its last one in the same order. Paging by {@code to} (exclusive) lost the rows
 * of a microsecond a page cut between; rows that share one are made here by inserting them as the
 * superuser (no application path writes several rows with one time on demand).
 */
class AuditPagingIT {

  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** {@code groups} instants, {@code each} rows at each (the same microsecond), principal {@code principal}. */
  static void rowsSharingInstants(String tenant, String principal, int groups, int each) throws SQLException {
    rowsSharingInstants(tenant, principal, groups, each, 1_000_000);
  }

  /** As above, their places in the chains from {@code firstSeq} on (a second call in one tenant takes others). */
  static void rowsSharingInstants(String tenant, String principal, int groups, int each, long firstSeq)
      throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO tenant_" + tenant + ".audit_log (audit_id, shard, seq, at, principal, action, decision, reason, "
            + "prev_hash, row_hash) VALUES (gen_random_uuid(), ?, ?, timestamptz '2026-01-01 00:00:00.000001Z' "
            + "+ make_interval(secs => ?), ?, 'context', 'allowed', 'allowed', '\\x00', '\\x00')")) {
      int n = 0;
      for (int g = 0; g < groups; g++) {
        for (int i = 0; i < each; i++, n++) {
          ps.setInt(1, n % 8);
          ps.setLong(2, firstSeq + n); // past any real row of the shard: a listing does not verify
          ps.setDouble(3, g * 0.000001);
          ps.setString(4, principal);
          ps.addBatch();
        }
      }
      ps.executeBatch();
    }
  }

  /** The tenant's rows of a principal, as the listing orders them: newest first, then by audit id. */
  static List<String> idsInOrder(String tenant, String principal) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT audit_id FROM tenant_" + tenant + ".audit_log WHERE principal = '"
             + principal + "' ORDER BY at DESC, audit_id")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  static final Pattern ID = Pattern.compile("\"auditId\":\"([0-9a-f-]{36})\"");
  static final Pattern NEXT = Pattern.compile("\"next\":\"([A-Za-z0-9_-]+)\"");

  @Test
  void pagingWithTheCursorLosesAndRepeatsNoRowsOfOneMicrosecond() throws SQLException {
    String auditor = app.tenantWithKey("paged", "compliance", "[\"auditor\"]", null);
    rowsSharingInstants("paged", "bulk", 4, 7); // 28 rows, 7 a microsecond; pages of 5 cut inside each group
    List<String> expected = idsInOrder("paged", "bulk");
    assertThat(expected).hasSize(28);

    List<String> seen = new ArrayList<>();
    String after = null;
    int pages = 0;
    while (true) {
      HttpResponse<String> r = app.call("GET", "/v1/paged/audit?principal=bulk&limit=5"
          + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8)), auditor, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      pages++;
      Matcher m = ID.matcher(r.body());
      while (m.find()) {
        seen.add(m.group(1));
      }
      Matcher next = NEXT.matcher(r.body());
      if (!next.find()) {
        assertThat(r.body()).doesNotContain("\"count\":5,");
        break;
      }
      assertThat(r.body()).contains("\"count\":5,");
      after = next.group(1);
    }
    assertThat(seen).isEqualTo(expected); // each once, in the listing's order
    assertThat(pages).isEqualTo(6); // 5 full pages and the last of 3
  }

  /** A token that is not one the listing gave is a 400, audited as filter_malformed; the token is not echoed. */
  @Test
  void aTokenNotGivenIsA400OnRecord() throws SQLException {
    String auditor = app.tenantWithKey("pagedbad", "compliance", "[\"auditor\"]", null);
    for (String token : List.of("not-a-token", "djE6eDp5", "")) {
      HttpResponse<String> r = app.call("GET", "/v1/pagedbad/audit?after=" + token, auditor, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(r.body()).doesNotContain("djE6eDp5").doesNotContain("not-a-token");
    }
    assertThat(refusedListings("pagedbad", "filter_malformed")).isEqualTo(3);
  }

  /**
   * The token is no secret (its digest is of the filters the caller sends): one made up with the right digest and a
   * time the database cannot hold (before 4713 BC) is a 400 on record like any token not given, not a 500 from the
   * database's "timestamp out of range".
   */
  @Test
  void aForgedTokenOfATimeOutOfRangeIsA400OnRecord() throws SQLException {
    String auditor = app.tenantWithKey("pagedforged", "compliance", "[\"auditor\"]", null);
    String digest = new io.carecontext.retrieval.audit.AuditFilter(null, null, null, null, null, 1, null).digest();
    for (long micros : List.of(-300_000_000_000_000_000L, Long.MIN_VALUE)) {
      String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(("v2:" + micros
          + ":0190a1b2-0000-7000-8000-000000000001:" + digest).getBytes(StandardCharsets.US_ASCII));
      HttpResponse<String> r = app.call("GET", "/v1/pagedforged/audit?after=" + token, auditor, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(r.body()).doesNotContain(token);
    }
    assertThat(refusedListings("pagedforged", "filter_malformed")).isEqualTo(2);
  }

  /**
   * A cursor continues only the listing whose filters made it: the same token with another filter (another
   * principal, an action added, a from moved) is a 400 cursor_mismatch, on record with that reason, where it used
   * to continue silently under the new filters; with the same filters (a new limit allowed) paging goes on as before.
   */
  @Test
  void aCursorUsedWithOtherFiltersIsRefusedAndOnRecord() throws SQLException {
    String auditor = app.tenantWithKey("pagedbound", "compliance", "[\"auditor\"]", null);
    rowsSharingInstants("pagedbound", "bulk", 2, 6); // 12 rows
    rowsSharingInstants("pagedbound", "other", 1, 3, 2_000_000);
    List<String> expected = idsInOrder("pagedbound", "bulk");
    String filters = "principal=bulk&action=context&from=2026-01-01T00:00:00Z";
    HttpResponse<String> first = app.call("GET", "/v1/pagedbound/audit?" + filters + "&limit=5", auditor, null);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    Matcher next = NEXT.matcher(first.body());
    assertThat(next.find()).isTrue();
    String after = URLEncoder.encode(next.group(1), StandardCharsets.UTF_8);

    for (String swapped : List.of("principal=other&action=context&from=2026-01-01T00:00:00Z",
        "principal=bulk&from=2026-01-01T00:00:00Z", "principal=bulk&action=context&from=2025-01-01T00:00:00Z",
        "principal=bulk&action=context&from=2026-01-01T00:00:00Z&breakGlass=false")) {
      HttpResponse<String> r = app.call("GET", "/v1/pagedbound/audit?" + swapped + "&limit=5&after=" + after, auditor,
          null);
      assertThat(r.statusCode()).as(swapped).isEqualTo(400);
      assertThat(r.body()).as(swapped).contains("\"error\":\"cursor_mismatch\"")
          .contains("the same patient, principal, action, from, to, breakGlass, requestId and reviewed").contains("without after")
          .doesNotContain(next.group(1));
    }
    // the same filters, an instant written with another offset and a new page size: the listing goes on
    HttpResponse<String> rest = app.call("GET", "/v1/pagedbound/audit?principal=bulk&action=context"
        + "&from=2026-01-01T01:00:00%2B01:00&limit=50&after=" + after, auditor, null);
    assertThat(rest.statusCode()).as(rest.body()).isEqualTo(200);
    List<String> seen = new ArrayList<>();
    for (String page : List.of(first.body(), rest.body())) {
      Matcher m = ID.matcher(page);
      while (m.find()) {
        seen.add(m.group(1));
      }
    }
    assertThat(seen).isEqualTo(expected);
    assertThat(refusedListings("pagedbound", "cursor_mismatch")).isEqualTo(4);
  }

  /**
   * A patient's accounting is asked for by the patient's FHIR id. A name typed there was read as the trail's marker
   * for requests that named a patient by anything but an id, and the listing answered 200 with those requests (another
   * patient's probes) as if they were this patient's: now a 400 that says what the filter takes, quotes nothing, and
   * is on record with the marker as its patient. The marker itself still lists those requests.
   */
  @Test
  void aPatientFilterThatIsNoFhirIdIsA400OnRecordNotAnotherPatientsRows() throws SQLException {
    String auditor = app.tenantWithKey("pagedname", "compliance", "[\"auditor\"]", null);
    HttpResponse<String> r = app.call("GET", "/v1/pagedname/audit?patient=Zelda%20Quill%201950-02-03", auditor, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("\"error\":\"bad_request\"").contains("patient must be the patient's FHIR id")
        .doesNotContain("Zelda").doesNotContainPattern("\\b1950\\b");
    assertThat(refusedListings("pagedname", "filter_malformed")).isEqualTo(1);
    assertThat(TestPostgres.superuserString(app.database, "SELECT patient_id FROM tenant_pagedname.audit_log"
        + " WHERE action = 'audit-read' AND decision = 'denied'")).isEqualTo(AuditEntry.NOT_A_FHIR_ID);
    HttpResponse<String> marker = app.call("GET", "/v1/pagedname/audit?patient="
        + URLEncoder.encode(AuditEntry.NOT_A_FHIR_ID, StandardCharsets.UTF_8), auditor, null);
    assertThat(marker.statusCode()).as(marker.body()).isEqualTo(200);
  }

  /** The auditor's refused listings of the tenant's trail with {@code reason}, as the trail holds them. */
  static int refusedListings(String tenant, String reason) throws SQLException {
    return Integer.parseInt(TestPostgres.superuserString(app.database, "SELECT count(*) FROM tenant_" + tenant
        + ".audit_log WHERE action = 'audit-read' AND decision = 'denied' AND reason = '" + reason
        + "' AND principal = 'compliance'"));
  }
}
