package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A patient's erasure against real PostgreSQL: every table of the tenant holds nothing of the patient afterwards
 * (counted as the owner, past RLS), another patient keeps everything, a second erasure is harmless, the database
 * refuses it to a key that is no tenant-admin key, and an erasure racing the embedding worker leaves no chunk.
 */
class PatientErasureIT {

  static TestPlatform platform;
  static PatientErasure erasure;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    erasure = new PatientErasure(platform.tx, platform.keys);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static FhirWriter feed(TenantId t) {
    return new FhirWriter(platform.issueKey(t, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
  }

  static PolicySettings key(TenantId t, String role) {
    return platform.issueKey(t, "privacy-" + role, List.of(role), null).present(PolicySettings.none());
  }

  /** The patient's record: several resource types, a Consent, a CareTeam, an Encounter, a history of versions. */
  static void record(FhirStore store, TenantId t, FhirWriter feed, String p) {
    for (String json : List.of(
        "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MRN-" + p
            + "\"}],\"name\":[{\"family\":\"Synthetic\",\"given\":[\"Erin\"]}],\"birthDate\":\"1950-02-03\"}",
        "{\"resourceType\":\"Observation\",\"id\":\"obs-" + p + "\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},"
            + "\"subject\":{\"reference\":\"Patient/" + p + "\"},\"valueQuantity\":{\"value\":7.1,\"unit\":\"%\"}}",
        "{\"resourceType\":\"Observation\",\"id\":\"obs-" + p + "\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},"
            + "\"subject\":{\"reference\":\"Patient/" + p + "\"},\"valueQuantity\":{\"value\":" + (p.hashCode() & 0xff)
            + ",\"unit\":\"mg/dL\"}}",
        "{\"resourceType\":\"Condition\",\"id\":\"cond-" + p + "\",\"code\":{\"text\":\"Type 2 diabetes\"},"
            + "\"subject\":{\"reference\":\"Patient/" + p + "\"}}",
        "{\"resourceType\":\"Encounter\",\"id\":\"enc-" + p + "\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
            + "\"subject\":{\"reference\":\"Patient/" + p + "\"},\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-01-02\"},"
            + "\"participant\":[{\"individual\":{\"reference\":\"Practitioner/dr-" + p + "\"}}]}",
        "{\"resourceType\":\"CareTeam\",\"id\":\"team-" + p + "\",\"status\":\"active\",\"subject\":{\"reference\":\"Patient/"
            + p + "\"},\"participant\":[{\"member\":{\"reference\":\"Practitioner/dr-" + p + "\"}}]}",
        "{\"resourceType\":\"Consent\",\"id\":\"consent-" + p + "\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":"
            + "\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},\"category\":[{\"coding\":"
            + "[{\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":\"Patient/" + p + "\"},\"provision\":{\"type\":\"permit\","
            + "\"provision\":[{\"type\":\"deny\",\"class\":[{\"code\":\"DocumentReference\"}]}]}}",
        "{\"resourceType\":\"AllergyIntolerance\",\"id\":\"gone-" + p + "\",\"patient\":{\"reference\":\"Patient/" + p
            + "\"},\"code\":{\"text\":\"penicillin\"}}")) {
      store.put(t, feed, Fhir.parseResource(json));
    }
    store.delete(t, feed, "AllergyIntolerance", "gone-" + p); // a deleted resource of the patient: its tombstone too
  }

  /** What each table of the tenant holds of the patient, counted as the owner. */
  static Map<String, Integer> held(TenantId t, String p) throws SQLException {
    String s = t.schemaName();
    String own = "(resource_type, resource_id) IN (SELECT resource_type, resource_id FROM " + s
        + ".resources WHERE patient_id = '" + p + "')";
    Map<String, Integer> held = new LinkedHashMap<>();
    held.put("resources", count("SELECT count(*) FROM " + s + ".resources WHERE patient_id = '" + p + "'"));
    held.put("resource_versions", count("SELECT count(*) FROM " + s + ".resource_versions WHERE patient_id = '" + p
        + "' OR " + own + " OR resource_id LIKE '%" + p + "'"));
    held.put("resource_identifiers", count("SELECT count(*) FROM " + s + ".resource_identifiers WHERE resource_id LIKE '%"
        + p + "'"));
    held.put("chunks", count("SELECT count(*) FROM " + s + ".chunks WHERE patient_id = '" + p + "' OR resource_id LIKE '%"
        + p + "'"));
    held.put("outbox", count("SELECT count(*) FROM " + s + ".outbox WHERE resource_id LIKE '%" + p + "'"));
    held.put("consents", count("SELECT count(*) FROM " + s + ".consents WHERE patient_id = '" + p + "'"));
    held.put("care_links", count("SELECT count(*) FROM " + s + ".care_links WHERE patient_id = '" + p + "'"));
    held.put("break_glass", count("SELECT count(*) FROM " + s + ".break_glass WHERE patient_id = '" + p + "'"));
    held.put("research_subjects", count("SELECT count(*) FROM " + s + ".research_subjects WHERE patient_id = '" + p + "'"));
    return held;
  }

  static int count(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  static void execute(String sql) throws SQLException {
    TestPostgres.superuserExecute(platform.config, sql);
  }

  static PatientErasure.Result<String> erase(TenantId t, PolicySettings key, String p) {
    return erasure.erase(t, key, p, (c, tenant, counts) -> "recorded " + counts.get("resources"));
  }

  @Test
  void anErasureRemovesEveryRowOfThePatientAndNothingOfAnother() throws SQLException {
    TenantId t = platform.tenant("erasing");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = feed(t);
    record(store, t, feed, "p-gone");
    record(store, t, feed, "p-kept");
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, x -> IngestIT.COUNTING, () -> List.of(t), 64);
    try {
      worker.drain(t);
    } finally {
      worker.close();
    }
    String s = t.schemaName();
    // what the read and research paths leave: a break-glass window, a research subject code, a research embedding
    for (String p : List.of("p-gone", "p-kept")) {
      execute("INSERT INTO " + s + ".break_glass (key_id, patient_id, expires_at) VALUES ('k1', '" + p
          + "', now() + interval '1 hour')");
      execute("INSERT INTO " + s + ".research_subjects (patient_id, code) VALUES ('" + p + "', 'R"
          + (p.equals("p-gone") ? "000000000000001" : "000000000000002") + "')");
      execute("UPDATE " + s + ".chunks SET research_embedding = embedding WHERE patient_id = '" + p + "'");
    }
    // the patient's Observation queued again, as a rerender would: queued work goes with the resources
    execute("INSERT INTO " + s + ".outbox (resource_type, resource_id, version_id, operation) "
        + "VALUES ('Observation', 'obs-p-gone', 2, 'index')");
    Map<String, Integer> kept = held(t, "p-kept");
    Map<String, Integer> before = held(t, "p-gone");
    assertThat(before).as("the patient's record is there before").allSatisfy((table, n) -> {
      if (!table.equals("outbox")) {
        assertThat(n).as(table).isPositive();
      }
    });
    int cache = count("SELECT count(*) FROM " + s + ".embedding_cache");

    PatientErasure.Result<String> done = erase(t, key(t, "tenant-admin"), "p-gone");

    assertThat(held(t, "p-gone")).as("nothing of the patient is left").allSatisfy((table, n) ->
        assertThat(n).as(table).isZero());
    assertThat(held(t, "p-kept")).as("the other patient keeps everything").isEqualTo(kept);
    assertThat(done.counts().keySet()).containsExactlyElementsOf(PatientErasure.KINDS);
    assertThat(done.counts()).containsEntry("resources", 7L).containsEntry("consents", 1L)
        .containsEntry("breakGlassWindows", 1L).containsEntry("researchSubjects", 1L).containsEntry("queuedWork", 1L);
    assertThat(done.counts().get("resourceVersions")).isEqualTo(before.get("resource_versions").longValue());
    assertThat(done.counts().get("chunks")).isEqualTo(before.get("chunks").longValue())
        .isEqualTo(done.counts().get("researchEmbeddings"));
    assertThat(done.counts().get("careLinks")).isEqualTo(before.get("care_links").longValue());
    assertThat(done.auditId()).isEqualTo("recorded 7");
    // texts only the erased patient had (its own result) leave the cache; those another patient's chunks share stay
    assertThat(count("SELECT count(*) FROM " + s + ".embedding_cache"))
        .isEqualTo(cache - done.counts().get("cachedEmbeddings").intValue());
    assertThat(done.counts().get("cachedEmbeddings")).isPositive();
    assertThat(count("SELECT count(*) FROM " + s + ".embedding_cache e WHERE NOT EXISTS (SELECT 1 FROM " + s
        + ".chunks k WHERE k.text_hash = e.text_hash)")).as("no cache entry of an erased text is left").isZero();
    assertThat(store.read(t, "Patient", "p-gone")).isEmpty();

    // a retry finds nothing and erases nothing
    PatientErasure.Result<String> again = erase(t, key(t, "tenant-admin"), "p-gone");
    assertThat(again.counts().values()).containsOnly(0L);
    assertThat(held(t, "p-kept")).isEqualTo(kept);

    // the EHR may send the patient again: it is stored anew, from version 1
    store.put(t, feed, Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"p-gone\"}"));
    assertThat(store.read(t, "Patient", "p-gone").orElseThrow().version()).isEqualTo(1);
  }

  @Test
  void onlyALiveTenantAdminKeyMayEraseAndARefusalChangesNothing() throws SQLException {
    TenantId t = platform.tenant("refusing");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    record(store, t, feed(t), "p-stays");
    Map<String, Integer> before = held(t, "p-stays");
    for (String role : List.of("clinician", "ehr-integration", "auditor")) {
      assertThatThrownBy(() -> erase(t, key(t, role), "p-stays")).isInstanceOf(PatientErasure.NotAdmittedException.class)
          .hasMessageNotContaining("p-stays");
    }
    assertThatThrownBy(() -> erase(t, PolicySettings.none(), "p-stays"))
        .isInstanceOf(PatientErasure.NotAdmittedException.class);
    TenantId other = platform.tenant("elsewhere");
    assertThatThrownBy(() -> erase(t, key(other, "tenant-admin"), "p-stays")).as("another tenant's admin")
        .isInstanceOf(PatientErasure.NotAdmittedException.class);
    assertThatThrownBy(() -> erase(t, key(t, "tenant-admin"), "not an id"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("not an id");
    assertThat(held(t, "p-stays")).isEqualTo(before);
  }

  /**
   * The database, not only this class, confines a tenant-admin key to the erased patient (tenant migration 73): a
   * statement that named another patient's resources under an erasure removes none of them.
   */
  @Test
  void theDatabaseLetsAnErasureRemoveOnlyTheNamedPatientsResources() throws SQLException {
    TenantId t = platform.tenant("confined");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = feed(t);
    record(store, t, feed, "p-named");
    record(store, t, feed, "p-other");
    Map<String, String> values = new LinkedHashMap<>(key(t, "tenant-admin").values());
    values.put("cc.access", "ingest");
    values.put("cc.erase", "p-named");
    Map<String, Integer> other = held(t, "p-other");
    int removed = platform.tx.run(t, new PolicySettings(values), c -> {
      int n = 0;
      for (String table : List.of("resource_versions", "resources", "break_glass", "research_subjects")) {
        try (Statement st = c.createStatement()) {
          n += st.executeUpdate("DELETE FROM " + table + " WHERE " + (table.startsWith("resource")
              ? "resource_id LIKE '%p-other'" : "patient_id = 'p-other'"));
        }
      }
      return n;
    });
    assertThat(removed).isZero();
    assertThat(held(t, "p-other")).isEqualTo(other);
  }

  /**
   * An erasure while the embedding worker embeds the patient's queued resources: the erasure waits for the worker's
   * claim on their queue rows and removes the chunks it committed, as a FHIR delete does; none is left behind.
   */
  @Test
  void anErasureWhileTheWorkerEmbedsThePatientLeavesNoChunk() throws Exception {
    TenantId t = platform.tenant("racing_erase");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = feed(t);
    record(store, t, feed, "p-race");
    record(store, t, feed, "p-calm");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> IngestIT.heldOnce(entered, release),
        () -> List.of(t), 64);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      var draining = pool.submit(() -> w.drain(t));
      assertThat(entered.await(60, TimeUnit.SECONDS)).as("the worker is embedding").isTrue();
      assertThat(count("SELECT count(*) FROM " + t.schemaName() + ".outbox WHERE resource_id LIKE '%p-race'"))
          .as("the patient's resources are queued").isPositive();
      var erasing = pool.submit(() -> erase(t, key(t, "tenant-admin"), "p-race"));
      awaitLockWait(erasing); // the erasure reaches the worker's claim
      release.countDown();
      draining.get(60, TimeUnit.SECONDS);
      assertThat(erasing.get(60, TimeUnit.SECONDS).counts().get("resources")).isEqualTo(7L);
    } finally {
      release.countDown();
      pool.shutdownNow();
      w.close();
    }
    assertThat(held(t, "p-race")).allSatisfy((table, n) -> assertThat(n).as(table).isZero());
    assertThat(count("SELECT count(*) FROM " + t.schemaName() + ".chunks WHERE patient_id = 'p-calm'"))
        .as("the other patient's chunks were made").isPositive();
  }

  /** Waits until a session of the test database waits for a lock (the erasure reached the worker's rows), or it is done. */
  static void awaitLockWait(java.util.concurrent.Future<?> erasing) throws SQLException, InterruptedException {
    while (!erasing.isDone() && count("SELECT count(*) FROM pg_stat_activity "
        + "WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0) {
      Thread.sleep(20);
    }
  }
}
