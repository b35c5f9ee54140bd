package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.PatientRows;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
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
            + "\"provision\":[{\"type\":\"deny\",\"class\":[{\"code\":\"DocumentReference\"}]},"
            // a purpose denied: the Consent is stored as two rows (ConsentInterpreter.PURPOSES_DENIED)
            + "{\"type\":\"deny\",\"purpose\":[{\"code\":\"HRESCH\"}]}]}}",
        "{\"resourceType\":\"AllergyIntolerance\",\"id\":\"gone-" + p + "\",\"patient\":{\"reference\":\"Patient/" + p
            + "\"},\"code\":{\"text\":\"penicillin\"}}")) {
      store.put(t, feed, Fhir.parseResource(json));
    }
    store.delete(t, feed, "AllergyIntolerance", "gone-" + p); // a deleted resource of the patient: its tombstone too
  }

  /** What each table of the tenant holds of the patient, counted as the owner. */
  static Map<String, Integer> held(TenantId t, String p) throws SQLException {
    return PatientRows.held(platform.config, t.schemaName(), p);
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(platform.config, sql);
  }

  static void execute(String sql) throws SQLException {
    TestPostgres.superuserExecute(platform.config, sql);
  }

  /** The tenant's queued resources embedded (chunks made) by a worker of its own, then stopped. */
  static void embed(TenantId t) {
    try (EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, x -> IngestIT.COUNTING,
        () -> List.of(t), 64)) {
      worker.drain(t);
    }
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
    embed(t);
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
    assertThat(before).containsEntry("consents", 2);
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
    // one Consent, counted once though it was stored as two rows (its own and the one denying its purposes)
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
      for (String table : List.of("resource_versions", "resources")) {
        try (Statement st = c.createStatement()) {
          n += st.executeUpdate("DELETE FROM " + table + " WHERE resource_id LIKE '%p-other'");
        }
      }
      return n;
    });
    // windows and codes go only through the function, which takes its patient from cc.erase alone
    for (String table : List.of("break_glass", "research_subjects")) {
      assertThatThrownBy(() -> platform.tx.run(t, new PolicySettings(values),
          c -> c.createStatement().executeUpdate("DELETE FROM " + table + " WHERE patient_id = 'p-other'")))
          .rootCause().hasMessageContaining("permission denied");
    }
    assertThat(removed).isZero();
    assertThat(held(t, "p-other")).isEqualTo(other);
  }

  /**
   * The embedding cache keeps the embedding of every text a chunk ever had (nothing else removes an entry): the
   * texts of the patient's earlier versions, whose chunks were replaced, go with the erasure too, and another
   * patient's current texts stay.
   */
  @Test
  void anErasureLeavesNoEmbeddingOfThePatientsEarlierVersions() throws SQLException {
    TenantId t = platform.tenant("superseded");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = feed(t);
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, x -> IngestIT.COUNTING, () -> List.of(t), 64);
    try {
      for (String p : List.of("p-old", "p-other")) {
        store.put(t, feed, Fhir.parseResource("{\"resourceType\":\"Condition\",\"id\":\"cond-" + p + "\",\"code\":"
            + "{\"text\":\"Asthma of " + p + "\"},\"subject\":{\"reference\":\"Patient/" + p + "\"}}"));
      }
      worker.drain(t);
      // the patient's Condition corrected: its chunk is replaced, the first text's embedding stays cached
      store.put(t, feed, Fhir.parseResource("{\"resourceType\":\"Condition\",\"id\":\"cond-p-old\",\"code\":"
          + "{\"text\":\"Chronic obstructive pulmonary disease\"},\"subject\":{\"reference\":\"Patient/p-old\"}}"));
      worker.drain(t);
    } finally {
      worker.close();
    }
    String s = t.schemaName();
    String unused = "SELECT count(*) FROM " + s + ".embedding_cache e WHERE NOT EXISTS (SELECT 1 FROM " + s
        + ".chunks k WHERE k.model = e.model AND k.text_hash = e.text_hash)";
    assertThat(count(unused)).as("the first text's embedding, no chunk's any longer").isPositive();
    int others = count("SELECT count(DISTINCT text_hash) FROM " + s + ".chunks WHERE patient_id = 'p-other'");

    PatientErasure.Result<String> done = erase(t, key(t, "tenant-admin"), "p-old");

    assertThat(count(unused)).as("no embedding of a text of the erased patient is left").isZero();
    assertThat(count("SELECT count(*) FROM " + s + ".embedding_cache")).as("the other patient's stay").isEqualTo(others);
    assertThat(done.counts().get("cachedEmbeddings")).isEqualTo(2L);
  }

  /**
   * Layered security (tenant migrations 73 and 74): with the application's code wrong, each path's role with each
   * combination of the settings (cc.access, cc.erase, the key presented), the database alone decides. A statement
   * that deletes or reads a patient's resources, versions, break-glass windows or research subject code succeeds
   * only where it did before tenant migration 73 (the write path with a live EHR-integration key deletes resources
   * and versions) or for the erasure itself: the write path, a live tenant-admin key, and the patient named in
   * cc.erase; windows and codes only through {@code erase_patient_windows_and_code()} (tenant migration 74: no
   * statement of the write path reads or removes them). Each attempt is rolled back, so every combination meets
   * the whole record.
   */
  @Test
  void everyOtherCombinationOfSettingsIsRefusedByTheDatabaseAlone() throws SQLException {
    TenantId t = platform.tenant("layered");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    record(store, t, feed(t), "p-victim");
    String s = t.schemaName();
    execute("INSERT INTO " + s + ".break_glass (key_id, patient_id, expires_at) VALUES ('k1', 'p-victim', "
        + "now() + interval '1 hour')");
    execute("INSERT INTO " + s + ".research_subjects (patient_id, code) VALUES ('p-victim', 'R000000000000009')");
    Map<String, PolicySettings> keys = new LinkedHashMap<>();
    keys.put("no key", PolicySettings.none());
    for (String role : List.of("tenant-admin", "ehr-integration", "clinician", "researcher", "auditor")) {
      keys.put(role, key(t, role));
    }
    keys.put("another tenant's tenant-admin", key(platform.tenant("layered_other"), "tenant-admin"));
    Map<String, String> tables = new LinkedHashMap<>();
    tables.put("resources", "resource_id LIKE '%p-victim'");
    tables.put("resource_versions", "resource_id LIKE '%p-victim'");
    tables.put("break_glass", "patient_id = 'p-victim'");
    tables.put("research_subjects", "patient_id = 'p-victim'");
    List<String> admitted = new java.util.ArrayList<>();
    int tried = 0;
    for (String access : java.util.Arrays.asList(null, "ingest", "read", "research", "identity", "fhir-read", "audit",
        "subject-exists", "break-glass-settings")) {
      for (String erase : java.util.Arrays.asList(null, "", "p-victim", "p-someone-else")) {
        for (Map.Entry<String, PolicySettings> k : keys.entrySet()) {
          Map<String, String> values = new LinkedHashMap<>(k.getValue().values());
          if (access != null) {
            values.put("cc.access", access);
          }
          if (erase != null) {
            values.put("cc.erase", erase);
          }
          for (Map.Entry<String, String> table : tables.entrySet()) {
            for (String verb : List.of("DELETE", "SELECT")) {
              String sql = (verb.equals("DELETE") ? "DELETE FROM " : "SELECT 1 FROM ") + table.getKey() + " WHERE "
                  + table.getValue();
              tried++;
              long n = rowsRolledBack(t, new PolicySettings(values), sql);
              if (n > 0) {
                admitted.add(verb + " " + table.getKey() + " access=" + access + " erase=" + erase + " key=" + k.getKey());
              }
            }
          }
          // the one way the write path removes windows and codes (tenant migration 74): what it removed, rolled back
          tried++;
          if (rowsRolledBack(t, new PolicySettings(values), ERASE_WINDOWS_AND_CODE) > 0) {
            admitted.add("ERASE windows and code access=" + access + " erase=" + erase + " key=" + k.getKey());
          }
        }
      }
    }
    assertThat(tried).isEqualTo(9 * 4 * 7 * (4 * 2 + 1));
    List<String> expected = new java.util.ArrayList<>();
    for (String erase : java.util.Arrays.asList(null, "", "p-victim", "p-someone-else")) {
      for (String table : List.of("resources", "resource_versions")) {
        expected.add("DELETE " + table + " access=ingest erase=" + erase + " key=ehr-integration"); // since migration 29
        expected.add("SELECT " + table + " access=ingest erase=" + erase + " key=ehr-integration"); // the write path reads
        for (String k : keys.keySet()) {
          if (!k.equals("ehr-integration")) {
            expected.add("SELECT " + table + " access=ingest erase=" + erase + " key=" + k); // the worker reads all
          }
        }
      }
    }
    for (String erase : java.util.Arrays.asList(null, "", "p-victim", "p-someone-else")) {
      for (String table : List.of("resources", "resource_versions")) {
        expected.add("SELECT " + table + " access=fhir-read erase=" + erase + " key=ehr-integration"); // FHIR reads
      }
      for (String access : List.of("research", "read")) { // research's subject codes (tenant migration 48)
        expected.add("SELECT research_subjects access=" + access + " erase=" + erase + " key=researcher");
      }
    }
    for (String table : List.of("resources", "resource_versions")) {
      expected.add("DELETE " + table + " access=ingest erase=p-victim key=tenant-admin"); // the erasure itself
    }
    // windows and codes: no statement of the write path reads or removes them, only the function, for the erasure
    expected.add("ERASE windows and code access=ingest erase=p-victim key=tenant-admin");
    assertThat(admitted).containsExactlyInAnyOrderElementsOf(expected);
  }

  /** The erasure's function, as a statement whose one row's one column {@link #rowsRolledBack} counts. */
  static final String ERASE_WINDOWS_AND_CODE = "SELECT windows + codes FROM erase_patient_windows_and_code()";

  /** The rows {@code sql} deletes or reads, rolled back; a statement the database refuses outright counts 0. */
  static long rowsRolledBack(TenantId t, PolicySettings settings, String sql) {
    return platform.tx.run(t, settings, c -> {
      long n;
      try (Statement st = c.createStatement()) {
        if (sql.equals(ERASE_WINDOWS_AND_CODE)) {
          try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            n = rs.getLong(1);
          }
        } else if (sql.startsWith("SELECT")) {
          try (ResultSet rs = st.executeQuery(sql)) {
            n = 0;
            while (rs.next()) {
              n++;
            }
          }
        } else {
          n = st.executeLargeUpdate(sql);
        }
      } catch (SQLException e) {
        if (!"42501".equals(e.getSQLState())) { // insufficient privilege: the role has no such right at all
          throw e;
        }
        n = 0;
      }
      c.rollback();
      return n;
    });
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

  /**
   * A single PUT of one of the patient's resources under way when the erasure runs (its transaction has written
   * the new version and not committed): the erasure waits for it and removes what it wrote, the new version and
   * its queued work included. A version of a resource erased beside it was left behind, its body whole.
   */
  @Test
  void anUpdateOfThePatientsResourceUnderWayIsWaitedForAndErasedWithIt() throws Exception {
    TenantId t = platform.tenant("racing_put");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = feed(t);
    record(store, t, feed, "p-put");
    embed(t);
    CountDownLatch written = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    FhirWriter held = new FhirWriter(feed.settings(), (c, tenant, outcomes) -> {
      written.countDown(); // the version is written, the transaction open
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      var putting = pool.submit(() -> store.put(t, held, Fhir.parseResource("{\"resourceType\":\"Observation\","
          + "\"id\":\"obs-p-put\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},\"subject\":"
          + "{\"reference\":\"Patient/p-put\"},\"valueQuantity\":{\"value\":9.9,\"unit\":\"%\"}}")));
      assertThat(written.await(60, TimeUnit.SECONDS)).as("the PUT has written").isTrue();
      var erasing = pool.submit(() -> erase(t, key(t, "tenant-admin"), "p-put"));
      awaitLockWait(erasing);
      release.countDown();
      putting.get(60, TimeUnit.SECONDS);
      erasing.get(60, TimeUnit.SECONDS);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    assertThat(held(t, "p-put")).allSatisfy((table, n) -> assertThat(n).as(table).isZero());
  }

  /** Waits until a session of the test database waits for a lock (the erasure reached the worker's rows), or it is done. */
  static void awaitLockWait(java.util.concurrent.Future<?> erasing) throws SQLException, InterruptedException {
    while (!erasing.isDone() && count("SELECT count(*) FROM pg_stat_activity "
        + "WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0) {
      Thread.sleep(20);
    }
  }
}
