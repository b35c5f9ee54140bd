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
