package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pgvector.PGvector;
import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.WriteAudit;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditFilter;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.audit.Auditors;
import io.carecontext.retrieval.chat.PatientIdentifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every allow and deny path of the read path against real PostgreSQL, and each database layer alone. */
class RetrievalIT {

  static TestPlatform platform;
  /** A feed's key: the tenant role writes resources only for a live EHR-integration key (tenant migration 29). */
  static FhirWriter FEED;
  static TenantId tenant;
  static ContextService service;
  static AuditLog audit;
  static final EmbeddingProvider MODEL = new InProcessMiniLmProvider();
  static final TenantPolicy POLICY = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in"));
  /**
   * The day of the encounter that links pr-1 to a patient: yesterday, as an encounter's care link ends
   * with it and the tenant's follow-up (tenant migration 44); one in 2024 links no one any longer.
   */
  static final String VISIT = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(1).toString();
  static Requester CLINICIAN;
  static Requester BILLING;
  static Requester COORDINATOR;
  static Requester AUDITOR;
  static Requester RESEARCHER;

  /** A requester with a key of the tenant stored in the platform, as authentication hands it on. */
  static Requester requester(String principal, String role, String practitionerId) {
    TestPlatform.TestKey key = platform.issueKey(tenant, principal, List.of(role), practitionerId);
    return new Requester(principal, key.keyId(), List.of(role), practitionerId, key.secretHashHex());
  }

  /** Settings as the read path sends them: with the clinician's key presented to the database. */
  static PolicySettings withKey(PolicySettings s) {
    return s.values().containsKey("cc.key") ? s : s.withCaller(CLINICIAN.keyId(), CLINICIAN.keySecretHash());
  }

  /** Settings presented with {@code who}'s key: the database admits only what that key's roles allow. */
  static PolicySettings by(Requester who, PolicySettings s) {
    return s.withCaller(who.keyId(), who.keySecretHash());
  }

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("clinic");
    FEED = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    CLINICIAN = requester("dr-lee", "clinician", "pr-1");
    BILLING = requester("billy", "billing", null);
    COORDINATOR = requester("cora", "care-coordinator", null);
    AUDITOR = requester("aud", "auditor", null);
    RESEARCHER = requester("res", "researcher", null);
    platform.storeSettings(tenant, researchSettingsOf("opt-in"));
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    patient(store, "p-ok", "permit", null, true, 30);
    patient(store, "p-noconsent", null, null, true, 2);
    patient(store, "p-deny", "deny", null, true, 2);
    patient(store, "p-other", "permit", null, false, 2);
    patient(store, "p-class", "permit", "{\"type\":\"deny\",\"class\":[{\"code\":\"DocumentReference\"}]}", true, 0);
    patient(store, "p-label", "permit", "{\"type\":\"deny\",\"securityLabel\":[{\"code\":\"PSY\"}]}", true, 0);
    patient(store, "p-psy-consent", "permit", "{\"type\":\"permit\",\"securityLabel\":[{\"code\":\"PSY\"}]}",
        true, 0);
    patient(store, "p-psy-both", "permit", "{\"type\":\"permit\",\"securityLabel\":[{\"code\":\"PSY\"}]},"
        + "{\"type\":\"deny\",\"securityLabel\":[{\"code\":\"PSY\"}]}", true, 0);
    patient(store, "p-labs-only", "deny", "{\"type\":\"permit\",\"class\":[{\"code\":\"Observation\"}]}", true, 3);
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    audit = new AuditLog(platform.tx, platform.keys);
    service = new ContextService(platform.tx, platform.keys, audit);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /** A patient with optional consent, an encounter with pr-1 (the care link), labs, a note and a PSY-labelled note. */
  static void patient(FhirStore store, String id, String consent, String nested, boolean linked, int labs) {
    store.put(tenant, FEED, Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\"}"));
    if (consent != null) {
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Consent","id":"c-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
           "provision":{"type":"%2$s"%3$s}}""".formatted(id, consent, nested == null ? "" : ",\"provision\":[" + nested + "]")));
    }
    if (linked) {
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Encounter","id":"e-%1$s","status":"finished","class":{"code":"AMB","display":"ambulatory"},
           "period":{"start":"%2$s"},"reasonCode":[{"text":"poorly controlled diabetes"}],
           "subject":{"reference":"Patient/%1$s"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}"""
          .formatted(id, VISIT)));
    }
    for (int i = 0; i < labs; i++) {
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Observation","id":"o-%1$s-%2$d","status":"final",
           "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
           "subject":{"reference":"Patient/%1$s"},"valueQuantity":{"value":%3$s,"unit":"%%"}}""".formatted(id, i, 5 + i * 0.1)));
    }
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"DocumentReference","id":"d-%1$s","status":"current","subject":{"reference":"Patient/%1$s"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%2$s"}}]}""".formatted(id,
        java.util.Base64.getEncoder().encodeToString("Patient reports fatigue and thirst.".getBytes()))));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"DocumentReference","id":"psy-%1$s","status":"current","subject":{"reference":"Patient/%1$s"},
         "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},
         "content":[{"attachment":{"contentType":"text/plain","data":"%2$s"}}]}""".formatted(id,
        java.util.Base64.getEncoder().encodeToString("Psychotherapy session notes.".getBytes()))));
  }

  static ContextResult ask(Requester who, String patient, String purpose, String reason) {
    return ask(who, patient, purpose, reason, false);
  }

  static ContextResult ask(Requester who, String patient, String purpose, String reason, boolean reopenBreakGlass) {
    float[] vector = MODEL.embedAll(List.of("blood sugar control")).get(0);
    return service.context(tenant, POLICY, who, patient,
        new ContextQuery("blood sugar control", () -> vector, 10, purpose, reason, reopenBreakGlass), "context");
  }

  static AccessDenied denied(Requester who, String patient, String purpose, String reason) {
    return assertDenied(() -> ask(who, patient, purpose, reason));
  }

  static AccessDenied assertDenied(Runnable call) {
    try {
      call.run();
    } catch (AccessDenied d) {
      return d;
    }
    throw new AssertionError("expected a denial");
  }

  static Map<String, Object> auditRow(UUID auditId) {
    return audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, null, null, null, 10_000), false).stream()
        .filter(r -> r.get("auditId").equals(auditId.toString())).findFirst().orElseThrow();
  }

  static String auditDetails(ContextResult r) {
    return auditRow(r.auditId()).get("details").toString();
  }

  /** A research search for "thirst" under {@code policy}, which must be refused: the refusal. */
  static AccessDenied researchRefused(TenantPolicy policy, Requester who) {
    researchEmbeddingsMade();
    try {
      new io.carecontext.retrieval.research.ResearchService(platform.tx, platform.keys, audit)
          .search(tenant, policy, who, "thirst", MODEL.embedAll(List.of("thirst")).get(0), 10, "HRESCH");
    } catch (AccessDenied d) {
      return d;
    }
    throw new AssertionError("expected a refusal");
  }

  static String auditedReason(AccessDenied d) {
    return auditRow(d.auditId()).get("reason").toString();
  }

  @Test
  void allowedContextIsAuditedWithItsChunks() {
    ContextResult r = ask(CLINICIAN, "p-ok", "TREAT", null);
    assertThat(r.chunks()).hasSize(10);
    assertThat(r.chunks()).anyMatch(ch -> ch.text().contains("Hemoglobin A1c (LOINC 4548-4)"));
    assertThat(r.chunks()).isSortedAccordingTo(Comparator.comparingDouble(ContextChunk::score).reversed());
    var row = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-ok", null, null, null, 1), true).get(0);
    assertThat(row.get("auditId")).isEqualTo(r.auditId().toString());
    assertThat(row.get("decision")).isEqualTo("allowed");
    assertThat(row.get("reason")).isEqualTo("allowed");
    assertThat((List<?>) row.get("chunkIds")).map(id -> ((Number) id).longValue())
        .containsExactlyElementsOf(r.chunks().stream().map(ContextChunk::chunkId).toList());
    assertThat(row.get("query")).isEqualTo("blood sugar control");
    assertThat(row.get("latencyMillis")).isNotNull();
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void theReadRoleCanNeitherWriteNorReadTheAuditTrail() {
    PolicySettings reader = withKey(ContextService.settings(POLICY, POLICY.roles().get("clinician"), "p-ok", "TREAT",
        false, "*"));
    // Its audit rows are written under the audit role; the read role holds no grant on the trail.
    for (String sql : List.of(
        "INSERT INTO {schema}.audit_log (audit_id, shard, seq, at, principal, action, decision, reason, prev_hash, row_hash) "
            + "VALUES (gen_random_uuid(), 0, 999999, now(), 'x', 'context', 'allowed', 'allowed', '\\x00', '\\x00')",
        "UPDATE {schema}.audit_heads SET seq = seq + 1",
        "SELECT count(*) FROM {schema}.audit_log")) {
      assertThatThrownBy(() -> platform.tx.run(tenant, reader,
          c -> c.createStatement().execute(io.carecontext.migrations.TenantSql.of(tenant, sql))))
          .as(sql).rootCause().hasMessageContaining("permission denied");
    }
  }

  /**
   * What a wrong line in the application would hand the read path: a key of another tenant, or a
   * key revoked after authentication read it. The database refuses the key (tenant migration 27):
   * the caller gets the same 404 as for an unknown patient, research a 403, de-identification an
   * error instead of an empty list of names, and the audit rows say what happened.
   */
  @Test
  void aKeyTheDatabaseDoesNotAdmitGetsNothingAndIsAuditedWithItsTrueReason() throws SQLException {
    TenantId other = platform.tenant("elsewhere");
    TestPlatform.TestKey foreignKey = platform.issueKey(other, "dr-lee", List.of("clinician"), "pr-1");
    Requester foreign = new Requester("dr-lee", foreignKey.keyId(), List.of("clinician"), "pr-1",
        foreignKey.secretHashHex());
    Requester revoked = requester("dr-gone", "clinician", "pr-1");
    assertThat(ask(revoked, "p-ok", "TREAT", null).chunks()).isNotEmpty();
    try (Connection owner = platform.db.ownerDataSource().getConnection(); PreparedStatement ps = owner.prepareStatement(
        "UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = ?")) {
      ps.setString(1, revoked.keyId());
      ps.executeUpdate();
    }
    AccessDenied unknown = denied(CLINICIAN, "p-nobody", "TREAT", null);
    for (Requester who : List.of(foreign, revoked)) {
      AccessDenied d = denied(who, "p-ok", "TREAT", null);
      assertThat(d.status()).isEqualTo(unknown.status());
      assertThat(d.code()).isEqualTo(unknown.code());
      assertThat(d.getMessage()).isEqualTo(unknown.getMessage());
      assertThat(d.reason()).isEqualTo("key_not_admitted");
      assertThat(auditRow(d.auditId())).containsEntry("reason", "key_not_admitted").containsEntry("decision", "denied")
          .containsEntry("keyId", who.keyId());
      // break-glass: no window opened, nothing read
      AccessDenied glass = denied(who, "p-ok", "ETREAT", "unconscious, allergies unknown");
      assertThat(glass.reason()).isEqualTo("key_not_admitted");
      assertThatThrownBy(() -> PatientIdentifiers.load(platform.tx, platform.keys, tenant,
          who, "p-ok")).isInstanceOf(DatabaseException.class)
          .hasMessageContaining("did not admit");
    }
    assertThat(superuserCount("SELECT count(*) FROM tenant_clinic.break_glass WHERE key_id IN ('"
        + foreign.keyId() + "', '" + revoked.keyId() + "')")).isZero();
    TestPlatform.TestKey foreignResearch = platform.issueKey(other, "res", List.of("researcher"), null);
    assertThatThrownBy(() -> research(new Requester("res", foreignResearch.keyId(), List.of("researcher"), null,
        foreignResearch.secretHashHex()), "thirst", "HRESCH")).isInstanceOfSatisfying(AccessDenied.class, d -> {
          assertThat(d.status()).isEqualTo(403);
          assertThat(d.reason()).isEqualTo("key_not_admitted");
        });
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void concurrentAllowedAndDeniedRequestsMakeOneRowEachAndAVerifiableChain() throws Exception {
    Requester clinician = requester("dr-kim", "clinician", "pr-1");
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<?>> calls = new ArrayList<>();
      for (int i = 0; i < 160; i++) {
        boolean deny = i % 4 == 0;
        calls.add(pool.submit(() -> {
          if (deny) {
            assertThat(denied(clinician, "p-nobody", "TREAT", null).status()).isEqualTo(404);
          } else {
            assertThat(ask(clinician, "p-ok", "TREAT", null).chunks()).hasSize(10);
          }
        }));
      }
      for (var call : calls) {
        call.get();
      }
    } finally {
      pool.shutdown();
    }
    var rows = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, "dr-kim", null, null, 1000), false);
    assertThat(rows).hasSize(160);
    assertThat(rows).filteredOn(r -> r.get("decision").equals("denied")).hasSize(40);
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void everyDenyPathReturnsNothingAndIsAuditedWithItsTrueReason() {
    Map<String, AccessDenied> cases = new java.util.LinkedHashMap<>();
    cases.put("role_not_allowed", denied(AUDITOR, "p-ok", "TREAT", null));
    cases.put("purpose_not_allowed", denied(CLINICIAN, "p-ok", "HPAYMT", null));
    cases.put("no_consent", denied(CLINICIAN, "p-noconsent", "TREAT", null));
    cases.put("consent_denied", denied(CLINICIAN, "p-deny", "TREAT", null));
    cases.put("no_care_relationship", denied(CLINICIAN, "p-other", "TREAT", null));
    cases.put("unknown_patient", denied(CLINICIAN, "p-nobody", "TREAT", null));
    cases.put("break_glass_no_reason", denied(CLINICIAN, "p-other", "ETREAT", null));
    // nothing a reviewer could read: a NUL, a zero-width and a no-break space passed as a reason
    for (String invisible : List.of("\u0000", "\u200b", "\u00a0 \u0007")) {
      AccessDenied d = denied(CLINICIAN, "p-invisible", "ETREAT", invisible);
      assertThat(d.reason()).isEqualTo("break_glass_no_reason");
      assertThat(auditedReason(d)).isEqualTo("break_glass_no_reason");
    }
    // the reason is kept in every row of the request: a bounded text, as the query is
    cases.put("break_glass_reason_too_long", denied(CLINICIAN, "p-other", "ETREAT", "x".repeat(1_001)));
    // words with a NUL or an escape in them: stored as the justification its review reads, where the question
    // beside it was refused those characters; tab and newlines lay a reason out and stay
    cases.put("break_glass_reason_malformed", denied(CLINICIAN, "p-invisible", "ETREAT", "cardiac arrest\u0000 in ED"));
    assertThat(denied(CLINICIAN, "p-invisible", "ETREAT", "arrest \u001b[31m").reason())
        .isEqualTo("break_glass_reason_malformed");
    cases.forEach((reason, d) -> {
      assertThat(d.reason()).isEqualTo(reason);
      assertThat(auditedReason(d)).isEqualTo(reason);
    });
    // Patient-level denials look the same to the caller.
    for (String r : List.of("no_consent", "consent_denied", "no_care_relationship", "unknown_patient")) {
      assertThat(cases.get(r).status()).isEqualTo(404);
      assertThat(cases.get(r).getMessage()).isEqualTo(cases.get("unknown_patient").getMessage());
    }
    assertThat(cases.get("role_not_allowed").status()).isEqualTo(403);
  }

  /**
   * A clinician key made without a practitioner has no care relationship with anyone: the database
   * admits its request as within the key's scope (tenant migration 38) and still hides every row, and
   * the row says no_care_relationship, not scope_not_admitted (the reason for an application fault).
   */
  @Test
  void aClinicianKeyWithoutAPractitionerIsOutsideEveryCareRelationship() {
    Requester unlinked = requester("dr-nobody", "clinician", null);
    AccessDenied d = denied(unlinked, "p-ok", "TREAT", null);
    assertThat(d.reason()).isEqualTo("no_care_relationship");
    assertThat(auditedReason(d)).isEqualTo("no_care_relationship");
    assertThat(d.status()).isEqualTo(404);
    assertThat(denied(unlinked, "p-nobody", "TREAT", null).reason()).isEqualTo("unknown_patient");
  }

  /**
   * A CareTeam's period bounds the care relationship it states (tenant migration 42): a team whose
   * period ended still admitted its practitioner. A team in force admits; a participant named through
   * a PractitionerRole admits a key that names that role.
   */
  @Test
  void aCareTeamAdmitsOnlyWithinItsPeriodAndARoleKeyThroughItsRole() {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    patient(store, "p-team", "permit", null, false, 1);
    String team = """
        {"resourceType":"CareTeam","id":"ct-%1$s","status":"active","subject":{"reference":"Patient/p-team"},
         "period":{"start":"2015-01-01","end":"%2$s"},"participant":[{"member":{"reference":"%3$s"}}]}""";
    store.put(tenant, FEED, Fhir.parseResource(team.formatted("ended", "2018-01-01", "Practitioner/pr-1")));
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    assertThat(denied(CLINICIAN, "p-team", "TREAT", null).reason()).isEqualTo("no_care_relationship");
    store.put(tenant, FEED, Fhir.parseResource(team.formatted("ended", "2999-01-01", "Practitioner/pr-1")));
    assertThat(ask(CLINICIAN, "p-team", "TREAT", null).chunks()).isNotEmpty();
    Requester byRole = requester("dr-role", "clinician", "PractitionerRole/prr-1");
    assertThat(denied(byRole, "p-team", "TREAT", null).reason()).isEqualTo("no_care_relationship");
    store.put(tenant, FEED, Fhir.parseResource(team.formatted("role", "2999-01-01", "PractitionerRole/prr-1")));
    assertThat(ask(byRole, "p-team", "TREAT", null).chunks()).isNotEmpty();
  }

  @Test
  void consentExclusionsByClassAndLabelHideThoseChunks() {
    ContextResult byClass = ask(CLINICIAN, "p-class", "TREAT", null);
    assertThat(byClass.chunks()).extracting(ContextChunk::resource).noneMatch(r -> r.startsWith("DocumentReference/"));
    assertThat(byClass.chunks()).isNotEmpty();
    ContextResult byLabel = ask(CLINICIAN, "p-label", "TREAT", null);
    assertThat(byLabel.chunks()).extracting(ContextChunk::resource).doesNotContain("DocumentReference/psy-p-label");
    assertThat(byLabel.chunks()).extracting(ContextChunk::resource).contains("DocumentReference/d-p-label");
  }

  @Test
  void aDenyingConsentLetsItsExceptedClassesThroughAndNothingElse() {
    ContextResult r = ask(CLINICIAN, "p-labs-only", "TREAT", null);
    assertThat(r.chunks()).isNotEmpty();
    assertThat(r.chunks()).extracting(ContextChunk::resource).allMatch(x -> x.startsWith("Observation/"));
  }

  @Test
  void billingSeesOnlyAdministrativeResourceTypes() {
    ContextResult r = ask(BILLING, "p-ok", "HPAYMT", null);
    assertThat(r.chunks()).extracting(ContextChunk::resource).allMatch(x -> x.startsWith("Encounter/"));
    // API.md: "Encounter dates", not why the patient came: the reason is a diagnosis.
    assertThat(r.chunks()).extracting(ContextChunk::text)
        .containsExactly("Encounter: ambulatory on " + VISIT + ". status finished.");
    // The reason is its own clinical chunk, which the clinician's policy lets through.
    assertThat(bareCountWhere(ContextService.settings(POLICY, POLICY.roles().get("clinician"), "p-ok", "TREAT", false, "pr-1"),
        "resource_type = 'Encounter' AND category = 'clinical'")).isEqualTo(1);
  }

  @Test
  void aCareCoordinatorSeesASensitiveLabelOnlyForAPatientWhoseConsentNamesIt() {
    RolePolicy coordinator = POLICY.roles().get("care-coordinator");
    String psy = "'PSY' = ANY (security_labels)";
    // RLS alone: a plain permit is not explicit consent; a permit naming PSY is; a deny of PSY still wins.
    assertThat(bareCountWhere(by(COORDINATOR, ContextService.settings(POLICY, coordinator, "p-ok", "TREAT", false, "*")), psy)).isZero();
    assertThat(bareCountWhere(by(COORDINATOR, ContextService.settings(POLICY, coordinator, "p-psy-consent", "TREAT", false, "*")), psy))
        .isEqualTo(1);
    assertThat(bareCountWhere(by(COORDINATOR, ContextService.settings(POLICY, coordinator, "p-psy-both", "TREAT", false, "*")), psy)).isZero();
    // A role without labels-with-consent gets nothing from the same consent.
    TenantPolicy strict = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in",
        "rolePolicies", Map.of("care-coordinator", Map.of("labelsWithConsent", List.of()))));
    assertThat(bareCountWhere(by(COORDINATOR, ContextService.settings(strict, strict.roles().get("care-coordinator"),
        "p-psy-consent", "TREAT", false, "*")), psy)).isZero();
    // Through the service, and its audit row names the label that came through consent.
    ContextResult withConsent = ask(COORDINATOR, "p-psy-consent", "TREAT", null);
    assertThat(withConsent.chunks()).extracting(ContextChunk::resource).contains("DocumentReference/psy-p-psy-consent");
    assertThat(auditDetails(withConsent)).contains("\"labelsByConsent\":[\"PSY\"]");
    ContextResult plain = ask(COORDINATOR, "p-ok", "TREAT", null);
    assertThat(plain.chunks()).extracting(ContextChunk::resource)
        .isNotEmpty().noneMatch(r -> r.startsWith("DocumentReference/psy-"));
    assertThat(auditDetails(plain)).doesNotContain("labelsByConsent");
    // The clinician has PSY among its own labels: no consent needed for it.
    assertThat(bareCountWhere(ContextService.settings(POLICY, POLICY.roles().get("clinician"), "p-ok", "TREAT", false, "pr-1"),
        psy)).isEqualTo(1);
  }

  @Test
  void aPatientResourceWithASensitiveLabelIsKnownToTheCareCoordinatorOnlyWithTheConsentThatNamesIt() {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    for (String id : List.of("p-vip-consent", "p-vip-plain")) {
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Patient","id":"%s","gender":"male",
           "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}"""
          .formatted(id)));
      String nested = id.equals("p-vip-consent")
          ? ",\"provision\":[{\"type\":\"permit\",\"securityLabel\":[{\"code\":\"PSY\"}]}]" : "";
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Consent","id":"c-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
           "provision":{"type":"permit"%2$s}}""".formatted(id, nested)));
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Observation","id":"o-%1$s","status":"final","code":{"text":"Blood glucose"},
           "subject":{"reference":"Patient/%1$s"},"valueQuantity":{"value":6.1,"unit":"mmol/L"}}""".formatted(id)));
    }
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    assertThat(ask(COORDINATOR, "p-vip-consent", "TREAT", null).chunks()).extracting(ContextChunk::resource)
        .contains("Observation/o-p-vip-consent", "Patient/p-vip-consent");
    AccessDenied d = denied(COORDINATOR, "p-vip-plain", "TREAT", null);
    assertThat(d.status()).isEqualTo(404);
    // the same 404 as an unknown patient's, recorded as what it is (it said unknown_patient, for a
    // patient that exists): the reviewer can tell a mistyped id from a label the role may not read
    assertThat(d.getMessage()).isEqualTo(denied(COORDINATOR, "p-nobody", "TREAT", null).getMessage());
    assertThat(auditedReason(d)).isEqualTo("patient_label_not_readable");
    assertThat(d.reason()).isEqualTo("patient_label_not_readable");
  }

  @Test
  void breakGlassIsTimeBoxedAndFlagged() throws SQLException {
    // a reason laid out with a newline and a tab is text (a NUL or an escape is refused: the deny paths above)
    ContextResult r = ask(CLINICIAN, "p-other", "ETREAT", "unconscious patient\n\tin ED");
    assertThat(r.breakGlass()).isTrue();
    assertThat(r.chunks()).isNotEmpty();
    var row = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-other", null, null, null, 1), false).get(0);
    assertThat(row.get("breakGlass")).isEqualTo(true);
    assertThat(row.get("details").toString()).contains("reviewRequired");
    // what the emergency access passed that treatment would not have: p-other has no care link to pr-1
    assertThat(row.get("details").toString()).contains("overrode").contains("no_care_relationship");
    ContextResult refused = ask(CLINICIAN, "p-deny", "ETREAT", "unconscious patient in ED");
    assertThat(refused.chunks()).isNotEmpty();
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-deny", null, null, null, 1), false)
        .get(0).get("details").toString()).contains("overrode").contains("consent_denied")
        .doesNotContain("no_care_relationship");
    // The reason the caller gave is what a reviewer of the break-glass judges: it is in the row,
    // encrypted like the query (free text can name the patient), and chained.
    assertThat(row).doesNotContainKey("justification").doesNotContainValue("unconscious patient\n\tin ED");
    var withBodies = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-other", null, null, null, 1), true).get(0);
    assertThat(withBodies.get("justification")).isEqualTo("unconscious patient\n\tin ED"); // as laid out
    assertThat(superuserCount("SELECT count(*) FROM tenant_clinic.audit_log WHERE justification_enc IS NOT NULL "
        + "AND patient_id = 'p-other' AND position(convert_to('unconscious', 'UTF8') in justification_enc) = 0")).isEqualTo(1);
    superuser("UPDATE tenant_clinic.break_glass SET expires_at = now() - interval '1 minute'");
    AccessDenied d = denied(CLINICIAN, "p-other", "ETREAT", "again");
    assertThat(d.reason()).isEqualTo("break_glass_expired");
    assertThat(auditedReason(d)).isEqualTo("break_glass_expired");
    // a refused break-glass keeps its reason too, and the chain still verifies
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-other", null, null, null, 1), true).get(0).get("justification"))
        .isEqualTo("again");
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  /**
   * A closed window is opened again only when the request asks for it ("reopen", with its own
   * reason): the next day's emergency is not refused for good, and each reopening is flagged for
   * review. Asking to reopen an open window changes nothing; asking without break-glass is a 400.
   */
  @Test
  void aClosedBreakGlassWindowIsReopenedOnlyWhenAskedAndSaysSo() throws SQLException {
    Requester dr = requester("dr-again", "clinician", "pr-1");
    assertThat(ask(dr, "p-other", "ETREAT", "unconscious patient in ED").chunks()).isNotEmpty();
    ContextResult stillOpen = ask(dr, "p-other", "ETREAT", "same emergency", true);
    assertThat(auditDetails(stillOpen)).doesNotContain("reopened");
    String window = "SELECT count(*) FROM tenant_clinic.break_glass WHERE key_id = '" + dr.keyId() + "'";
    superuser("UPDATE tenant_clinic.break_glass SET expires_at = now() - interval '1 minute' WHERE key_id = '"
        + dr.keyId() + "'");
    AccessDenied closed = denied(dr, "p-other", "ETREAT", "back in the ED");
    assertThat(closed.reason()).isEqualTo("break_glass_expired");
    assertThat(closed.getMessage()).contains("\"reopen\": true");
    assertThat(closed.status()).isEqualTo(403);
    assertThat(closed.code()).isEqualTo("break_glass_expired");

    ContextResult reopened = ask(dr, "p-other", "ETREAT", "back in the ED", true);
    assertThat(reopened.chunks()).isNotEmpty();
    assertThat(reopened.breakGlass()).isTrue();
    assertThat(auditDetails(reopened)).contains("\"reviewRequired\":true").contains("\"reopened\":true");
    assertThat(auditRow(reopened.auditId()).get("reason")).isEqualTo("break_glass");
    // one window a key and patient, open again for the role's minutes
    assertThat(superuserCount(window)).isEqualTo(1);
    assertThat(superuserCount(window + " AND expires_at > now() + interval '50 minutes'")).isEqualTo(1);
    assertThat(ask(dr, "p-other", "ETREAT", "follow-up in the same window").chunks()).isNotEmpty();

    AccessDenied notBreakGlass = assertDenied(() -> ask(dr, "p-other", "TREAT", null, true));
    assertThat(notBreakGlass.status()).isEqualTo(400);
    assertThat(notBreakGlass.reason()).isEqualTo("reopen_without_break_glass");
    assertThat(auditedReason(notBreakGlass)).isEqualTo("reopen_without_break_glass");
  }

  /**
   * A role that may break the glass but not override consent learns nothing from an emergency access
   * to a patient who refused (or never gave) consent: the window its first request opened closes, and
   * its next request was answered 403 break_glass_expired, while a patient that does not exist stays
   * 404: the expired window told that the refusing patient exists. Both are now the same 404, the
   * true reason recorded.
   */
  @Test
  void aClosedWindowTellsARoleThatCannotOverrideConsentNothingOfARefusingPatient() throws SQLException {
    TenantPolicy noOverride = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in", "rolePolicies",
        Map.of("clinician", Map.of("breakGlass", Map.of("allowed", true, "overrideConsent", false)))));
    Requester dr = requester("dr-probe", "clinician", "pr-1");
    float[] vector = MODEL.embedAll(List.of("blood sugar control")).get(0);
    java.util.function.Function<String, AccessDenied> etreat = patient -> assertDenied(() -> service.context(tenant,
        noOverride, dr, patient, new ContextQuery("blood sugar control", () -> vector, 10, "ETREAT", "unconscious in ED",
            false), "context"));
    assertThat(etreat.apply("p-deny").reason()).isEqualTo("consent_denied");
    assertThat(etreat.apply("p-noconsent").reason()).isEqualTo("no_consent");
    assertThat(service.context(tenant, noOverride, dr, "p-ok", new ContextQuery("blood sugar control", () -> vector, 10,
        "ETREAT", "unconscious in ED", false), "context").chunks()).isNotEmpty();
    superuser("UPDATE tenant_clinic.break_glass SET expires_at = now() - interval '1 minute' WHERE key_id = '"
        + dr.keyId() + "'");
    AccessDenied nobody = etreat.apply("p-nobody");
    for (String patient : List.of("p-deny", "p-noconsent")) {
      AccessDenied d = etreat.apply(patient);
      assertThat(d.status()).isEqualTo(nobody.status()).isEqualTo(404);
      assertThat(d.code()).isEqualTo(nobody.code());
      assertThat(d.getMessage()).isEqualTo(nobody.getMessage());
      assertThat(d.retryAfterSeconds()).isEqualTo(nobody.retryAfterSeconds());
      assertThat(auditedReason(d)).isEqualTo(patient.equals("p-deny") ? "consent_denied" : "no_consent");
    }
    // a patient whose consent allows the use is still told its window closed, as before
    AccessDenied closed = etreat.apply("p-ok");
    assertThat(closed.status()).isEqualTo(403);
    assertThat(closed.reason()).isEqualTo("break_glass_expired");
  }

  @Test
  void aConsentChangeIsInForceOnTheVeryNextQuery() {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    assertThat(ask(CLINICIAN, "p-ok", "TREAT", null).chunks()).isNotEmpty();
    var consent = Fhir.parseResource(store.read(tenant, "Consent", "c-p-ok").orElseThrow().json());
    ((org.hl7.fhir.r4.model.Consent) consent).getProvision().setType(
        org.hl7.fhir.r4.model.Consent.ConsentProvisionType.DENY);
    store.put(tenant, FEED, consent);
    assertThat(denied(CLINICIAN, "p-ok", "TREAT", null).reason()).isEqualTo("consent_denied");
    ((org.hl7.fhir.r4.model.Consent) consent).getProvision().setType(
        org.hl7.fhir.r4.model.Consent.ConsentProvisionType.PERMIT);
    store.put(tenant, FEED, consent);
    assertThat(ask(CLINICIAN, "p-ok", "TREAT", null).chunks()).isNotEmpty();
  }

  /**
   * The one 404 of an unknown patient and of a patient whose consent admits nothing take the same path:
   * the search reads none of the patient's chunks (its scan of them never runs). It read them all and
   * the policy dropped them one by one, so the refusal took longer the longer the record, and a key that
   * needs no care relationship (care-coordinator, billing) told the tenant's patients from unknown ids by
   * the time alone.
   */
  @Test
  void aPatientWhoseConsentAdmitsNoChunkIsRefusedWithoutReadingItsChunks() {
    RolePolicy coordinator = POLICY.roles().get("care-coordinator");
    RolePolicy clinician = POLICY.roles().get("clinician");
    for (String patient : List.of("p-nosuch", "p-noconsent", "p-deny")) {
      String plan = searchPlan(COORDINATOR, coordinator, patient);
      assertThat(scans(plan, "chunks")).as(patient).isZero();
      // and each check was made, whatever an earlier one found: the same statements for every denial
      assertThat(scans(plan, "resources")).as(patient).isEqualTo(1);
      assertThat(scans(plan, "consents")).as(patient).isPositive();
    }
    for (String patient : List.of("p-nosuch", "p-other", "p-noconsent")) {
      String plan = searchPlan(CLINICIAN, clinician, patient);
      assertThat(scans(plan, "chunks")).as(patient).isZero();
      assertThat(scans(plan, "resources")).as(patient).isEqualTo(1);
      assertThat(scans(plan, "care_links")).as(patient).isEqualTo(1);
      assertThat(scans(plan, "consents")).as(patient).isPositive();
    }
    // a consent that admits all or some of them still has them read (and the policy judges each)
    for (String patient : List.of("p-ok", "p-labs-only", "p-class", "p-psy-both")) {
      assertThat(scans(searchPlan(COORDINATOR, coordinator, patient), "chunks")).as(patient).isPositive();
    }
    assertThat(ask(COORDINATOR, "p-labs-only", "TREAT", null).chunks()).isNotEmpty();
  }

  /** The search's plan, as run (EXPLAIN ANALYZE) for {@code who} asking about {@code patient}. */
  static String searchPlan(Requester who, RolePolicy rp, String patient) {
    float[] vector = new float[384];
    vector[0] = 1;
    boolean careRequired = POLICY.careRequiredFor(rp);
    List<Object> parameters = java.util.Arrays.asList(null, new PGvector(vector), patient, patient, !careRequired, patient,
        who.practitionerId() == null ? "" : who.practitionerId(), 5);
    return platform.tx.run(tenant, ContextService.readSettings(POLICY, rp, who, patient, "TREAT"), c -> {
      try (PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, FORMAT JSON) "
          + io.carecontext.migrations.TenantSql.of(tenant, ContextService.SEARCH))) {
        for (int i = 0; i < parameters.size(); i++) {
          ps.setObject(i + 1, parameters.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getString(1);
        }
      }
    });
  }

  /** How many times the plan's scans of {@code relation} ran (0: never). */
  static long scans(String plan, String relation) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"Relation Name\": \"" + relation
        + "\"[^\\[\\]]*?\"Actual Loops\": (\\d+)").matcher(plan);
    long loops = 0;
    boolean found = false;
    while (m.find()) {
      found = true;
      loops += Long.parseLong(m.group(1));
    }
    assertThat(found).as("a scan of " + relation + " in the plan").isTrue();
    return loops;
  }

  @Test
  void rlsAloneHidesEveryDisallowedRowWithoutTheApplicationsWhereClause() {
    RolePolicy clinician = POLICY.roles().get("clinician");
    // The application's own filter removed: a bare SELECT under the settings of each decision.
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-ok", "TREAT", false, "pr-1"))).isPositive();
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-noconsent", "TREAT", false, "pr-1"))).isZero();
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-deny", "TREAT", false, "pr-1"))).isZero();
    int all = bareCount(ContextService.settings(POLICY, clinician, "p-class", "TREAT", false, "pr-1"));
    assertThat(all).isPositive();
    assertThat(bareCountWhere(ContextService.settings(POLICY, clinician, "p-class", "TREAT", false, "pr-1"),
        "resource_type = 'DocumentReference'")).isZero();
    assertThat(bareCountWhere(ContextService.settings(POLICY, clinician, "p-label", "TREAT", false, "pr-1"),
        "'PSY' = ANY (security_labels)")).isZero();
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-labs-only", "TREAT", false, "pr-1"))).isPositive();
    assertThat(bareCountWhere(ContextService.settings(POLICY, clinician, "p-labs-only", "TREAT", false, "pr-1"),
        "resource_type <> 'Observation'")).isZero();
    RolePolicy billing = POLICY.roles().get("billing");
    assertThat(bareCountWhere(by(BILLING, ContextService.settings(POLICY, billing, "p-ok", "HPAYMT", false, "*")),
        "resource_type <> 'Encounter'")).isZero();
    assertThat(bareCountWhere(by(BILLING, ContextService.settings(POLICY, billing, "p-ok", "HPAYMT", false, "*")),
        "category <> 'administrative'")).isZero();
    assertThat(bareCount(by(BILLING, ContextService.settings(POLICY, billing, "p-ok", "HPAYMT", false, "*")))).isPositive();
    // The care relationship (V26): a patient the practitioner is not linked to shows nothing, nor does
    // any patient when the setting is missing; '*' (none required) and a linked practitioner do.
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-other", "TREAT", false, "pr-1"))).isZero();
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-other", "TREAT", false, ""))).isZero();
    // '*' (none required) is the clinician's only where its role or the tenant requires no care
    // relationship (tenant migration 36: here both do), or on break-glass; a care coordinator's
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-other", "TREAT", false, "*"))).isZero();
    assertThat(bareCount(by(COORDINATOR, ContextService.settings(POLICY, POLICY.roles().get("care-coordinator"),
        "p-other", "TREAT", false, "*")))).isPositive();
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-ok", "TREAT", false, "pr-1"))).isPositive();
    assertThat(bareCount(ContextService.settings(POLICY, clinician, "p-ok", "TREAT", false, "pr-2"))).isZero();
    // Another patient's rows are invisible even when asked for by name.
    assertThat(bareCountWhere(ContextService.settings(POLICY, clinician, "p-ok", "TREAT", false, "pr-1"),
        "patient_id = 'p-class'")).isZero();
  }

  /**
   * Tenant migration 36, seen from the service: an application whose policy is wider than the
   * tenant's stored settings (one wrong line: here no care relationship for clinicians, or notes
   * for researchers) gets nothing from the database, and records what happened, not an allowed
   * read that found nothing.
   */
  @Test
  void aPolicyWiderThanTheStoredSettingsGetsNothingAndIsRecordedAsScopeNotAdmitted() {
    TenantPolicy noCare = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in", "careRelationship", false));
    ContextQuery q = new ContextQuery("blood sugar control", MODEL.embedAll(List.of("blood sugar control")).get(0), 10,
        "TREAT", null);
    // p-other has no care link to the clinician's practitioner: the stored settings require one
    assertThatThrownBy(() -> service.context(tenant, noCare, CLINICIAN, "p-other", q, "context"))
        .isInstanceOfSatisfying(AccessDenied.class, d -> {
          assertThat(d.status()).isEqualTo(404);
          assertThat(auditedReason(d)).isEqualTo("scope_not_admitted");
        });
    assertThat(service.context(tenant, POLICY, CLINICIAN, "p-ok", q, "context").chunks()).isNotEmpty();
    TenantPolicy wider = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in", "rolePolicies",
        Map.of("researcher", Map.of("categories", List.of("clinical", "administrative")))));
    AccessDenied refused = researchRefused(wider, RESEARCHER);
    assertThat(refused.status()).isEqualTo(403);
    assertThat(auditedReason(refused)).isEqualTo("scope_not_admitted");
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void recallAtTenIsOneAgainstBruteForce() {
    float[] q = MODEL.embedAll(List.of("blood sugar control")).get(0);
    List<Long> expected = platform.tx.run(tenant, PolicySettings.ingest(), c -> {
      List<long[]> scored = new ArrayList<>();
      List<Object[]> rows = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT chunk_id, embedding FROM chunks WHERE patient_id = 'p-ok'");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Object[] {rs.getLong(1), ((PGvector) rs.getObject(2)).toArray()});
        }
      }
      return rows.stream().sorted(Comparator.comparingDouble(r -> -cosine(q, (float[]) r[1])))
          .limit(10).map(r -> (Long) r[0]).toList();
    });
    List<Long> actual = ask(CLINICIAN, "p-ok", "TREAT", null).chunks().stream().map(ContextChunk::chunkId).toList();
    // ten to compare: two empty lists, or a short one on each side, are equal too
    assertThat(expected).hasSize(10);
    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void nQueriesMakeExactlyNAuditRowsAndTheChainVerifies() {
    int before = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, null, null, null, 10_000), false).size();
    for (int i = 0; i < 25; i++) {
      ask(CLINICIAN, "p-ok", "TREAT", null);
    }
    denied(CLINICIAN, "p-nobody", "TREAT", null);
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, null, null, null, 10_000), false)).hasSize(before + 26);
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  // --- multi-patient research search -------------------------------------------------------

  static final TenantPolicy RESEARCH_POLICY = researchPolicy("opt-in");

  /** A tenant policy whose researcher sees every category this test writes, in the given consent mode. */
  static TenantPolicy researchPolicy(String consentMode) {
    return TenantPolicy.fromSettings(researchSettingsOf(consentMode));
  }

  /**
   * The tenant's stored settings: the research role widened as above (the database bounds every read
   * by what is stored: tenant migration 36); everything else the defaults, which POLICY also has.
   */
  static Map<String, Object> researchSettingsOf(String consentMode) {
    return Map.of("consentMode", consentMode, "rolePolicies", Map.of("researcher", Map.of("kMax", 100,
        "categories", List.of("demographic", "clinical", "lab", "medication", "note"))));
  }

  /** The research settings of the policy's researcher role. */
  static PolicySettings researchSettings(TenantPolicy policy) {
    return io.carecontext.retrieval.research.ResearchService.settings(policy, policy.roles().get("researcher"))
        .withCaller(RESEARCHER.keyId(), RESEARCHER.keySecretHash());
  }

  /**
   * Tenant migration 33: a consent override is a break-glass privilege, so RLS alone honours it only
   * while the presenting key has an open window for the patient, not on the application's word.
   */
  @Test
  void rlsAloneHonoursAConsentOverrideOnlyInsideTheKeysOpenBreakGlassWindow() throws SQLException {
    PolicySettings override = ContextService.settings(POLICY, POLICY.roles().get("clinician"), "p-noconsent", "ETREAT",
        true, "*");
    try {
      assertThat(bareCount(override)).isZero();
      superuser("INSERT INTO tenant_clinic.break_glass (key_id, patient_id, expires_at) VALUES ('"
          + BILLING.keyId() + "', 'p-noconsent', now() + interval '1 hour')");
      assertThat(bareCount(override)).as("another key's window").isZero();
      superuser("INSERT INTO tenant_clinic.break_glass (key_id, patient_id, expires_at) VALUES ('"
          + CLINICIAN.keyId() + "', 'p-noconsent', now() + interval '1 hour')");
      assertThat(bareCount(override)).isPositive();
      superuser("UPDATE tenant_clinic.break_glass SET expires_at = now() - interval '1 minute' "
          + "WHERE patient_id = 'p-noconsent'");
      assertThat(bareCount(override)).as("an expired window").isZero();
      superuser("DELETE FROM tenant_clinic.break_glass WHERE patient_id = 'p-noconsent'");
      // the read path opens the window before its search, so the first break-glass is served
      assertThat(ask(CLINICIAN, "p-noconsent", "ETREAT", "sepsis, patient unresponsive").chunks()).isNotEmpty();
    } finally {
      superuser("DELETE FROM tenant_clinic.break_glass WHERE patient_id = 'p-noconsent'");
    }
  }

  /** The patients whose chunks RLS alone lets these settings see (no WHERE clause of the application). */
  java.util.Set<String> visiblePatients(PolicySettings s) {
    return platform.tx.run(tenant, s, c -> {
      java.util.Set<String> out = new java.util.TreeSet<>();
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
          io.carecontext.migrations.TenantSql.of(tenant, "SELECT DISTINCT patient_id FROM {schema}.chunks"))) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    });
  }

  static io.carecontext.retrieval.research.ResearchService.ResearchResult research(Requester who, String query,
                                                                                   String purpose) {
    // the model embeds what the service hands it: the query de-identified, as the controller's does
    researchEmbeddingsMade();
    return new io.carecontext.retrieval.research.ResearchService(platform.tx, platform.keys, audit).search(tenant,
        RESEARCH_POLICY, who, query, text -> MODEL.embedAll(List.of(text)).get(0), null, 100, purpose);
  }

  /**
   * The research embeddings of every chunk written so far, as the research build and its sweep make them,
   * research turned on first if its build has not completed (tenant migration 66), as a tenant admin's setting
   * does (ResearchIndexBuilds): the marker, every research embedding forgotten, the indexes, the build.
   */
  static long researchEmbeddingsMade() {
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    if (!embeddings.completed(tenant)) {
      researchTurnedOn();
    }
    return embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll);
  }

  /** Research turned on as the setting does it (ResearchIndexBuilds), its build not run yet. */
  static void researchTurnedOn() {
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    embeddings.turnOn(tenant);
    embeddings.forgetAll(tenant);
    platform.provisioner.researchIndex(tenant, true);
  }

  /** Research turned off as the setting does it (ResearchIndexBuilds). */
  static void researchTurnedOff() {
    new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys).turnOff(tenant);
    platform.provisioner.researchIndex(tenant, false);
  }

  static java.util.Set<String> patientsOf(List<Long> chunkIds) throws SQLException {
    java.util.Set<String> out = new java.util.TreeSet<>();
    try (Connection c = TestPostgres.superuser(platform.config);
        PreparedStatement ps = c.prepareStatement("SELECT DISTINCT patient_id FROM tenant_clinic.chunks WHERE chunk_id = ANY (?)")) {
      ps.setArray(1, c.createArrayOf("bigint", chunkIds.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  @Test
  void researchFindsConsentingPatientsAcrossTheTenantAndReturnsThemDeidentified() throws SQLException {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Patient","id":"p-named","name":[{"family":"Featherstone","given":["Rosalind"]}],
         "birthDate":"1961-04-12"}"""));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Consent","id":"c-p-named","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-named"},
         "provision":{"type":"permit"}}"""));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"DocumentReference","id":"d-p-named","status":"current","subject":{"reference":"Patient/p-named"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(java.util.Base64.getEncoder()
        .encodeToString("Rosalind Featherstone reports thirst and fatigue since 03/02/2024.".getBytes()))));
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);

    var r = research(RESEARCHER, "thirst and fatigue", "HRESCH");
    List<Long> ids = r.chunks().stream().map(c -> c.chunkId()).toList();
    java.util.Set<String> patients = patientsOf(ids);
    assertThat(patients).contains("p-named", "p-ok", "p-other").doesNotContain("p-deny", "p-noconsent");
    assertThat(r.chunks()).allSatisfy(c -> {
      assertThat(c.subject()).matches("R[0-9A-F]{15}");
      assertThat(c.text()).doesNotContain("Featherstone").doesNotContain("Rosalind").doesNotContain("03/02/2024")
          .doesNotContain("p-named");
    });
    assertThat(r.chunks()).anySatisfy(c -> assertThat(c.text()).contains("thirst"));
    // p-class's consent excludes DocumentReference: none of its notes may appear.
    assertThat(patientsOf(r.chunks().stream().filter(c -> c.resourceType().equals("DocumentReference"))
        .map(c -> c.chunkId()).toList())).doesNotContain("p-class");
    var row = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, "res", null, null, 1), false).get(0);
    assertThat(row.get("auditId")).isEqualTo(r.auditId().toString());
    assertThat(row.get("action")).isEqualTo("research");
    assertThat(row.get("reason")).isEqualTo("allowed");
    // The row names the patients whose chunks were returned (the answer names none of them), so each
    // one's accounting lists the search, and its AuditEvent names each as an entity (BALP).
    assertThat(row.get("patient")).isNull();
    assertThat(new java.util.TreeSet<>(AuditEntry.patientsIn((String) row.get("details")))).isEqualTo(patients);
    for (String p : patients) {
      assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(p, null, "research", null, null, 100),
          false)).extracting(m -> m.get("auditId")).contains(r.auditId().toString());
    }
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-deny", null, "research", null, null,
        100), false)).extracting(m -> m.get("auditId")).doesNotContain(r.auditId().toString());
    // the patient's own rows are still found beside them
    ask(CLINICIAN, "p-ok", "TREAT", null);
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-ok", null, null, null, 100), false))
        .extracting(m -> m.get("action")).contains("research", "context");
    // its AuditEvents: one a patient (BALP's patient-specific pattern), together naming each of them once
    var events = io.carecontext.retrieval.audit.AuditEvents.forExport(tenant, row);
    assertThat(events).hasSize(patients.size());
    assertThat(events).allSatisfy(event -> assertThat(event.getEntity()).filteredOn(e -> e.getWhat().hasReference())
        .singleElement().satisfies(e -> assertThat(e.getRole().getCode()).isEqualTo("1")));
    assertThat(events).flatExtracting(event -> event.getEntity().stream().filter(e -> e.getWhat().hasReference())
        .map(e -> e.getWhat().getReference()).toList())
        .containsExactlyInAnyOrderElementsOf(patients.stream().map(p -> "Patient/" + p).toList());
    assertThat(r.toString() + r.chunks()).doesNotContain("p-named").doesNotContain("p-ok");

    // one code per patient, the same in the next search: a researcher follows a subject from search to chat
    assertThat(r.chunks().stream().map(c -> c.subject()).distinct().count()).isEqualTo(patients.size());
    var again = research(RESEARCHER, "thirst and fatigue", "HRESCH");
    assertThat(again.chunks().stream().map(c -> c.chunkId() + c.subject()).toList())
        .isEqualTo(r.chunks().stream().map(c -> c.chunkId() + c.subject()).toList());
  }

  /** A consenting patient of the given name with one note. */
  static void namedPatientWithNote(String id, String given, String family, String note) {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Patient","id":"%s","name":[{"family":"%s","given":["%s"]}]}""".formatted(id, family, given)));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Consent","id":"c-%1$s","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
         "provision":{"type":"permit"}}""".formatted(id)));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"DocumentReference","id":"d-%s","status":"current","subject":{"reference":"Patient/%s"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(id, id,
        java.util.Base64.getEncoder().encodeToString(note.getBytes()))));
  }

  /**
   * Chunks are embedded from identified text, and the research query was embedded as typed: a
   * researcher who searched "Zebulon Quartermaine cough" got the note that names him first, and so
   * learned which subject code is Zebulon Quartermaine. The query is now de-identified on its own
   * before it is embedded: a search naming him ranks exactly as one naming another person, while
   * the audit row keeps the query as typed.
   */
  @Test
  void aNameInTheResearchQueryDoesNotSteerTheRanking() throws SQLException {
    namedPatientWithNote("p-zq", "Zebulon", "Quartermaine",
        "Zebulon Quartermaine reports a dry cough that keeps waking the household at night.");
    namedPatientWithNote("p-af", "Ottoline", "Vexwarden",
        "Ottoline Vexwarden reports a dry cough that keeps waking the household at night.");
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);

    var him = research(RESEARCHER, "Zebulon Quartermaine cough", "HRESCH");
    var her = research(RESEARCHER, "Ottoline Vexwarden cough", "HRESCH");
    // both notes found, and the same ranking and scores whichever person the query names (two names no list
    // holds: a name of the Census lists is one [REDACTED] span in the query, other capitalized words a [NAME]
    // each, which moves every score alike and steers towards no one; the loop below asks a listed name too)
    assertThat(patientsOf(him.chunks().stream().map(c -> c.chunkId()).toList())).contains("p-zq", "p-af");
    assertThat(him.chunks().stream().map(c -> c.chunkId() + "@" + c.score()).toList())
        .isEqualTo(her.chunks().stream().map(c -> c.chunkId() + "@" + c.score()).toList());
    // Typed in lower case, a name is a word like any other to the query's de-identification, and the
    // model is case-blind: it steered a ranking on the identified chunks' embeddings. Research ranks on
    // the de-identified text's (tenant migration 64), which holds neither name: the two notes score
    // alike whichever name is typed, and however.
    for (String query : List.of("Zebulon Quartermaine cough", "Ottoline Vexwarden cough", "zebulon quartermaine cough",
        "ottoline vexwarden cough", "quartermaine", "vexwarden", "Abigail Fontaine cough", "abigail fontaine")) {
      var found = research(RESEARCHER, query, "HRESCH");
      Map<String, Double> scoreOf = new java.util.HashMap<>();
      for (var c : found.chunks().stream().filter(c -> c.resourceType().equals("DocumentReference")).toList()) {
        scoreOf.put(patientsOf(List.of(c.chunkId())).iterator().next(), c.score());
      }
      assertThat(scoreOf).as(query).containsKeys("p-zq", "p-af");
      assertThat(scoreOf.get("p-zq")).as(query).isEqualTo(scoreOf.get("p-af"));
    }
    assertThat(him.chunks()).allSatisfy(c -> assertThat(c.text()).doesNotContain("Zebulon", "Quartermaine"));
    // what the researcher asked is on record as typed
    var row = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, "res", "research", null, null, 10), true)
        .stream().filter(r -> r.get("auditId").equals(him.auditId().toString())).findFirst().orElseThrow();
    assertThat(row.get("query")).isEqualTo("Zebulon Quartermaine cough");
  }

  /**
   * Research ranks only on research embeddings (tenant migration 64), and refused while ANY chunk of the
   * tenant had none: on a live tenant, whose feed writes notes every few seconds, each new chunk waits for
   * the next sweep, so research was refused most of the time. It now refuses (503 research_index_building,
   * audited) only until the research build has completed since research was turned on (tenant migration
   * 66, a marker in the database); afterwards a chunk still without a research embedding is left out and
   * the result says it is incomplete, its audit row listing exactly what was returned. Turning research
   * off and on refuses again until a build completes, and a build that began before research was turned
   * off or on again does not complete the new one. A RelatedPerson arriving later makes its patient's
   * research embeddings wait to be made again, with the name it brings known (left out meanwhile); no
   * other patient's.
   */
  @Test
  void researchRefusesUntilItsBuildHasCompletedThenLeavesPendingChunksOutAndSaysSo() throws SQLException {
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    var service = new io.carecontext.retrieval.research.ResearchService(platform.tx, platform.keys, audit);
    java.util.function.Supplier<io.carecontext.retrieval.research.ResearchService.ResearchResult> search =
        () -> service.search(tenant, RESEARCH_POLICY, RESEARCHER, "rash on both forearms",
            text -> MODEL.embedAll(List.of(text)).get(0), MODEL.modelId(), 100, "HRESCH");
    java.util.function.Consumer<AccessDenied> building = d -> {
      assertThat(d.status()).isEqualTo(503);
      assertThat(d.code()).isEqualTo("research_index_building");
      assertThat(d.getMessage()).contains("researchIndex", "/admin/tenants/{tenant}/ingest");
      assertThat(d.retryAfterSeconds()).isPositive();
      assertThat(auditRow(d.auditId())).containsEntry("reason", "research_index_building")
          .containsEntry("decision", "denied").containsEntry("action", "research");
    };
    // (1) research off: refused as off, with no Retry-After (a tenant admin's setting, not waiting, helps);
    // turned on, its build not completed: refused as building, though every chunk has its embedding
    researchEmbeddingsMade();
    embeddings.turnOff(tenant);
    assertThatThrownBy(search::get).isInstanceOfSatisfying(AccessDenied.class, d -> {
      assertThat(d.status()).isEqualTo(503);
      assertThat(d.code()).isEqualTo("research_not_enabled");
      assertThat(d.getMessage()).contains("researchIndex", "tenant admin");
      assertThat(d.retryAfterSeconds()).isZero();
      assertThat(auditRow(d.auditId())).containsEntry("reason", "research_not_enabled")
          .containsEntry("decision", "denied").containsEntry("action", "research");
    });
    embeddings.turnOn(tenant);
    assertThat(embeddings.completed(tenant)).isFalse();
    assertThatThrownBy(search::get).isInstanceOfSatisfying(AccessDenied.class, building);
    embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll);
    assertThat(embeddings.completed(tenant)).isTrue();
    assertThat(search.get().complete()).isTrue();

    // (2) a note written since the build: research answers without it, and says so
    namedPatientWithNote("p-rp", "Hortensia", "Vandersloot",
        "Hortensia Vandersloot came with Philippa Oyelaran about a rash on both forearms.");
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    var progress = embeddings.progress(tenant);
    assertThat(progress.pending()).isPositive();
    assertThat(progress.percent()).isLessThan(100.0);
    var incomplete = search.get();
    assertThat(incomplete.complete()).isFalse();
    List<Long> returned = incomplete.chunks().stream().map(c -> c.chunkId()).toList();
    assertThat(patientsOf(returned)).doesNotContain("p-rp");
    assertThat((List<?>) auditRow(incomplete.auditId()).get("chunkIds")).map(id -> ((Number) id).longValue())
        .containsExactlyElementsOf(returned);
    // the sweep makes it (one batch at a time, as the build does): returned, and the result is complete
    assertThat(embeddings.embedPending(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll)).isPositive();
    assertThat(embeddings.progress(tenant).pending()).isZero();
    var complete = search.get();
    assertThat(complete.complete()).isTrue();
    assertThat(patientsOf(complete.chunks().stream().map(c -> c.chunkId()).toList())).contains("p-rp");

    // a patient whose identifiers changed waits again, left out until made again; no other patient does
    String pendingOf = "SELECT count(*) FROM tenant_clinic.chunks WHERE research_embedding IS NULL AND patient_id ";
    new FhirStore(platform.tx, platform.keys).put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"RelatedPerson","id":"rp-philippa","patient":{"reference":"Patient/p-rp"},
         "name":[{"family":"Oyelaran","given":["Philippa"]}]}"""));
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    assertThat(superuserLong(pendingOf + "= 'p-rp' AND resource_type = 'DocumentReference'")).isEqualTo(1);
    assertThat(superuserLong(pendingOf + "<> 'p-rp'")).isZero();
    var remaking = search.get();
    assertThat(remaking.complete()).isFalse();
    assertThat(patientsOf(remaking.chunks().stream().map(c -> c.chunkId()).toList())).doesNotContain("p-rp");
    researchEmbeddingsMade();
    assertThat(search.get().complete()).isTrue();

    // (3) off and on again: refused until a build completes again; a build that began before does not
    namedPatientWithNote("p-rp2", "Ottoline", "Ashdown", "A rash on both forearms after gardening.");
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    long pendingBefore = embeddings.progress(tenant).pending();
    long stale = embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), texts -> {
      embeddings.turnOff(tenant); // while this build embeds, research is turned off and on again
      embeddings.turnOn(tenant);
      return MODEL.embedAll(texts);
    });
    assertThat(stale).as("the batch embedded for the old generation stores nothing").isZero();
    assertThat(embeddings.progress(tenant).pending()).isEqualTo(pendingBefore);
    assertThat(embeddings.completed(tenant)).isFalse();
    assertThatThrownBy(search::get).isInstanceOfSatisfying(AccessDenied.class, building);
    embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll);
    assertThat(search.get().complete()).isTrue();

    // (4) the marker is the database's (tenant migration 66), not this process's memory
    assertThat(superuserLong("SELECT count(*) FROM tenant_clinic.research_build "
        + "WHERE enabled AND completed = generation")).isEqualTo(1);
  }

  /**
   * A research batch reads its patients' identifiers, embeds, and stores the embeddings in one transaction, holding
   * its chunks locked with none yet. A RelatedPerson committed meanwhile, and the worker's forgetting of the
   * patient's research embeddings, found no embedding to forget (the batch's were not stored yet): the batch then
   * stored embeddings made without the relative's name, and nothing ever made them again. The worker now waits
   * for such a batch and forgets what it stored.
   *
   * <p>One batch, the one in flight: a build's next batch, once the worker has committed, makes the note again with
   * the relative's name known (as it should), and the note no longer waits; run as a build (embedAll), whether it
   * waited depended on which of the two threads went first (2 to 5 failures in 15 runs on a loaded machine).
   */
  @Test
  void aResearchBatchInFlightWhenAPatientsIdentifiersChangeIsMadeAgain() throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      researchEmbeddingsMade();
      namedPatientWithNote("p-race", "Leocadia", "Brightwater",
          "Leocadia Brightwater came with Ottoline Faircloth about a cough.");
      new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
      var embedding = new java.util.concurrent.CountDownLatch(1);
      var release = new java.util.concurrent.CountDownLatch(1);
      var batch = pool.submit(() -> new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys)
          .embedPending(tenant, MODEL.modelId(), MODEL.dimensions(), texts -> {
            embedding.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              throw new IllegalStateException(e);
            }
            return MODEL.embedAll(texts);
          }));
      embedding.await();
      // the batch has read the identifiers: the relative arrives, and the worker embeds it
      new FhirStore(platform.tx, platform.keys).put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"RelatedPerson","id":"rp-ottoline","patient":{"reference":"Patient/p-race"},
           "name":[{"family":"Faircloth","given":["Ottoline"]}]}"""));
      var worker = pool.submit(() -> new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant),
          64).drain(tenant));
      // until the worker is done, or waits for a row the batch holds locked (its transaction's lock)
      while (!worker.isDone() && superuserLong("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND wait_event = 'transactionid' AND datname = current_database()") == 0) {
        Thread.sleep(20);
      }
      release.countDown();
      assertThat(batch.get()).as("the note and the Patient, read before the relative arrived").isEqualTo(2);
      worker.get();
      assertThat(superuserLong("SELECT count(*) FROM tenant_clinic.chunks WHERE research_embedding IS NULL "
          + "AND patient_id = 'p-race' AND resource_type = 'DocumentReference'"))
          .as("the note's research embedding, made without the relative's name, waits to be made again").isEqualTo(1);
      researchEmbeddingsMade();
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The research embeddings are made with the names of the practitioners linked to the patient (care links). A
   * practitioner linked for the first time by an Encounter written after the patient's notes were embedded left
   * them as they were, made without that name: the worker forgot them only when the Practitioner itself changed.
   * Now the first link makes them wait again; a second encounter with the same practitioner does not.
   */
  @Test
  void anEncounterLinkingAPractitionerForTheFirstTimeMakesThePatientsResearchEmbeddingsAgain() throws SQLException {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    namedPatientWithNote("p-cl", "Rosamund", "Thistlewood", "Rosamund Thistlewood will see Ignatius Wolverhollow "
        + "next week about the cough.");
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Practitioner","id":"pr-wolverhollow","name":[{"family":"Wolverhollow","given":["Ignatius"]}]}"""));
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64);
    worker.drain(tenant);
    researchEmbeddingsMade();
    String encounter = """
        {"resourceType":"Encounter","id":"%s","status":"finished",
         "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
         "subject":{"reference":"Patient/p-cl"},"participant":[{"individual":{"reference":"Practitioner/pr-wolverhollow"}}],
         "period":{"start":"2024-03-01T10:00:00Z","end":"2024-03-01T11:00:00Z"}}""";
    String notePending = "SELECT count(*) FROM tenant_clinic.chunks WHERE research_embedding IS NULL "
        + "AND patient_id = 'p-cl' AND resource_type = 'DocumentReference'";
    store.put(tenant, FEED, Fhir.parseResource(encounter.formatted("e-cl-1")));
    worker.drain(tenant);
    assertThat(superuserLong(notePending)).as("made without the practitioner's name").isEqualTo(1);
    researchEmbeddingsMade();
    store.put(tenant, FEED, Fhir.parseResource(encounter.formatted("e-cl-2")));
    worker.drain(tenant);
    assertThat(superuserLong(notePending)).as("the practitioner was known already").isZero();
    researchEmbeddingsMade();
  }

  /**
   * The worker's clearing of research embeddings ran two statements on every batch of every tenant (a lock probe,
   * then an update whose patients it found through the care links), research on or not. It now runs only while
   * research is on: with research off, a research embedding the owner planted survives a write of its Patient
   * (no clearing was issued); with research on, the same write clears it.
   */
  @Test
  void theWorkerClearsResearchEmbeddingsOnlyWhileResearchIsOn() throws SQLException {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64);
    namedPatientWithNote("p-gate", "Cornelius", "Ashgrove", "Cornelius Ashgrove has had a sore throat for a week.");
    worker.drain(tenant);
    String plant = "UPDATE tenant_clinic.chunks SET research_embedding = array_fill(0.5, ARRAY[384])::public.vector "
        + "WHERE patient_id = 'p-gate' AND resource_type = 'DocumentReference'";
    String planted = "SELECT count(*) FROM tenant_clinic.chunks WHERE patient_id = 'p-gate' "
        + "AND resource_type = 'DocumentReference' AND research_embedding IS NOT NULL";
    String renamed = """
        {"resourceType":"Patient","id":"p-gate","name":[{"family":"%s","given":["Cornelius"]}]}""";
    try {
      researchTurnedOff();
      superuser(plant);
      store.put(tenant, FEED, Fhir.parseResource(renamed.formatted("Ashgrove-Pell")));
      worker.drain(tenant);
      assertThat(superuserLong(planted)).as("research off: nothing cleared").isEqualTo(1);

      researchTurnedOn();
      superuser(plant);
      store.put(tenant, FEED, Fhir.parseResource(renamed.formatted("Pell")));
      worker.drain(tenant);
      assertThat(superuserLong(planted)).as("research on: the renamed patient's note waits again").isZero();
    } finally {
      researchEmbeddingsMade();
    }
  }

  /**
   * A PractitionerRole that gains a holder links that practitioner to every patient linked through the role (an
   * Encounter naming the role): the worker left those patients' research embeddings as they were, made without
   * the practitioner's name, since the role's write changed no care link's source. They now wait to be made
   * again, in the worker's transaction, as after a first-time care link.
   */
  @Test
  void aPractitionerRoleGainingAHolderMakesItsPatientsResearchEmbeddingsAgain() throws SQLException {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64);
    namedPatientWithNote("p-role", "Evangeline", "Marchbanks", "Evangeline Marchbanks will see Barnaby Quillfeather "
        + "about the wheeze.");
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Practitioner","id":"pr-quill","name":[{"family":"Quillfeather","given":["Barnaby"]}]}"""));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Encounter","id":"e-role","status":"finished",
         "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
         "subject":{"reference":"Patient/p-role"},
         "participant":[{"individual":{"reference":"PractitionerRole/prr-quill"}}],
         "period":{"start":"2024-03-01T10:00:00Z","end":"2024-03-01T11:00:00Z"}}"""));
    worker.drain(tenant);
    researchEmbeddingsMade();
    String notePending = "SELECT count(*) FROM tenant_clinic.chunks WHERE research_embedding IS NULL "
        + "AND patient_id = 'p-role' AND resource_type = 'DocumentReference'";
    assertThat(superuserLong(notePending)).isZero();
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"PractitionerRole","id":"prr-quill","active":true,
         "practitioner":{"reference":"Practitioner/pr-quill"}}"""));
    assertThat(superuserLong("SELECT count(*) FROM tenant_clinic.care_links WHERE via_role = 'prr-quill' "
        + "AND practitioner_id = 'pr-quill' AND patient_id = 'p-role'")).as("the role's holder is linked").isEqualTo(1);
    worker.drain(tenant);
    assertThat(superuserLong(notePending)).as("made without the holder's name").isEqualTo(1);
    researchEmbeddingsMade();
    // the role written again, the same holder: known already through it, and through nothing else, so made again
    // only when the role is the holder's one link to the patient; a direct link makes it known already
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Encounter","id":"e-role-direct","status":"finished",
         "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
         "subject":{"reference":"Patient/p-role"},"participant":[{"individual":{"reference":"Practitioner/pr-quill"}}],
         "period":{"start":"2024-03-02T10:00:00Z","end":"2024-03-02T11:00:00Z"}}"""));
    worker.drain(tenant);
    researchEmbeddingsMade();
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"PractitionerRole","id":"prr-quill","active":true,"code":[{"text":"GP"}],
         "practitioner":{"reference":"Practitioner/pr-quill"}}"""));
    worker.drain(tenant);
    assertThat(superuserLong(notePending)).as("the holder was linked directly already").isZero();
  }

  /**
   * Research turned off (or off and on again) while its build embedded went on with every batch left: model calls
   * for embeddings no one would rank on. The build now stops at its next batch.
   */
  @Test
  void aResearchBuildStopsAtItsNextBatchOnceResearchIsTurnedOffOrOnAgain() {
    var oneAtATime = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys, 1);
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    try {
      for (Runnable change : List.<Runnable>of(() -> embeddings.turnOff(tenant), () -> {
        embeddings.turnOff(tenant);
        embeddings.turnOn(tenant);
      })) {
        researchEmbeddingsMade();
        embeddings.turnOn(tenant); // on again: every research embedding forgotten, to be made again
        embeddings.forgetAll(tenant);
        long pending = embeddings.progress(tenant).pending();
        assertThat(pending).isGreaterThan(2);
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        long made = oneAtATime.build(tenant, MODEL.modelId(), MODEL.dimensions(), texts -> {
          if (calls.incrementAndGet() == 1) {
            change.run(); // while the first batch embeds
          }
          return MODEL.embedAll(texts);
        });
        assertThat(calls.get()).as("the model called for the first batch only").isEqualTo(1);
        assertThat(made).as("and what it embedded for the old generation not stored").isZero();
        assertThat(embeddings.progress(tenant).pending()).isEqualTo(pending);
        assertThat(embeddings.completed(tenant)).isFalse();
        // and a build while research is off makes nothing
        embeddings.turnOff(tenant);
        assertThat(oneAtATime.build(tenant, MODEL.modelId(), MODEL.dimensions(), texts -> {
          throw new AssertionError("the model called while research is off");
        })).isZero();
      }
    } finally {
      researchEmbeddingsMade();
    }
  }

  /**
   * Turning research on again is how an operator makes every research embedding again with today's identifiers and
   * detectors. A research batch in flight then (its chunks locked, still without one; the model embedding) was passed
   * over by the new build's forgetting, which sees only chunks that have one, and then stored its embeddings of the
   * old generation for good. The batch now stores nothing once the generation it read is no longer research's.
   */
  @Test
  void aResearchBatchInFlightWhenResearchIsTurnedOnAgainStoresNothing() throws Exception {
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    // what the batch stores is told apart from every other embedding by its size (3: the chunk's own is 384)
    String old = "SELECT count(*) FROM tenant_clinic.chunks WHERE public.vector_dims(research_embedding) = 3";
    var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      researchEmbeddingsMade();
      superuser("UPDATE tenant_clinic.chunks SET research_embedding = NULL WHERE chunk_id IN "
          + "(SELECT chunk_id FROM tenant_clinic.chunks ORDER BY chunk_id LIMIT 3)");
      var embedding = new java.util.concurrent.CountDownLatch(1);
      var release = new java.util.concurrent.CountDownLatch(1);
      var first = new java.util.concurrent.atomic.AtomicBoolean(true);
      var batch = pool.submit(() -> embeddings.embedAll(tenant, MODEL.modelId(), MODEL.dimensions(), texts -> {
        if (!first.getAndSet(false)) {
          return MODEL.embedAll(texts); // a later batch: made after the turning-on
        }
        embedding.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return texts.stream().map(t -> new float[] {1, 2, 3}).toList();
      }));
      embedding.await();
      // the batch holds its chunks and waits for the model: research is turned on again, and the build forgets
      embeddings.turnOn(tenant);
      embeddings.forgetAll(tenant);
      release.countDown();
      assertThat(batch.get()).as("the batch of the old generation stores nothing, and ends there").isZero();
      assertThat(superuserLong(old)).isZero();
      assertThat(embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll)).isPositive();
      assertThat(embeddings.completed(tenant)).isTrue();
      assertThat(embeddings.progress(tenant).pending()).isZero();
      assertThat(superuserLong(old)).as("no chunk keeps an embedding made before research was turned on again")
          .isZero();
    } finally {
      pool.shutdownNow();
      superuser("UPDATE tenant_clinic.chunks SET research_embedding = NULL "
          + "WHERE public.vector_dims(research_embedding) <> 384");
      researchEmbeddingsMade();
    }
  }

  /**
   * Research on and ready, then turned on again: the setting started a new generation, and this process's build was
   * to forget every research embedding. In between, another process's sweep (which waits only for the research
   * index, there already) found nothing pending and marked the new generation completed: research answered from the
   * old embeddings, and from none once the build had forgotten them. A generation is now completed only after its
   * forgetting (tenant migration 69), which the sweep does itself when it comes first; the build then does not
   * forget again.
   */
  @Test
  void anotherProcessesSweepCannotCompleteAGenerationBeforeItsForgetting() throws SQLException {
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    // the embeddings of before the turning-on, told apart by their size (3: the chunk's own is 384)
    String old = "SELECT count(*) FROM tenant_clinic.chunks WHERE public.vector_dims(research_embedding) = 3";
    try {
      researchEmbeddingsMade();
      superuser("UPDATE tenant_clinic.chunks SET research_embedding = '[1,2,3]'");
      assertThat(superuserLong(old)).isPositive();
      embeddings.turnOn(tenant); // the setting; this process's build has not started
      // another process's sweep
      embeddings.sweep(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll);
      assertThat(embeddings.completed(tenant) && superuserLong(old) > 0)
          .as("the new generation completed while chunks keep the old embeddings").isFalse();
      // this process's build: forgets nothing the sweep made for this generation, and completes
      platform.provisioner.researchIndex(tenant, true);
      embeddings.forgetAll(tenant);
      embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll);
      assertThat(embeddings.completed(tenant)).isTrue();
      assertThat(superuserLong(old)).isZero();
      assertThat(embeddings.progress(tenant).pending()).isZero();
      assertThat(superuserLong("SELECT count(*) FROM tenant_clinic.research_build "
          + "WHERE enabled AND completed = generation AND forgotten = generation")).isEqualTo(1);
    } finally {
      superuser("UPDATE tenant_clinic.chunks SET research_embedding = NULL "
          + "WHERE public.vector_dims(research_embedding) <> 384");
      researchEmbeddingsMade();
    }
  }

  /**
   * During a re-embedding the chunks of the old model have no research embedding and are never given one (their
   * successors are): the sweep walked past them in its work list every 5 seconds, while research refuses anyway.
   * It now does nothing while the tenant has a chunk of another model, and makes what is pending afterwards.
   */
  @Test
  void theResearchSweepWaitsWhileTheTenantIsReEmbedded() throws SQLException {
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    researchEmbeddingsMade();
    long older = superuserLong("SELECT min(chunk_id) FROM tenant_clinic.chunks");
    long waiting = superuserLong("SELECT max(chunk_id) FROM tenant_clinic.chunks");
    String restore = "UPDATE tenant_clinic.chunks SET model = '" + MODEL.modelId() + "' WHERE chunk_id = " + older;
    try {
      superuser("UPDATE tenant_clinic.chunks SET model = 'an-older-model', research_embedding = NULL "
          + "WHERE chunk_id = " + older);
      superuser("UPDATE tenant_clinic.chunks SET research_embedding = NULL WHERE chunk_id = " + waiting);
      assertThat(embeddings.sweep(tenant, MODEL.modelId(), MODEL.dimensions(), texts -> {
        throw new AssertionError("the sweep embedded during a re-embedding");
      })).isZero();
      superuser(restore);
      assertThat(embeddings.sweep(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll)).isEqualTo(2);
      assertThat(embeddings.progress(tenant).pending()).isZero();
    } finally {
      superuser(restore);
      researchEmbeddingsMade();
    }
  }

  /**
   * The index of the chunks without a research embedding (the research build's work list, tenant migration 64)
   * was kept by every tenant, research on or not, one more index written with every chunk. It now exists only
   * while research is on: made with the research index, dropped with it (tenant migration 68 dropped it where
   * research was off).
   */
  @Test
  void theResearchWorkListIndexExistsOnlyWhileResearchIsOn() throws SQLException {
    String indexes = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'tenant_clinic' "
        + "AND indexname IN ('chunks_research_pending_idx', 'chunks_embedding_hnsw')";
    try {
      researchTurnedOff();
      assertThat(superuserLong(indexes)).isZero();
      researchTurnedOn();
      assertThat(superuserLong(indexes)).isEqualTo(2);
      assertThat(superuserLong("SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
          + "JOIN pg_namespace n ON n.oid = x.relnamespace WHERE n.nspname = 'tenant_clinic' "
          + "AND x.relname = 'chunks_research_pending_idx' AND i.indisvalid "
          + "AND pg_get_expr(i.indpred, i.indrelid) LIKE '%research_embedding IS NULL%'")).isEqualTo(1);
      researchTurnedOff();
      assertThat(superuserLong(indexes)).isZero();
    } finally {
      researchEmbeddingsMade();
    }
  }

  /**
   * Research turned off in one process and on again in another: the off's DROP INDEX CONCURRENTLY waited (behind
   * a research batch holding chunks), the on's CREATE INDEX CONCURRENTLY IF NOT EXISTS found the index still there
   * and did nothing, and the drop then removed it: research on, its build completed, without its work-list index
   * (or its HNSW index). Each change of the indexes now holds the tenant's research-index lock in the database and
   * reads the setting under it: the making waits for the drop, then makes both.
   */
  @Test
  void researchTurnedOnWhileAnotherProcessesDropOfItsIndexesWaitsKeepsBoth() throws Exception {
    String indexes = "SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
        + "JOIN pg_namespace n ON n.oid = x.relnamespace WHERE n.nspname = 'tenant_clinic' AND i.indisvalid "
        + "AND x.relname IN ('chunks_research_pending_idx', 'chunks_embedding_hnsw')";
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    researchEmbeddingsMade();
    assertThat(superuserLong(indexes)).isEqualTo(2);
    Thread off = null;
    Thread on = null;
    java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
    try (Connection batch = TestPostgres.superuser(platform.config); Statement st = batch.createStatement()) {
      // a research batch in flight: a transaction that has read the chunks, which the drop must wait for
      batch.setAutoCommit(false);
      st.executeQuery("SELECT count(*) FROM tenant_clinic.chunks").close();
      // process B turns research off: its drop waits for the batch
      embeddings.turnOff(tenant);
      off = new Thread(() -> {
        try {
          platform.provisioner.researchIndex(tenant, false);
        } catch (Throwable t) {
          failed.set(t);
        }
      });
      off.start();
      String dropWaits = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'DROP INDEX CONCURRENTLY%' "
          + "AND wait_event_type = 'Lock'";
      for (int i = 0; i < 600 && superuserLong(dropWaits) == 0; i++) {
        Thread.sleep(50);
      }
      assertThat(superuserLong(dropWaits)).as("the drop waits for the batch").isEqualTo(1);
      // process A turns research on again meanwhile, and its build makes the indexes
      embeddings.turnOn(tenant);
      on = new Thread(() -> {
        try {
          platform.provisioner.researchIndex(tenant, true);
        } catch (Throwable t) {
          failed.set(t);
        }
      });
      on.start();
      // until the making waits: for the drop's lock in the database (before), or for the research-index lock
      String createWaits = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' "
          + "AND wait_event_type = 'Lock'";
      for (int i = 0; i < 600 && on.getState() != Thread.State.TIMED_WAITING && superuserLong(createWaits) == 0; i++) {
        Thread.sleep(20);
      }
      batch.rollback(); // the batch ends
    } finally {
      if (off != null) {
        off.join(60_000);
      }
      if (on != null) {
        on.join(60_000);
      }
    }
    try {
      assertThat(failed.get()).isNull();
      assertThat(embeddings.enabled(tenant)).isTrue();
      assertThat(superuserLong(indexes)).as("research on: both its indexes, valid").isEqualTo(2);
    } finally {
      researchEmbeddingsMade();
    }
  }

  static long superuserLong(String sql) throws SQLException {
    return TestPostgres.superuserLong(platform.config, sql);
  }

  /** The research subject code research search issued for {@code patientId}. */
  static String subjectCodeOf(String patientId) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); PreparedStatement ps = c.prepareStatement(
        "SELECT code FROM tenant_clinic.research_subjects WHERE patient_id = ?")) {
      ps.setString(1, patientId);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("a code issued for " + patientId).isTrue();
        return rs.getString(1);
      }
    }
  }

  /**
   * A researcher's chat or context call by subject code that is refused before the code is resolved
   * (rate limit, purpose missing, unknown or not allowed, identified context asked for) recorded the
   * code as its patient, and the patient's accounting of disclosures (the trail by patient) left out
   * every such attempt on them. Its row now names the patient the code stands for, and the code, as the
   * rows after the code's resolution do; a code never issued stays the code.
   */
  @Test
  void aResearchersRefusalsBeforeItsCodeIsResolvedRecordThePatientTheCodeStandsFor() throws SQLException {
    research(RESEARCHER, "Hemoglobin A1c", "HRESCH");
    String code = subjectCodeOf("p-ok");
    float[] vector = MODEL.embedAll(List.of("cough")).get(0);
    java.util.function.BiFunction<String, String, ContextQuery> query = (purpose, text) ->
        new ContextQuery(text, () -> vector, 5, purpose, null, false);
    Map<String, AccessDenied> refused = new java.util.LinkedHashMap<>();
    refused.put("purpose_missing", assertDenied(() -> service.context(tenant, RESEARCH_POLICY, RESEARCHER, code,
        query.apply(null, "cough"), "chat")));
    refused.put("purpose_unknown", assertDenied(() -> service.context(tenant, RESEARCH_POLICY, RESEARCHER, code,
        query.apply("FOO", "cough"), "chat")));
    refused.put("purpose_not_allowed", assertDenied(() -> service.context(tenant, RESEARCH_POLICY, RESEARCHER, code,
        query.apply("TREAT", "cough"), "chat")));
    refused.put("deidentified_only", assertDenied(() -> service.context(tenant, RESEARCH_POLICY, RESEARCHER, code,
        query.apply("HRESCH", "cough"), "context")));
    TenantPolicy onePerMinute = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in", "rateLimitPerMinute", 1,
        "rolePolicies", researchSettingsOf("opt-in").get("rolePolicies")));
    ContextService limited = new ContextService(platform.tx, platform.keys, audit);
    try {
      limited.context(tenant, onePerMinute, RESEARCHER, code, query.apply("HRESCH", "cough"), "chat");
    } catch (AccessDenied served) {
      // within the limit: whatever it was answered, it took the minute's one request
    }
    refused.put("rate_limited", assertDenied(() -> limited.context(tenant, onePerMinute, RESEARCHER, code,
        query.apply("HRESCH", "cough"), "chat")));
    refused.forEach((reason, d) -> {
      assertThat(d.reason()).isEqualTo(reason);
      var row = auditRow(d.auditId());
      assertThat(row.get("reason")).as(reason).isEqualTo(reason);
      assertThat(row.get("patient")).as(reason).isEqualTo("p-ok");
      assertThat(row.get("details").toString()).as(reason).contains(code);
    });
    // the patient's own listing holds them all
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-ok", "res", null, null, 1000), false)
        .stream().map(r -> r.get("auditId")).toList())
        .containsAll(refused.values().stream().map(d -> d.auditId().toString()).toList());
    // a code never issued names no one: the row keeps it
    AccessDenied unissued = assertDenied(() -> service.context(tenant, RESEARCH_POLICY, RESEARCHER, "R000000000000000",
        query.apply(null, "cough"), "chat"));
    assertThat(auditRow(unissued.auditId()).get("patient")).isEqualTo("R000000000000000");
  }

  /**
   * A researcher's key revoked after authentication read it: the database resolves no code for it, and
   * its chat by code was recorded as a code never issued (research_subject_unknown). It is now recorded
   * as the key the database refused, with the same 404 as a code never issued.
   */
  @Test
  void aResearchersKeyTheDatabaseRefusesIsRecordedAsSuchNotAsAnUnknownCode() throws SQLException {
    research(RESEARCHER, "Hemoglobin A1c", "HRESCH");
    String code = subjectCodeOf("p-ok");
    Requester gone = requester("res-gone", "researcher", null);
    try (Connection owner = platform.db.ownerDataSource().getConnection(); PreparedStatement ps = owner.prepareStatement(
        "UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = ?")) {
      ps.setString(1, gone.keyId());
      ps.executeUpdate();
    }
    ContextQuery q = new ContextQuery("cough", MODEL.embedAll(List.of("cough")).get(0), 5, "HRESCH", null);
    AccessDenied refused = assertDenied(() -> service.context(tenant, RESEARCH_POLICY, gone, code, q, "chat"));
    AccessDenied unissued = assertDenied(() -> service.context(tenant, RESEARCH_POLICY, RESEARCHER, "R000000000000000",
        q, "chat"));
    assertThat(refused.status()).isEqualTo(unissued.status()).isEqualTo(404);
    assertThat(refused.getMessage()).isEqualTo(unissued.getMessage());
    assertThat(refused.reason()).isEqualTo("key_not_admitted");
    assertThat(auditRow(refused.auditId())).containsEntry("reason", "key_not_admitted");
    assertThat(unissued.reason()).isEqualTo("research_subject_unknown");
  }

  /**
   * Deleting a patient's Patient resource leaves its other resources' chunks; the read path answers it
   * as unknown, and research, whose statement names no patient condition, leaves it out too: the
   * research role's chunk policy alone (tenant migration 56).
   */
  @Test
  void researchLeavesOutAPatientWhosePatientResourceIsDeleted() throws SQLException {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    patient(store, "p-gone", "permit", null, false, 4);
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    assertThat(patientsOf(research(RESEARCHER, "Hemoglobin A1c", "HRESCH").chunks().stream().map(c -> c.chunkId())
        .toList())).contains("p-gone");
    store.delete(tenant, FEED, "Patient", "p-gone");
    assertThat(patientsOf(research(RESEARCHER, "Hemoglobin A1c", "HRESCH").chunks().stream().map(c -> c.chunkId())
        .toList())).doesNotContain("p-gone").contains("p-ok");
    try (Connection c = TestPostgres.superuser(platform.config); var rs = c.createStatement().executeQuery(
        "SELECT count(*) FROM tenant_clinic.chunks WHERE patient_id = 'p-gone'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).as("its Observations' chunks are still stored").isGreaterThan(0);
    }
  }

  /**
   * A patient whose registration is labelled beyond the researcher's labels (a Patient resource marked
   * PSY: being a patient of the programme is the secret) does not exist for the read path's researcher,
   * whose chat by subject code answers 404 patient_label_not_readable. Research search, which checked
   * only that the Patient was on record, returned that patient's unlabelled chunks all the same, and
   * issued it a subject code: now the research role's patients on record are those whose registration
   * is within the request's labels too (tenant migration 62), as the read path's are.
   */
  @Test
  void researchLeavesOutAPatientWhoseRegistrationIsLabelledBeyondTheResearchersLabels() throws SQLException {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    for (String id : List.of("p-reg-psy", "p-reg-plain")) {
      store.put(tenant, FEED, Fhir.parseResource(("""
          {"resourceType":"Patient","id":"%s","gender":"female"%s}""").formatted(id, id.equals("p-reg-psy")
          ? ",\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]}"
          : "")));
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Consent","id":"c-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
           "provision":{"type":"permit"}}""".formatted(id)));
      store.put(tenant, FEED, Fhir.parseResource("""
          {"resourceType":"Observation","id":"o-%1$s","status":"final",
           "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
           "subject":{"reference":"Patient/%1$s"},"valueQuantity":{"value":7.9,"unit":"%%"}}""".formatted(id)));
    }
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    var found = research(RESEARCHER, "Hemoglobin A1c", "HRESCH");
    assertThat(patientsOf(found.chunks().stream().map(c -> c.chunkId()).toList()))
        .contains("p-reg-plain").doesNotContain("p-reg-psy");
    try (Connection c = TestPostgres.superuser(platform.config); var rs = c.createStatement().executeQuery(
        "SELECT count(*) FROM tenant_clinic.research_subjects WHERE patient_id = 'p-reg-psy'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).as("no subject code issued for the hidden patient").isZero();
    }
  }

  @Test
  void researchSearchIsOnlyForDeidentifiedRolesWithPurposeHresch() {
    assertThatThrownBy(() -> research(CLINICIAN, "thirst", "HRESCH")).isInstanceOfSatisfying(AccessDenied.class, d -> {
      assertThat(d.status()).isEqualTo(403);
      assertThat(auditedReason(d)).isEqualTo("role_not_allowed");
    });
    TenantPolicy clinicianResearch = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in", "rolePolicies",
        Map.of("clinician", Map.of("purposes", List.of("TREAT", "HRESCH")))));
    AccessDenied identified = researchRefused(clinicianResearch, CLINICIAN);
    assertThat(identified.status()).isEqualTo(403);
    assertThat(auditedReason(identified)).isEqualTo("identified_role_multi_patient");
    assertThatThrownBy(() -> research(RESEARCHER, "thirst", "TREAT")).isInstanceOfSatisfying(AccessDenied.class, d -> {
      assertThat(d.status()).isEqualTo(400);
      assertThat(auditedReason(d)).isEqualTo("purpose_not_allowed");
    });
    assertThatThrownBy(() -> research(RESEARCHER, "thirst", null)).isInstanceOfSatisfying(AccessDenied.class, d -> {
      assertThat(d.status()).isEqualTo(400);
      assertThat(auditedReason(d)).isEqualTo("purpose_missing");
    });
    assertThatThrownBy(() -> research(RESEARCHER, "thirst", "hresch")).isInstanceOfSatisfying(AccessDenied.class, d -> {
      assertThat(d.status()).isEqualTo(400);
      assertThat(d.code()).isEqualTo("purpose_unknown");
      assertThat(auditedReason(d)).isEqualTo("purpose_unknown");
    });
  }

  @Test
  void rlsAloneAdmitsOnlyConsentingPatientsToResearch() {
    PolicySettings s = researchSettings(RESEARCH_POLICY);
    assertThat(visiblePatients(s)).contains("p-ok", "p-other").doesNotContain("p-deny", "p-noconsent");
    int psyForLabelPatient = bareCountWhere(s, "patient_id = 'p-label' AND 'PSY' = ANY (security_labels)");
    assertThat(psyForLabelPatient).isZero();
  }

  @Test
  void inOptOutModeRlsAloneAdmitsPatientsWithoutConsentToResearchButStillNotDeniedOnes() {
    // Tenant migration 18 admits such patients through its own branch of the research policy, not
    // through research_consent_allows: this holds the branch to the rule.
    // the tenant's stored mode, which the database holds the setting to (tenant migration 36)
    assertThat(visiblePatients(researchSettings(researchPolicy("opt-out")))).as("opt-out asked, opt-in stored").isEmpty();
    platform.storeSettings(tenant, researchSettingsOf("opt-out"));
    try {
      assertThat(visiblePatients(researchSettings(researchPolicy("opt-out"))))
          .contains("p-ok", "p-other", "p-noconsent").doesNotContain("p-deny");
    } finally {
      platform.storeSettings(tenant, researchSettingsOf("opt-in"));
    }
  }

  /**
   * A permit whose nested deny names research ("not for research") keeps the patient out of research in an opt-out
   * tenant too, by RLS alone: the purpose was only taken out of the permit, so for a research request the Consent said
   * nothing, and opt-out admits a patient whom no Consent denies. The permit still serves treatment.
   */
  @Test
  void aConsentDenyingResearchKeepsThePatientOutOfResearchInOptOutModeToo() {
    patient(new FhirStore(platform.tx, platform.keys), "p-no-research", "permit",
        "{\"type\":\"deny\",\"purpose\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\","
            + "\"code\":\"HRESCH\"}]}", true, 2);
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    assertThat(visiblePatients(researchSettings(RESEARCH_POLICY))).contains("p-ok").doesNotContain("p-no-research");
    platform.storeSettings(tenant, researchSettingsOf("opt-out"));
    try {
      assertThat(visiblePatients(researchSettings(researchPolicy("opt-out"))))
          .contains("p-ok", "p-noconsent").doesNotContain("p-no-research", "p-deny");
    } finally {
      platform.storeSettings(tenant, researchSettingsOf("opt-in"));
    }
    assertThat(ask(CLINICIAN, "p-no-research", "TREAT", null).chunks()).isNotEmpty();
  }

  /**
   * The single-patient path in an opt-out tenant: a permit whose nested deny names billing or treatment refuses that
   * purpose (consent_denied, audited so) and still serves the others; without the denial row the Consent said nothing
   * of the purpose and opt-out served it. Break-glass by a role that may override consent is served and flagged.
   */
  @Test
  void aConsentDenyingAPurposeRefusesItOnTheContextPathInOptOutMode() {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    patient(store, "p-no-billing", "permit", "{\"type\":\"deny\",\"purpose\":[{\"code\":\"HPAYMT\"}]}", true, 2);
    patient(store, "p-no-treat", "permit", "{\"type\":\"deny\",\"purpose\":[{\"code\":\"TREAT\"}]}", true, 2);
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    TenantPolicy optOut = researchPolicy("opt-out");
    Requester dr = requester("dr-optout", "clinician", "pr-1");
    float[] vector = MODEL.embedAll(List.of("blood sugar control")).get(0);
    java.util.function.BiFunction<Requester, String[], ContextResult> ask = (who, a) -> service.context(tenant, optOut,
        who, a[0], new ContextQuery("blood sugar control", () -> vector, 10, a[1], a.length > 2 ? a[2] : null, false),
        "context");
    platform.storeSettings(tenant, researchSettingsOf("opt-out"));
    try {
      AccessDenied billing = assertDenied(() -> ask.apply(BILLING, new String[] {"p-no-billing", "HPAYMT"}));
      assertThat(billing.reason()).isEqualTo("consent_denied");
      assertThat(auditedReason(billing)).isEqualTo("consent_denied");
      assertThat(ask.apply(dr, new String[] {"p-no-billing", "TREAT"}).chunks()).isNotEmpty();
      assertThat(ask.apply(BILLING, new String[] {"p-no-treat", "HPAYMT"}).chunks()).isNotEmpty();
      AccessDenied treat = assertDenied(() -> ask.apply(dr, new String[] {"p-no-treat", "TREAT"}));
      assertThat(treat.reason()).isEqualTo("consent_denied");
      assertThat(auditedReason(treat)).isEqualTo("consent_denied");
      // emergency treatment is a kind of treatment (HL7 v3): the deny of TREAT is one of ETREAT too, which only a
      // role whose break-glass may override consent reads past, and its row says it overrode consent_denied
      ContextResult glass = ask.apply(dr, new String[] {"p-no-treat", "ETREAT", "unconscious in ED"});
      assertThat(glass.chunks()).isNotEmpty();
      assertThat(glass.breakGlass()).isTrue();
      assertThat(auditDetails(glass)).contains("\"breakGlass\":true").contains("overrode").contains("consent_denied");
      TenantPolicy noOverride = TenantPolicy.fromSettings(Map.of("consentMode", "opt-out", "rolePolicies",
          Map.of("clinician", Map.of("breakGlass", Map.of("allowed", true, "overrideConsent", false)))));
      AccessDenied held = assertDenied(() -> service.context(tenant, noOverride, requester("dr-nooverride",
          "clinician", "pr-1"), "p-no-treat", new ContextQuery("blood sugar control", () -> vector, 10, "ETREAT",
          "unconscious in ED", false), "context"));
      assertThat(held.reason()).isEqualTo("consent_denied");
      assertThat(auditedReason(held)).isEqualTo("consent_denied");
    } finally {
      platform.storeSettings(tenant, researchSettingsOf("opt-in"));
    }
  }

  @Test
  void researchUsesTheHnswIndexWhileSinglePatientRetrievalStaysExact() throws SQLException {
    researchEmbeddingsMade(); // research on: its indexes made
    // analyzed, as autovacuum analyzes it at some moment of the run: the plan no longer depends on when
    superuser("ANALYZE tenant_clinic.chunks");
    float[] q = MODEL.embedAll(List.of("thirst")).get(0);
    // the statement research runs, its distance checked against the question's model (tenant migration 52)
    String research = explainAsIfLarge(researchSettings(RESEARCH_POLICY),
        io.carecontext.retrieval.research.ResearchService.APPROXIMATE, MODEL.modelId(),
        new PGvector(q), new PGvector(q), 10);
    assertThat(research).contains("chunks_embedding_hnsw");
    String single = explain(ContextService.settings(POLICY, POLICY.roles().get("clinician"), "p-ok", "TREAT", false, "pr-1"),
        ContextService.SEARCH, MODEL.modelId(), new PGvector(q), "p-ok", "p-ok", false, "p-ok", "pr-1", 10);
    assertThat(single).contains("chunks_patient_idx").doesNotContain("hnsw");
    var withIndex = research(RESEARCHER, "thirst and fatigue", "HRESCH");
    // the same search without the index (research stays on: turning it off would refuse the search)
    superuser("DROP INDEX tenant_clinic.chunks_embedding_hnsw");
    io.carecontext.retrieval.research.ResearchService.ResearchResult exact;
    try {
      exact = research(RESEARCHER, "thirst and fatigue", "HRESCH");
    } finally {
      platform.provisioner.researchIndex(tenant, true); // research is on: made again
    }
    // recall of the approximate search against the exact one, over the same consenting rows
    java.util.Set<Long> truth = new java.util.HashSet<>(exact.chunks().stream().map(c -> c.chunkId()).toList());
    long hits = withIndex.chunks().stream().filter(c -> truth.contains(c.chunkId())).count();
    assertThat((double) hits / truth.size()).isGreaterThanOrEqualTo(0.9);
  }

  /**
   * Research over the HNSW index measures only the nearest chunks the index hands out, so a chunk of an
   * older model (a resource not yet re-embedded) refused it only when it came up among them; otherwise
   * the search answered from the re-embedded chunks alone. Now the tenant holding any chunk that is not
   * of the question's model at the question's size refuses it (SQLSTATE CC001, a 503
   * reembedding_in_progress denial with its audit row): one far from the question (tenant migration 53), one of a patient the
   * research role may not see, and one of the question's model at another size, which the index's
   * statement (384 dimensions only) never meets (tenant migration 54). The probe is two index range
   * probes, and the search statement's plan is unchanged.
   */
  @Test
  void researchOverTheHnswIndexRefusesWhileTheTenantHasAnyChunkOfAnotherModel() throws SQLException {
    float[] q = MODEL.embedAll(List.of("thirst and fatigue")).get(0);
    researchEmbeddingsMade();
    var research = new io.carecontext.retrieval.research.ResearchService(platform.tx, platform.keys, audit);
    String farthest = "SELECT chunk_id FROM tenant_clinic.chunks WHERE patient_id = '%s' ORDER BY embedding <=> '"
        + new PGvector(q) + "' DESC LIMIT 1";
    float[] small = new float[16];
    java.util.Arrays.fill(small, 0.25f);
    Map<String, String> olderChunks = new java.util.LinkedHashMap<>();
    // the consenting patients' chunk farthest from the question: never among the 3 nearest
    olderChunks.put("of an older model, far from the question",
        "SET model = 'an-older-model' WHERE chunk_id = " + superuserCount(farthest.formatted("p-ok")));
    // research never returns this patient's chunks (no research consent), but the re-embedding is not done
    olderChunks.put("of an older model, of a patient research does not see",
        "SET model = 'an-older-model' WHERE chunk_id = " + superuserCount(farthest.formatted("p-noconsent")));
    // an endpoint's model asked for other dimensions keeps its name; only 384 dimensions are indexed
    olderChunks.put("of the question's model at another size",
        "SET embedding = '" + new PGvector(small) + "' WHERE chunk_id = " + superuserCount(farthest.formatted("p-ok")));
    try {
      assertThat(research.search(tenant, RESEARCH_POLICY, RESEARCHER, "thirst and fatigue", text -> q, MODEL.modelId(),
          3, "HRESCH").chunks()).hasSize(3);
      for (Map.Entry<String, String> older : olderChunks.entrySet()) {
        superuser("CREATE TABLE public.kept_chunks AS SELECT chunk_id, model, embedding FROM tenant_clinic.chunks");
        try {
          superuser("UPDATE tenant_clinic.chunks " + older.getValue());
          assertThatThrownBy(() -> research.search(tenant, RESEARCH_POLICY, RESEARCHER, "thirst and fatigue", text -> q,
              MODEL.modelId(), 3, "HRESCH")).as(older.getKey())
              .isInstanceOfSatisfying(AccessDenied.class, d -> {
                // a denial of its own, audited with its reason: the failed search wrote nothing
                assertThat(d.status()).isEqualTo(503);
                assertThat(d.reason()).isEqualTo(ReembeddingInProgress.CODE);
                assertThat(d.retryAfterSeconds()).isEqualTo(ReembeddingInProgress.RETRY_AFTER_SECONDS);
                assertThat(auditRow(d.auditId())).containsEntry("reason", ReembeddingInProgress.CODE)
                    .containsEntry("decision", "denied").containsEntry("action", "research");
              });
          // a question of any model (tests, the benchmark) is not checked
          assertThat(research.search(tenant, RESEARCH_POLICY, RESEARCHER, "thirst and fatigue", text -> q, null, 3,
              "HRESCH").chunks()).as(older.getKey()).hasSize(3);
        } finally {
          superuser("UPDATE tenant_clinic.chunks k SET model = o.model, embedding = o.embedding "
              + "FROM public.kept_chunks o WHERE o.chunk_id = k.chunk_id "
              + "AND (o.model <> k.model OR public.vector_dims(o.embedding) <> public.vector_dims(k.embedding))");
          superuser("DROP TABLE public.kept_chunks");
        }
      }
      // every chunk re-embedded: answered again
      assertThat(research.search(tenant, RESEARCH_POLICY, RESEARCHER, "thirst and fatigue", text -> q, MODEL.modelId(),
          3, "HRESCH").chunks()).hasSize(3);
      // the probe reads one entry at each end of the (model, size) index, as the owner under its policy: at
      // 300,000 chunks a fraction of a millisecond, not a scan (this small table would be scanned by cost,
      // hence seqscan off; a condition on vector_dims, not leakproof, would be kept out of the index scan)
      StringBuilder probe = new StringBuilder();
      try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
        for (String setting : List.of("LOAD 'auto_explain'", "SET enable_seqscan = off",
            "SET auto_explain.log_min_duration = 0", "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_level = 'notice'")) {
          st.execute(setting);
        }
        try (ResultSet rs = st.executeQuery("SELECT tenant_clinic.chunks_of_another_model_exist('" + MODEL.modelId()
            + "', 384)")) {
          assertThat(rs.next() && !rs.getBoolean(1)).isTrue();
        }
        for (java.sql.SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
          probe.append(w.getMessage()).append('\n');
        }
      }
      assertThat(probe.toString()).contains("Index Scan using chunks_model_size_renderer_idx")
          .contains("Index Scan Backward using chunks_model_size_renderer_idx").doesNotContain("Seq Scan");
    } finally {
      researchEmbeddingsMade();
    }
  }

  static String explain(PolicySettings s, String sql, Object... params) {
    return plan(s, sql, false, params);
  }

  /**
   * The plan with sequential scans priced out, as the planner prices them over a large table: over
   * this test's few dozen chunks a scan and a sort is cheaper than the HNSW index once autovacuum has
   * analyzed the table, and whether it had by then decided the plan (a test that failed now and then).
   */
  static String explainAsIfLarge(PolicySettings s, String sql, Object... params) {
    return plan(s, sql, true, params);
  }

  private static String plan(PolicySettings s, String sql, boolean noSeqScan, Object[] params) {
    return platform.tx.run(tenant, s, c -> {
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL plan_cache_mode = force_custom_plan");
        if (noSeqScan) {
          st.execute("SET LOCAL enable_seqscan = off");
        }
      }
      try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + io.carecontext.migrations.TenantSql.of(tenant, sql))) {
        for (int i = 0; i < params.length; i++) {
          ps.setObject(i + 1, params[i]);
        }
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
        return plan.toString();
      }
    });
  }

  /**
   * Tenant migration 34: the audit role shows the trail only to a live auditor key of its tenant, so a
   * wrong tenant comparison in the application cannot hand one tenant's trail to another's auditor.
   */
  @Test
  void theTrailIsReadOnlyWithALiveAuditorKeyOfItsTenant() throws SQLException {
    ask(CLINICIAN, "p-ok", "TREAT", null); // at least one row
    AuditFilter any = new AuditFilter(null, null, null, null, 10);
    TenantId elsewhere = platform.tenant("elsewhere");
    Requester foreign = Auditors.of(platform, elsewhere);
    for (Requester refused : new Requester[] {CLINICIAN, foreign}) {
      assertThatThrownBy(() -> audit.list(tenant, refused, any, false)).isInstanceOf(AuditLog.KeyNotAdmittedException.class);
      assertThatThrownBy(() -> audit.verify(tenant, refused)).isInstanceOf(AuditLog.KeyNotAdmittedException.class);
      assertThat(audit.admits(tenant, refused)).isFalse();
      // RLS alone: a bare read of the trail under the audit role's settings sees no row
      assertThat(bareAuditRows(refused)).isZero();
    }
    Requester auditor = Auditors.of(platform, tenant);
    assertThat(bareAuditRows(auditor)).isPositive();
    assertThat(audit.list(tenant, auditor, any, false)).isNotEmpty();
    TestPlatform.TestKey revoked = platform.issueKey(tenant, "aud-gone", List.of("auditor"), null);
    Requester gone = new Requester("aud-gone", revoked.keyId(), List.of("auditor"), null, revoked.secretHashHex());
    assertThat(bareAuditRows(gone)).isPositive();
    superuser("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + revoked.keyId() + "'");
    assertThat(bareAuditRows(gone)).isZero();
    assertThatThrownBy(() -> audit.verify(tenant, gone)).isInstanceOf(AuditLog.KeyNotAdmittedException.class);
  }

  /** An export that began before its key was revoked stops within one fetch of the revocation. */
  @Test
  void anExportStopsSoonAfterItsKeyIsRevoked() {
    TenantId exports = platform.tenant("exports");
    TestPlatform.TestKey key = platform.issueKey(exports, "aud-export", List.of("auditor"), null);
    Requester exporter = new Requester("aud-export", key.keyId(), List.of("auditor"), null, key.secretHashHex());
    int rows = 3 * AuditLog.EXPORT_RECHECK_ROWS;
    for (int i = 0; i < rows; i++) {
      audit.record(exports, AuditEntry.of("aud-export", key.keyId(), List.of("auditor"), null, "HOPERAT", "audit-read",
          AuditEntry.Decision.ALLOWED, "allowed"));
    }
    java.util.concurrent.atomic.AtomicInteger whole = new java.util.concurrent.atomic.AtomicInteger();
    audit.forEach(exports, exporter, row -> whole.incrementAndGet());
    assertThat(whole.get()).isEqualTo(rows);
    java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
    assertThatThrownBy(() -> audit.forEach(exports, exporter, row -> {
      if (sent.incrementAndGet() == 10) {
        try {
          superuser("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + key.keyId() + "'");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }
    })).isInstanceOf(AuditLog.KeyNotAdmittedException.class);
    assertThat(sent.get()).isEqualTo(AuditLog.EXPORT_RECHECK_ROWS);
  }

  static int bareAuditRows(Requester who) {
    return platform.tx.run(tenant, PolicySettings.read().set("cc.access", "audit").build()
        .withCaller(who.keyId(), who.keySecretHash()), c -> {
          try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
              io.carecontext.migrations.TenantSql.of(tenant, "SELECT count(*) FROM {schema}.audit_log"))) {
            rs.next();
            return rs.getInt(1);
          }
        });
  }

  @Test
  void theApplicationRoleCannotChangeOrRemoveAuditRows() {
    for (String sql : List.of("UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log",
        "TRUNCATE audit_log")) {
      assertThatThrownBy(() -> platform.tx.run(tenant, PolicySettings.read().set("cc.access", "audit").build(),
          c -> c.createStatement().executeUpdate(sql)))
          .rootCause().hasMessageContaining("permission denied");
    }
  }

  @Test
  void aRowAlteredAsOwnerIsFoundByVerifyAtThatRow() throws SQLException {
    ask(CLINICIAN, "p-ok", "TREAT", null);
    String id = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-ok", null, null, null, 1), false).get(0).get("auditId").toString();
    // the table refuses updates (tenant migration 57): an insider turns that off first, as its owner can
    TestPostgres.changeAuditRows(platform.config, "tenant_clinic",
        "UPDATE tenant_clinic.audit_log SET reason = 'nothing to see' WHERE audit_id = '" + id + "'");
    try {
      var v = audit.verify(tenant, Auditors.of(platform, tenant));
      assertThat(v.valid()).isFalse();
      assertThat(v.brokenAt().auditId()).isEqualTo(id);
    } finally {
      TestPostgres.changeAuditRows(platform.config, "tenant_clinic",
          "UPDATE tenant_clinic.audit_log SET reason = 'allowed' WHERE audit_id = '" + id + "'");
    }
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void aRowOnAShardNoChainKnowsIsRefusedOrFoundByVerify() throws SQLException {
    ask(CLINICIAN, "p-ok", "TREAT", null);
    String id = audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter("p-ok", null, null, null, 1), false).get(0).get("auditId").toString();
    String copyOnShard9 = "INSERT INTO tenant_clinic.audit_log SELECT (jsonb_populate_record(NULL::tenant_clinic.audit_log, "
        + "to_jsonb(a) || jsonb_build_object('shard', 9, 'audit_id', gen_random_uuid()))).* "
        + "FROM tenant_clinic.audit_log a WHERE audit_id = '" + id + "'";
    // the database refuses it for every role (tenant migration 30), the owner included
    assertThatThrownBy(() -> superuser(copyOnShard9)).hasMessageContaining("audit_log_shard_known");
    // one written before the constraint existed: no chain covers it, and verify says so at that row
    superuser("ALTER TABLE tenant_clinic.audit_log DROP CONSTRAINT audit_log_shard_known");
    try {
      superuser(copyOnShard9);
      var v = audit.verify(tenant, Auditors.of(platform, tenant));
      assertThat(v.valid()).isFalse();
      assertThat(v.brokenAt().shard()).isEqualTo(9);
      assertThat(v.brokenAt().auditId()).isNotEqualTo(id);
    } finally {
      superuser("DELETE FROM tenant_clinic.audit_log WHERE shard = 9");
      superuser("ALTER TABLE tenant_clinic.audit_log ADD CONSTRAINT audit_log_shard_known CHECK (shard BETWEEN 0 AND 7) "
          + "NOT VALID");
    }
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void aDatabaseFailureDuringTheAuditWriteReturnsNoResult() throws SQLException {
    String role = platform.db.config().auditRole(tenant);
    superuser("REVOKE INSERT ON tenant_clinic.audit_log FROM " + role);
    try {
      assertThatThrownBy(() -> ask(CLINICIAN, "p-ok", "TREAT", null)).isInstanceOf(DatabaseException.class);
    } finally {
      superuser("GRANT INSERT ON tenant_clinic.audit_log TO " + role);
    }
  }

  @Test
  void retentionPurgeKeepsTheChainVerifiable() throws SQLException {
    ask(CLINICIAN, "p-ok", "TREAT", null);
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      int purged = AuditLog.purge(owner, tenant, java.time.Instant.now().plusSeconds(1));
      assertThat(purged).isPositive();
    }
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
    // what is left of the trail says that it was cut: the purge's own row, chained like any other
    assertThat(audit.list(tenant, Auditors.of(platform, tenant),
        new AuditFilter(null, null, AuditEntry.AUDIT_PURGE, null, null, 10), false)).isNotEmpty();
    ask(CLINICIAN, "p-ok", "TREAT", null);
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  static int bareCount(PolicySettings s) {
    return bareCountWhere(s, "true");
  }

  static int bareCountWhere(PolicySettings s, String where) {
    return platform.tx.run(tenant, withKey(s), c -> {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
          io.carecontext.migrations.TenantSql.of(tenant, "SELECT count(*) FROM {schema}.chunks WHERE ") + where)) {
        rs.next();
        return rs.getInt(1);
      }
    });
  }

  static int superuserCount(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  static void superuser(String sql) throws SQLException {
    TestPostgres.superuserExecute(platform.config, sql);
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
