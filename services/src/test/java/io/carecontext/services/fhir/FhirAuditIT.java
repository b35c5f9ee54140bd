package io.carecontext.services.fhir;

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
 * FHIR reads and writes in the audit trail. A read hands out a whole resource, the patient's name,
 * birth date and identifiers with it: like every other access to PHI it is audited, allowed or not,
 * with its true reason, and it returns nothing when its audit row cannot be written. A write stores
 * PHI: one row a patient whose record it created, changed or deleted, written in the write's own
 * transaction, so a write and its record commit together or not at all.
 */
class FhirAuditIT {

  static TestServer app;
  static String ehr;
  static String clinician;
  static final String FHIR = "application/fhir+json";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("clinic", "ehr-feed", "[\"ehr-integration\"]", null);
    clinician = app.tenantWithKey("clinic", "dr-read", "[\"clinician\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> fhir(String method, String path, String body) {
    return app.call(method, "/fhir/clinic" + path, ehr, body, FHIR);
  }

  /** The audit rows of the tenant, oldest first: action, decision, reason, patient, principal. */
  static List<String> auditRows() throws SQLException {
    return rows("SELECT action, decision, reason, coalesce(patient_id, '-'), principal "
        + "FROM tenant_clinic.audit_log ORDER BY at, seq");
  }

  /** Each row of {@code sql}, its columns joined by spaces. */
  static List<String> rows(String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder(rs.getString(1));
        for (int i = 2; i <= columns; i++) {
          row.append(' ').append(rs.getString(i));
        }
        rows.add(row.toString());
      }
    }
    return rows;
  }

  @Test
  void readsAndVersionReadsAreAuditedWithTheirPatientAndTrueReason() throws SQLException {
    assertThat(fhir("PUT", "/Patient/pt-audit", "{\"resourceType\":\"Patient\",\"id\":\"pt-audit\","
        + "\"name\":[{\"family\":\"Synthetic\"}],\"birthDate\":\"1901-02-03\"}").statusCode()).isEqualTo(201);
    assertThat(fhir("PUT", "/Observation/obs-audit", "{\"resourceType\":\"Observation\",\"id\":\"obs-audit\","
        + "\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/pt-audit\"}}")
        .statusCode()).isEqualTo(201);
    List<String> before = auditRows();

    assertThat(fhir("GET", "/Patient/pt-audit", null).statusCode()).isEqualTo(200);
    assertThat(fhir("GET", "/Observation/obs-audit/_history/1", null).statusCode()).isEqualTo(200);
    assertThat(fhir("GET", "/Patient/pt-never", null).statusCode()).isEqualTo(404);
    assertThat(fhir("GET", "/Patient/pt-never/_history/1", null).statusCode()).isEqualTo(404);
    assertThat(fhir("GET", "/Observation/obs-never", null).statusCode()).isEqualTo(404);
    assertThat(fhir("DELETE", "/Observation/obs-audit", null).statusCode()).isEqualTo(204);
    assertThat(fhir("GET", "/Observation/obs-audit", null).statusCode()).isEqualTo(410);

    List<String> rows = auditRows();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "fhir-read allowed allowed pt-audit ehr-feed",
        "fhir-read allowed allowed pt-audit ehr-feed",
        // a probe for a patient's record names the patient its path names, so that patient's accounting lists it;
        // an unknown record of another type names no patient (its path says none)
        "fhir-read denied unknown_resource pt-never ehr-feed",
        "fhir-read denied unknown_resource pt-never ehr-feed",
        "fhir-read denied unknown_resource - ehr-feed",
        "fhir-write allowed allowed pt-audit ehr-feed", // the DELETE
        "fhir-read denied deleted pt-audit ehr-feed");
  }

  /**
   * A read's row names what it handed out, as a write's names what it stored: with the patient alone an
   * accounting of disclosures could not tell the Patient from any of its records, nor which version was
   * read, and a read of a resource in no patient's compartment (a Practitioner) said nothing at all.
   */
  @Test
  void aReadRecordsTheResourceAndVersionItHandedOut() throws SQLException {
    assertThat(fhir("PUT", "/Patient/pt-what", "{\"resourceType\":\"Patient\",\"id\":\"pt-what\"}").statusCode())
        .isEqualTo(201);
    assertThat(fhir("PUT", "/Observation/obs-what", "{\"resourceType\":\"Observation\",\"id\":\"obs-what\","
        + "\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/pt-what\"}}")
        .statusCode()).isEqualTo(201);
    assertThat(fhir("PUT", "/Observation/obs-what", "{\"resourceType\":\"Observation\",\"id\":\"obs-what\","
        + "\"status\":\"final\",\"code\":{\"text\":\"y\"},\"subject\":{\"reference\":\"Patient/pt-what\"}}")
        .statusCode()).isEqualTo(200);
    assertThat(fhir("PUT", "/Practitioner/pr-what", "{\"resourceType\":\"Practitioner\",\"id\":\"pr-what\"}")
        .statusCode()).isEqualTo(201);
    String reads = "SELECT coalesce(patient_id, '-'), reason, details FROM tenant_clinic.audit_log "
        + "WHERE action = 'fhir-read' ORDER BY at, seq";
    int before = rows(reads).size();

    assertThat(fhir("GET", "/Observation/obs-what", null).statusCode()).isEqualTo(200);
    assertThat(fhir("GET", "/Observation/obs-what/_history/1", null).statusCode()).isEqualTo(200);
    assertThat(fhir("GET", "/Practitioner/pr-what", null).statusCode()).isEqualTo(200);
    assertThat(fhir("DELETE", "/Observation/obs-what", null).statusCode()).isEqualTo(204);
    assertThat(fhir("GET", "/Observation/obs-what", null).statusCode()).isEqualTo(410);

    List<String> rows = rows(reads);
    assertThat(rows.subList(before, rows.size())).containsExactly(
        "pt-what allowed {\"resources\":[\"Observation/obs-what/_history/2\"]}",
        // a vread says so, so the export tells it from a read (BALP's restful interaction vread)
        "pt-what allowed {\"interaction\":\"vread\",\"resources\":[\"Observation/obs-what/_history/1\"]}",
        "- allowed {\"resources\":[\"Practitioner/pr-what/_history/1\"]}",
        "pt-what deleted {\"resources\":[\"Observation/obs-what/_history/3\"]}");
  }

  @Test
  void aConditionalCreateThatAnswersWithTheStoredResourceIsAudited() throws SQLException {
    String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test:mrn\",\"value\":\"SYN-1\"}],"
        + "\"name\":[{\"family\":\"Synthetic\"}]}";
    HttpResponse<String> created = app.call("POST", "/fhir/clinic/Patient", ehr, patient, FHIR,
        Map.of("If-None-Exist", "identifier=urn:test:mrn|SYN-1"));
    assertThat(created.statusCode()).isEqualTo(201);
    String id = created.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1");
    List<String> before = auditRows();
    HttpResponse<String> matched = app.call("POST", "/fhir/clinic/Patient", ehr, patient, FHIR,
        Map.of("If-None-Exist", "identifier=urn:test:mrn|SYN-1"));
    assertThat(matched.statusCode()).isEqualTo(200);
    assertThat(matched.body()).contains("Synthetic");
    List<String> rows = auditRows();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly("fhir-read allowed allowed " + id + " ehr-feed");
  }

  /**
   * A conditional create in a transaction or batch that matched hands out the existing resource's id and
   * version (its Location, and with Prefer: return=OperationOutcome an issue naming it): the identifier
   * matched on (an MRN) tells the key which record is that patient's, as the single conditional create's
   * match does, which is recorded as a read. The Bundle's match left no row at all. One read row for each
   * entry that matched a stored resource, naming its patient and version; an entry that matched one this
   * same Bundle created is the Bundle's own write, recorded as such.
   */
  @Test
  void aConditionalCreateThatMatchedInABundleIsAuditedAsTheReadItIs() throws SQLException {
    String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test:mrn\",\"value\":\"SYN-B%s\"}]}";
    HttpResponse<String> created = app.call("POST", "/fhir/clinic/Patient", ehr, patient.formatted("1"), FHIR);
    assertThat(created.statusCode()).isEqualTo(201);
    String id = created.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1");
    String entry = "{\"resource\":" + patient + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
        + "\"ifNoneExist\":\"identifier=urn:test:mrn|SYN-B%s\"}}";
    for (String type : List.of("transaction", "batch")) {
      List<String> before = auditRows();
      HttpResponse<String> r = fhir("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
          + entry.formatted("1", "1") + "," + entry.formatted(type, type) + "," + entry.formatted(type, type) + "]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("Patient/" + id + "/_history/1");
      List<String> rows = auditRows();
      List<String> added = rows.subList(before.size(), rows.size());
      assertThat(added).as(type).filteredOn(row -> row.startsWith("fhir-read"))
          .containsExactly("fhir-read allowed allowed " + id + " ehr-feed");
      assertThat(count("SELECT count(*) FROM tenant_clinic.audit_log WHERE action = 'fhir-read' AND patient_id = '"
          + id + "' AND details LIKE '%\"Patient/" + id + "/_history/1\"%'")).isPositive();
    }
  }

  @Test
  void aReadWhoseAuditRowCannotBeWrittenReturnsNothing() throws SQLException {
    assertThat(fhir("PUT", "/Patient/pt-closed", "{\"resourceType\":\"Patient\",\"id\":\"pt-closed\","
        + "\"name\":[{\"family\":\"Unreturned\"}]}").statusCode()).isEqualTo(201);
    superuser("ALTER TABLE tenant_clinic.audit_log ADD CONSTRAINT no_reads CHECK (action <> 'fhir-read') NOT VALID");
    try {
      HttpResponse<String> r = fhir("GET", "/Patient/pt-closed", null);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).doesNotContain("Unreturned").contains("OperationOutcome");
    } finally {
      superuser("ALTER TABLE tenant_clinic.audit_log DROP CONSTRAINT no_reads");
    }
  }

  @Test
  void aWriteWhoseAuditRowCannotBeWrittenStoresNothingAndSaysSo() throws SQLException {
    // It answered 500 "the server failed to handle the request": nothing said that nothing was
    // stored, or that the feed should send it again.
    superuser("ALTER TABLE tenant_clinic.audit_log ADD CONSTRAINT no_writes CHECK (action <> 'fhir-write') NOT VALID");
    try {
      HttpResponse<String> r = fhir("PUT", "/Patient/pt-unaudited", "{\"resourceType\":\"Patient\",\"id\":\"pt-unaudited\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).contains("5");
      assertThat(r.body()).contains("OperationOutcome").contains("\"transient\"")
          .contains("could not be audited, so nothing was returned or stored");
    } finally {
      superuser("ALTER TABLE tenant_clinic.audit_log DROP CONSTRAINT no_writes");
    }
    assertThat(count("SELECT count(*) FROM tenant_clinic.resources WHERE resource_id = 'pt-unaudited'")).isZero();
  }

  /** A key of the tenant without the role that may read FHIR: refused, and the attempt is in the trail. */
  @Test
  void aReadByAKeyWithoutTheRoleIsAuditedAsRefused() throws SQLException {
    assertThat(fhir("PUT", "/Patient/pt-role", "{\"resourceType\":\"Patient\",\"id\":\"pt-role\"}").statusCode())
        .isEqualTo(201);
    List<String> before = auditRows();
    assertThat(app.call("GET", "/fhir/clinic/Patient/pt-role", clinician, null, FHIR).statusCode()).isEqualTo(403);
    assertThat(app.call("GET", "/fhir/clinic/Patient/pt-role/_history/1", clinician, null, FHIR).statusCode())
        .isEqualTo(403);
    List<String> rows = auditRows();
    // with the patient the Patient/{id} path names, as the allowed read's row has it
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "fhir-read denied role_not_allowed pt-role dr-read", "fhir-read denied role_not_allowed pt-role dr-read");
  }

  /** The write rows of the tenant, oldest first: decision, patient, principal, details, reason. */
  static List<String> writeRows() throws SQLException {
    return rows("SELECT decision, coalesce(patient_id, '-'), principal, details, reason "
        + "FROM tenant_clinic.audit_log WHERE action = 'fhir-write' ORDER BY at, seq");
  }

  static List<String> since(List<String> before) throws SQLException {
    List<String> rows = writeRows();
    return rows.subList(before.size(), rows.size());
  }

  @Test
  void aBundleIsRecordedOnceForEachPatientItTouched() throws SQLException {
    List<String> before = writeRows();
    String bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"wa-1"},"request":{"method":"PUT","url":"Patient/wa-1"}},
          {"resource":{"resourceType":"Observation","id":"wa-1-obs","status":"final","code":{"text":"x"},
             "subject":{"reference":"Patient/wa-1"}},"request":{"method":"PUT","url":"Observation/wa-1-obs"}},
          {"resource":{"resourceType":"Patient","id":"wa-2"},"request":{"method":"PUT","url":"Patient/wa-2"}},
          {"resource":{"resourceType":"Practitioner","id":"wa-pr"},"request":{"method":"PUT","url":"Practitioner/wa-pr"}}]}""";
    assertThat(fhir("POST", "", bundle).statusCode()).isEqualTo(200);
    List<String> rows = since(before);
    assertThat(rows).hasSize(3);
    assertThat(rows.get(0)).startsWith("allowed wa-1 ehr-feed").contains("\"created\":2").contains("\"updated\":0")
        .contains("\"Patient/wa-1/_history/1\"").contains("\"Observation/wa-1-obs/_history/1\"");
    assertThat(rows.get(1)).startsWith("allowed wa-2 ehr-feed").contains("\"created\":1");
    assertThat(rows.get(2)).startsWith("allowed - ehr-feed").contains("\"Practitioner/wa-pr/_history/1\"");
    // one write extends one chain head: its rows hold one head, not one each, until it commits
    assertThat(count("SELECT count(DISTINCT shard) FROM tenant_clinic.audit_log WHERE action = 'fhir-write' "
        + "AND (details LIKE '%Patient/wa-1/_history/1%' OR details LIKE '%Patient/wa-2/_history/1%' "
        + "OR details LIKE '%Practitioner/wa-pr/_history/1%')")).isEqualTo(1);
    // the same Bundle again changes nothing, and is recorded as sent and left unchanged: a write
    // attempt is an access to the record too
    assertThat(fhir("POST", "", bundle).statusCode()).isEqualTo(200);
    rows = since(before);
    assertThat(rows).hasSize(6);
    assertThat(rows.get(3)).startsWith("allowed wa-1 ehr-feed").contains("\"unchanged\":2")
        .contains("\"created\":0").contains("\"updated\":0").contains("\"Patient/wa-1/_history/1\"");
    assertThat(rows.get(5)).startsWith("allowed - ehr-feed").contains("\"unchanged\":1");
    assertThat(fhir("PUT", "/Patient/wa-2", "{\"resourceType\":\"Patient\",\"id\":\"wa-2\",\"gender\":\"male\"}")
        .statusCode()).isEqualTo(200);
    assertThat(fhir("DELETE", "/Observation/wa-1-obs", null).statusCode()).isEqualTo(204);
    rows = since(before);
    assertThat(rows).hasSize(8);
    assertThat(rows.get(6)).startsWith("allowed wa-2 ehr-feed").contains("\"updated\":1")
        .contains("\"unchanged\":0").contains("\"Patient/wa-2/_history/2\"");
    assertThat(rows.get(7)).startsWith("allowed wa-1 ehr-feed").contains("\"deleted\":1")
        .contains("\"Observation/wa-1-obs/_history/2\"");
    // a delete of what is not there touches no record and records nothing
    assertThat(fhir("DELETE", "/Observation/wa-never", null).statusCode()).isEqualTo(204);
    assertThat(since(before)).hasSize(8);
    // who changed this patient's record: the listing filters by action too
    String listed = app.call("GET", "/v1/clinic/audit?action=fhir-write&patient=wa-2", auditor(), null).body();
    assertThat(listed).contains("\"count\":3").contains("\"action\":\"fhir-write\"")
        .doesNotContain("\"action\":\"audit-read\"");
    // the trail still verifies, and its export files these as IHE BALP's RESTful create, update and delete
    assertThat(app.call("GET", "/v1/clinic/audit/verify", auditor(), null).body()).contains("\"valid\":true");
    assertThat(app.call("GET", "/v1/clinic/audit/export", auditor(), null).body())
        .contains("\"code\":\"rest\"").contains("\"code\":\"create\"").contains("\"code\":\"delete\"").contains("\"code\":\"fhir-write\"").contains("\"action\":\"C\"")
        .contains("\"action\":\"U\"").contains("\"action\":\"D\"");
  }

  /**
   * An update that moves a resource to another patient (its subject changed) takes it out of the
   * first patient's record: that patient's trail must show the change, or a feed could strip a
   * record (an allergy, a diagnosis) with nothing under that patient but the resource's creation.
   */
  @Test
  void aResourceMovedToAnotherPatientIsRecordedForBoth() throws SQLException {
    String obs = "{\"resourceType\":\"Observation\",\"id\":\"wa-moved\",\"status\":\"final\","
        + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s\"}}";
    assertThat(fhir("PUT", "/Observation/wa-moved", obs.formatted("wa-from")).statusCode()).isEqualTo(201);
    List<String> before = writeRows();
    assertThat(fhir("PUT", "/Observation/wa-moved", obs.formatted("wa-to")).statusCode()).isEqualTo(200);
    List<String> rows = since(before);
    assertThat(rows).hasSize(2);
    assertThat(rows).anySatisfy(r -> assertThat(r).startsWith("allowed wa-to ehr-feed")
        .contains("\"updated\":1").contains("\"Observation/wa-moved/_history/2\""));
    assertThat(rows).anySatisfy(r -> assertThat(r).startsWith("allowed wa-from ehr-feed")
        .contains("\"updated\":1").contains("\"Observation/wa-moved/_history/2\""));
    String listed = app.call("GET", "/v1/clinic/audit?action=fhir-write&patient=wa-from", auditor(), null).body();
    assertThat(listed).contains("\"count\":2").contains("Observation/wa-moved/_history/2");
    assertThat(app.call("GET", "/v1/clinic/audit/verify", auditor(), null).body()).contains("\"valid\":true");
  }

  /**
   * A write refused for what it sent stores nothing, and is in the trail as refused, with no
   * resources: an integration that keeps sending what cannot be stored, or a key probing versions
   * with If-Match, was invisible there (it recorded nothing).
   */
  @Test
  void aRefusedTransactionStoresNothingAndIsRecordedAsRefused() throws SQLException {
    List<String> before = writeRows();
    String bad = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"wa-bad"},"request":{"method":"PUT","url":"Patient/wa-bad"}},
          {"resource":{"resourceType":"Observation","id":"wa-bad-obs","status":"not-a-status","code":{"text":"x"}},
           "request":{"method":"PUT","url":"Observation/wa-bad-obs"}}]}""";
    assertThat(fhir("POST", "", bad).statusCode()).isBetween(400, 499);
    assertThat(since(before)).singleElement().satisfies(r -> assertThat(r).matches(
        "denied - ehr-feed \\{} (invalid_request|unprocessable_resource)"));
    assertThat(fhir("GET", "/Patient/wa-bad", null).statusCode()).isEqualTo(404);
    // a version conflict names the path's patient; a body of another type, none
    assertThat(fhir("PUT", "/Patient/wa-bad-v", "{\"resourceType\":\"Patient\",\"id\":\"wa-bad-v\"}").statusCode())
        .isEqualTo(201);
    assertThat(app.call("PUT", "/fhir/clinic/Patient/wa-bad-v", ehr, "{\"resourceType\":\"Patient\",\"id\":\"wa-bad-v\","
        + "\"gender\":\"other\"}", FHIR, java.util.Map.of("If-Match", "W/\"7\"")).statusCode()).isEqualTo(412);
    assertThat(fhir("POST", "/Observation", "{\"resourceType\":\"Patient\"}").statusCode()).isEqualTo(400);
    List<String> rows = since(before);
    assertThat(rows).hasSize(4);
    assertThat(rows.get(1)).startsWith("allowed wa-bad-v ehr-feed").endsWith(" allowed");
    assertThat(rows.subList(2, 4)).containsExactly("denied wa-bad-v ehr-feed {} version_conflict",
        "denied - ehr-feed {} invalid_request");
    assertThat(app.call("GET", "/v1/clinic/audit/verify", auditor(), null).body()).contains("\"valid\":true");
  }

  /**
   * A batch answers 200 whatever its entries' fate, and an import 200 while any line was stored: the
   * entries and lines they refused are in the trail as refused writes, one row a reason with how many.
   * They left no row at all, so a feed whose every batch entry was refused was invisible there, while
   * the same entries sent as a transaction or one at a time were recorded.
   */
  /** A batch entry refused for a period that ends before it starts (FHIR per-1) is recorded as refused. */
  @Test
  void aBatchEntryWithAnInvertedPeriodIsRecordedAsRefused() throws SQLException {
    List<String> before = writeRows();
    HttpResponse<String> answer = fhir("POST", "", """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","id":"wa-per"},"request":{"method":"PUT","url":"Patient/wa-per"}},
          {"resource":{"resourceType":"CareTeam","id":"wa-per-ct","status":"active","subject":{"reference":"Patient/wa-per"},
             "period":{"start":"2030-01-02","end":"2030-01-01"}},"request":{"method":"PUT","url":"CareTeam/wa-per-ct"}}]}""");
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).contains("201 Created", "422 Unprocessable Entity", "CareTeam.period: end is before start");
    List<String> rows = since(before);
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).startsWith("allowed wa-per ehr-feed");
    assertThat(rows.get(1)).isEqualTo("denied - ehr-feed {\"refusedEntries\":1} unprocessable_resource");
  }

  @Test
  void theRefusedEntriesOfABatchAndLinesOfAnImportAreRecordedAsRefused() throws SQLException {
    List<String> before = writeRows();
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","id":"wa-batch"},"request":{"method":"PUT","url":"Patient/wa-batch"}},
          {"resource":{"resourceType":"Observation","status":"not-a-status","code":{"text":"x"},
             "subject":{"reference":"Patient/wa-batch"}},"request":{"method":"POST","url":"Observation"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},
           "request":{"method":"POST","url":"Observation"}},
          {"request":{"method":"GET","url":"Patient/wa-batch"}}]}""";
    HttpResponse<String> answer = fhir("POST", "", batch);
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).contains("201 Created", "400 Bad Request", "422 Unprocessable Entity");
    List<String> rows = since(before);
    assertThat(rows).hasSize(3);
    assertThat(rows.get(0)).startsWith("allowed wa-batch ehr-feed");
    assertThat(rows.subList(1, 3)).containsExactly("denied - ehr-feed {\"refusedEntries\":2} invalid_request",
        "denied - ehr-feed {\"refusedEntries\":1} unprocessable_resource");

    // a batch of which nothing was refused adds no refusal row
    before = writeRows();
    assertThat(fhir("POST", "", """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","id":"wa-batch"},"request":{"method":"PUT","url":"Patient/wa-batch"}}]}""")
        .statusCode()).isEqualTo(200);
    assertThat(since(before)).singleElement().satisfies(r -> assertThat(r).startsWith("allowed"));

    before = writeRows();
    HttpResponse<String> imported = app.call("POST", "/fhir/clinic/$import", ehr,
        "{\"resourceType\":\"Patient\",\"id\":\"wa-import\"}\nnot a resource\n{\"resourceType\":\"Flurb\"}\n",
        "application/fhir+ndjson");
    assertThat(imported.statusCode()).isEqualTo(200);
    rows = since(before);
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).startsWith("allowed wa-import ehr-feed");
    assertThat(rows.get(1)).isEqualTo("denied - ehr-feed {\"failedLines\":2} invalid_request");
    assertThat(app.call("GET", "/v1/clinic/audit/verify", auditor(), null).body()).contains("\"valid\":true");
  }

  /**
   * A batch entry whose audit rows cannot be written stores nothing, and the batch says so in that entry
   * alone: it answered the whole request 503 "nothing was stored" after the entries before it had been
   * stored and recorded, and a feed that sent the batch again created its POST entries twice.
   */
  @Test
  void aBatchEntryWhoseAuditRowCannotBeWrittenIsAnsweredAloneAfterOthersWereStored() throws SQLException {
    List<String> before = writeRows();
    superuser("ALTER TABLE tenant_clinic.audit_log ADD CONSTRAINT no_mid_batch CHECK (action <> 'fhir-write' "
        + "OR patient_id IS DISTINCT FROM 'wa-mid-2') NOT VALID");
    HttpResponse<String> r;
    try {
      r = fhir("POST", "", """
          {"resourceType":"Bundle","type":"batch","entry":[
            {"resource":{"resourceType":"Patient","id":"wa-mid-1"},"request":{"method":"PUT","url":"Patient/wa-mid-1"}},
            {"resource":{"resourceType":"Patient","id":"wa-mid-2"},"request":{"method":"PUT","url":"Patient/wa-mid-2"}},
            {"resource":{"resourceType":"Patient","id":"wa-mid-3"},"request":{"method":"PUT","url":"Patient/wa-mid-3"}}]}""");
    } finally {
      superuser("ALTER TABLE tenant_clinic.audit_log DROP CONSTRAINT no_mid_batch");
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("201 Created", "503 Service Unavailable", "bundle entry 1: it could not be stored or "
        + "recorded in the audit trail, so nothing of it was stored").doesNotContain("wa-mid-2\"");
    assertThat(count("SELECT count(*) FROM tenant_clinic.resources WHERE resource_id IN ('wa-mid-1', 'wa-mid-3')"))
        .isEqualTo(2);
    assertThat(count("SELECT count(*) FROM tenant_clinic.resources WHERE resource_id = 'wa-mid-2'")).isZero();
    assertThat(since(before)).hasSize(2).allSatisfy(row -> assertThat(row).startsWith("allowed wa-mid-"));
  }

  @Test
  void aWriteWhoseAuditRowCannotBeWrittenIsNotStored() throws SQLException {
    superuser("ALTER TABLE tenant_clinic.audit_log ADD CONSTRAINT no_writes CHECK (action <> 'fhir-write') NOT VALID");
    try {
      HttpResponse<String> r = fhir("PUT", "/Patient/wa-closed", "{\"resourceType\":\"Patient\",\"id\":\"wa-closed\"}");
      assertThat(r.statusCode()).isGreaterThanOrEqualTo(500);
      assertThat(r.body()).contains("OperationOutcome");
    } finally {
      superuser("ALTER TABLE tenant_clinic.audit_log DROP CONSTRAINT no_writes");
    }
    assertThat(fhir("GET", "/Patient/wa-closed", null).statusCode()).isEqualTo(404);
    assertThat(count("SELECT count(*) FROM tenant_clinic.resources WHERE resource_id = 'wa-closed'")).isZero();
  }

  /** A write by a key without the role, or by another tenant's key, is refused and in the trail with its reason. */
  @Test
  void aRefusedWriteIsRecordedWithItsReason() throws SQLException {
    String clinician = app.tenantWithKey("clinic", "dr-writes", "[\"clinician\"]", null);
    String elsewhere = app.tenantWithKey("otherplace", "ehr-elsewhere", "[\"ehr-integration\"]", null);
    List<String> before = writeRows();
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"wa-refused\"}";
    assertThat(app.call("PUT", "/fhir/clinic/Patient/wa-refused", clinician, patient, FHIR).statusCode())
        .isEqualTo(403);
    assertThat(app.call("DELETE", "/fhir/clinic/Patient/wa-1", clinician, null, FHIR).statusCode()).isEqualTo(403);
    assertThat(since(before)).containsExactly("denied wa-refused dr-writes {} role_not_allowed",
        "denied wa-1 dr-writes {} role_not_allowed");
    assertThat(app.call("PUT", "/fhir/clinic/Patient/wa-refused", elsewhere, patient, FHIR).statusCode())
        .isEqualTo(404);
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT reason FROM tenant_otherplace.audit_log WHERE action = 'fhir-write'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("other_tenant");
    }
    assertThat(fhir("GET", "/Patient/wa-refused", null).statusCode()).isEqualTo(404);
  }

  /**
   * A key refused on FHIR in a loop — a body that cannot be stored, a read of what is not there, a key
   * without the role — added a row a request, without bound, and held the audit writer every tenant's
   * reads wait on. Each kind now adds at most the budget of the patient paths (a burst of 30, then 30 a
   * minute, per key), with the same answer every time; the next row says how many were left out, and
   * what the key is allowed to do is recorded whatever the budget.
   */
  @Test
  void aKeyRefusedInALoopAddsABoundedNumberOfRowsAndStillRecordsWhatItMayDo() throws Exception {
    String looping = app.tenantWithKey("clinic", "ehr-loop", "[\"ehr-integration\"]", null);
    String noRole = app.tenantWithKey("clinic", "dr-loop", "[\"clinician\"]", null);
    String broken = "{\"resourceType\":\"Patient\",";
    long started = System.nanoTime();
    HttpResponse<String> first = app.call("PUT", "/fhir/clinic/Patient/loop-1", looping, broken, FHIR);
    for (int i = 1; i < 45; i++) {
      HttpResponse<String> again = app.call("PUT", "/fhir/clinic/Patient/loop-1", looping, broken, FHIR);
      assertThat(again.statusCode()).isEqualTo(400);
      assertThat(again.body()).isEqualTo(first.body()); // the refusal itself is unchanged past the budget
      assertThat(app.call("GET", "/fhir/clinic/Observation/loop-missing", looping, null, FHIR).statusCode())
          .isEqualTo(404);
      assertThat(app.call("GET", "/fhir/clinic/Patient/loop-1", noRole, null, FHIR).statusCode()).isEqualTo(403);
    }
    // the burst, and a row for each refill (one every 2 s) while the loop ran: its 135 requests can outlast a few
    // on a busy machine, and a fixed bound of 33 failed there
    int most = 30 + (int) ((System.nanoTime() - started) / 2_000_000_000L);
    assertThat(first.statusCode()).isEqualTo(400);
    String writes = "principal = 'ehr-loop' AND action = 'fhir-write' AND reason = 'invalid_request'";
    int recorded = count("SELECT count(*) FROM tenant_clinic.audit_log WHERE " + writes);
    assertThat(recorded).isBetween(30, most);
    assertThat(count("SELECT count(*) FROM tenant_clinic.audit_log WHERE principal = 'ehr-loop' "
        + "AND reason = 'unknown_resource'")).isBetween(30, most);
    assertThat(count("SELECT count(*) FROM tenant_clinic.audit_log WHERE principal = 'dr-loop' "
        + "AND reason = 'role_not_allowed'")).isBetween(30, most);

    // allowed accesses are never held back by the budget of the key's refusals
    assertThat(fhirAs(looping, "PUT", "/Patient/loop-1", "{\"resourceType\":\"Patient\",\"id\":\"loop-1\"}")
        .statusCode()).isEqualTo(201);
    assertThat(fhirAs(looping, "GET", "/Patient/loop-1", null).statusCode()).isEqualTo(200);
    assertThat(rows("SELECT action || ' ' || reason FROM tenant_clinic.audit_log WHERE principal = 'ehr-loop' "
        + "AND decision = 'allowed' ORDER BY at, seq")).containsExactly("fhir-write allowed", "fhir-read allowed");

    Thread.sleep(2_500); // the budget refills at one row every 2 s
    assertThat(app.call("PUT", "/fhir/clinic/Patient/loop-1", looping, broken, FHIR).body()).isEqualTo(first.body());
    List<String> details = rows("SELECT details FROM tenant_clinic.audit_log WHERE " + writes + " ORDER BY at, seq");
    assertThat(details).hasSize(recorded + 1);
    assertThat(details.get(details.size() - 1)).contains(recorded < 45 ? "\"unrecordedBefore\":" : "");
    // every refusal is a row or counted in one (a row the refill let through during the loop counts those before it)
    int counted = details.stream().mapToInt(FhirAuditIT::unrecordedBefore).sum();
    assertThat(counted).isEqualTo(45 - recorded);
  }

  static int unrecordedBefore(String details) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"unrecordedBefore\":(\\d+)").matcher(details);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  static HttpResponse<String> fhirAs(String key, String method, String path, String body) {
    return app.call(method, "/fhir/clinic" + path, key, body, FHIR);
  }

  static String auditorKey;

  static synchronized String auditor() {
    if (auditorKey == null) {
      auditorKey = app.tenantWithKey("clinic", "aud", "[\"auditor\"]", null);
    }
    return auditorKey;
  }

  static int count(String sql) throws SQLException {
    return Integer.parseInt(rows(sql).get(0));
  }

  static void superuser(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
