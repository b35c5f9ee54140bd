package io.carecontext.migrations.dblayer;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tenant migration 77's {@code subject_pending_resources()} called directly as the read path's role, with the
 * settings a request would set and with forged ones: it runs as the owner, past RLS, so the database alone must
 * keep it to what the key's chunks would show once embedded. Patient p1 (linked to the clinician's practitioner)
 * has waiting in the outbox: an Observation and a note (counted for a clinician), a Claim (billing's only), a
 * Condition labelled HIV (a label the clinician reads, the coordinator only with a consent), a MedicationRequest
 * whose class p1's consent excludes, a deleted Procedure and a parked Immunization (never counted); p2, linked to
 * no practitioner, has an Observation waiting.
 */
class PendingResourcesIT {

  static TestPlatform platform;
  static DatabaseConfig config;
  static final TenantId A = TenantId.of("alpha");
  static final TenantId B = TenantId.of("bravo");
  static TestPlatform.TestKey clinician;
  static TestPlatform.TestKey coordinator;
  static TestPlatform.TestKey billing;
  static TestPlatform.TestKey bravoClinician;

  static final String CALL = "SELECT tenant_alpha.subject_pending_resources()";
  static final String CLINICIAN_SCOPE = "demographic,clinical,lab,medication,note";

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    config = platform.db.config();
    platform.tenant(A.value());
    platform.tenant(B.value());
    clinician = platform.issueKey(A, "dr-a", List.of("clinician"), "pr-a");
    coordinator = platform.issueKey(A, "coord-a", List.of("care-coordinator"), null);
    billing = platform.issueKey(A, "bill-a", List.of("billing"), null);
    bravoClinician = platform.issueKey(B, "dr-b", List.of("clinician"), "pr-a");
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("INSERT INTO tenant_alpha.resources (resource_type, resource_id, version_id, patient_id, "
          + "content_hash, body, last_updated, security_labels, deleted) VALUES "
          + "('Observation', 'obs-1', 1, 'p1', '\\x00', '\\x01', now(), '{}', false), "
          + "('DocumentReference', 'doc-1', 1, 'p1', '\\x00', '\\x01', now(), '{}', false), "
          + "('Claim', 'claim-1', 1, 'p1', '\\x00', '\\x01', now(), '{}', false), "
          + "('Condition', 'hiv-1', 1, 'p1', '\\x00', '\\x01', now(), '{HIV}', false), "
          + "('MedicationRequest', 'med-1', 1, 'p1', '\\x00', '\\x01', now(), '{}', false), "
          + "('Procedure', 'gone-1', 1, 'p1', '\\x00', '\\x01', now(), '{}', true), "
          + "('Immunization', 'parked-1', 1, 'p1', '\\x00', '\\x01', now(), '{}', false), "
          + "('Observation', 'obs-2', 1, 'p2', '\\x00', '\\x01', now(), '{}', false)");
      st.executeUpdate("INSERT INTO tenant_alpha.outbox (resource_type, resource_id, version_id, operation, parked_at) "
          + "SELECT resource_type, resource_id, 1, 'index', CASE WHEN resource_id = 'parked-1' THEN now() END "
          + "FROM tenant_alpha.resources");
      st.executeUpdate("INSERT INTO tenant_alpha.consents (consent_id, patient_id, status, decision, purposes, "
          + "denied_classes) VALUES ('c-1', 'p1', 'active', 'permit', '{}', '{MedicationRequest}'), "
          + "('c-2', 'p2', 'active', 'permit', '{}', '{}')");
      st.executeUpdate("INSERT INTO tenant_alpha.care_links (patient_id, practitioner_id, source_type, source_id) "
          + "VALUES ('p1', 'pr-a', 'CareTeam', 'ct-1')");
      // the clinician's break-glass window on p2, open now: the chunks would be its, the count is not asked there
      st.executeUpdate("INSERT INTO tenant_alpha.break_glass (key_id, patient_id, expires_at) VALUES ('"
          + clinician.keyId() + "', 'p2', now() + interval '30 minutes')");
    }
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /** A clinician's request about p1 as the read path sets it; {@code more} replaces or adds settings. */
  static Map<String, String> clinicianRead(String... more) {
    Map<String, String> s = AsRole.settings("read", clinician, "cc.subject", "p1", "cc.patients", "p1",
        "cc.practitioner", "pr-a", "cc.purpose", "TREAT", "cc.categories", CLINICIAN_SCOPE, "cc.types", "*",
        "cc.labels", "N,R,V,HIV,PSY,ETH,SUD,SDV,STD", "cc.consent_override", "off");
    for (int i = 0; i < more.length; i += 2) {
      s.put(more[i], more[i + 1]);
    }
    return s;
  }

  static Object count(TenantId as, Map<String, String> settings) throws SQLException {
    try (Connection login = platform.db.appDataSource().getConnection()) {
      AsRole.Outcome o = AsRole.run(login, config.readerRole(as), as.schemaName(), settings, CALL);
      assertThat(o.error() == null).as(o.toString()).isTrue();
      return o.value();
    }
  }

  @Test
  void aRequestWithinItsScopeCountsWhatItCouldReadOnceEmbedded() throws SQLException {
    // the observation, the note and the HIV-labelled condition: not the claim (administrative), the excluded
    // class, the deleted or the parked one, nor p2's
    assertThat(count(A, clinicianRead())).isEqualTo(3);
    assertThat(count(A, AsRole.settings("read", coordinator, "cc.subject", "p1", "cc.patients", "p1",
        "cc.practitioner", "*", "cc.purpose", "TREAT", "cc.categories", CLINICIAN_SCOPE, "cc.types", "*",
        "cc.labels", "N,R", "cc.consent_labels", "HIV,PSY,ETH,SUD,SDV,STD", "cc.consent_override", "off")))
        .as("HIV is the coordinator's only with the patient's explicit consent").isEqualTo(2);
    assertThat(count(A, AsRole.settings("read", billing, "cc.subject", "p1", "cc.patients", "p1",
        "cc.practitioner", "*", "cc.purpose", "HPAYMT", "cc.categories", "administrative",
        "cc.types", "Coverage,Claim,ExplanationOfBenefit,Encounter", "cc.labels", "N,R", "cc.consent_override", "off")))
        .as("billing: the claim alone").isEqualTo(1);
  }

  @Test
  void forgedSettingsCountNothing() throws SQLException {
    Map<String, Map<String, String>> forged = new java.util.LinkedHashMap<>();
    forged.put("another patient, outside the care relationship", clinicianRead("cc.subject", "p2", "cc.patients", "p2"));
    forged.put("a subject outside the request's patients", clinicianRead("cc.subject", "p2"));
    forged.put("any practitioner for a role that requires care (break-glass without a window)",
        clinicianRead("cc.practitioner", "*", "cc.subject", "p2", "cc.patients", "p2"));
    forged.put("any practitioner under ETREAT with no window open", clinicianRead("cc.practitioner", "*",
        "cc.purpose", "ETREAT", "cc.consent_override", "on"));
    forged.put("break-glass inside an open window", clinicianRead("cc.practitioner", "*", "cc.purpose", "ETREAT",
        "cc.consent_override", "on", "cc.subject", "p2", "cc.patients", "p2"));
    forged.put("another key's practitioner", clinicianRead("cc.practitioner", "pr-other"));
    forged.put("a wrong secret hash", clinicianRead("cc.key_hash", "00"));
    forged.put("no key", clinicianRead("cc.key", "nobody"));
    forged.put("another tenant's key", clinicianRead("cc.key", bravoClinician.keyId(),
        "cc.key_hash", bravoClinician.secretHashHex()));
    forged.put("a purpose the role does not have", clinicianRead("cc.purpose", "HPAYMT"));
    forged.put("another path's access", clinicianRead("cc.access", "research"));
    forged.put("the function's own access", clinicianRead("cc.access", "pending-count"));
    forged.put("the coordinator with a label it reads only with consent",
        AsRole.settings("read", coordinator, "cc.subject", "p1", "cc.patients", "p1", "cc.practitioner", "*",
            "cc.purpose", "TREAT", "cc.categories", CLINICIAN_SCOPE, "cc.types", "*", "cc.labels", "N,R,HIV"));
    forged.put("billing with a category it does not read", AsRole.settings("read", billing, "cc.subject", "p1",
        "cc.patients", "p1", "cc.practitioner", "*", "cc.purpose", "HPAYMT", "cc.categories", "administrative,note",
        "cc.types", "Coverage,Claim,ExplanationOfBenefit,Encounter", "cc.labels", "N,R"));
    forged.put("billing with every type", AsRole.settings("read", billing, "cc.subject", "p1", "cc.patients", "p1",
        "cc.practitioner", "*", "cc.purpose", "HPAYMT", "cc.categories", "administrative", "cc.types", "*",
        "cc.labels", "N,R"));
    Map<String, Object> counted = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Map<String, String>> f : forged.entrySet()) {
      counted.put(f.getKey(), count(A, f.getValue()));
    }
    assertThat(counted).allSatisfy((what, n) -> assertThat(n).as(what).isEqualTo(0));
  }

  @Test
  void theConsentsExcludedClassAndLabelsTheRoleMayNotReadAreNotCounted() throws SQLException {
    // the clinician's own scope without HIV: the labelled condition drops out; the excluded class never counted
    assertThat(count(A, clinicianRead("cc.labels", "N,R"))).isEqualTo(2);
    // only the medication category: its one pending resource is the consent-excluded MedicationRequest
    assertThat(count(A, clinicianRead("cc.categories", "medication"))).isEqualTo(0);
  }

  /**
   * The function's care-link check is a copy of care_links_in_force's conditions (V60), by hand (V77's
   * care_links_pending_count policy): for each kind of link, it admits the patient exactly when the read path's own
   * check (the reader's EXISTS over care_links, under care_links_read and care_links_in_force) finds the link. A
   * change to one without the other shows here.
   */
  @Test
  void itAdmitsThePatientExactlyWhenTheReadPathsCareLinkCheckDoes() throws SQLException {
    TestPlatform.TestKey linked = platform.issueKey(A, "dr-m", List.of("clinician"), "pr-m");
    Map<String, String> settings = AsRole.settings("read", linked, "cc.subject", "p1", "cc.patients", "p1",
        "cc.practitioner", "pr-m", "cc.purpose", "TREAT", "cc.categories", CLINICIAN_SCOPE, "cc.types", "*",
        "cc.labels", "N,R,V,HIV,PSY,ETH,SUD,SDV,STD", "cc.consent_override", "off");
    String readPath = "SELECT EXISTS (SELECT 1 FROM tenant_alpha.care_links WHERE patient_id = 'p1' "
        + "AND practitioner_id = 'pr-m')";
    // source type, source id, via_role, valid_from, valid_until, open_since, follow_up_until (a trigger sets an
    // Encounter's: its end plus the follow-up of 30 days, or the open one's start plus 90); the read path's answer
    String[][] links = {
        {"CareTeam", "ct-active", null, null, null, null, null, "true"},
        {"CareTeam", "ct-ended", null, "now() - interval '1 year'", "now() - interval '1 day'", null, null, "false"},
        {"CareTeam", "ct-future", null, "now() + interval '1 day'", null, null, null, "false"},
        {"CareTeam", "ct-participant-now", null, "now() - interval '1 day'", "now() + interval '1 day'", null, null,
            "true"},
        {"CareTeam", "ct-participant-ended", null, "now() - interval '9 days'", "now() - interval '2 days'", null,
            null, "false"},
        {"CareTeam", "ct-ended-in-follow-up", null, null, "now() - interval '1 day'", null, "now() + interval '1 day'",
            "true"},
        {"Encounter", "en-ended-yesterday", null, "now() - interval '2 days'", "now() - interval '1 day'", null, null,
            "true"},
        {"Encounter", "en-ended-long-ago", null, "now() - interval '61 days'", "now() - interval '60 days'", null, null,
            "false"},
        {"Encounter", "en-planned", null, "now() + interval '1 day'", "now() + interval '2 days'", null, null, "false"},
        {"Encounter", "en-open", null, "now() - interval '1 day'", null, "now() - interval '1 day'", null, "true"},
        {"Encounter", "en-open-too-long", null, "now() - interval '200 days'", null, "now() - interval '200 days'",
            null, "false"},
        {"Encounter", "en-via-role", "role-1", null, null, "now() - interval '1 day'", null, "true"},
        {"Patient", "p1", null, null, null, null, null, "true"}, // generalPractitioner
        {"EpisodeOfCare", "eoc-ended", null, null, "now() - interval '1 hour'", null, null, "false"},
    };
    Map<String, Object> readPathSays = new java.util.LinkedHashMap<>();
    Map<String, Object> countSays = new java.util.LinkedHashMap<>();
    Map<String, Object> expected = new java.util.LinkedHashMap<>();
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      for (String[] l : links) {
        st.executeUpdate("DELETE FROM tenant_alpha.care_links WHERE practitioner_id = 'pr-m'");
        st.executeUpdate("INSERT INTO tenant_alpha.care_links (patient_id, practitioner_id, source_type, source_id, "
            + "via_role, valid_from, valid_until, open_since, follow_up_until) VALUES ('p1', 'pr-m', '" + l[0] + "', '"
            + l[1] + "', " + (l[2] == null ? "NULL" : "'" + l[2] + "'") + ", " + l[3] + ", " + l[4] + ", " + l[5]
            + ", " + l[6] + ")");
        try (Connection login = platform.db.appDataSource().getConnection()) {
          AsRole.Outcome read = AsRole.run(login, config.readerRole(A), A.schemaName(), settings, readPath);
          assertThat(read.error() == null).as(read.toString()).isTrue();
          readPathSays.put(l[1], read.value());
        }
        countSays.put(l[1], ((Number) count(A, settings)).intValue() > 0);
        expected.put(l[1], Boolean.valueOf(l[7]));
      }
      st.executeUpdate("DELETE FROM tenant_alpha.care_links WHERE practitioner_id = 'pr-m'");
    }
    assertThat(readPathSays).as("the read path, each case as this test means it").isEqualTo(expected);
    assertThat(countSays).as("the pending count admits exactly when the read path does").isEqualTo(readPathSays);
  }

  @Test
  void anotherTenantsReaderMayNotCallIt() throws SQLException {
    try (Connection login = platform.db.appDataSource().getConnection()) {
      AsRole.Outcome o = AsRole.run(login, config.readerRole(B), B.schemaName(),
          AsRole.settings("read", bravoClinician, "cc.subject", "p1", "cc.patients", "p1", "cc.practitioner", "pr-a",
              "cc.purpose", "TREAT", "cc.categories", CLINICIAN_SCOPE, "cc.types", "*"), CALL);
      assertThat(o.refused()).as(o.toString()).isTrue();
    }
  }
}
