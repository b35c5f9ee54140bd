package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An auditor's review of a break-glass access (POST /v1/{t}/audit/{auditId}/review) is itself a row of the trail,
 * appended and hash-chained, naming the reviewed row, its patient and the outcome; the reviewed row is never changed.
 * Each refusal is on record with its reason; listings say of each break-glass row whether, by which row and with
 * what outcome it was reviewed, and {@code ?reviewed=false} lists those still to review.
 */
class BreakGlassReviewIT {

  static TestServer app;
  static final ObjectMapper JSON = new ObjectMapper();
  static final String NOTE = "ED physician confirmed the emergency; patient unresponsive on arrival";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** A tenant with a patient, a clinician who broke the glass {@code times} times; returns the auditor's key. */
  static String tenantWithBreakGlass(String tenant, int times) {
    BreakGlassSettingsIT.app = app;
    String dr = BreakGlassSettingsIT.tenantWithPatient(tenant);
    for (int i = 0; i < times; i++) {
      HttpResponse<String> r = BreakGlassSettingsIT.breakGlass(dr, tenant, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    return app.tenantWithKey(tenant, "privacy-officer", "[\"auditor\"]", null);
  }

  static JsonNode list(String tenant, String auditor, String query) throws Exception {
    HttpResponse<String> r = app.call("GET", "/v1/" + tenant + "/audit?" + query, auditor, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** The audit ids of the tenant's break-glass context rows, oldest first. */
  static List<String> breakGlassRows(String tenant) throws SQLException {
    return strings("SELECT audit_id FROM tenant_" + tenant + ".audit_log WHERE break_glass AND action = 'context' "
        + "ORDER BY at, audit_id");
  }

  static List<String> strings(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  static HttpResponse<String> review(String tenant, String key, String auditId, String body) {
    return app.call("POST", "/v1/" + tenant + "/audit/" + auditId + "/review", key, body);
  }

  /** The tenant's review rows: decision, reason, patient and details, oldest first. */
  static List<String> reviewRows(String tenant) throws SQLException {
    return strings("SELECT decision || ' ' || reason || ' ' || coalesce(patient_id, '-') || ' ' || details "
        + "FROM tenant_" + tenant + ".audit_log WHERE action = 'break-glass-review' ORDER BY at, audit_id");
  }

  @Test
  void anAuditorsReviewIsAChainedRowNamingTheAccessItsPatientAndTheOutcome() throws Exception {
    String auditor = tenantWithBreakGlass("rv_allow", 1);
    String reviewed = breakGlassRows("rv_allow").get(0);
    String before = strings("SELECT encode(row_hash, 'hex') || details FROM tenant_rv_allow.audit_log WHERE audit_id = '"
        + reviewed + "'").get(0);

    HttpResponse<String> r = review("rv_allow", auditor, reviewed,
        "{\"outcome\":\"needs_follow_up\",\"note\":\"" + NOTE + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode answer = JSON.readTree(r.body());
    String reviewId = answer.get("auditId").asText();
    assertThat(answer.get("reviewedAuditId").asText()).isEqualTo(reviewed);
    assertThat(answer.get("outcome").asText()).isEqualTo("needs_follow_up");
    assertThat(answer.has("supersedesAuditId")).isFalse();

    // one row: allowed, the outcome its reason, the access's patient, the reviewed id in its details; the note only
    // encrypted (never in details, and the row names the reviewer's key and roles)
    assertThat(reviewRows("rv_allow")).containsExactly("allowed needs_follow_up pt-1 {\"reviewedAuditId\":\"" + reviewed
        + "\",\"outcome\":\"needs_follow_up\"}");
    assertThat(strings("SELECT principal || ' ' || purpose || ' ' || roles::text || ' ' || (justification_enc IS NOT NULL)"
        + " || ' ' || position('ED physician'::bytea in justification_enc) FROM "
        + "tenant_rv_allow.audit_log WHERE audit_id = '" + reviewId + "'"))
        .containsExactly("privacy-officer HOPERAT {auditor} true 0");
    // the reviewed row is as it was: nothing updates the trail
    assertThat(strings("SELECT encode(row_hash, 'hex') || details FROM tenant_rv_allow.audit_log WHERE audit_id = '"
        + reviewed + "'")).containsExactly(before);

    // the listing says of the access that it was reviewed, by which row, with what outcome; with bodies, the note
    JsonNode listed = list("rv_allow", auditor, "breakGlass=true&action=context");
    assertThat(listed.get("count").asInt()).isEqualTo(1);
    JsonNode access = listed.get("entries").get(0);
    assertThat(access.get("reviewed").asBoolean()).isTrue();
    assertThat(access.get("reviewAuditId").asText()).isEqualTo(reviewId);
    assertThat(access.get("reviewOutcome").asText()).isEqualTo("needs_follow_up");
    JsonNode withBodies = list("rv_allow", auditor, "action=break-glass-review&includeBodies=true");
    assertThat(withBodies.get("entries").get(0).get("note").asText()).isEqualTo(NOTE);
    assertThat(withBodies.get("entries").get(0).get("details").get("reviewedAuditId").asText()).isEqualTo(reviewed);

    // and the chain, with the review in it, verifies
    HttpResponse<String> verify = app.call("GET", "/v1/rv_allow/audit/verify", auditor, null);
    assertThat(verify.body()).contains("\"valid\":true");
  }

  @Test
  void eachRefusalIsAnsweredAndRecordedWithItsReason() throws Exception {
    String auditor = tenantWithBreakGlass("rv_deny", 1);
    String other = tenantWithBreakGlass("rv_deny_other", 1);
    String dr = app.tenantWithKey("rv_deny", "dr-b", "[\"clinician\"]", "\"practitionerId\":\"pr-2\"");
    String access = breakGlassRows("rv_deny").get(0);
    String ordinary = strings("SELECT audit_id FROM tenant_rv_deny.audit_log WHERE action = 'fhir-write' LIMIT 1").get(0);

    HttpResponse<String> unknown = review("rv_deny", auditor, UUID.randomUUID().toString(), "{\"outcome\":\"appropriate\"}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("\"error\":\"not_found\"").contains("no audit row of this tenant");
    // an id that is no UUID, and another tenant's row, are the same unknown id
    HttpResponse<String> notAnId = review("rv_deny", auditor, "Jane-Doe-1970", "{\"outcome\":\"appropriate\"}");
    assertThat(notAnId.statusCode()).isEqualTo(404);
    assertThat(notAnId.body()).isEqualTo(unknown.body());
    String othersAccess = breakGlassRows("rv_deny_other").get(0);
    assertThat(review("rv_deny", auditor, othersAccess, "{\"outcome\":\"appropriate\"}").body()).isEqualTo(unknown.body());
    assertThat(review("rv_deny_other", other, othersAccess, "{\"outcome\":\"appropriate\"}").statusCode()).isEqualTo(201);

    HttpResponse<String> notBreakGlass = review("rv_deny", auditor, ordinary, "{\"outcome\":\"appropriate\"}");
    assertThat(notBreakGlass.statusCode()).isEqualTo(409);
    assertThat(notBreakGlass.body()).contains("\"error\":\"not_break_glass\"");

    HttpResponse<String> badOutcome = review("rv_deny", auditor, access, "{\"outcome\":\"fine\"}");
    assertThat(badOutcome.statusCode()).isEqualTo(400);
    assertThat(badOutcome.body()).contains("outcome is required: one of appropriate, inappropriate, needs_follow_up");
    HttpResponse<String> noNote = review("rv_deny", auditor, access, "{\"outcome\":\"inappropriate\"}");
    assertThat(noNote.statusCode()).isEqualTo(400);
    assertThat(noNote.body()).contains("note is required");

    HttpResponse<String> clinician = review("rv_deny", dr, access, "{\"outcome\":\"appropriate\"}");
    assertThat(clinician.statusCode()).isEqualTo(403);
    assertThat(clinician.body()).contains("\"error\":\"forbidden\"");

    // each on record, denied with its true reason; no allowed review of the tenant, and the access is still unreviewed
    assertThat(strings("SELECT decision || ' ' || reason || ' ' || principal || ' ' || coalesce(patient_id, '-') FROM "
        + "tenant_rv_deny.audit_log WHERE action = 'break-glass-review' ORDER BY at, audit_id")).containsExactly(
        "denied audit_row_not_found privacy-officer -", "denied audit_row_not_found privacy-officer -",
        "denied audit_row_not_found privacy-officer -", "denied not_break_glass privacy-officer pt-1",
        "denied review_malformed privacy-officer -", "denied review_malformed privacy-officer -",
        "denied role_not_allowed dr-b -");
    JsonNode unreviewed = list("rv_deny", auditor, "breakGlass=true&reviewed=false&action=context");
    assertThat(unreviewed.get("count").asInt()).isEqualTo(1);
    assertThat(unreviewed.get("entries").get(0).get("reviewed").asBoolean()).isFalse();
    // nothing the caller typed in the path is kept
    assertThat(strings("SELECT count(*) FROM tenant_rv_deny.audit_log WHERE details LIKE '%Jane%'")).containsExactly("0");
  }

  @Test
  void aSecondReviewSupersedesTheFirstAndBothStayOnRecord() throws Exception {
    String auditor = tenantWithBreakGlass("rv_twice", 1);
    String access = breakGlassRows("rv_twice").get(0);
    HttpResponse<String> first = review("rv_twice", auditor, access, "{\"outcome\":\"appropriate\"}");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    String firstId = JSON.readTree(first.body()).get("auditId").asText();
    HttpResponse<String> second = review("rv_twice", auditor, access,
        "{\"outcome\":\"inappropriate\",\"note\":\"no emergency documented; referred to the privacy committee\"}");
    assertThat(second.statusCode()).as(second.body()).isEqualTo(201);
    JsonNode answer = JSON.readTree(second.body());
    assertThat(answer.get("supersedesAuditId").asText()).isEqualTo(firstId);

    assertThat(reviewRows("rv_twice")).containsExactly(
        "allowed appropriate pt-1 {\"reviewedAuditId\":\"" + access + "\",\"outcome\":\"appropriate\"}",
        "allowed inappropriate pt-1 {\"reviewedAuditId\":\"" + access + "\",\"outcome\":\"inappropriate\","
            + "\"supersedesAuditId\":\"" + firstId + "\"}");
    JsonNode row = list("rv_twice", auditor, "breakGlass=true&reviewed=true").get("entries").get(0);
    assertThat(row.get("reviewAuditId").asText()).isEqualTo(answer.get("auditId").asText());
    assertThat(row.get("reviewOutcome").asText()).isEqualTo("inappropriate");
  }

  @Test
  void concurrentReviewsOfOneAccessFormOneSupersedingLineAndTheChainVerifies() throws Exception {
    String auditor = tenantWithBreakGlass("rv_race", 1);
    String access = breakGlassRows("rv_race").get(0);
    int n = 6;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<HttpResponse<String>>> answers = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          return review("rv_race", auditor, access, "{\"outcome\":\"appropriate\"}");
        }));
      }
      go.countDown();
      Set<String> ids = new HashSet<>();
      Set<String> superseded = new HashSet<>();
      int firsts = 0;
      for (Future<HttpResponse<String>> f : answers) {
        HttpResponse<String> r = f.get();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode a = JSON.readTree(r.body());
        ids.add(a.get("auditId").asText());
        if (a.has("supersedesAuditId")) {
          superseded.add(a.get("supersedesAuditId").asText());
        } else {
          firsts++;
        }
      }
      // one line: one review supersedes none, each other supersedes a different one, and one is superseded by none
      assertThat(firsts).isEqualTo(1);
      assertThat(superseded).hasSize(n - 1);
      assertThat(ids).containsAll(superseded);
      Set<String> latest = new HashSet<>(ids);
      latest.removeAll(superseded);
      assertThat(latest).hasSize(1);
      JsonNode row = list("rv_race", auditor, "breakGlass=true&action=context").get("entries").get(0);
      assertThat(row.get("reviewAuditId").asText()).isEqualTo(latest.iterator().next());
    } finally {
      pool.shutdownNow();
    }
    assertThat(app.call("GET", "/v1/rv_race/audit/verify", auditor, null).body()).contains("\"valid\":true");
  }

  @Test
  void theReviewedFilterListsWhatIsStillToReviewAndPagesBoundToIt() throws Exception {
    String auditor = tenantWithBreakGlass("rv_list", 3);
    List<String> accesses = breakGlassRows("rv_list");
    assertThat(accesses).hasSize(3);
    assertThat(review("rv_list", auditor, accesses.get(1), "{\"outcome\":\"appropriate\"}").statusCode()).isEqualTo(201);

    JsonNode open = list("rv_list", auditor, "breakGlass=true&reviewed=false&action=context");
    assertThat(ids(open)).containsExactlyInAnyOrder(accesses.get(0), accesses.get(2));
    JsonNode done = list("rv_list", auditor, "breakGlass=true&reviewed=true");
    assertThat(ids(done)).containsExactly(accesses.get(1));
    // reviewed alone lists break-glass rows as well
    assertThat(ids(list("rv_list", auditor, "reviewed=false&action=context")))
        .containsExactlyInAnyOrder(accesses.get(0), accesses.get(2));

    // paging: a page of one, then the rest with the same filters; the token binds reviewed too
    JsonNode page1 = list("rv_list", auditor, "breakGlass=true&reviewed=false&action=context&limit=1");
    String next = page1.get("next").asText();
    JsonNode page2 = list("rv_list", auditor, "breakGlass=true&reviewed=false&action=context&limit=1&after=" + next);
    List<String> paged = new ArrayList<>(ids(page1));
    paged.addAll(ids(page2));
    assertThat(paged).containsExactlyInAnyOrder(accesses.get(0), accesses.get(2));
    HttpResponse<String> otherFilter = app.call("GET", "/v1/rv_list/audit?breakGlass=true&action=context&limit=1&after="
        + next, auditor, null);
    assertThat(otherFilter.statusCode()).isEqualTo(400);
    assertThat(otherFilter.body()).contains("cursor_mismatch").contains("reviewed");
    HttpResponse<String> otherState = app.call("GET", "/v1/rv_list/audit?breakGlass=true&reviewed=true&action=context"
        + "&limit=1&after=" + next, auditor, null);
    assertThat(otherState.body()).contains("cursor_mismatch");

    HttpResponse<String> bad = app.call("GET", "/v1/rv_list/audit?reviewed=yes", auditor, null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("reviewed must be true");
    HttpResponse<String> contradiction = app.call("GET", "/v1/rv_list/audit?breakGlass=false&reviewed=false", auditor,
        null);
    assertThat(contradiction.statusCode()).isEqualTo(400);
    assertThat(contradiction.body()).contains("reviewed lists break-glass rows only");
    // a listing's own row keeps the reviewed filter
    assertThat(strings("SELECT count(*) FROM tenant_rv_list.audit_log WHERE action = 'audit-read' "
        + "AND details LIKE '%\"reviewed\":false%'")).isNotEqualTo(List.of("0"));
    // a row that is not break-glass says nothing of reviews
    JsonNode plain = list("rv_list", auditor, "breakGlass=false&limit=1");
    assertThat(plain.get("entries").get(0).has("reviewed")).isFalse();
  }

  static List<String> ids(JsonNode listing) {
    List<String> out = new ArrayList<>();
    listing.get("entries").forEach(e -> out.add(e.get("auditId").asText()));
    return out;
  }

  @Test
  void theExportNamesTheReviewedAccessAndVerifyFindsAReviewAlteredAsOwner() throws Exception {
    String auditor = tenantWithBreakGlass("rv_export", 1);
    String access = breakGlassRows("rv_export").get(0);
    HttpResponse<String> r = review("rv_export", auditor, access, "{\"outcome\":\"inappropriate\",\"note\":\"" + NOTE + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    String reviewId = JSON.readTree(r.body()).get("auditId").asText();

    HttpResponse<String> export = app.call("GET", "/v1/rv_export/audit/export", auditor, null);
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.body()).doesNotContain("ED physician");
    JsonNode event = null;
    for (String line : export.body().split("\n")) {
      JsonNode e = JSON.readTree(line);
      if (e.get("id").asText().equals(reviewId)) {
        event = e;
      }
    }
    assertThat(event).isNotNull();
    assertThat(event.at("/type/code").asText()).isEqualTo("110101");
    assertThat(event.at("/action").asText()).isEqualTo("C");
    assertThat(event.at("/outcome").asText()).isEqualTo("0");
    assertThat(event.at("/outcomeDesc").asText()).isEqualTo("inappropriate");
    assertThat(event.get("subtype").toString()).contains("break-glass-review");
    assertThat(event.get("entity").toString()).contains("\"reference\":\"AuditEvent/" + access + "\"")
        .contains("\"code\":\"13\"").contains("\"valueString\":\"inappropriate\"")
        .contains("\"reference\":\"Patient/pt-1\"");

    assertThat(app.call("GET", "/v1/rv_export/audit/verify", auditor, null).body()).contains("\"valid\":true");
    // an insider with the owner's rights turns the outcome around: verify finds the review row
    TestPostgres.changeAuditRows(app.database, "tenant_rv_export", "UPDATE tenant_rv_export.audit_log SET reason = "
        + "'appropriate', details = replace(details, 'inappropriate', 'appropriate') WHERE audit_id = '" + reviewId + "'");
    HttpResponse<String> broken = app.call("GET", "/v1/rv_export/audit/verify", auditor, null);
    assertThat(broken.body()).contains("\"valid\":false").contains("\"auditId\":\"" + reviewId + "\"")
        .contains("\"problem\":\"row\"");
  }

  @Test
  void theDatabaseRefusesAnAllowedReviewThatNamesNoRow() throws Exception {
    tenantWithBreakGlass("rv_form", 0);
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_rv_form.audit_log (audit_id, shard, seq, at, principal, action, decision, "
          + "reason, details, prev_hash, row_hash) VALUES (gen_random_uuid(), 0, 1000000, now(), 'x', "
          + "'break-glass-review', 'allowed', 'appropriate', '{}', '\\x00', '\\x00')");
      throw new AssertionError("inserted");
    } catch (SQLException e) {
      assertThat(e.getSQLState()).isEqualTo("23514");
      assertThat(e.getMessage()).contains("audit_log_review_form");
    }
  }

  /**
   * A key may hold auditor beside clinician: the one who broke the glass does not judge its own access (its
   * principal made the row), refused 403 self_review and on record; another auditor reviews it.
   */
  @Test
  void whoBrokeTheGlassDoesNotReviewItsOwnAccess() throws Exception {
    String auditor = tenantWithBreakGlass("rv_self", 0);
    String both = app.tenantWithKey("rv_self", "dr-both", "[\"clinician\",\"auditor\"]", "\"practitionerId\":\"pr-3\"");
    HttpResponse<String> access = BreakGlassSettingsIT.breakGlass(both, "rv_self", null);
    assertThat(access.statusCode()).as(access.body()).isEqualTo(200);
    String row = breakGlassRows("rv_self").get(0);

    HttpResponse<String> own = review("rv_self", both, row, "{\"outcome\":\"appropriate\"}");
    assertThat(own.statusCode()).isEqualTo(403);
    assertThat(own.body()).contains("\"error\":\"self_review\"").contains("someone other than who made it");
    assertThat(strings("SELECT decision || ' ' || reason || ' ' || principal || ' ' || patient_id || ' ' || details "
        + "FROM tenant_rv_self.audit_log WHERE action = 'break-glass-review'"))
        .containsExactly("denied self_review dr-both pt-1 {\"reviewedAuditId\":\"" + row + "\"}");
    assertThat(list("rv_self", auditor, "reviewed=false&action=context").get("count").asInt()).isEqualTo(1);

    assertThat(review("rv_self", auditor, row, "{\"outcome\":\"appropriate\"}").statusCode()).isEqualTo(201);
    assertThat(list("rv_self", auditor, "reviewed=true&action=context").get("count").asInt()).isEqualTo(1);
  }

  /**
   * The listing of what is still to review on a trail of 100,000 rows, 50 of them break-glass, as the owner plans
   * it: the break-glass rows are found by tenant migration 76's partial index (at) WHERE break_glass, and each one's
   * latest review by the reviews' index; without the first the listing walked the whole trail by time.
   */
  @Test
  void stillToReviewReadsTheBreakGlassRowsOnlyOnALongTrail() throws Exception {
    tenantWithBreakGlass("rv_plan", 0);
    String t = "tenant_rv_plan.audit_log";
    // the same form as AuditLog.list for ?breakGlass=true&reviewed=false (LATEST_REVIEW, REVIEWS, REVIEWED)
    String listing = "SELECT a.*, rv.review_id, rv.review_outcome FROM " + t + " a LEFT JOIN LATERAL (SELECT "
        + "r.audit_id AS review_id, r.reason AS review_outcome FROM " + t + " r WHERE a.break_glass AND "
        + "r.action = 'break-glass-review' AND r.decision = 'allowed' AND ((r.details::jsonb) ->> 'reviewedAuditId') "
        + "= a.audit_id::text ORDER BY r.at DESC, r.audit_id DESC LIMIT 1) rv ON true WHERE true AND break_glass = true "
        + "AND break_glass AND rv.review_id IS NULL ORDER BY at DESC, audit_id LIMIT 1000";
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("INSERT INTO " + t + " (audit_id, shard, seq, at, principal, action, decision, reason, break_glass, "
          + "details, prev_hash, row_hash) SELECT gen_random_uuid(), 7, 1000000 + g, now() - g * interval '1 second', "
          + "'dr', 'context', 'allowed', 'ok', g % 2000 = 0, '{}', '\\x00', '\\x00' FROM generate_series(1, 100000) g");
      st.execute("ANALYZE " + t);
      String indexed = plan(st, listing);
      st.execute("BEGIN");
      st.execute("DROP INDEX tenant_rv_plan.audit_log_break_glass_idx");
      String walked = plan(st, listing);
      st.execute("ROLLBACK");
      System.out.println("reviewed=false on 100,000 rows, 50 break-glass:\n" + indexed + "\nwithout the index:\n" + walked);
      assertThat(indexed).contains("audit_log_break_glass_idx").contains("audit_log_reviewed_idx")
          .doesNotContain("Seq Scan").doesNotContain("audit_log_at_idx");
      assertThat(rows(indexed, "audit_log_break_glass_idx")).isEqualTo(50);
    }
  }

  static String plan(Statement st, String sql) throws SQLException {
    StringBuilder out = new StringBuilder();
    try (ResultSet rs = st.executeQuery("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql)) {
      while (rs.next()) {
        out.append(rs.getString(1)).append('\n');
      }
    }
    return out.toString();
  }

  /** The actual rows of the plan's node that scans {@code index}. */
  static int rows(String plan, String index) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(index + " on .*actual rows=(\\d+)")
        .matcher(plan);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }
}
