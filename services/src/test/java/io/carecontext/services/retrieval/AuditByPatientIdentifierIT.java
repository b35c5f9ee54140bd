package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A patient's accounting asked by the MRN the EHR sent ({@code ?patientIdentifier=system|value}), as a patient who
 * writes in knows it: the listing answers exactly the rows {@code ?patient=} answers for each Patient stored under that
 * identifier (an MRN two merged records share names both), resolved in the database through the identifier index's
 * keyed hashes; the MRN is in no row, and no answer; a malformed identifier, or one sent with {@code patient}, is a 400
 * naming the parameter; one that names no patient is the empty answer of an unknown id; the export takes it too.
 */
class AuditByPatientIdentifierIT {

  static TestServer app;
  static String ehr;
  static String auditor;
  static String clinician;
  static final String T = "himacct";
  static final String FHIR = "application/fhir+json";
  static final String MRN = "MRN-4471";
  /** The identifier as a query value: urn:mrn|MRN-4471, its '|' encoded. */
  static final String BY_MRN = "patientIdentifier=urn:mrn%7C" + MRN;
  static Instant before;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_AUDIT_SEAL_SECONDS", "3600"));
    ehr = app.tenantWithKey(T, "ehr-feed", "[\"ehr-integration\"]", null);
    auditor = app.tenantWithKey(T, "privacy-office", "[\"auditor\"]", null);
    clinician = app.tenantWithKey(T, "dr-him", "[\"clinician\"]", "\"practitionerId\":\"pr-him\"");
    // two records of one person the EHR has not merged yet share the MRN; a third patient has another; a fourth was
    // sent with a local identifier that has no system
    put("pa-1", "{\"system\":\"urn:mrn\",\"value\":\"" + MRN + "\"}");
    put("pa-2", "{\"system\":\"urn:mrn\",\"value\":\"" + MRN + "\"}");
    put("pb", "{\"system\":\"urn:mrn\",\"value\":\"MRN-9\"}");
    put("pc", "{\"value\":\"LOCAL-7\"}");
    for (String p : List.of("pa-1", "pa-2", "pb", "pc")) {
      HttpResponse<String> read = app.call("GET", "/fhir/" + T + "/Patient/" + p, ehr, null);
      assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    }
    before = Instant.now();
  }

  static void put(String id, String identifier) {
    HttpResponse<String> put = app.call("PUT", "/fhir/" + T + "/Patient/" + id, ehr, "{\"resourceType\":\"Patient\",\"id\":\""
        + id + "\",\"identifier\":[" + identifier + "],\"name\":[{\"family\":\"Synthetic\"}]}", FHIR);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> list(String query) {
    return app.call("GET", "/v1/" + T + "/audit?" + query, auditor, null);
  }

  static final Pattern AUDIT_ID = Pattern.compile("\"auditId\":\"([0-9a-f-]{36})\"");

  static List<String> auditIds(String body) {
    List<String> out = new ArrayList<>();
    Matcher m = AUDIT_ID.matcher(body);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The trail's rows as text (every column a person could read without a key), oldest first. */
  static List<String> rows(String where) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT action || ' ' || decision || ' ' || reason || ' ' || coalesce(patient_id, '-')"
             + " || ' ' || coalesce(details, '-') FROM tenant_" + T + ".audit_log WHERE " + where + " ORDER BY at, seq")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void anMrnListsExactlyTheRowsOfEveryPatientItNames() throws SQLException {
    String to = "&to=" + before;
    HttpResponse<String> one = list("patient=pa-1" + to);
    HttpResponse<String> two = list("patient=pa-2" + to);
    HttpResponse<String> byMrn = list(BY_MRN + to);

    assertThat(byMrn.statusCode()).as(byMrn.body()).isEqualTo(200);
    TreeSet<String> expected = new TreeSet<>(auditIds(one.body()));
    expected.addAll(auditIds(two.body()));
    assertThat(expected).as("each record's own rows: its write and its read").hasSizeGreaterThanOrEqualTo(4);
    assertThat(auditIds(byMrn.body())).as("the union, newest first, once each").containsExactlyInAnyOrderElementsOf(expected);
    assertThat(byMrn.body()).doesNotContain("\"pb\"", "\"pc\"", MRN);

    // the listing's own row names the first patient and the keyed hash, never the MRN; the second gets a row of its own
    List<String> own = rows("action = 'audit-read' AND details LIKE '%patientIdentifierKey%' AND patient_id = 'pa-1'");
    assertThat(own).singleElement().satisfies(r -> assertThat(r).startsWith("audit-read allowed list pa-1 {")
        .matches("(?s).*\"patientIdentifierKey\":\"[0-9a-f]{64}\".*"));
    assertThat(rows("action = 'audit-read' AND details LIKE '%listingAuditId%' AND patient_id = 'pa-2'")).singleElement()
        .satisfies(r -> assertThat(r).startsWith("audit-read allowed list pa-2 {"));
    assertThat(rows("true")).noneMatch(r -> r.contains(MRN));
    // so each patient's accounting shows that its rows were read by MRN
    assertThat(list("patient=pa-2&action=audit-read").body()).contains("\"patient\":\"pa-2\"");

    // an identifier sent without a system (|value)
    HttpResponse<String> local = list("patientIdentifier=%7CLOCAL-7" + to);
    assertThat(auditIds(local.body())).containsExactlyInAnyOrderElementsOf(auditIds(list("patient=pc" + to).body()));
  }

  /** Pages of an accounting by MRN continue it, and only it: the token is bound to the identifier (its keyed hash). */
  @Test
  void aNextTokenContinuesTheSameIdentifiersAccountingOnly() {
    String to = "&to=" + before;
    HttpResponse<String> first = list(BY_MRN + to + "&limit=2");
    assertThat(first.body()).contains("\"count\":2", "\"next\":\"");
    String next = first.body().replaceAll("(?s).*\"next\":\"([^\"]+)\".*", "$1");
    HttpResponse<String> rest = list(BY_MRN + to + "&limit=100&after=" + next);
    assertThat(rest.statusCode()).as(rest.body()).isEqualTo(200);
    List<String> paged = new ArrayList<>(auditIds(first.body()));
    paged.addAll(auditIds(rest.body()));
    assertThat(paged).containsExactlyElementsOf(auditIds(list(BY_MRN + to).body()));
    for (String other : List.of("patient=pa-1" + to, "patientIdentifier=urn:mrn%7CMRN-9" + to, to.substring(1))) {
      HttpResponse<String> r = list(other + "&after=" + next);
      assertThat(r.statusCode()).as(other).isEqualTo(400);
      assertThat(r.body()).as(other).contains("cursor_mismatch").doesNotContain(MRN);
    }
  }

  /** The identifier as the EHR sent it, exactly: the system's case and a space the EHR left in the value are the key's. */
  @Test
  void anIdentifierIsFoundExactlyAsTheEhrSentIt() {
    put("pd", "{\"system\":\"urn:MRN\",\"value\":\"MRN-55 \"}");
    assertThat(list("patientIdentifier=urn:MRN%7CMRN-55%20").body()).contains("\"patient\":\"pd\"");
    for (String other : List.of("urn:MRN%7CMRN-55", "urn:mrn%7CMRN-55%20", "%7CMRN-55%20")) {
      assertThat(list("patientIdentifier=" + other).body()).as(other).isEqualTo("{\"entries\":[],\"count\":0,\"limit\":1000}");
    }
  }

  /**
   * A research search that returned several patients' chunks is one event a patient: an accounting's export (by MRN or
   * by id) sends its own patients' events of it and no other patient's.
   */
  @Test
  void aResearchSearchOfSeveralPatientsExportsOnlyThatPatientsEvent() {
    String id = app.bean(AuditLog.class).record(TenantId.of(T), AuditEntry.of("res-him", null, List.of("researcher"),
        null, "HRESCH", "research", AuditEntry.Decision.ALLOWED, "allowed")
        .withDetail(AuditEntry.PATIENTS_DETAIL, AuditEntry.jsonStrings(List.of("pa-1", "pb", "pc")))).toString();
    for (String[] asked : new String[][] {{BY_MRN, "pa-1"}, {"patient=pb", "pb"}}) {
      String body = app.call("GET", "/v1/" + T + "/audit/export?" + asked[0], auditor, null).body();
      List<String> events = Arrays.stream(body.split("\n")).filter(l -> l.contains(id)).toList();
      assertThat(events).as(asked[0]).singleElement().satisfies(e -> {
        assertThat(e).contains("Patient/" + asked[1]);
        for (String other : List.of("pa-1", "pb", "pc")) {
          if (!other.equals(asked[1])) {
            assertThat(e).doesNotContain("Patient/" + other + "\"");
          }
        }
      });
    }
  }

  @Test
  void anIdentifierOfNoPatientIsTheEmptyAnswerOfAnUnknownId() {
    HttpResponse<String> none = list("patientIdentifier=urn:mrn%7CMRN-NOBODY");
    HttpResponse<String> unknown = list("patient=nobody-at-all");
    assertThat(none.statusCode()).isEqualTo(200);
    assertThat(none.body()).isEqualTo(unknown.body()).isEqualTo("{\"entries\":[],\"count\":0,\"limit\":1000}");
    // the system is part of the key: the MRN under another system names no one
    assertThat(list("patientIdentifier=urn:other%7C" + MRN).body()).isEqualTo(unknown.body());
  }

  @Test
  void aMalformedIdentifierOrBothPatientFiltersAreRefusedNamingTheParameter() throws SQLException {
    for (String query : List.of("patientIdentifier=" + MRN, "patientIdentifier=urn:mrn%7C",
        "patientIdentifier=urn:mrn%7CMRN%01X", "patientIdentifier=urn:mrn%7C" + "9".repeat(1_000))) {
      HttpResponse<String> r = list(query);
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(r.body()).as(query).startsWith("{\"error\":\"bad_request\",\"message\":\"patientIdentifier must be")
          .doesNotContain(MRN).doesNotContain("999");
    }
    HttpResponse<String> both = list("patient=pa-1&" + BY_MRN);
    assertThat(both.statusCode()).isEqualTo(400);
    assertThat(both.body()).contains("\"error\":\"bad_request\"", "patient", "patientIdentifier", "not both")
        .doesNotContain(MRN);
    HttpResponse<String> exportBoth = app.call("GET", "/v1/" + T + "/audit/export?patient=pa-1&" + BY_MRN, auditor, null);
    assertThat(exportBoth.statusCode()).isEqualTo(400);
    assertThat(exportBoth.body()).contains("not both");
    assertThat(rows("decision = 'denied' AND reason = 'filter_malformed'")).hasSizeGreaterThanOrEqualTo(6)
        .noneMatch(r -> r.contains(MRN));
  }

  @Test
  void aKeyWithoutTheAuditorRoleIsRefusedAndOnRecord() throws SQLException {
    HttpResponse<String> r = app.call("GET", "/v1/" + T + "/audit?" + BY_MRN, clinician, null);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).doesNotContain(MRN);
    assertThat(rows("action = 'audit-read' AND decision = 'denied' AND reason = 'role_not_allowed'")).isNotEmpty()
        .noneMatch(row -> row.contains(MRN));
  }

  @Test
  void theExportByMrnIsThePatientsAccountingAsAuditEvents() throws SQLException {
    HttpResponse<String> r = app.call("GET", "/v1/" + T + "/audit/export?" + BY_MRN, auditor, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> lines = Arrays.stream(r.body().split("\n")).filter(l -> !l.isBlank()).toList();
    assertThat(lines).as("the two records' writes and reads, and the export's own row")
        .hasSizeGreaterThanOrEqualTo(5)
        .allMatch(l -> l.contains("Patient/pa-1") || l.contains("Patient/pa-2"))
        .noneMatch(l -> l.contains("Patient/pb") || l.contains(MRN));
    assertThat(lines).anyMatch(l -> l.contains("audit-export"));
    assertThat(rows("action = 'audit-export' AND decision = 'allowed'")).hasSize(2).noneMatch(row -> row.contains(MRN))
        .anySatisfy(row -> assertThat(row).startsWith("audit-export allowed export pa-1 {").contains("patientIdentifierKey"))
        .anySatisfy(row -> assertThat(row).startsWith("audit-export allowed export pa-2 {").contains("exportAuditId"));

    HttpResponse<String> byId = app.call("GET", "/v1/" + T + "/audit/export?patient=pb", auditor, null);
    assertThat(byId.statusCode()).isEqualTo(200);
    assertThat(byId.body().split("\n")).allMatch(l -> l.contains("Patient/pb"));
  }
}
