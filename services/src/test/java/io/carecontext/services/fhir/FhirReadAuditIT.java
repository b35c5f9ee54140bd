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
 * A FHIR read hands out a whole resource, the patient's name, birth date and identifiers with it:
 * like every other access to PHI it is audited, allowed or not, with its true reason, and it returns
 * nothing when its audit row cannot be written.
 */
class FhirReadAuditIT {

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
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT action, decision, reason, coalesce(patient_id, '-'), principal "
            + "FROM tenant_clinic.audit_log ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4) + " "
            + rs.getString(5));
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
    assertThat(fhir("DELETE", "/Observation/obs-audit", null).statusCode()).isEqualTo(204);
    assertThat(fhir("GET", "/Observation/obs-audit", null).statusCode()).isEqualTo(410);

    List<String> rows = auditRows();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "fhir-read allowed allowed pt-audit ehr-feed",
        "fhir-read allowed allowed pt-audit ehr-feed",
        "fhir-read denied unknown_resource - ehr-feed",
        "fhir-write allowed allowed pt-audit ehr-feed", // the DELETE (FhirWriteAuditIT)
        "fhir-read denied deleted pt-audit ehr-feed");
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
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "fhir-read denied role_not_allowed - dr-read", "fhir-read denied role_not_allowed - dr-read");
  }

  static void superuser(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
