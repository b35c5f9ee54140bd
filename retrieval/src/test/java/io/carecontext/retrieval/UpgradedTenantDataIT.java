package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.Identifiers;
import io.carecontext.migrations.OlderTemplates;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditFilter;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.audit.AuditVerification;
import io.carecontext.retrieval.audit.Auditors;
import io.carecontext.retrieval.audit.EarlierAuditWrites;
import io.carecontext.retrieval.chat.PatientIdentifiers;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rows an earlier release wrote stay usable after a start of this release migrates their tenant:
 * the read path finds and decrypts the chunks and applies the consent stored then (an exclusion
 * and a deny), de-identification reads the Patient under a role that did not exist then, and the
 * audit chain written then still verifies and grows. One tenant from template V4 (the first with
 * every table used here), one from V19, and one from V74 (the last before the audit rows named their request
 * and client: its rows, with neither, verify beside the rows that name both).
 */
class UpgradedTenantDataIT {

  static final int[] VERSIONS = {4, 19, 74};
  static final TenantPolicy POLICY = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in"));
  static final Map<Integer, TenantId> TENANTS = new LinkedHashMap<>();
  /** Each tenant's clinician, with a key stored in the platform as the admin API stores one. */
  static final Map<TenantId, Requester> CLINICIANS = new LinkedHashMap<>();

  static TestPlatform platform;
  static AuditLog audit;
  static ContextService service;

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    audit = new AuditLog(platform.tx, platform.keys);
    for (int version : VERSIONS) {
      TenantId tenant = OlderTemplates.provision(platform, "old%02d".formatted(version), version);
      writeAsTheReleaseOf(tenant, version);
      TENANTS.put(version, tenant);
    }
    OlderTemplates.startCurrentRelease(platform);
    for (TenantId tenant : TENANTS.values()) {
      TestPlatform.TestKey key = platform.issueKey(tenant, "dr-lee", List.of("clinician"), "pr-1");
      CLINICIANS.put(tenant, new Requester("dr-lee", key.keyId(), List.of("clinician"), "pr-1", key.secretHashHex()));
    }
    service = new ContextService(platform.tx, platform.keys, audit);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /**
   * Three patients linked to pr-1: p-ok permits AI use except PSY-labelled data, p-open permits it
   * all, p-deny refuses it. Each has a lab result and a PSY-labelled note. Two audit rows.
   */
  static void writeAsTheReleaseOf(TenantId tenant, int version) throws SQLException {
    TenantCipher cipher = platform.keys.cipher(tenant);
    String schema = Identifiers.quote(tenant.schemaName());
    try (Connection su = TestPostgres.superuser(platform.config)) {
      for (String patient : List.of("p-ok", "p-open", "p-deny")) {
        byte[] body = ("{\"resourceType\":\"Patient\",\"id\":\"" + patient
            + "\",\"name\":[{\"family\":\"Okafor\",\"given\":[\"Ada\"]}]}").getBytes(StandardCharsets.UTF_8);
        execute(su, "INSERT INTO " + schema + ".resources (resource_type, resource_id, version_id, patient_id, "
                + "content_hash, body, last_updated) VALUES ('Patient', ?, 1, ?, ?, ?, now())",
            patient, patient, cipher.contentHash(body), cipher.encrypt(body, Aad.resource(tenant, "Patient", patient, 1)));
        execute(su, "INSERT INTO " + schema + ".care_links VALUES ('pr-1', ?, 'Encounter', ?)", patient, "e-" + patient);
        chunk(su, tenant, cipher, patient, "Observation", "o-" + patient, "lab", "{}", "[1,0,0]",
            "HbA1c 7.2 % for " + patient);
        chunk(su, tenant, cipher, patient, "DocumentReference", "psy-" + patient, "note", "{PSY}", "[0.9,0.1,0]",
            "Psychotherapy session notes for " + patient);
      }
      execute(su, "INSERT INTO " + schema + ".consents (consent_id, patient_id, status, decision, denied_labels) "
          + "VALUES ('c-ok', 'p-ok', 'active', 'permit', '{PSY}'), ('c-open', 'p-open', 'active', 'permit', '{}'), "
          + "('c-deny', 'p-deny', 'active', 'deny', '{}')");
    }
    for (String patient : List.of("p-ok", "p-deny")) {
      EarlierAuditWrites.append(platform.tx, audit, tenant, version, AuditEntry.of("dr-lee", "key-clin",
          List.of("clinician"), patient, "TREAT", "context", AuditEntry.Decision.ALLOWED, "allowed")
          .withQuery("glucose before the upgrade"));
    }
  }

  static void chunk(Connection su, TenantId tenant, TenantCipher cipher, String patient, String type, String id,
                    String category, String labels, String embedding, String text) throws SQLException {
    byte[] clear = text.getBytes(StandardCharsets.UTF_8);
    execute(su, "INSERT INTO " + Identifiers.quote(tenant.schemaName()) + ".chunks (resource_type, resource_id, "
            + "version_id, patient_id, category, security_labels, seq, text_hash, text, model, embedding) "
            + "VALUES (?, ?, 1, ?, ?, ?::text[], 0, ?, ?, 'test-model', ?::public.vector)",
        type, id, patient, category, labels, cipher.contentHash(clear), cipher.encrypt(clear, Aad.chunk(tenant, type, id, 0)),
        embedding);
  }

  static void execute(Connection c, String sql, Object... parameters) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        ps.setObject(i + 1, parameters[i]);
      }
      ps.executeUpdate();
    }
  }

  static ContextResult ask(TenantId tenant, String patient) {
    return service.context(tenant, POLICY, CLINICIANS.get(tenant), patient,
        new ContextQuery("blood sugar", new float[] {1, 0, 0}, 10, "TREAT", null), "context");
  }

  static List<String> texts(ContextResult result) {
    return result.chunks().stream().map(ContextChunk::text).toList();
  }

  @ParameterizedTest(name = "tenant from template V{0}")
  @ValueSource(ints = {4, 19, 74})
  void rowsWrittenBeforeTheUpgradeAnswerTheCurrentReadPath(int version) {
    TenantId tenant = TENANTS.get(version);
    assertThat(OlderTemplates.version(platform, tenant)).as("upgraded").isGreaterThan(version);

    // The consent stored then still excludes PSY for p-ok, whose lab result decrypts.
    assertThat(texts(ask(tenant, "p-ok"))).containsExactly("HbA1c 7.2 % for p-ok");
    // The clinician may read PSY-labelled data: the exclusion above is the consent's, not the role's.
    assertThat(texts(ask(tenant, "p-open")))
        .containsExactlyInAnyOrder("HbA1c 7.2 % for p-open", "Psychotherapy session notes for p-open");
    // The deny stored then still refuses, with its true reason.
    assertThatThrownBy(() -> ask(tenant, "p-deny"))
        .isInstanceOfSatisfying(AccessDenied.class, d -> assertThat(d.reason()).isEqualTo("consent_denied"));

    // De-identification reads the Patient written then, under the identity role added in V14.
    KnownIdentifiers known = PatientIdentifiers.load(platform.tx, platform.keys, tenant, CLINICIANS.get(tenant),
        "p-ok");
    assertThat(known.names()).extracting(KnownIdentifiers.Name::family).containsExactly("Okafor");
  }

  @ParameterizedTest(name = "tenant from template V{0}")
  @ValueSource(ints = {4, 19, 74})
  void theAuditChainWrittenBeforeTheUpgradeVerifiesAndGrows(int version) {
    TenantId tenant = TENANTS.get(version);
    AuditVerification before = audit.verify(tenant, Auditors.of(platform, tenant));
    assertThat(before.valid()).as("chain as the earlier release left it: %s", before).isTrue();
    // The two rows written then, bodies included: their ciphertext still decrypts.
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, null, null, null, AuditFilter.MAX_LIMIT), true))
        .filteredOn(row -> "glucose before the upgrade".equals(row.get("query")))
        .extracting(row -> row.get("patient")).containsExactlyInAnyOrder("p-ok", "p-deny");

    // a row of this release, from a request with an id and a client address (tenant migration 75), in the same chains
    // an id of the forms the service gives a request, which the list's requestId filter takes
    String requestId = String.format("0190a1b2-0000-4000-8000-%012d", version);
    io.carecontext.retrieval.audit.AuditOrigin was = io.carecontext.retrieval.audit.AuditOrigin.bind(
        new io.carecontext.retrieval.audit.AuditOrigin(requestId, "2001:db8::7"));
    try {
      ask(tenant, "p-open");
    } finally {
      io.carecontext.retrieval.audit.AuditOrigin.restore(was);
    }
    AuditVerification after = audit.verify(tenant, Auditors.of(platform, tenant));
    assertThat(after.valid()).as("chain after a row of this release: %s", after).isTrue();
    assertThat(after.entries()).isEqualTo(before.entries() + 1);
    List<Map<String, Object>> rows = audit.list(tenant, Auditors.of(platform, tenant),
        new AuditFilter(null, null, null, null, AuditFilter.MAX_LIMIT).withRequestId(requestId), false);
    assertThat(rows).singleElement().satisfies(row -> {
      assertThat(row.get("patient")).isEqualTo("p-open");
      assertThat(row.get("clientAddress")).isEqualTo("2001:db8::7");
    });
    // the rows written before name neither
    assertThat(audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, null, null, null,
        AuditFilter.MAX_LIMIT), false)).filteredOn(row -> !"p-open".equals(row.get("patient")))
        .isNotEmpty().allSatisfy(row -> assertThat(row.get("requestId")).isNull());
  }
}
