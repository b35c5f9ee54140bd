package io.carecontext.migrations.dblayer;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Row-level security alone on the PHI tables (resources, their versions, chunks, consents, care
 * links): SQL issued directly as the role that holds the grant, with no WHERE clause, after the
 * superuser has shown the rows are there. The write path's role holds SELECT, INSERT, UPDATE and
 * DELETE on all of them, so with any settings but its own (none, another path's, the purge's) RLS is
 * the only layer between it and every patient: it must see none, change none, remove none and add
 * none. The read path sees the consents and care links of the patient in hand only; the research
 * path's consents need its own setting.
 */
class RowSecurityAloneIT {

  static TestPlatform platform;
  static DatabaseConfig config;
  static final TenantId A = TenantId.of("alpha");
  static TestPlatform.TestKey feed;
  static TestPlatform.TestKey clinician;
  static TestPlatform.TestKey researcher;

  static final List<String> PHI_TABLES = List.of("resources", "resource_versions", "chunks", "consents", "care_links");

  /** A row of each PHI table that the tenant role would add, as the write path adds them. */
  static final Map<String, String> INSERTS = Map.of(
      "resources", "INSERT INTO resources (resource_type, resource_id, version_id, patient_id, content_hash, body, "
          + "last_updated) VALUES ('Observation', 'new-obs', 1, 'p1', '\\x00', '\\x01', now())",
      "resource_versions", "INSERT INTO resource_versions (resource_type, resource_id, version_id, patient_id, "
          + "content_hash, body, last_updated) VALUES ('Observation', 'new-obs', 1, 'p1', '\\x00', '\\x01', now())",
      "chunks", "INSERT INTO chunks (resource_type, resource_id, version_id, patient_id, category, seq, text_hash, text, "
          + "model, embedding) VALUES ('Observation', 'new-obs', 1, 'p1', 'clinical', 0, '\\x00', '\\x00', 'test', '[1,0,0]')",
      "consents", "INSERT INTO consents (consent_id, patient_id, status, decision, purposes) "
          + "VALUES ('new-c', 'p1', 'active', 'deny', '{}')",
      "care_links", "INSERT INTO care_links (patient_id, practitioner_id, source_type, source_id) "
          + "VALUES ('p1', 'pr-new', 'CareTeam', 'ct-new')");

  static final Map<String, Long> COUNTS = new LinkedHashMap<>();

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    config = platform.db.config();
    platform.tenant(A.value());
    feed = platform.issueKey(A, "feed-a", List.of("ehr-integration"), null);
    clinician = platform.issueKey(A, "dr-a", List.of("clinician"), "pr-a");
    researcher = platform.issueKey(A, "res-a", List.of("researcher"), null);
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      for (String p : List.of("p1", "p2")) {
        st.executeUpdate(("INSERT INTO tenant_alpha.resources (resource_type, resource_id, version_id, patient_id, "
            + "content_hash, body, last_updated) VALUES ('Patient', '%1$s', 1, '%1$s', '\\x00', '\\x01', now()), "
            + "('Observation', 'obs-%1$s', 1, '%1$s', '\\x00', '\\x01', now())").formatted(p));
        st.executeUpdate(("INSERT INTO tenant_alpha.resource_versions (resource_type, resource_id, version_id, patient_id, "
            + "content_hash, body, last_updated) VALUES ('Observation', 'obs-%1$s', 1, '%1$s', '\\x00', '\\x01', now())")
            .formatted(p));
        st.executeUpdate(("INSERT INTO tenant_alpha.chunks (resource_type, resource_id, version_id, patient_id, category, "
            + "seq, text_hash, text, model, embedding) VALUES ('Observation', 'obs-%1$s', 1, '%1$s', 'clinical', 0, "
            + "'\\x00', '\\x00', 'test', '[1,0,0]')").formatted(p));
        st.executeUpdate(("INSERT INTO tenant_alpha.consents (consent_id, patient_id, status, decision, purposes) "
            + "VALUES ('c-%1$s', '%1$s', 'active', 'permit', '{}')").formatted(p));
        st.executeUpdate(("INSERT INTO tenant_alpha.care_links (patient_id, practitioner_id, source_type, source_id) "
            + "VALUES ('%1$s', 'pr-a', 'CareTeam', 'ct-%1$s')").formatted(p));
      }
      for (String t : PHI_TABLES) {
        COUNTS.put(t, AsRole.superuserCount(su, "SELECT count(*) FROM tenant_alpha." + t));
      }
    }
    assertThat(COUNTS.values()).allMatch(n -> n >= 2);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static Map<String, String> settings(String access, TestPlatform.TestKey key, String... more) {
    return AsRole.settings(access, key, more);
  }

  static void assertUnchanged() throws SQLException {
    try (Connection su = TestPostgres.superuser(platform.config)) {
      for (String t : PHI_TABLES) {
        assertThat(AsRole.superuserCount(su, "SELECT count(*) FROM tenant_alpha." + t)).as(t).isEqualTo(COUNTS.get(t));
      }
    }
  }

  @Test
  void theWritePathsRoleSeesChangesAndAddsNoPatientDataOutsideItsOwnSetting() throws SQLException {
    String tenant = config.tenantRole(A);
    List<String> wrong = new ArrayList<>();
    try (Connection login = platform.db.appDataSource().getConnection()) {
      // the positive control: its own setting sees every row the superuser counts
      for (String t : PHI_TABLES) {
        AsRole.Outcome o = AsRole.run(login, tenant, A.schemaName(), settings("ingest", null), "SELECT count(*) FROM " + t);
        assertThat(String.valueOf(o.value())).as(o.toString()).isEqualTo(String.valueOf(COUNTS.get(t)));
      }
      List<Map<String, String>> others = List.of(settings(null, null), settings(null, feed),
          settings("read", clinician, "cc.patients", "p1,p2", "cc.subject", "p1", "cc.practitioner", "*"),
          settings("research", clinician, "cc.purpose", "HRESCH"), settings("audit", feed),
          settings("identity", clinician, "cc.patients", "p1,p2"), settings("fhir-read", feed),
          settings("retention", feed), settings("subject-exists", feed), settings("model-probe", feed),
          settings("break-glass-settings", feed), settings("Ingest", feed), settings("ingest ", feed));
      for (Map<String, String> s : others) {
        for (String t : PHI_TABLES) {
          for (String sql : List.of("SELECT count(*) FROM " + t, "UPDATE " + t + " SET patient_id = patient_id",
              "DELETE FROM " + t)) {
            AsRole.Outcome o = AsRole.run(login, tenant, A.schemaName(), s, sql);
            if (o.error() != null || !"0".equals(String.valueOf(o.value()))) {
              wrong.add(s.get("cc.access") + ": " + o);
            }
          }
          AsRole.Outcome insert = AsRole.run(login, tenant, A.schemaName(), s, INSERTS.get(t));
          if (!insert.refused() || !insert.error().getMessage().contains("row-level security")) {
            wrong.add(s.get("cc.access") + ": " + insert);
          }
        }
      }
    }
    assertThat(wrong).isEmpty();
    assertUnchanged();
  }

  /**
   * Tenant migration 29: with its own setting, the write path removes a resource or a version only for a
   * live EHR-integration key of the tenant (TenantIsolationIT tries inserts and updates; here DELETE).
   */
  @Test
  void theWritePathRemovesNoResourceWithoutALiveEhrIntegrationKey() throws SQLException {
    try (Connection login = platform.db.appDataSource().getConnection()) {
      for (Map<String, String> s : List.of(settings("ingest", null), settings("ingest", clinician),
          settings("ingest", null, "cc.key", feed.keyId(), "cc.key_hash", clinician.secretHashHex()))) {
        for (String t : List.of("resources", "resource_versions")) {
          AsRole.Outcome o = AsRole.run(login, config.tenantRole(A), A.schemaName(), s, "DELETE FROM " + t);
          assertThat(String.valueOf(o.value())).as(o + " " + s).isEqualTo("0");
        }
      }
      AsRole.Outcome control = AsRole.run(login, config.tenantRole(A), A.schemaName(), settings("ingest", feed),
          "DELETE FROM resource_versions");
      assertThat(String.valueOf(control.value())).as(control.toString()).isEqualTo(String.valueOf(COUNTS.get("resource_versions")));
    }
    assertUnchanged();
  }

  /** The read path's consents and care links: the patient in hand (cc.subject) only, and none without its setting. */
  @Test
  void theReadPathSeesTheConsentsAndCareLinksOfThePatientInHandOnly() throws SQLException {
    String reader = config.readerRole(A);
    try (Connection login = platform.db.appDataSource().getConnection()) {
      for (String t : List.of("consents", "care_links")) {
        String sql = "SELECT string_agg(patient_id, ',' ORDER BY patient_id) FROM " + t;
        assertThat(AsRole.run(login, reader, A.schemaName(),
            settings("read", clinician, "cc.patients", "p1,p2", "cc.subject", "p1"), sql).value()).as(t).isEqualTo("p1");
        assertThat(AsRole.run(login, reader, A.schemaName(),
            settings("read", clinician, "cc.patients", "p1,p2", "cc.subject", "p2"), sql).value()).as(t).isEqualTo("p2");
        for (Map<String, String> s : List.of(settings(null, clinician, "cc.subject", "p1"),
            settings("ingest", feed, "cc.subject", "p1"), settings("research", clinician, "cc.subject", "p1"),
            settings("read", clinician, "cc.patients", "p1,p2"))) {
          AsRole.Outcome o = AsRole.run(login, reader, A.schemaName(), s, "SELECT count(*) FROM " + t);
          assertThat(String.valueOf(o.value())).as(o + " " + s).isEqualTo("0");
        }
      }
      // the patient-existence question: another patient's resources are not in the read path's rows
      assertThat(AsRole.run(login, reader, A.schemaName(), settings("read", clinician, "cc.patients", "p1",
          "cc.subject", "p1"), "SELECT string_agg(DISTINCT resource_id, ',' ORDER BY resource_id) FROM resources").value())
          .isEqualTo("obs-p1,p1");
      assertThat(String.valueOf(AsRole.run(login, reader, A.schemaName(), settings(null, clinician),
          "SELECT count(*) FROM resources").value())).isEqualTo("0");
    }
  }

  @Test
  void theResearchPathSeesNoConsentWithoutItsOwnSetting() throws SQLException {
    String research = config.researchRole(A);
    try (Connection login = platform.db.appDataSource().getConnection()) {
      for (Map<String, String> s : List.of(settings(null, clinician), settings("read", clinician, "cc.subject", "p1",
          "cc.patients", "p1"), settings("ingest", feed), settings("audit", feed))) {
        AsRole.Outcome o = AsRole.run(login, research, A.schemaName(), s, "SELECT count(*) FROM consents");
        assertThat(String.valueOf(o.value())).as(o + " " + s).isEqualTo("0");
      }
      // its own setting is not enough: the transaction must present a live researcher key of the tenant
      // (tenant migration 55), as for the chunks; a clinician's key, or none, shows no consent
      for (Map<String, String> s : List.of(settings("research", null), settings("research", clinician))) {
        AsRole.Outcome o = AsRole.run(login, research, A.schemaName(), s, "SELECT count(*) FROM consents");
        assertThat(String.valueOf(o.value())).as(o + " " + s).isEqualTo("0");
      }
      AsRole.Outcome withKey = AsRole.run(login, research, A.schemaName(), settings("research", researcher),
          "SELECT count(*) FROM consents");
      assertThat(String.valueOf(withKey.value())).as(withKey.toString()).isEqualTo(String.valueOf(COUNTS.get("consents")));
    }
  }

  /**
   * Tenant migration 56: the research role sees a chunk only while its patient's Patient resource is on
   * record, through a view of the patients on record that answers only a researcher's key. (The chunk
   * policy that reads it is proven through the research search, whose statement names no patient
   * condition at all: RetrievalIT.)
   */
  @Test
  void theResearchPathsPatientsOnRecordLeaveOutADeletedPatientAndNeedAResearchersKey() throws SQLException {
    String research = config.researchRole(A);
    String onRecord = "SELECT string_agg(patient_id, ',' ORDER BY patient_id) FROM research_patients_on_record";
    try (Connection login = platform.db.appDataSource().getConnection()) {
      assertThat(String.valueOf(AsRole.run(login, research, A.schemaName(), settings("research", researcher), onRecord)
          .value())).isEqualTo("p1,p2");
      for (Map<String, String> s : List.of(settings("research", clinician), settings("research", null),
          settings("read", researcher))) {
        assertThat(String.valueOf(AsRole.run(login, research, A.schemaName(), s, onRecord).value())).as(s.toString())
            .isEqualTo("null");
      }
      try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
        st.executeUpdate("UPDATE tenant_alpha.resources SET deleted = true WHERE resource_type = 'Patient' "
            + "AND resource_id = 'p2'");
      }
      try {
        assertThat(String.valueOf(AsRole.run(login, research, A.schemaName(), settings("research", researcher), onRecord)
            .value())).isEqualTo("p1");
      } finally {
        try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
          st.executeUpdate("UPDATE tenant_alpha.resources SET deleted = false WHERE resource_type = 'Patient' "
              + "AND resource_id = 'p2'");
        }
      }
    }
  }

  /**
   * Tenant migration 62: a patient whose registration (its Patient resource) carries a label beyond the
   * request's labels is not on record for the research path, as it does not exist for the read path.
   */
  @Test
  void theResearchPathsPatientsOnRecordLeaveOutARegistrationLabelledBeyondTheRequestsLabels() throws SQLException {
    String research = config.researchRole(A);
    String onRecord = "SELECT string_agg(patient_id, ',' ORDER BY patient_id) FROM research_patients_on_record";
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("UPDATE tenant_alpha.resources SET security_labels = '{PSY}' WHERE resource_type = 'Patient' "
          + "AND resource_id = 'p2'");
    }
    try (Connection login = platform.db.appDataSource().getConnection()) {
      assertThat(String.valueOf(AsRole.run(login, research, A.schemaName(),
          settings("research", researcher, "cc.labels", "N"), onRecord).value())).isEqualTo("p1");
      assertThat(String.valueOf(AsRole.run(login, research, A.schemaName(),
          settings("research", researcher, "cc.labels", "N,PSY"), onRecord).value())).isEqualTo("p1,p2");
    } finally {
      try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
        st.executeUpdate("UPDATE tenant_alpha.resources SET security_labels = '{}' WHERE resource_type = 'Patient' "
            + "AND resource_id = 'p2'");
      }
    }
  }
}
