package io.carecontext.services.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.PatientRows;
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
 * {@code POST /admin/tenants/{t}/patients/{id}/erase} end to end: a patient ingested with several resource types,
 * a Consent, a CareTeam and an Encounter, embedded, found by research (a subject code) and opened by break-glass
 * is erased whole; another patient keeps everything; the erased patient's context is the 404 of a patient never
 * stored; its accounting still lists the old rows and the erasure's; the chain verifies; a retry is harmless; a
 * refused call erases nothing and is in the trail with its reason.
 */
class PatientErasureApiIT {

  static TestServer app;
  static String ehr;
  static String admin;
  static String clinician;
  static String auditor;
  static String researcher;
  static final String T = "erasure";
  static final String FHIR = "application/fhir+json";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_AUDIT_SEAL_SECONDS", "3600"));
    ehr = app.tenantWithKey(T, "ehr-feed", "[\"ehr-integration\"]", null);
    admin = app.tenantWithKey(T, "privacy-officer", "[\"tenant-admin\"]", null);
    clinician = app.tenantWithKey(T, "dr-er", "[\"clinician\"]", "\"practitionerId\":\"pr-er\"");
    auditor = app.tenantWithKey(T, "auditor", "[\"auditor\"]", null);
    researcher = app.tenantWithKey(T, "researcher", "[\"researcher\"]", null);
    for (String p : List.of("p-erase", "p-keep")) {
      for (String[] r : new String[][] {
          {"Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\",\"identifier\":[{\"system\":\"urn:mrn\","
              + "\"value\":\"MRN-" + p + "\"}],\"name\":[{\"family\":\"Synthetic\",\"given\":[\"Erin\"]}]}"},
          {"Condition/cn-" + p, "{\"resourceType\":\"Condition\",\"id\":\"cn-" + p + "\",\"subject\":{\"reference\":"
              + "\"Patient/" + p + "\"},\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"44054006\","
              + "\"display\":\"Type 2 diabetes mellitus\"}]}}"},
          {"Observation/ob-" + p, "{\"resourceType\":\"Observation\",\"id\":\"ob-" + p + "\",\"status\":\"final\","
              + "\"code\":{\"text\":\"HbA1c diabetes control\"},\"subject\":{\"reference\":\"Patient/" + p + "\"},"
              + "\"valueQuantity\":{\"value\":7.2,\"unit\":\"%\"}}"},
          {"CareTeam/ct-" + p, "{\"resourceType\":\"CareTeam\",\"id\":\"ct-" + p + "\",\"status\":\"active\",\"subject\":"
              + "{\"reference\":\"Patient/" + p + "\"},\"participant\":[{\"member\":{\"reference\":\"Practitioner/pr-team\"}}]}"},
          {"Consent/cs-" + p, "{\"resourceType\":\"Consent\",\"id\":\"cs-" + p + "\",\"status\":\"active\",\"scope\":"
              + "{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"
              + "\"category\":[{\"coding\":[{\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":\"Patient/" + p + "\"},"
              + "\"provision\":{\"type\":\"permit\"}}"}}) {
        HttpResponse<String> put = app.call("PUT", "/fhir/" + T + "/" + r[0], ehr, r[1], FHIR);
        assertThat(put.statusCode()).as(r[0] + " " + put.body()).isEqualTo(201);
      }
    }
    app.bean(EmbeddingWorker.class).drain(TenantId.of(T));
    app.researchOn(T);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> erase(String key, String tenant, String patient, String body) {
    return app.call("POST", "/admin/tenants/" + tenant + "/patients/" + patient + "/erase", key, body);
  }

  static HttpResponse<String> context(String patient) {
    return app.call("POST", "/v1/" + T + "/patients/" + patient + "/context", clinician,
        "{\"query\":\"diabetes\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"unresponsive in the ED\"}");
  }

  /** What each table of the tenant holds of the patient, counted as the owner (past RLS). */
  static Map<String, Integer> held(String p) throws SQLException {
    return PatientRows.held(app.database, "tenant_" + T, p);
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(app.database, sql);
  }

  /** The trail's rows about erasures: decision, reason, patient, principal, details. */
  static List<String> erasureRows() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT decision || ' ' || reason || ' ' || coalesce(patient_id, '-') || ' ' "
            + "|| principal || ' ' || (justification_enc IS NOT NULL) || ' ' || details FROM tenant_" + T
            + ".audit_log WHERE action = 'patient-erase' ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @Test
  void aTenantAdminErasesAPatientWholeAndTheTrailKeepsItsAccounting() throws SQLException {
    // the read and research paths leave a break-glass window and a research subject code of each patient
    for (String p : List.of("p-erase", "p-keep")) {
      HttpResponse<String> read = context(p);
      assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    }
    HttpResponse<String> search = app.call("POST", "/v1/" + T + "/research/search", researcher,
        "{\"query\":\"diabetes\",\"purposeOfUse\":\"HRESCH\"}");
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    Map<String, Integer> kept = held("p-keep");
    assertThat(held("p-erase")).as("the patient's record is there before (its queue drained)").allSatisfy((table, n) ->
        assertThat(n).as(table).isGreaterThanOrEqualTo(table.equals("outbox") ? 0 : 1));

    HttpResponse<String> r = erase(admin, T, "p-erase",
        "{\"reason\":\"chart of Erin Synthetic misfiled; EHR ticket 4711\"}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"tenant\":\"erasure\"", "\"patient\":\"p-erase\"", "\"resources\":5",
        "\"consents\":1", "\"breakGlassWindows\":1", "\"researchSubjects\":1", "\"auditId\":\"")
        .contains("\"retained\":\"the audit trail: every row that named this patient stays")
        .doesNotContain("misfiled", "Erin");
    assertThat(held("p-erase")).as("nothing of the patient is left").allSatisfy((table, n) ->
        assertThat(n).as(table).isZero());
    assertThat(held("p-keep")).as("the other patient keeps everything").isEqualTo(kept);
    String auditId = r.body().replaceAll("(?s).*\"auditId\":\"([^\"]+)\".*", "$1");
    assertThat(count("SELECT count(*) FROM tenant_" + T + ".audit_log WHERE audit_id::text = '" + auditId + "'")).isEqualTo(1);
    assertThat(erasureRows()).filteredOn(row -> row.startsWith("allowed ")).singleElement().satisfies(row -> assertThat(row)
        .startsWith("allowed erased p-erase privacy-officer true {").contains("\"resources\":5", "\"chunks\":")
        .doesNotContain("misfiled"));

    // the erased patient's context is the answer for a patient never stored
    HttpResponse<String> gone = context("p-erase");
    HttpResponse<String> never = context("p-never");
    assertThat(gone.statusCode()).isEqualTo(404).isEqualTo(never.statusCode());
    assertThat(gone.body().replace("p-erase", "p-never")).isEqualTo(never.body());
    assertThat(app.call("GET", "/fhir/" + T + "/Patient/p-erase", ehr, null, FHIR).statusCode()).isEqualTo(404);

    // the accounting still lists the rows from before, and the erasure
    HttpResponse<String> accounting = app.call("GET", "/v1/" + T + "/audit?patient=p-erase", auditor, null);
    assertThat(accounting.statusCode()).as(accounting.body()).isEqualTo(200);
    assertThat(accounting.body()).contains("\"action\":\"fhir-write\"", "\"action\":\"context\"",
        "\"action\":\"patient-erase\"");
    // by id only, as the answer's retained says: the MRN's key went with the record (the other patient's still works)
    assertThat(app.call("GET", "/v1/" + T + "/audit?patientIdentifier=urn:mrn%7CMRN-p-erase", auditor, null).body())
        .isEqualTo("{\"entries\":[],\"count\":0,\"limit\":1000}");
    assertThat(app.call("GET", "/v1/" + T + "/audit?patientIdentifier=urn:mrn%7CMRN-p-keep", auditor, null).body())
        .contains("\"patient\":\"p-keep\"");
    HttpResponse<String> verify = app.call("GET", "/v1/" + T + "/audit/verify", auditor, null);
    assertThat(verify.body()).as(verify.body()).contains("\"valid\":true");

    // a retry erases nothing, answers zero counts and is recorded
    HttpResponse<String> again = erase(admin, T, "p-erase", "{\"reason\":\"retry\"}");
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.body()).contains("\"resources\":0", "\"chunks\":0");
    assertThat(held("p-keep")).isEqualTo(kept);
    assertThat(erasureRows()).filteredOn(row -> row.startsWith("allowed ")).hasSize(2)
        .allMatch(row -> row.contains(" p-erase "));

    // the EHR may send the patient again: it is stored anew
    assertThat(app.call("PUT", "/fhir/" + T + "/Patient/p-erase", ehr,
        "{\"resourceType\":\"Patient\",\"id\":\"p-erase\"}", FHIR).statusCode()).isEqualTo(201);
  }

  @Test
  void aRefusedErasureChangesNothingAndIsRecordedWithItsReason() throws SQLException {
    Map<String, Integer> before = held("p-keep");
    int rows = erasureRows().size();
    HttpResponse<String> noReason = erase(admin, T, "p-keep", "{}");
    assertThat(noReason.statusCode()).isEqualTo(400);
    assertThat(noReason.body()).contains("\"error\"", "\"message\"", "reason");
    assertThat(erase(admin, T, "p-keep", "{\"reason\":\"   \"}").statusCode()).isEqualTo(400);
    // a zero-width space passed strip(), and a NUL was kept as the reason the privacy officer reads (FreeText)
    assertThat(erase(admin, T, "p-keep", "{\"reason\":\"\\u200b\"}").statusCode()).isEqualTo(400);
    HttpResponse<String> control = erase(admin, T, "p-keep", "{\"reason\":\"misfiled\\u0000 chart\"}");
    assertThat(control.statusCode()).isEqualTo(400);
    assertThat(control.body()).contains("holds a control character").doesNotContain("misfiled");
    assertThat(erase(admin, T, "p-keep", "not json").statusCode()).isEqualTo(400);
    assertThat(erase(admin, T, "p-keep", "{\"reason\":\"x\",\"everything\":true}").statusCode()).isEqualTo(400);
    HttpResponse<String> wrongRole = erase(clinician, T, "p-keep", "{\"reason\":\"x\"}");
    assertThat(wrongRole.statusCode()).isEqualTo(403);
    HttpResponse<String> operator = erase(app.adminKey(), T, "p-keep", "{\"reason\":\"x\"}");
    assertThat(operator.statusCode()).isEqualTo(403);
    assertThat(operator.body()).contains("tenant-admin key");
    String otherAdmin = app.tenantWithKey("elsewhere", "other-admin", "[\"tenant-admin\"]", null);
    assertThat(erase(otherAdmin, T, "p-keep", "{\"reason\":\"x\"}").statusCode()).isEqualTo(404);
    assertThat(held("p-keep")).isEqualTo(before);
    assertThat(erasureRows().subList(rows, erasureRows().size())).containsExactly(
        "denied reason_missing p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied reason_missing p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied reason_missing p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied reason_malformed p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied body_malformed p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied body_malformed p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied role_not_allowed p-keep dr-er false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}",
        "denied platform_operator p-keep platform-admin false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}");
    // another tenant's admin is recorded in its own tenant's trail, naming no patient of this one
    assertThat(count("SELECT count(*) FROM tenant_elsewhere.audit_log WHERE action = 'patient-erase' "
        + "AND reason = 'other_tenant' AND patient_id IS NULL")).isEqualTo(1);
  }
  /**
   * A key the service admitted that the database no longer admits for the erasure (revoked or expired between the
   * check and the transaction; here the tenant's key view made to drop the tenant-admin role, as a superuser can):
   * nothing is erased, the answer is a 403 {"error","message"}, and the refusal is in the trail with its true
   * reason, key_not_admitted, as a FHIR write's is. It was answered and recorded nowhere.
   */
  @Test
  void aKeyTheDatabaseNoLongerAdmitsErasesNothingAndIsRecorded() throws SQLException {
    Map<String, Integer> before = held("p-keep");
    int rows = erasureRows().size();
    String view = "tenant_" + T + ".caller_key";
    String definition = TestPostgres.superuserString(app.database, "SELECT pg_get_viewdef('" + view + "'::regclass)")
        .strip().replaceAll(";$", "");
    TestPostgres.superuserExecute(app.database, "CREATE OR REPLACE VIEW " + view + " WITH (security_barrier) AS "
        + "SELECT * FROM (" + definition + ") k WHERE NOT k.roles && '{tenant-admin}'::text[]");
    HttpResponse<String> r;
    try {
      r = erase(admin, T, "p-keep", "{\"reason\":\"x\"}");
    } finally {
      TestPostgres.superuserExecute(app.database, "CREATE OR REPLACE VIEW " + view + " WITH (security_barrier) AS "
          + definition);
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.body()).contains("\"error\"", "\"message\"", "nothing was erased");
    assertThat(held("p-keep")).isEqualTo(before);
    assertThat(erasureRows().subList(rows, erasureRows().size())).containsExactly(
        "denied key_not_admitted p-keep privacy-officer false {\"route\":\"/admin/tenants/erasure/patients/{id}/erase\","
            + "\"method\":\"POST\"}");
  }

  /**
   * The erasure's own row cannot be written (here a trigger the owner adds refuses it): the erasure rolls back with
   * it, so nothing is erased, and the caller hears a 503 to retry, as a context query that could not be audited does.
   * It was a bare 500.
   */
  @Test
  void anErasureWhoseRowCannotBeWrittenErasesNothingAndAsksForARetry() throws SQLException {
    Map<String, Integer> before = held("p-keep");
    int rows = erasureRows().size();
    String s = "tenant_" + T;
    TestPostgres.superuserExecute(app.database, "CREATE FUNCTION " + s + ".refuse_erase() RETURNS trigger "
        + "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$; CREATE TRIGGER refuse_erase BEFORE INSERT ON "
        + s + ".audit_log FOR EACH ROW WHEN (NEW.action = 'patient-erase' AND NEW.decision = 'allowed') "
        + "EXECUTE FUNCTION " + s + ".refuse_erase()");
    HttpResponse<String> r;
    try {
      r = erase(admin, T, "p-keep", "{\"reason\":\"misfiled chart\"}");
    } finally {
      TestPostgres.superuserExecute(app.database, "DROP TRIGGER refuse_erase ON " + s + ".audit_log; DROP FUNCTION "
          + s + ".refuse_erase()");
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.headers().firstValue("retry-after")).contains("5");
    assertThat(r.body()).contains("\"error\":\"unavailable\"", "nothing was erased").doesNotContain("misfiled");
    assertThat(held("p-keep")).isEqualTo(before);
    assertThat(erasureRows()).hasSize(rows);
  }
}
