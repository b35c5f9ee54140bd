package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.fhir.ConsentInterpreter;
import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.fhir.FhirIssue;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The write path against real PostgreSQL: transactions, versions, encryption, outbox and worker. */
class IngestIT {

  static TestPlatform platform;
  static TenantId tenant;
  static FhirStore store;
  /** A feed's key: the tenant role writes resources only for a live EHR-integration key (tenant migration 29). */
  static FhirWriter FEED;
  static EmbeddingWorker worker;
  static final AtomicInteger embeddedTexts = new AtomicInteger();

  /** The real in-process model, counting how many texts reach it. */
  static final EmbeddingProvider COUNTING = new EmbeddingProvider() {
    final InProcessMiniLmProvider model = new InProcessMiniLmProvider();

    @Override public String modelId() { return model.modelId(); }
    @Override public int dimensions() { return model.dimensions(); }
    @Override public List<float[]> embedAll(List<String> texts) {
      embeddedTexts.addAndGet(texts.size());
      return model.embedAll(texts);
    }
  };

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("ingest");
    FEED = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    store = new FhirStore(platform.tx, platform.keys);
    worker = new EmbeddingWorker(platform.tx, platform.keys, t -> COUNTING, () -> List.of(tenant), 64);
  }

  /** The writer of a new EHR-integration key (unaudited: this module has no audit trail) of {@code t}. */
  static FhirWriter feed(TenantId t) {
    return new FhirWriter(platform.issueKey(t, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
  }

  @AfterAll
  static void tearDown() {
    worker.close();
    platform.close();
  }

  static String bundle(String patientName, String mrn, String obsValue) {
    return """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:aaaaaaaa-0000-0000-0000-00000000000%1$s","resource":{"resourceType":"Practitioner",
             "identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567890"}],"name":[{"family":"House"}]},
           "request":{"method":"POST","url":"Practitioner","ifNoneExist":"identifier=http://hl7.org/fhir/sid/us-npi|1234567890"}},
          {"fullUrl":"urn:uuid:bbbbbbbb-0000-0000-0000-00000000000%1$s","resource":{"resourceType":"Patient",
             "identifier":[{"system":"urn:mrn","value":"%2$s"}],"name":[{"family":"%3$s","given":["Ada"]}],"gender":"female",
             "birthDate":"1970-01-01","generalPractitioner":[{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567890"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"fullUrl":"urn:uuid:cccccccc-0000-0000-0000-00000000000%1$s","resource":{"resourceType":"Observation","status":"final",
             "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
             "subject":{"reference":"urn:uuid:bbbbbbbb-0000-0000-0000-00000000000%1$s"},
             "valueQuantity":{"value":%4$s,"unit":"%%"}},
           "request":{"method":"POST","url":"Observation"}}]}""".formatted(mrn.substring(mrn.length() - 1), mrn,
        patientName, obsValue);
  }

  /**
   * Waits until a session of the test database waits for a lock (the write has reached the worker's rows) or
   * {@code write} is done: a fixed 500 ms could end before the write had got there on a busy machine, and the
   * test then checked an order of events other than the one it names.
   */
  static void awaitLockWaitOrDone(java.util.concurrent.Future<?> write) throws SQLException, InterruptedException {
    for (int i = 0; i < 600 && !write.isDone() && count("SELECT count(*) FROM pg_stat_activity "
        + "WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0; i++) {
      Thread.sleep(100);
    }
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(platform.config, sql);
  }

  static String patientIdOf(Bundle response) {
    return response.getEntry().get(1).getResponse().getLocation().split("/")[1];
  }

  /**
   * A key the database does not admit for writing (revoked after its request was accepted, or of
   * another role) is told apart from other refusals: the write stores nothing and says why.
   */
  @Test
  void aWriteForAKeyTheDatabaseNoLongerAdmitsStoresNothingAndSaysSo() throws SQLException {
    TestPlatform.TestKey revoked = platform.issueKey(tenant, "feed-revoked", List.of("ehr-integration"), null);
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.execute("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + revoked.keyId() + "'");
    }
    TestPlatform.TestKey clinician = platform.issueKey(tenant, "dr-no-feed", List.of("clinician"), null);
    for (TestPlatform.TestKey key : List.of(revoked, clinician)) {
      FhirWriter writer = new FhirWriter(key.present(PolicySettings.ingest()), WriteAudit.NONE);
      assertThatThrownBy(() -> store.put(tenant, writer,
          Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"refused-write\"}")))
          .isInstanceOf(KeyNotAdmittedException.class).hasMessageNotContaining("refused-write");
    }
    assertThat(store.read(tenant, "Patient", "refused-write")).isEmpty();
  }

  /**
   * A conditional create that matches writes nothing and answers with the stored resource whole: a
   * FHIR read, which the database admits only for a live EHR-integration key of the tenant (tenant
   * migration 28). It ran under the write path's role, whose reads are bound to no key, so a key
   * revoked after its request was accepted, a key of another role (or another tenant's, one wrong
   * line away) still got the patient's record back.
   */
  @Test
  void aConditionalCreateThatMatchesAnswersOnlyForAKeyTheDatabaseAdmits() throws SQLException {
    String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test:mrn\",\"value\":\"CC-KEY-1\"}],"
        + "\"name\":[{\"family\":\"Matchedonly\"}]}";
    String criteria = "identifier=urn:test:mrn|CC-KEY-1";
    FhirStore.ConditionalCreate first = store.createIfNoneExist(tenant, FEED, Fhir.parseResource(patient), criteria);
    assertThat(first.created()).isNotNull();
    // the live key gets the stored resource back
    assertThat(store.createIfNoneExist(tenant, FEED, Fhir.parseResource(patient), criteria).existing().json())
        .contains("Matchedonly");

    TestPlatform.TestKey revoked = platform.issueKey(tenant, "feed-revoked-cc", List.of("ehr-integration"), null);
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.execute("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + revoked.keyId() + "'");
    }
    TestPlatform.TestKey clinician = platform.issueKey(tenant, "dr-cc", List.of("clinician"), null);
    TestPlatform.TestKey elsewhere = platform.issueKey(platform.tenant("ingestother"), "feed-other",
        List.of("ehr-integration"), null);
    for (TestPlatform.TestKey key : List.of(revoked, clinician, elsewhere)) {
      FhirWriter writer = new FhirWriter(key.present(PolicySettings.ingest()), WriteAudit.NONE);
      assertThatThrownBy(() -> store.createIfNoneExist(tenant, writer, Fhir.parseResource(patient), criteria))
          .isInstanceOf(KeyNotAdmittedException.class).hasMessageNotContaining("Matchedonly");
    }
    FhirWriter none = new FhirWriter(PolicySettings.ingest(), WriteAudit.NONE);
    assertThatThrownBy(() -> store.createIfNoneExist(tenant, none, Fhir.parseResource(patient), criteria))
        .isInstanceOf(KeyNotAdmittedException.class);
  }

  @Test
  void transactionResolvesUuidsConditionalCreatesAndReferencesThenEmbeds() throws SQLException {
    Bundle response = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle("Zyxwvut", "MRN-1", "7.2")));
    assertThat(response.getEntry()).extracting(e -> e.getResponse().getStatus())
        .endsWith("201 Created", "201 Created");
    // The practitioner is created once per tenant (other tests may have created it already).
    assertThat(response.getEntry().get(0).getResponse().getStatus()).isIn("201 Created", "200 OK");
    String patient = patientIdOf(response);
    String practitioner = response.getEntry().get(0).getResponse().getLocation().split("/")[1];
    assertThat(count("SELECT count(*) FROM tenant_ingest.care_links WHERE patient_id = '" + patient
        + "' AND practitioner_id = '" + practitioner + "'")).isEqualTo(1);
    String obs = store.read(tenant, "Observation", response.getEntry().get(2).getResponse().getLocation().split("/")[1])
        .orElseThrow().json();
    assertThat(obs).contains("\"reference\":\"Patient/" + patient + "\"").contains("\"versionId\":\"1\"");

    // A second patient's bundle reuses the practitioner through ifNoneExist.
    Bundle second = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle("Qwertyu", "MRN-2", "7.2")));
    assertThat(second.getEntry().get(0).getResponse().getStatus()).isEqualTo("200 OK");
    // with the version's location and ETag, as a created entry has them
    assertThat(second.getEntry().get(0).getResponse().getLocation()).isEqualTo("Practitioner/" + practitioner
        + "/_history/1");
    assertThat(second.getEntry().get(0).getResponse().getEtag()).isEqualTo("W/\"1\"");
    // and the version's lastModified, as a written entry and a single matched create answer it (it had none)
    assertThat(second.getEntry().get(0).getResponse().getLastModified()).isEqualTo(java.util.Date.from(
        store.read(tenant, "Practitioner", practitioner).orElseThrow().lastUpdated()));

    int before = embeddedTexts.get();
    worker.drain(tenant);
    assertThat(count("SELECT count(*) FROM tenant_ingest.outbox")).isZero();
    assertThat(count("SELECT count(DISTINCT patient_id) FROM tenant_ingest.chunks WHERE patient_id IN ('"
        + patient + "', '" + patientIdOf(second) + "')")).isEqualTo(2);
    // Identical statements of the two patients were embedded once (the cache).
    int embedded = embeddedTexts.get() - before;
    int chunks = count("SELECT count(*) FROM tenant_ingest.chunks");
    assertThat(embedded).isLessThan(chunks);
    assertThat(worker.stats().cacheHits.get()).isPositive();
  }

  @Test
  void resendingIdenticalContentMakesNoNewVersionAndNoWork() throws SQLException {
    Bundle created = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle("Idemp", "MRN-3", "6.1")));
    worker.drain(tenant);
    var patient = store.read(tenant, "Patient", patientIdOf(created)).orElseThrow();
    var again = store.put(tenant, FEED, Fhir.parseResource(patient.json()));
    assertThat(again.status()).isEqualTo(WriteOutcome.Status.UNCHANGED);
    assertThat(again.version()).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM tenant_ingest.outbox")).isZero();
  }

  /**
   * Entries of a transaction without fullUrls are matched by the identifiers they carry, as those with
   * one are: two conditional creates of one MRN made two Patients, and a conditional reference to a
   * Practitioner created earlier in the Bundle matched nothing (422).
   */
  @Test
  void conditionalCreatesAndReferencesMatchEarlierEntriesWithoutFullUrls() throws SQLException {
    String patient = """
        {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"MRN-NOFULLURL"}]},
         "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|MRN-NOFULLURL"}}""";
    Bundle response = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"NPI-NOFULLURL"}]},
           "request":{"method":"POST","url":"Practitioner"}},
          %1$s, %1$s,
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
             "subject":{"reference":"Patient?identifier=urn:mrn|MRN-NOFULLURL"},
             "performer":[{"reference":"Practitioner?identifier=urn:npi|NPI-NOFULLURL"}]},
           "request":{"method":"POST","url":"Observation"}}]}""".formatted(patient)));
    assertThat(response.getEntry()).extracting(e -> e.getResponse().getStatus())
        .containsExactly("201 Created", "201 Created", "200 OK", "201 Created");
    String created = response.getEntry().get(1).getResponse().getLocation();
    assertThat(response.getEntry().get(2).getResponse().getLocation()).isEqualTo(created);
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources WHERE resource_type = 'Patient' AND resource_id = '"
        + created.split("/")[1] + "'")).isEqualTo(1);
    String practitioner = response.getEntry().get(0).getResponse().getLocation().split("/")[1];
    String obs = store.read(tenant, "Observation", response.getEntry().get(3).getResponse().getLocation().split("/")[1])
        .orElseThrow().json();
    assertThat(obs).contains("\"reference\":\"" + created.split("/_history")[0] + "\"")
        .contains("\"reference\":\"Practitioner/" + practitioner + "\"");
  }

  /**
   * Each resource a transaction names took an advisory lock, a slot of PostgreSQL's shared lock table
   * (some 64 a connection for the whole server): a Bundle of 20,000 entries, about a megabyte, failed
   * "out of shared memory" (a 500), and meanwhile any tenant's transaction needing a lock could fail.
   * Past an $import batch's worth of keys, one lock on the tenant's writes stands for them all. Bundles
   * are capped at 10,000 entries now (FhirStore.DEFAULT_MAX_BUNDLE_ENTRIES), and one of the cap's size
   * still names far more resources than the lock table holds for a connection: it is the largest taken.
   */
  @Test
  void aTransactionOfManyEntriesHoldsOneLockNotOneAnEntry() throws SQLException {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
    int n = FhirStore.DEFAULT_MAX_BUNDLE_ENTRIES - 1; // and the conditional create below: the cap's size
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/many-")
          .append(i).append("\"}}");
    }
    b.append(",{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MANY-1\"}]},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":\"identifier=urn:mrn|MANY-1\"}}]}");
    Bundle r = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(b.toString()));
    assertThat(r.getEntry()).hasSize(n + 1);
    assertThat(r.getEntry().get(n).getResponse().getStatus()).isEqualTo("201 Created");
    // and the conditional create it made is still matched by the next one, which locks the identifier
    FhirStore.ConditionalCreate again = store.createIfNoneExist(tenant, FEED, Fhir.parseResource(
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MANY-1\"}]}"),
        "identifier=urn:mrn|MANY-1");
    assertThat(again.existing()).isNotNull();
  }

  /** A transaction that holds the tenant's writes whole and a conditional create of one identifier, at once: one creates. */
  @Test
  void aLargeTransactionAndAConditionalCreateAtOnceCreateTheIdentifierOnce() throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 5; round++) {
        String mrn = "LARGE-RACE-" + round;
        StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        for (int i = 0; i <= ResourceWriter.MAX_KEYS; i++) {
          b.append("{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/race-").append(round).append('-').append(i)
              .append("\"}},");
        }
        String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"" + mrn + "\"}]}";
        b.append("{\"resource\":").append(patient).append(",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
            + "\"ifNoneExist\":\"identifier=urn:mrn|").append(mrn).append("\"}}]}");
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        var large = pool.submit(() -> {
          go.await();
          Bundle r = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(b.toString()));
          return r.getEntry().get(r.getEntry().size() - 1).getResponse().getStatus().startsWith("201") ? 1 : 0;
        });
        var small = pool.submit(() -> {
          go.await();
          return store.createIfNoneExist(tenant, FEED, Fhir.parseResource(patient), "identifier=urn:mrn|" + mrn)
              .created() != null ? 1 : 0;
        });
        go.countDown();
        assertThat(large.get() + small.get()).as("round " + round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * $import commits a batch of lines at a time. A key revoked part-way failed the whole request after the
   * batches before had been stored, with an answer that said nothing was: a feed that sent the file again
   * stored its lines without an id twice. The import stops at the refused batch and its summary says from
   * which line to re-send; while nothing is stored the request still fails whole.
   */
  @Test
  void anImportWhoseKeyIsRevokedPartWaySaysWhereItStopped() throws SQLException {
    TestPlatform.TestKey key = platform.issueKey(tenant, "feed-revoked-midimport", List.of("ehr-integration"), null);
    java.util.concurrent.atomic.AtomicBoolean revoked = new java.util.concurrent.atomic.AtomicBoolean();
    FhirWriter writer = new FhirWriter(key.present(PolicySettings.ingest()), (c, t, outcomes) -> {
      if (revoked.compareAndSet(false, true)) {
        try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
          st.execute("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + key.keyId() + "'");
        }
      }
    });
    StringBuilder ndjson = new StringBuilder();
    for (int i = 0; i < NdjsonImporter.BATCH + 5; i++) {
      ndjson.append("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:midimport\",\"value\":\"M")
          .append(i).append("\"}]}\n");
    }
    int before = count("SELECT count(*) FROM tenant_ingest.resources WHERE resource_type = 'Patient'");
    ImportSummary s = store.importNdjson(tenant, writer, new ByteArrayInputStream(ndjson.toString()
        .getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8, ImportProgress.NONE);
    assertThat(s.written()).isEqualTo(NdjsonImporter.BATCH);
    assertThat(s.failed()).isEqualTo(5);
    assertThat(s.keyRefusedLines()).isEqualTo(5);
    assertThat(s.invalidLines()).isZero();
    assertThat(s.nothingStored()).isFalse();
    assertThat(s.errors()).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(NdjsonImporter.BATCH + 1);
      assertThat(e.message()).contains("the database refused the key").contains("re-send the file from this line");
    });
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources WHERE resource_type = 'Patient'"))
        .isEqualTo(before + NdjsonImporter.BATCH);
    // nothing stored yet: the import fails whole, as a single write does, and that answer is then true
    assertThatThrownBy(() -> store.importNdjson(tenant, writer, new ByteArrayInputStream(ndjson.toString()
        .getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8, ImportProgress.NONE))
        .isInstanceOf(KeyNotAdmittedException.class);
  }

  /**
   * A batch commits each entry on its own. A key revoked part-way (or an entry whose audit rows cannot
   * be written) failed the whole request after the entries before had been stored, with an answer
   * that said nothing was: a feed that sent the batch again created its POST entries twice. Each entry
   * is answered as it went; while nothing is stored the request still fails whole.
   */
  @Test
  void aBatchWhoseKeyIsRevokedPartWayAnswersWhatItStored() throws SQLException {
    TestPlatform.TestKey key = platform.issueKey(tenant, "feed-revoked-midbatch", List.of("ehr-integration"), null);
    java.util.concurrent.atomic.AtomicBoolean revoked = new java.util.concurrent.atomic.AtomicBoolean();
    FhirWriter writer = new FhirWriter(key.present(PolicySettings.ingest()), (c, t, outcomes) -> {
      if (revoked.compareAndSet(false, true)) {
        try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
          st.execute("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '" + key.keyId() + "'");
        }
      }
    });
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"MIDBATCH-1"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","id":"p-midbatch-2"},"request":{"method":"PUT","url":"Patient/p-midbatch-2"}},
          {"resource":{"resourceType":"Patient","id":"p-midbatch-3"},"request":{"method":"PUT","url":"Patient/p-midbatch-3"}}]}""";
    Bundle response = store.batch(tenant, writer, (Bundle) Fhir.parseResource(batch));
    assertThat(response.getEntry()).extracting(e -> e.getResponse().getStatus())
        .containsExactly("201 Created", "403 Forbidden", "403 Forbidden");
    assertThat(Fhir.toJson(response.getEntry().get(1).getResponse().getOutcome()))
        .contains("bundle entry 1: the database refused this key").doesNotContain("p-midbatch");
    assertThat(store.read(tenant, "Patient", response.getEntry().get(0).getResponse().getLocation().split("/")[1]))
        .isPresent();
    assertThat(store.read(tenant, "Patient", "p-midbatch-2")).isEmpty();
    // with nothing stored yet, the batch fails whole, as a single write does: that answer is then true
    assertThatThrownBy(() -> store.batch(tenant, writer, (Bundle) Fhir.parseResource(batch)))
        .isInstanceOf(KeyNotAdmittedException.class);
  }

  /**
   * {@code identifier=|value} names an identifier without a system, in the store and in the Bundle alike.
   * The earlier entries of the Bundle were matched on the value alone, so an entry whose Patient carried
   * that value in another system (another hospital's MRN, an SSN) took the match: an Observation meant
   * for the stored patient was filed under a different person, and a conditional create answered with
   * that other entry instead of the stored patient.
   */
  @Test
  void anIdentifierWithoutASystemMatchesNoEntryWhoseIdentifierHasOne() throws SQLException {
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Patient","id":"p-nosystem","identifier":[{"value":"NOSYS-1"}]}"""));
    Bundle response = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:other-hospital","value":"NOSYS-1"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","identifier":[{"value":"NOSYS-1"}]},
           "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=|NOSYS-1"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
             "subject":{"reference":"Patient?identifier=|NOSYS-1"}},
           "request":{"method":"POST","url":"Observation"}}]}"""));
    assertThat(response.getEntry()).extracting(e -> e.getResponse().getStatus())
        .containsExactly("201 Created", "200 OK", "201 Created");
    assertThat(response.getEntry().get(1).getResponse().getLocation()).startsWith("Patient/p-nosystem/_history/");
    String obs = store.read(tenant, "Observation", response.getEntry().get(2).getResponse().getLocation().split("/")[1])
        .orElseThrow().json();
    assertThat(obs).contains("\"reference\":\"Patient/p-nosystem\"");
    // and the other way round: a system in the criteria never matches an entry's identifier without one
    Bundle second = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","identifier":[{"value":"NOSYS-2"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"NOSYS-2"}]},
           "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|NOSYS-2"}}]}"""));
    assertThat(second.getEntry()).extracting(e -> e.getResponse().getStatus())
        .containsExactly("201 Created", "201 Created");
  }

  /**
   * Conditional matches are read before any entry is written: a transaction that deleted a Patient and
   * conditionally created one with its identifier answered "200 OK" with the deleted Patient, and the
   * entries referring to the create's fullUrl were filed under it. Overlapping identities fail it.
   */
  @Test
  void aConditionalMatchOnAResourceTheTransactionDeletesFailsIt() throws SQLException {
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Patient","id":"p-overlap","identifier":[{"system":"urn:mrn","value":"MRN-OVERLAP"}]}"""));
    String delete = "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p-overlap\"}}";
    String create = """
        {"fullUrl":"urn:uuid:dddddddd-0000-0000-0000-000000000001","resource":{"resourceType":"Patient",
           "identifier":[{"system":"urn:mrn","value":"MRN-OVERLAP"}]},
         "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|MRN-OVERLAP"}}""";
    String byIdentifier = """
        {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
           "subject":{"reference":"Patient?identifier=urn:mrn|MRN-OVERLAP"}},"request":{"method":"POST","url":"Observation"}}""";
    int resources = count("SELECT count(*) FROM tenant_ingest.resources");
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + delete + ",%s]}";
    assertThatThrownBy(() -> store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle.formatted(create))))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("bundle entry 1: its identifier matches the "
            + "resource entry 0 deletes").hasMessageNotContaining("MRN-OVERLAP").hasMessageNotContaining("p-overlap");
    // a conditional reference is resolved after the delete is applied: it matches nothing (422), as before
    assertThatThrownBy(() -> store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle.formatted(byIdentifier))))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("bundle entry 1: a conditional reference to "
            + "Patient matches no resource")
        .satisfies(e -> assertThat(((FhirInputException) e).issues()).extracting(FhirIssue::path)
            .containsExactly("Bundle.entry[1].resource.subject"));
    assertThat(store.read(tenant, "Patient", "p-overlap").orElseThrow().deleted()).isFalse();
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources")).isEqualTo(resources);
  }

  /**
   * A reference in an extension of a primitive ({@code _effectiveDateTime}) is resolved as any other: the terser's
   * list of references left it out, and a {@code urn:uuid} there was stored as sent, where no read could follow it;
   * one that names no entry is refused, named by its element.
   */
  @Test
  void aReferenceInAPrimitivesExtensionIsResolvedAsAnyOther() throws SQLException {
    String bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:eeeeeeee-0000-0000-0000-000000000001","resource":{"resourceType":"Patient"},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01",
             "subject":{"reference":"urn:uuid:eeeeeeee-0000-0000-0000-000000000001"},
             "_effectiveDateTime":{"extension":[{"url":"http://example.org/recorded-by",
               "valueReference":{"reference":"urn:uuid:eeeeeeee-0000-0000-0000-00000000000%s"}}]}},
           "request":{"method":"POST","url":"Observation"}}]}""";
    Bundle response = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle.formatted("1")));
    String patient = response.getEntry().get(0).getResponse().getLocation().split("/")[1];
    String obs = store.read(tenant, "Observation", response.getEntry().get(1).getResponse().getLocation().split("/")[1])
        .orElseThrow().json();
    assertThat(obs).contains("\"reference\":\"Patient/" + patient + "\"").doesNotContain("urn:uuid");
    int resources = count("SELECT count(*) FROM tenant_ingest.resources");
    assertThatThrownBy(() -> store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle.formatted("2"))))
        .isInstanceOf(FhirInputException.class)
        .satisfies(e -> assertThat(((FhirInputException) e).issues()).extracting(FhirIssue::path)
            .containsExactly("Bundle.entry[1].resource.effectiveDateTime.extension[0].valueReference"));
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources")).isEqualTo(resources);
    // an $import line: refused, as a urn:uuid anywhere else in it is
    assertThatThrownBy(() -> BundleProcessor.refuseUnresolved((org.hl7.fhir.r4.model.Resource) Fhir.parseResource("""
        {"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"},
           "_status":{"extension":[{"url":"http://e/x",
           "valueReference":{"reference":"urn:uuid:eeeeeeee-0000-0000-0000-000000000003"}}]}}""")))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("urn:uuid");
  }

  @Test
  void aFailedTransactionStoresNothing() throws SQLException {
    int resources = count("SELECT count(*) FROM tenant_ingest.resources");
    int outbox = count("SELECT count(*) FROM tenant_ingest.outbox");
    String bad = bundle("Nobody", "MRN-4", "5.0").replace(
        "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}",
        "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
            + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient?identifier=urn:mrn|does-not-exist\"}},"
            + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}");
    assertThatThrownBy(() -> store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bad)))
        .isInstanceOf(FhirInputException.class)
        .hasMessageContaining("bundle entry 2").hasMessageNotContaining("does-not-exist");
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources")).isEqualTo(resources);
    assertThat(count("SELECT count(*) FROM tenant_ingest.outbox")).isEqualTo(outbox);
  }

  @Test
  void updatesVersionAndReplaceChunksAndDeleteRemovesThemBeforeReturning() throws SQLException {
    Bundle r = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle("Upd", "MRN-5", "8.0")));
    worker.drain(tenant);
    String obsId = r.getEntry().get(2).getResponse().getLocation().split("/")[1];
    var obs = Fhir.parseResource(store.read(tenant, "Observation", obsId).orElseThrow().json());
    ((org.hl7.fhir.r4.model.Observation) obs).getValueQuantity().setValue(9.1);
    WriteOutcome v2 = store.put(tenant, FEED, obs);
    assertThat(v2.version()).isEqualTo(2);
    worker.drain(tenant);
    assertThat(count("SELECT count(*) FROM tenant_ingest.chunks WHERE resource_id = '" + obsId + "'")).isEqualTo(1);
    assertThat(count("SELECT max(version_id) FROM tenant_ingest.chunks WHERE resource_id = '" + obsId + "'")).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM tenant_ingest.resource_versions WHERE resource_id = '" + obsId + "'"))
        .isEqualTo(2);

    assertThat(store.delete(tenant, FEED, "Observation", obsId)).isPresent();
    assertThat(count("SELECT count(*) FROM tenant_ingest.chunks WHERE resource_id = '" + obsId + "'")).isZero();
    assertThat(store.read(tenant, "Observation", obsId).orElseThrow().deleted()).isTrue();
  }

  /**
   * A resource deleted while the worker embeds it: the DELETE removed the chunks there were, then the
   * worker committed the ones it had made, and the deleted resource's text was served for good (its
   * read answered 410). The DELETE now waits for the worker's claim on the resource's queue row and
   * removes what it committed; so does an update that voids the earlier text.
   */
  @Test
  void aDeleteWhileTheWorkerEmbedsTheResourceLeavesNoChunks() throws Exception {
    TenantId t = platform.tenant("racing");
    FhirWriter feed = feed(t);
    Bundle r = store.transaction(t, feed, (Bundle) Fhir.parseResource(bundle("Race", "MRN-9", "6.1")));
    String obsId = r.getEntry().get(2).getResponse().getLocation().split("/")[1];
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    EmbeddingProvider slow = new EmbeddingProvider() {
      @Override public String modelId() { return COUNTING.modelId(); }
      @Override public int dimensions() { return COUNTING.dimensions(); }
      @Override public List<float[]> embedAll(List<String> texts) {
        entered.countDown();
        try {
          release.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return COUNTING.embedAll(texts);
      }
    };
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> slow, () -> List.of(t), 64);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      var draining = pool.submit(() -> w.drain(t));
      assertThat(entered.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the worker is embedding").isTrue();
      var deleting = pool.submit(() -> store.delete(t, feed, "Observation", obsId));
      awaitLockWaitOrDone(deleting); // the delete reaches the worker's claim
      release.countDown();
      draining.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(deleting.get(60, java.util.concurrent.TimeUnit.SECONDS)).isPresent();
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    assertThat(count("SELECT count(*) FROM tenant_racing.chunks WHERE resource_id = '" + obsId + "'")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_racing.chunks")).as("the others' chunks stay").isPositive();
    assertThat(store.read(t, "Observation", obsId).orElseThrow().deleted()).isTrue();
  }

  /** A provider of the real model that holds its first call until {@code release}, after {@code entered}. */
  static EmbeddingProvider heldOnce(java.util.concurrent.CountDownLatch entered,
                                    java.util.concurrent.CountDownLatch release) {
    java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
    return new EmbeddingProvider() {
      @Override public String modelId() { return COUNTING.modelId(); }
      @Override public int dimensions() { return COUNTING.dimensions(); }
      @Override public List<float[]> embedAll(List<String> texts) {
        if (first.getAndSet(false)) {
          entered.countDown();
          try {
            release.await(60, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return COUNTING.embedAll(texts);
      }
    };
  }

  /** Stores a new version of the Observation with this value; returns its version. */
  static long putValue(TenantId t, FhirWriter feed, String obsId, double value) {
    var obs = (org.hl7.fhir.r4.model.Observation) Fhir.parseResource(store.read(t, "Observation", obsId).orElseThrow().json());
    obs.getValueQuantity().setValue(value);
    return store.put(t, feed, obs).version();
  }

  /**
   * Two workers (threads of one process, or two processes) on one resource updated twice: the first
   * embedded version 2 while version 3 was written, and the second worker, skipping the first one's
   * locked row, embedded version 3 and committed. The first then replaced version 3's chunks with
   * version 2's, which it had checked was current before it called the model, and deleted its queue
   * row: the stale text was served for good. Now a row behind an older one of its resource that
   * another worker holds waits, and a worker reads the version again before it replaces the chunks.
   */
  @Test
  void aWorkerOvertakenByANewerVersionLeavesOnlyTheNewestChunks() throws Exception {
    TenantId t = platform.tenant("overtaken");
    FhirWriter feed = feed(t);
    Bundle r = store.transaction(t, feed, (Bundle) Fhir.parseResource(bundle("Overtaken", "MRN-7", "6.2")));
    String obsId = r.getEntry().get(2).getResponse().getLocation().split("/")[1];
    new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64).drain(t);
    assertThat(putValue(t, feed, obsId, 6.3)).isEqualTo(2);
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    EmbeddingWorker slow = new EmbeddingWorker(platform.tx, platform.keys, x -> heldOnce(entered, release),
        () -> List.of(t), 64);
    EmbeddingWorker fast = new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      var draining = pool.submit(() -> slow.drain(t));
      assertThat(entered.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("version 2 is being embedded").isTrue();
      assertThat(putValue(t, feed, obsId, 6.4)).isEqualTo(3);
      // before, this worker embedded version 3 and committed, and the first then replaced its chunks
      assertThat(fast.drain(t)).as("version 3 waits for the older row another worker holds").isZero();
      release.countDown();
      draining.get(60, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    fast.drain(t);
    assertThat(count("SELECT count(*) FROM tenant_overtaken.outbox")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_overtaken.chunks WHERE resource_id = '" + obsId + "'")).isEqualTo(1);
    assertThat(count("SELECT min(version_id) FROM tenant_overtaken.chunks WHERE resource_id = '" + obsId + "'"))
        .as("no chunk of the overtaken version").isEqualTo(3);
  }

  /**
   * An update that voids the earlier text while the worker embeds that text: the write holds the
   * resource's row and waits for the worker's queue row. The worker checks again what it embedded
   * without waiting for any lock (waiting for the resource's row would deadlock the two and fail the
   * write), and the write then removes what it committed.
   */
  @Test
  void aWriteVoidingTheTextTheWorkerEmbedsNeitherDeadlocksNorKeepsTheText() throws Exception {
    TenantId t = platform.tenant("inflight");
    FhirWriter feed = feed(t);
    Bundle r = store.transaction(t, feed, (Bundle) Fhir.parseResource(bundle("Inflight", "MRN-8", "6.5")));
    String obsId = r.getEntry().get(2).getResponse().getLocation().split("/")[1];
    new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64).drain(t);
    assertThat(putValue(t, feed, obsId, 6.6)).isEqualTo(2);
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> heldOnce(entered, release),
        () -> List.of(t), 64);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      var draining = pool.submit(() -> w.drain(t));
      assertThat(entered.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("version 2 is being embedded").isTrue();
      var voiding = pool.submit(() -> {
        var obs = (org.hl7.fhir.r4.model.Observation) Fhir.parseResource(
            store.read(t, "Observation", obsId).orElseThrow().json());
        obs.setStatus(org.hl7.fhir.r4.model.Observation.ObservationStatus.ENTEREDINERROR);
        return store.put(t, feed, obs).version();
      });
      awaitLockWaitOrDone(voiding); // the write holds the resource's row and waits for the worker's queue row
      release.countDown();
      draining.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(voiding.get(60, java.util.concurrent.TimeUnit.SECONDS)).as("the write went through").isEqualTo(3);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    w.drain(t);
    assertThat(count("SELECT count(*) FROM tenant_inflight.outbox")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_inflight.chunks WHERE resource_id = '" + obsId + "'"))
        .as("entered in error: no text").isZero();
  }

  @Test
  void severalQueuedRowsOfOneResourceInOneBatchLeaveOnlyTheCurrentVersionsChunks() throws SQLException {
    Bundle r = store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle("Twice", "MRN-6", "7.0")));
    String obsId = r.getEntry().get(2).getResponse().getLocation().split("/")[1];
    var obs = Fhir.parseResource(store.read(tenant, "Observation", obsId).orElseThrow().json());
    ((org.hl7.fhir.r4.model.Observation) obs).getValueQuantity().setValue(7.4);
    assertThat(store.put(tenant, FEED, obs).version()).isEqualTo(2);
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      // The same current version queued twice, as a re-embed beside a normal index row would.
      st.execute("INSERT INTO tenant_ingest.outbox (resource_type, resource_id, version_id, operation) "
          + "VALUES ('Observation', '" + obsId + "', 2, 'reembed')");
    }
    assertThat(count("SELECT count(*) FROM tenant_ingest.outbox WHERE resource_id = '" + obsId + "'")).isEqualTo(3);
    long failures = worker.stats().failures.get();
    long fallbacks = worker.stats().batchFallbacks.get();

    worker.drain(tenant); // version 1, version 2 and version 2 again, in one batch

    assertThat(worker.stats().failures.get()).isEqualTo(failures);
    assertThat(worker.stats().batchFallbacks.get()).as("the batch went through whole").isEqualTo(fallbacks);
    assertThat(count("SELECT count(*) FROM tenant_ingest.outbox WHERE resource_id = '" + obsId + "'")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_ingest.chunks WHERE resource_id = '" + obsId + "'")).isEqualTo(1);
    assertThat(count("SELECT min(version_id) FROM tenant_ingest.chunks WHERE resource_id = '" + obsId + "'"))
        .isEqualTo(2);
  }

  @Test
  void bodiesAndChunkTextAreCiphertext() throws SQLException {
    store.transaction(tenant, FEED, (Bundle) Fhir.parseResource(bundle("Plaintextcheck", "MRN-6", "7.7")));
    worker.drain(tenant);
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources WHERE position(convert_to('Plaintextcheck', 'UTF8') in body) > 0"))
        .isZero();
    assertThat(count("SELECT count(*) FROM tenant_ingest.chunks WHERE position(convert_to('Hemoglobin', 'UTF8') in text) > 0"))
        .isZero();
    assertThat(count("SELECT count(*) FROM tenant_ingest.resource_identifiers WHERE position(convert_to('MRN-6', 'UTF8') in value_hash) > 0"))
        .isZero();
  }

  @Test
  void aWorkerKilledMidBatchLosesNothingAndDuplicatesNothing() throws Exception {
    TenantId t = platform.tenant("killed");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    for (var p : io.carecontext.fhir.synthetic.SyntheticPatients.generate(5, 2)) {
      s.transaction(t, feed(t), p.bundle());
    }
    int queued = count("SELECT count(*) FROM tenant_killed.outbox");
    var c = platform.db.config();
    Process worker = new ProcessBuilder(System.getProperty("java.home") + "/bin/java", "-cp",
        System.getProperty("java.class.path"), WorkerProcess.class.getName(), c.jdbcUrl(), c.ownerUser(),
        c.ownerPassword(), c.appUser(), c.appPassword(), c.rolePrefix(), platform.kekFile.toString(), t.value())
        .redirectErrorStream(true).start();
    var out = new java.io.BufferedReader(new java.io.InputStreamReader(worker.getInputStream()));
    int committed = 0;
    String line;
    // Let it commit a few batches, then kill it hard while it is inside the next one.
    while ((line = out.readLine()) != null) {
      if (line.startsWith("committed")) {
        committed++;
      }
      if (committed >= 3 && line.startsWith("embedding")) {
        worker.destroyForcibly().waitFor();
        break;
      }
    }
    assertThat(committed).as("the worker process committed batches before it was killed").isGreaterThanOrEqualTo(3);
    int left = count("SELECT count(*) FROM tenant_killed.outbox");
    assertThat(left).isPositive().isLessThan(queued);
    // A new worker finishes the job: every resource's chunks exactly once.
    new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64).drain(t);
    assertThat(count("SELECT count(*) FROM tenant_killed.outbox")).isZero();
    assertThat(count("SELECT count(*) FROM (SELECT resource_type, resource_id, seq FROM tenant_killed.chunks "
        + "GROUP BY 1, 2, 3 HAVING count(*) > 1) d")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_killed.chunks k JOIN tenant_killed.resources r USING (resource_type, "
        + "resource_id) WHERE k.version_id <> r.version_id")).isZero();
    int rendered = 0;
    for (var p : io.carecontext.fhir.synthetic.SyntheticPatients.generate(5, 2)) {
      for (var e : p.bundle().getEntry()) {
        rendered += e.getResource().fhirType().equals("Practitioner") ? 0 : 1;
      }
    }
    assertThat(count("SELECT count(DISTINCT (resource_type, resource_id)) FROM tenant_killed.chunks"))
        .as("every resource that renders chunks has them").isGreaterThan(rendered / 2);
  }

  /**
   * A worker stopped (SIGTERM, Ctrl-C: {@link EmbeddingWorker#close()}) while its model embeds a batch: the
   * interrupted batch rolled back, and its rows were then tried one by one on the interrupted thread, each
   * failing at once and charged an attempt with "the model's answer could not be used: check
   * settings.embedding.model and dimensions" (a walk stopping `worker` during a load saw 129 such rows in
   * the ingest status, and `tenant wait` said embedding was failing). The stop now charges nothing: the
   * rows wait, untouched, and the next worker embeds each once.
   */
  @Test
  void aWorkerStoppedWhileItsModelEmbedsChargesTheRowsNothing() throws Exception {
    TenantId t = platform.tenant("stopped");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = feed(t);
    for (int i = 0; i < 6; i++) {
      s.put(t, feed, Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"ps" + i
          + "\",\"gender\":\"female\",\"birthDate\":\"1970-01-0" + (i + 1) + "\"}"));
    }
    int queued = count("SELECT count(*) FROM tenant_stopped.outbox");
    java.util.concurrent.CountDownLatch embedding = new java.util.concurrent.CountDownLatch(1);
    // the model runs on the embedder's own thread, as in the service, and is in the middle of a call
    // when the worker stops: it returns only when interrupted
    EmbeddingProvider slow = new EmbeddingProvider() {
      @Override public String modelId() { return COUNTING.modelId(); }
      @Override public int dimensions() { return COUNTING.dimensions(); }
      @Override public List<float[]> embedAll(List<String> texts) {
        embedding.countDown();
        try {
          new java.util.concurrent.CountDownLatch(1).await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("interrupted");
      }
    };
    try (io.carecontext.ingest.embedding.BatchingEmbedder model = new io.carecontext.ingest.embedding.BatchingEmbedder(
        slow, new io.carecontext.ingest.embedding.BatchingConfig(8, 1, 4))) {
      EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> model, () -> List.of(t), 64);
      w.start(1, java.time.Duration.ofMillis(20));
      embedding.await();
      w.close();
    }
    assertThat(count("SELECT count(*) FROM tenant_stopped.outbox WHERE attempts = 0 AND last_error IS NULL "
        + "AND parked_at IS NULL AND available_at <= now()")).as("every row still queued, uncharged, due now")
        .isEqualTo(queued);
    assertThat(count("SELECT count(*) FROM tenant_stopped.chunks")).isZero();
    EmbeddingWorker next = new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64);
    assertThat(next.drain(t)).isEqualTo(queued);
    assertThat(next.failing(t)).isEqualTo(new EmbeddingWorker.Failing(0, null));
    assertThat(count("SELECT count(*) FROM tenant_stopped.outbox")).isZero();
    assertThat(count("SELECT count(*) FROM (SELECT resource_type, resource_id, seq FROM tenant_stopped.chunks "
        + "GROUP BY 1, 2, 3 HAVING count(*) > 1) d")).as("nothing embedded twice").isZero();
    assertThat(count("SELECT count(DISTINCT resource_id) FROM tenant_stopped.chunks")).isEqualTo(queued);
  }

  /**
   * A change of model while the worker embeds with the old one: the change queues every resource with
   * chunks of the old model, except those queued already, and the batch in hand was queued; the worker
   * then committed the old model's chunks for it, and they stayed (searches of those patients, and
   * research, refused with reembedding_in_progress until the worker's next start, and `tenant wait`
   * ended at depth 0 with chunksOfAnotherModel above it). The worker now asks the tenant's model again
   * before it replaces chunks, and leaves the batch queued for the new model when it changed.
   */
  @Test
  void aChangeOfModelWhileABatchIsEmbeddedLeavesNoChunkOfTheOldModel() throws Exception {
    TenantId t = platform.tenant("switched");
    FhirWriter feed = feed(t);
    Bundle r = store.transaction(t, feed, (Bundle) Fhir.parseResource(bundle("Switched", "MRN-4", "6.7")));
    String obsId = r.getEntry().get(2).getResponse().getLocation().split("/")[1];
    new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64).drain(t);
    assertThat(putValue(t, feed, obsId, 6.8)).isEqualTo(2);
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    EmbeddingProvider other = new EmbeddingProvider() {
      @Override public String modelId() { return "other-model"; }
      @Override public int dimensions() { return 384; }
      @Override public List<float[]> embedAll(List<String> texts) { return COUNTING.embedAll(texts); }
    };
    var model = new java.util.concurrent.atomic.AtomicReference<>(heldOnce(entered, release));
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> model.get(), () -> List.of(t), 64);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      var draining = pool.submit(() -> w.drain(t));
      assertThat(entered.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the old model embeds").isTrue();
      model.set(other); // the setting changes, and its re-embedding is queued, as TenantController does
      w.retryWithNewModel(t);
      assertThat(w.enqueueReembed(t, "other-model", 384)).as("all but the resource in hand").isPositive();
      release.countDown();
      draining.get(60, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    w.drain(t);
    assertThat(count("SELECT count(*) FROM tenant_switched.outbox")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_switched.chunks WHERE model <> 'other-model'")).isZero();
    assertThat(count("SELECT min(version_id) FROM tenant_switched.chunks WHERE resource_id = '" + obsId + "'"))
        .isEqualTo(2);
  }

  /**
   * The gauge of the re-embedding left is read every 15 s by every process, for every tenant. Its count compared
   * (model, vector_dims(embedding)) as a row, which row-level security keeps out of an index scan's bounds
   * (vector_dims is not leakproof): every chunk of the tenant read twice while a re-embedding ran (1.4 s at 100,000
   * chunks). It counts on the model alone, in the index, and reads the model's own chunks only while some are of
   * another size.
   */
  @Test
  void theReembeddingLeftIsCountedFromTheIndexNotByAScan() throws SQLException {
    TenantId t = platform.tenant("leftcount");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    s.transaction(t, feed(t), (Bundle) Fhir.parseResource(bundle("Leftcount", "MRN-8", "7.1")));
    for (String id : List.of("la", "lb", "lc")) {
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}"));
    }
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64);
    w.drain(t);
    assertThat(w.chunksOfAnotherModel(t)).isZero();
    String ofAnother = "SELECT count(*) FROM tenant_leftcount.chunks k WHERE k.model <> '" + COUNTING.modelId()
        + "' OR public.vector_dims(k.embedding) <> " + COUNTING.dimensions();
    // a chunk of a model ordered before the tenant's, one after it, one of its model at another size
    List<String> changes = List.of("SET model = ''", "SET model = 'zzz-older-model'",
        "SET embedding = array_fill(0.5, ARRAY[16])::vector");
    for (int i = 0; i < changes.size(); i++) {
      try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
        assertThat(st.executeUpdate("UPDATE tenant_leftcount.chunks " + changes.get(i) + " WHERE chunk_id = "
            + "(SELECT min(chunk_id) FROM tenant_leftcount.chunks WHERE model = '" + COUNTING.modelId()
            + "' AND public.vector_dims(embedding) = " + COUNTING.dimensions() + ")")).isEqualTo(1);
      }
      assertThat(w.chunksOfAnotherModel(t)).as(changes.get(i)).isEqualTo(i + 1).isEqualTo(count(ofAnother));
    }
    // index reads bounded by the model under the worker's own policies, never a scan of every chunk (this
    // small table is scanned by cost)
    String plan = platform.tx.run(t, PolicySettings.ingest(), c -> {
      StringBuilder out = new StringBuilder();
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL enable_seqscan = off");
      }
      try (java.sql.PreparedStatement ps = c.prepareStatement("EXPLAIN " + EmbeddingWorker.CHUNKS_OF_ANOTHER_MODEL)) {
        for (int i = 1; i <= 4; i++) {
          ps.setString(i, COUNTING.modelId());
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.append(rs.getString(1)).append('\n');
          }
        }
      }
      return out.toString();
    });
    assertThat(plan).doesNotContain("Seq Scan").contains("chunks_model_size_renderer_idx");
    assertThat(plan.lines().filter(l -> l.strip().startsWith("Index Cond: (model ")).count()).as(plan).isEqualTo(4);
  }

  @Test
  void changingTheModelReembedsResumably() throws SQLException {
    TenantId t = platform.tenant("remodel");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    s.transaction(t, feed(t), (Bundle) Fhir.parseResource(bundle("Remodel", "MRN-9", "6.6")));
    new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> List.of(t), 64).drain(t);
    EmbeddingProvider other = new EmbeddingProvider() {
      @Override public String modelId() { return "other-model"; }
      @Override public int dimensions() { return 384; }
      @Override public List<float[]> embedAll(List<String> texts) { return COUNTING.embedAll(texts); }
    };
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> other, () -> List.of(t), 64);
    // what each start queues by itself, should a change of model have stored its setting and not its queue
    int queued = w.enqueueChunksOfAnotherModel(t);
    assertThat(queued).isPositive();
    assertThat(w.enqueueReembed(t, "other-model", 384)).isZero(); // already queued: nothing twice
    w.drain(t);
    assertThat(count("SELECT count(*) FROM tenant_remodel.chunks WHERE model <> 'other-model'")).isZero();
    assertThat(w.enqueueReembed(t, "other-model", 384)).isZero(); // done: resuming finds nothing left
    // whether anything is left is read from the two ends of the (model, size, renderer version) index: a chunk of a model
    // ordered before or after the tenant's, or of its model at another size, is found there
    for (String older : List.of("SET model = 'aaa-older-model'", "SET model = 'zzz-older-model'",
        "SET embedding = array_fill(0.5, ARRAY[16])::vector")) {
      try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
        assertThat(st.executeUpdate("UPDATE tenant_remodel.chunks " + older + " WHERE chunk_id = "
            + "(SELECT max(chunk_id) FROM tenant_remodel.chunks)")).isEqualTo(1);
      }
      assertThat(w.enqueueChunksOfAnotherModel(t)).as(older).isEqualTo(1);
      w.drain(t);
      assertThat(count("SELECT count(*) FROM tenant_remodel.chunks WHERE model <> 'other-model' "
          + "OR public.vector_dims(embedding) <> 384")).as(older).isZero();
    }
    assertThat(w.enqueueChunksOfAnotherModel(t)).isZero();
    // two index reads under the worker's own policies, not a scan (this small table is scanned by cost)
    String plan = platform.tx.run(t, PolicySettings.ingest(), c -> {
      StringBuilder out = new StringBuilder();
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL enable_seqscan = off");
        try (ResultSet rs = st.executeQuery("EXPLAIN " + EmbeddingWorker.CHUNK_RANGE)) {
          while (rs.next()) {
            out.append(rs.getString(1)).append('\n');
          }
        }
      }
      return out.toString();
    });
    assertThat(plan).contains("Index Scan using chunks_model_size_renderer_idx")
        .contains("Index Scan Backward using chunks_model_size_renderer_idx").doesNotContain("Seq Scan");
  }

  @Test
  void destroyingTheTenantsDataKeyMakesItsDataUnreadable() throws SQLException {
    TenantId t = platform.tenant("shredded");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"gone\",\"gender\":\"male\"}"));
    assertThat(s.read(t, "Patient", "gone")).isPresent();
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      platform.keys.destroy(owner, t);
    }
    assertThatThrownBy(() -> s.read(t, "Patient", "gone"))
        .isInstanceOf(io.carecontext.migrations.TenantKeys.DataKeyUnavailableException.class)
        .hasMessageContaining("cannot be decrypted");
    // The ciphertext is still there, and useless without the key.
    assertThat(count("SELECT count(*) FROM tenant_shredded.resources WHERE resource_id = 'gone'")).isEqualTo(1);
  }

  @Test
  void consentsAreInterpretedInTheSameTransaction() throws SQLException {
    String consent = """
        {"resourceType":"Consent","id":"consent-1","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-consent"},
         "provision":{"type":"permit","provision":[{"type":"deny","class":[{"code":"DocumentReference"}]}]}}""";
    store.put(tenant, FEED, Fhir.parseResource(consent));
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE patient_id = 'p-consent' AND decision = 'permit' "
        + "AND denied_classes = '{DocumentReference}'")).isEqualTo(1);
    store.put(tenant, FEED, Fhir.parseResource(consent.replace("\"type\":\"permit\",\"provision\"", "\"type\":\"deny\",\"provision\"")));
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE patient_id = 'p-consent' AND decision = 'deny'"))
        .isEqualTo(1);
    store.delete(tenant, FEED, "Consent", "consent-1");
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE patient_id = 'p-consent'")).isZero();
    // the same transaction: a consent whose interpretation cannot be stored is not stored either (were the
    // row written after the resource's commit, the Consent would be kept and never enforced)
    int resources = count("SELECT count(*) FROM tenant_ingest.resources");
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.execute("ALTER TABLE tenant_ingest.consents ADD CONSTRAINT no_refused "
          + "CHECK (patient_id IS DISTINCT FROM 'p-consent-refused') NOT VALID");
    }
    try {
      assertThatThrownBy(() -> store.put(tenant, FEED, Fhir.parseResource(consent.replace("consent-1", "consent-refused")
          .replace("Patient/p-consent", "Patient/p-consent-refused"))))
          .isInstanceOf(io.carecontext.migrations.DatabaseException.class);
    } finally {
      try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
        st.execute("ALTER TABLE tenant_ingest.consents DROP CONSTRAINT no_refused");
      }
    }
    assertThat(store.read(tenant, "Consent", "consent-refused")).isEmpty();
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources")).isEqualTo(resources);
  }

  @Test
  void chunksMadeByAnOlderRendererAreMadeAgainByTheWorker() throws SQLException {
    // chunks made before tenant migration 41 kept their old text (an entered-in-error result served
    // as fact) until the resource changed
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Observation","id":"obs-rerender-src","status":"final",
         "code":{"text":"Glucose"},"subject":{"reference":"Patient/p-rerender"},"valueQuantity":{"value":98,"unit":"mg/dL"}}"""));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Observation","id":"obs-rerender","status":"entered-in-error",
         "code":{"text":"Glucose"},"subject":{"reference":"Patient/p-rerender"},"valueQuantity":{"value":38,"unit":"mg/dL"}}"""));
    worker.drain(tenant);
    String chunks = "SELECT count(*) FROM tenant_ingest.chunks WHERE resource_id = 'obs-rerender'";
    assertThat(count(chunks)).as("a record entered in error makes no chunk").isZero();
    // as an older renderer left it: a chunk, and no renderer version
    TestPostgres.superuserExecute(platform.config,
        "INSERT INTO tenant_ingest.chunks (resource_type, resource_id, version_id, patient_id, category, seq, "
        + "text_hash, text, model, embedding) SELECT 'Observation', 'obs-rerender', 1, 'p-rerender', 'lab', 0, "
        + "text_hash, text, model, embedding FROM tenant_ingest.chunks WHERE resource_id = 'obs-rerender-src'");
    assertThat(count(chunks)).isEqualTo(1);
    assertThat(worker.enqueueRerender(tenant)).isEqualTo(1);
    assertThat(worker.enqueueRerender(tenant)).as("queued once").isZero();
    worker.drain(tenant);
    assertThat(count(chunks)).isZero();
    assertThat(count("SELECT count(*) FROM tenant_ingest.chunks WHERE renderer_version IS NULL")).isZero();
    assertThat(worker.enqueueRerender(tenant)).as("nothing left to make again").isZero();
  }

  @Test
  void aResourceChunkedByThePreviousRendererGetsThisRenderersText() throws SQLException {
    // renderer 10 says a condition's notes: a condition chunked by renderer 9 had no note chunk, and
    // kept none until the resource changed unless the worker made its chunks again
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Condition","id":"cond-r9","subject":{"reference":"Patient/p-r9"},"code":{"text":"Gout"},
         "note":[{"text":"Flares after shellfish."}]}"""));
    worker.drain(tenant);
    String notes = "SELECT count(*) FROM tenant_ingest.chunks WHERE resource_id = 'cond-r9' AND category = 'note'";
    assertThat(count(notes)).isEqualTo(1);
    // as renderer 9 left it: the condition's chunk alone, stamped with version 9
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("DELETE FROM tenant_ingest.chunks WHERE resource_id = 'cond-r9' AND category = 'note'");
      st.execute("UPDATE tenant_ingest.chunks SET renderer_version = " + (ChunkRenderer.VERSION - 1)
          + " WHERE resource_id = 'cond-r9'");
    }
    assertThat(count(notes)).isZero();
    assertThat(worker.enqueueRerender(tenant)).isPositive();
    worker.drain(tenant);
    assertThat(count(notes)).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM tenant_ingest.chunks WHERE resource_id = 'cond-r9' AND renderer_version = "
        + ChunkRenderer.VERSION)).isEqualTo(2);
  }

  @Test
  void aConsentReadByOlderRulesIsReadAgainByTheWorker() throws SQLException {
    // A nested deny limited to one practitioner was read as nothing (the Consent a plain permit);
    // the rules now read it as a deny, and a row made before tenant migration 40 is read again.
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Consent","id":"consent-rules","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-rules"},
         "provision":{"type":"permit","period":{"end":"2030-06-01"},
                      "provision":[{"type":"deny","actor":[{"reference":{"reference":"Practitioner/pr-lee"}}]}]}}"""));
    String current = "SELECT count(*) FROM tenant_ingest.consents WHERE consent_id = 'consent-rules' AND decision = 'deny' "
        + "AND period_end = '2030-06-02T00:00:00Z' AND rules_version = " + ConsentInterpreter.RULES_VERSION;
    worker.drain(tenant);
    assertThat(count(current)).as("written under the current rules").isEqualTo(1);
    // as the older rules left it, and as migration 40 leaves such a row: no rules version
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_ingest.consents SET decision = 'permit', period_end = '2030-06-01T00:00:00Z', "
        + "rules_version = NULL WHERE consent_id = 'consent-rules'");
    assertThat(count(current)).isZero();
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).isEqualTo(1);
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).as("queued once").isZero();
    worker.drain(tenant);
    assertThat(count(current)).isEqualTo(1);
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).as("nothing left to read again").isZero();
  }

  /**
   * A deny Consent whose period ends before it starts, stored before such periods were refused (FHIR
   * per-1), was in force at no time: the record it denied was served. The worker reads it again under
   * rules version 3, which deny at all times.
   */
  @Test
  void aDenyConsentStoredWithAnInvertedPeriodIsReadAgainAsDenyingAtAllTimes() throws SQLException {
    String consent = """
        {"resourceType":"Consent","id":"consent-inverted","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-inverted"},
         "provision":{"type":"deny","period":{"start":"2026-03-01","end":"2025-03-01"}}}""";
    assertThatThrownBy(() -> store.put(tenant, FEED, Fhir.parseResource(consent)))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("Consent.provision.period");
    // as an earlier release stored it: the write path without the check, the row as rules version 2 read it
    store.putAll(tenant, FEED, List.of(Fhir.parseResource(consent)));
    worker.drain(tenant);
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_ingest.consents SET period_start = '2026-03-01T00:00:00Z', "
        + "period_end = '2025-03-02T00:00:00Z', rules_version = 2 WHERE consent_id = 'consent-inverted'");
    String always = "SELECT count(*) FROM tenant_ingest.consents WHERE consent_id = 'consent-inverted' "
        + "AND decision = 'deny' AND status = 'active' AND period_start IS NULL AND period_end IS NULL "
        + "AND rules_version = " + ConsentInterpreter.RULES_VERSION;
    assertThat(count(always)).isZero();
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).isEqualTo(1);
    worker.drain(tenant);
    assertThat(count(always)).isEqualTo(1);
  }

  /**
   * A permit with a nested "deny for research" was one row, research taken out of its purposes: for a research
   * request it said nothing, and an opt-out tenant admitted the patient. Rules version 4 writes a second row denying
   * the purposes (its id the Consent's and {@link ConsentInterpreter#PURPOSES_DENIED}); a Consent stored under older
   * rules gets it from the worker, and deleting the Consent removes both.
   */
  @Test
  void aConsentDenyingAPurposeIsStoredWithARowDenyingIt() throws SQLException {
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Consent","id":"consent-nores","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-nores"},
         "provision":{"type":"permit","provision":[{"type":"deny","purpose":[{"code":"HRESCH"}]}]}}"""));
    String denial = "SELECT count(*) FROM tenant_ingest.consents WHERE consent_id = 'consent-nores"
        + ConsentInterpreter.PURPOSES_DENIED + "' AND patient_id = 'p-nores' AND decision = 'deny' "
        + "AND purposes = '{HRESCH}' AND rules_version = " + ConsentInterpreter.RULES_VERSION;
    String permit = "SELECT count(*) FROM tenant_ingest.consents WHERE consent_id = 'consent-nores' "
        + "AND decision = 'permit' AND NOT 'HRESCH' = ANY (purposes)";
    assertThat(count(denial)).as("written with the Consent").isEqualTo(1);
    assertThat(count(permit)).isEqualTo(1);
    worker.drain(tenant);
    // as rules version 3 left it: the permit alone
    TestPostgres.superuserExecute(platform.config, "DELETE FROM tenant_ingest.consents WHERE consent_id = "
        + "'consent-nores" + ConsentInterpreter.PURPOSES_DENIED + "'");
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_ingest.consents SET rules_version = 3 WHERE consent_id = 'consent-nores'");
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).isEqualTo(1);
    worker.drain(tenant);
    assertThat(count(denial)).as("read again by the worker").isEqualTo(1);
    assertThat(count(permit)).isEqualTo(1);
    store.delete(tenant, FEED, "Consent", "consent-nores");
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE patient_id = 'p-nores'")).isZero();
  }

  /**
   * The row denying a Consent's purposes follows the Consent through every change: an inactive Consent's is inactive,
   * an expired one's ends when it ends, a new version that drops the deny takes the row away (else the patient's old
   * "not for research" outlived their saying otherwise), and one patient's second Consent leaves the first's alone.
   */
  @Test
  void theRowDenyingAConsentsPurposesFollowsTheConsent() throws SQLException {
    String consent = """
        {"resourceType":"Consent","id":"%s","status":"%s",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-follows"},
         "provision":{"type":"permit","period":{"start":"2020-01-01","end":"2021-01-01"}%s}}""";
    String deny = ",\"provision\":[{\"type\":\"deny\",\"purpose\":[{\"code\":\"HRESCH\"}]}]";
    String denial = "SELECT count(*) FROM tenant_ingest.consents WHERE consent_id = 'consent-follows"
        + ConsentInterpreter.PURPOSES_DENIED + "' AND decision = 'deny' AND purposes = '{HRESCH}' AND status = '%s' "
        + "AND period_start = '2020-01-01T00:00:00Z' AND period_end = '2021-01-02T00:00:00Z'";
    store.put(tenant, FEED, Fhir.parseResource(consent.formatted("consent-follows", "inactive", deny)));
    assertThat(count(denial.formatted("inactive"))).as("inactive and expired as its Consent").isEqualTo(1);
    store.put(tenant, FEED, Fhir.parseResource(consent.formatted("consent-older", "active", "")));
    store.put(tenant, FEED, Fhir.parseResource(consent.formatted("consent-follows", "active", deny)));
    assertThat(count(denial.formatted("active"))).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE patient_id = 'p-follows'")).isEqualTo(3);
    store.put(tenant, FEED, Fhir.parseResource(consent.formatted("consent-follows", "active", "")));
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE consent_id LIKE 'consent-follows#%'"))
        .as("the deny dropped: its row gone").isZero();
    assertThat(count("SELECT count(*) FROM tenant_ingest.consents WHERE patient_id = 'p-follows' "
        + "AND decision = 'permit'")).isEqualTo(2);
    worker.drain(tenant);
  }

  @Test
  void aConsentStoredBeforeMigration20GetsItsExplicitLabelsFromTheWorker() throws SQLException {
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Consent","id":"consent-old","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-old"},
         "provision":{"type":"permit","provision":[{"type":"permit","securityLabel":[{"code":"PSY"}]}]}}"""));
    worker.drain(tenant);
    String derived = "SELECT count(*) FROM tenant_ingest.consents WHERE consent_id = 'consent-old' "
        + "AND explicit_labels = '{PSY}'";
    assertThat(count(derived)).as("written with the consent").isEqualTo(1);
    // As the migration leaves a consent stored before it: not derived.
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_ingest.consents SET explicit_labels = NULL WHERE consent_id = 'consent-old'");
    assertThat(count(derived)).isZero();
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).isEqualTo(1);
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).as("queued once").isZero();
    worker.drain(tenant);
    assertThat(count(derived)).isEqualTo(1);
    assertThat(worker.enqueueConsentsReadByOlderRules(tenant)).as("nothing left to derive").isZero();
  }

  @Test
  void careLinksStoredBeforeMigration25AreCheckedAgainstTheirResourcesStatus() throws SQLException {
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"team-ended","status":"inactive","subject":{"reference":"Patient/p-team"},
         "participant":[{"member":{"reference":"Practitioner/dr-gone"}}]}"""));
    store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"team-active","status":"active","subject":{"reference":"Patient/p-team"},
         "participant":[{"member":{"reference":"Practitioner/dr-here"}}]}"""));
    worker.drain(tenant);
    String links = "SELECT count(*) FROM tenant_ingest.care_links WHERE patient_id = 'p-team'";
    assertThat(count(links + " AND practitioner_id = 'dr-gone'")).as("an inactive team links no one").isZero();
    assertThat(count(links + " AND practitioner_id = 'dr-here' AND status_checked")).isEqualTo(1);
    // As an earlier version stored them: the inactive team's link too, and neither checked.
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_ingest.care_links (practitioner_id, patient_id, source_type, source_id) "
          + "VALUES ('dr-gone', 'p-team', 'CareTeam', 'team-ended')");
      st.execute("UPDATE tenant_ingest.care_links SET status_checked = NULL WHERE patient_id = 'p-team'");
    }
    assertThat(worker.enqueueUncheckedCareLinks(tenant)).isEqualTo(2);
    assertThat(worker.enqueueUncheckedCareLinks(tenant)).as("queued once").isZero();
    worker.drain(tenant);
    assertThat(count(links + " AND practitioner_id = 'dr-gone'")).as("the ended team's link is gone").isZero();
    assertThat(count(links + " AND practitioner_id = 'dr-here' AND status_checked")).as("the active one kept")
        .isEqualTo(1);
    assertThat(worker.enqueueUncheckedCareLinks(tenant)).as("nothing left to check").isZero();
  }

  /**
   * An Encounter sent as finished with no date at all linked its practitioner for good. Its link now
   * ends when that version was stored; links stored before tenant migration 58 are derived again.
   */
  @Test
  void anUndatedFinishedEncounterLinksUntilItWasStoredAndOlderLinksAreDerivedAgain() throws Exception {
    WriteOutcome over = store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Encounter","id":"enc-undated","status":"finished","class":{"code":"AMB"},
         "subject":{"reference":"Patient/p-undated"},"participant":[{"individual":{"reference":"Practitioner/dr-once"}}]}"""));
    WriteOutcome open = store.put(tenant, FEED, Fhir.parseResource("""
        {"resourceType":"Encounter","id":"enc-open","status":"in-progress","class":{"code":"AMB"},
         "subject":{"reference":"Patient/p-undated"},"participant":[{"individual":{"reference":"Practitioner/dr-now"}}]}"""));
    worker.drain(tenant);
    String links = "SELECT count(*) FROM tenant_ingest.care_links WHERE patient_id = 'p-undated'";
    String bounded = links + " AND practitioner_id = 'dr-once' AND valid_until = '" + over.lastUpdated() + "'";
    assertThat(count(bounded)).as("ends when it was stored as over").isEqualTo(1);
    // under way: no end, open since it was stored, which the database bounds (tenant migration 60)
    String openSince = links + " AND practitioner_id = 'dr-now' AND valid_until IS NULL AND open_since = '"
        + open.lastUpdated() + "' AND follow_up_until = open_since + interval '90 days'";
    assertThat(count(openSince)).isEqualTo(1);
    // as an earlier version stored it, without an end; then tenant migration 58
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("UPDATE tenant_ingest.care_links SET valid_until = NULL, status_checked = true "
          + "WHERE patient_id = 'p-undated'");
      st.execute("SET search_path = tenant_ingest");
      try (var in = IngestIT.class.getResourceAsStream("/db/tenant/V58__undated_encounters_over_end_when_stored.sql")) {
        st.execute(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    assertThat(worker.enqueueUncheckedCareLinks(tenant)).isEqualTo(2);
    worker.drain(tenant);
    assertThat(count(bounded)).as("derived again, with its end").isEqualTo(1);
    assertThat(count(openSince + " AND status_checked")).as("under way: still open, and bounded").isEqualTo(1);
  }

  @Test
  void ndjsonImportReportsBadLinesByNumberAndKeepsTheGoodOnes() throws SQLException {
    String ndjson = """
        {"resourceType":"Patient","id":"nd-1","gender":"male"}
        {"resourceType":"Patient","id":"nd-2", broken Secretname
        {"resourceType":"Observation","id":"nd-3","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nd-1"}}
        {"resourceType":"Observation","id":"MRN_4711","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nd-1"}}
        """;
    ImportSummary s = store.importNdjson(tenant, FEED, new ByteArrayInputStream(ndjson.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8,
        ImportProgress.NONE);
    assertThat(s.lines()).isEqualTo(4);
    assertThat(s.written()).isEqualTo(2);
    assertThat(s.errors()).hasSize(2);
    assertThat(s.errors().get(0).line()).isEqualTo(2);
    assertThat(s.errors().get(0).message()).doesNotContain("Secretname");
    // An id no FHIR URL can name (DELETE could never reach it) is refused as on PUT, without its value.
    assertThat(s.errors().get(1).line()).isEqualTo(4);
    assertThat(s.errors().get(1).message()).contains("'Observation.id': must be a FHIR id").doesNotContain("4711");
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources WHERE resource_id IN ('nd-1','nd-3')")).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM tenant_ingest.resources WHERE resource_id = 'MRN_4711'")).isZero();
  }

  @Test
  void theScheduledWorkerKeepsPollingAfterARoundFailedToReadTheTenantList() throws Exception {
    TenantId t = platform.tenant("outage");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
    // The first reads fail as they do while the database is unreachable, then it answers again.
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> COUNTING, () -> {
      if (reads.incrementAndGet() <= 3) {
        throw new IllegalStateException("the database does not answer");
      }
      return List.of(t);
    }, 64);
    try {
      w.start(1, java.time.Duration.ofMillis(20));
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"po\",\"gender\":\"female\"}"));
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (count("SELECT count(*) FROM tenant_outage.chunks") == 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(reads.get()).as("rounds after the failed ones").isGreaterThan(3);
      assertThat(count("SELECT count(*) FROM tenant_outage.chunks")).as("embedded by the schedule").isPositive();
    } finally {
      w.close();
    }
  }

  @Test
  void aPoisonItemIsRetriedThenParkedWithAPhiFreeReason() throws SQLException {
    TenantId t = platform.tenant("poison");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    EmbeddingProvider failing = new EmbeddingProvider() {
      @Override public String modelId() { return "failing"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        throw new IllegalStateException("model down while embedding " + texts.get(0));
      }
    };
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> failing, () -> List.of(t), 8);
    s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"px\",\"gender\":\"female\"}"));
    assertThat(w.failing(t)).isEqualTo(new EmbeddingWorker.Failing(0, null));
    for (int i = 0; i < EmbeddingWorker.MAX_ATTEMPTS; i++) {
      TestPostgres.superuserExecute(platform.config,
          "UPDATE tenant_poison.outbox SET available_at = now() - interval '1 second'");
      w.processBatch(t);
      if (i == 0) {
        // what an admin following the load sees before the row is parked: it fails, and why
        assertThat(w.failing(t)).isEqualTo(new EmbeddingWorker.Failing(1, "IllegalStateException"));
      }
    }
    assertThat(w.failing(t)).as("parked: no longer retrying, the reason kept")
        .isEqualTo(new EmbeddingWorker.Failing(0, "IllegalStateException"));
    assertThat(w.stats().batchFallbacks.get()).as("each failed batch fell back to its rows")
        .isEqualTo(EmbeddingWorker.MAX_ATTEMPTS);
    assertThat(w.parked(t)).hasSize(1);
    assertThat(w.parked(t).get(0).get("reason")).isEqualTo("IllegalStateException");
    assertThat(w.retryParked(t)).isEqualTo(1);
    assertThat(w.failing(t)).as("requeued: not failed yet").isEqualTo(new EmbeddingWorker.Failing(0, null));
    w.close();
  }

  /**
   * An endpoint that fails whatever it is sent (connection refused, say) is called once per pause, not
   * once per row: the rows lose no attempt, show as retrying with the reason, are never parked by the
   * outage, and are embedded as soon as the endpoint answers again after the pause.
   */
  @Test
  void anEndpointOutagePausesTheTenantAndParksNothing() throws SQLException, InterruptedException {
    TenantId t = platform.tenant("outage_pause");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    EmbeddingProvider flaky = new EmbeddingProvider() {
      @Override public String modelId() { return "flaky"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        calls.incrementAndGet();
        if (down.get()) {
          throw io.carecontext.ingest.embedding.EmbeddingException.endpointDown("embedding failed", "connection refused");
        }
        return texts.stream().map(x -> new float[] {1, 0, 0}).toList();
      }
    };
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> flaky, () -> List.of(t), 8);
    for (String id : List.of("pa", "pb", "pc")) {
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\"}"));
    }
    // the call fails after this, so the first pause lasts at least until the shortest pause from now
    long pauseHoldsUntil = System.nanoTime() + EmbeddingWorker.pauseAfter(1, 0.0).toNanos();
    assertThat(w.drain(t)).isZero();
    assertThat(calls.get()).as("one call for the batch, not one per row").isEqualTo(1);
    assertThat(w.stats().batchFallbacks.get()).isZero();
    EmbeddingWorker.Failing failing = w.failing(t);
    boolean askedWithinThePause = System.nanoTime() - pauseHoldsUntil < 0;
    assertThat(failing).isEqualTo(new EmbeddingWorker.Failing(3, "EmbeddingException: connection refused",
        askedWithinThePause || failing.paused())); // paused, unless so loaded a machine let the pause end first
    // rows made due again by hand: the tenant's pause still holds the endpoint off
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_outage_pause.outbox SET available_at = now() - interval '1 second'");
    assertThat(w.drain(t)).isZero();
    if (System.nanoTime() - pauseHoldsUntil < 0) {
      assertThat(calls.get()).as("paused").isEqualTo(1);
    } else {
      // a machine so loaded (a load of 13 did) that the update and the drain outlasted the shortest pause: the
      // drain may rightly have called the endpoint again, which failed too (one more pause, still no attempt)
      assertThat(calls.get()).as("paused, or called once more after the pause").isBetween(1, 2);
    }
    assertThat(count("SELECT count(*) FROM tenant_outage_pause.outbox WHERE attempts > 0 OR parked_at IS NOT NULL"))
        .as("the outage cost no row an attempt").isZero();
    down.set(false);
    Thread.sleep(EmbeddingWorker.pauseAfter(calls.get(), 1.0).toMillis() + 100);
    assertThat(w.drain(t)).isEqualTo(3);
    assertThat(w.failing(t)).isEqualTo(new EmbeddingWorker.Failing(0, null));
    assertThat(w.parked(t)).isEmpty();
    w.close();
  }

  /**
   * An endpoint answering vectors of another size than the setting's failed each row: a change of model to it
   * parked the backlog within a minute (77 resources in 45 s on a walk). It pauses the tenant like an endpoint that
   * is down, and the fix, the setting's dimensions under the same model name, ends the pause at once: the pause
   * belonged to the model at the size that failed.
   */
  @Test
  void vectorsOfAnotherSizePauseTheTenantUntilTheSettingsSizeChanges() throws SQLException, InterruptedException {
    TenantId t = platform.tenant("wrong_size");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    java.util.concurrent.atomic.AtomicInteger size = new java.util.concurrent.atomic.AtomicInteger(3);
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    EmbeddingProvider sized = new EmbeddingProvider() {
      @Override public String modelId() { return "sized"; }
      @Override public int dimensions() { return size.get(); }
      @Override public List<float[]> embedAll(List<String> texts) {
        calls.incrementAndGet();
        if (size.get() != 4) { // the endpoint answers 4 dimensions, whatever it is asked
          throw io.carecontext.ingest.embedding.EmbeddingException.wrongSize("embedding failed", 4, size.get());
        }
        return texts.stream().map(x -> new float[] {1, 0, 0, 0}).toList();
      }
    };
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> sized, () -> List.of(t), 8);
    for (String id : List.of("wa", "wb", "wc")) {
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\"}"));
    }
    assertThat(w.drain(t)).isZero();
    assertThat(calls.get()).as("one call for the batch, not one per row").isEqualTo(1);
    assertThat(w.failing(t)).isEqualTo(new EmbeddingWorker.Failing(3, "EmbeddingException: the model answered "
        + "4-dimensional vectors where settings.embedding.dimensions is 3: check settings.embedding.model and dimensions",
        true));
    assertThat(count("SELECT count(*) FROM tenant_wrong_size.outbox WHERE attempts > 0 OR parked_at IS NOT NULL"))
        .as("no row charged an attempt").isZero();
    // the first pause waited out, a second failure in a row: a pause of at least 1 s, then at once the admin sets
    // the size the endpoint answers, and the rows are made due, as a change of setting makes them
    Thread.sleep(EmbeddingWorker.pauseAfter(1, 1.0).toMillis() + 100);
    assertThat(w.drain(t)).isZero();
    assertThat(calls.get()).isEqualTo(2);
    size.set(4);
    assertThat(w.retryWithNewModel(t)).isEqualTo(3);
    assertThat(w.drain(t)).as("the old size's pause does not hold the new one off").isEqualTo(3);
    assertThat(w.parked(t)).isEmpty();
    w.close();
  }

  /**
   * An endpoint that answers 429 (or 503) with Retry-After is not called again for the tenant before that,
   * though the worker's own backoff would have called it after a second; its rows lose no attempt and show
   * the wait as their reason. Also when the endpoint starts refusing while a failed batch's rows are tried
   * one by one: the row that met the refusal is not charged an attempt, and the rest are not sent.
   */
  @Test
  void anEndpointsRetryAfterIsWaitedAndCostsNoAttempt() throws SQLException, InterruptedException {
    TenantId t = platform.tenant("retry_after");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(false);
    EmbeddingProvider limited = new EmbeddingProvider() {
      @Override public String modelId() { return "limited"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        int call = calls.incrementAndGet();
        if (call == 1) {
          // the batch fails as one on something that may be one row's: its rows are tried alone
          throw new io.carecontext.ingest.embedding.EmbeddingException("bad answer");
        }
        if (call == 2) {
          busy.set(true); // the first row alone passes; then the endpoint starts rate limiting
          return texts.stream().map(x -> new float[] {1, 0, 0}).toList();
        }
        throw io.carecontext.ingest.embedding.EmbeddingException.endpointBusy("embedding failed",
            "the endpoint is rate limiting: retry later", 120);
      }
    };
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> limited, () -> List.of(t), 8);
    for (String id : List.of("ra", "rb", "rc", "rd")) {
      // texts of their own: one the cache answered would make no call
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\","
          + "\"birthDate\":\"19" + (60 + id.charAt(1) - 'a') + "-01-01\"}"));
    }
    assertThat(w.drain(t)).as("the first row alone").isEqualTo(1);
    assertThat(calls.get()).as("the batch, the first row, the second row; the rest not sent").isEqualTo(3);
    assertThat(count("SELECT count(*) FROM tenant_retry_after.outbox WHERE attempts > 0 OR parked_at IS NOT NULL"))
        .as("a busy endpoint costs no row an attempt").isZero();
    EmbeddingWorker.Failing failing = w.failing(t);
    assertThat(failing.retrying()).isEqualTo(3);
    assertThat(failing.lastError()).startsWith("EmbeddingException: the endpoint is rate limiting")
        .contains("asked to be called again in 120 s (Retry-After)");
    // rows made due again by hand, and more than the backoff's 1 s waited: the endpoint's 120 s still hold
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_retry_after.outbox SET available_at = now() - interval '1 second'");
    Thread.sleep(EmbeddingWorker.pauseAfter(1, 1.0).toMillis() + 100);
    assertThat(w.drain(t)).isZero();
    assertThat(calls.get()).as("not called before its Retry-After").isEqualTo(3);
    w.close();
  }

  /**
   * A tenant paused by its endpoint's outage that changes its model (back to the in-process one, say)
   * embeds at once: it waited out the old endpoint's pause and its rows' backoff, up to minutes, with the
   * old error still shown as failing.
   */
  @Test
  void aChangeOfModelEndsTheOldEndpointsPauseAndBackoff() throws SQLException {
    TenantId t = platform.tenant("model_fix");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    EmbeddingProvider down = new EmbeddingProvider() {
      @Override public String modelId() { return "down"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        throw io.carecontext.ingest.embedding.EmbeddingException.endpointDown("embedding failed", "connection refused");
      }
    };
    EmbeddingProvider steady = new EmbeddingProvider() {
      @Override public String modelId() { return "steady"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        return texts.stream().map(x -> new float[] {0, 1, 0}).toList();
      }
    };
    java.util.concurrent.atomic.AtomicReference<EmbeddingProvider> model = new java.util.concurrent.atomic.AtomicReference<>(down);
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> model.get(), () -> List.of(t), 8);
    for (String id : List.of("pa", "pb", "pc")) {
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}"));
    }
    // one more row that failed on its own under the old model: an attempt spent, a backoff to wait
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_model_fix.outbox SET attempts = 2, last_error = 'IllegalStateException', "
        + "available_at = now() + interval '5 minutes' WHERE resource_id = 'pc'");
    assertThat(w.drain(t)).isZero();
    assertThat(w.failing(t).retrying()).isEqualTo(3);

    model.set(steady);
    assertThat(w.retryWithNewModel(t)).isEqualTo(3);
    assertThat(w.failing(t)).isEqualTo(new EmbeddingWorker.Failing(0, null));
    assertThat(w.drain(t)).as("no pause or backoff of the old endpoint's is waited out").isEqualTo(3);
    assertThat(count("SELECT count(*) FROM tenant_model_fix.chunks WHERE model = 'steady'")).isEqualTo(3);
    w.close();
  }

  /**
   * An admin who fixes the endpoint's address or key (the same model at the same size) ends its pause: the pause was
   * keyed by model and size, and held the tenant up to 5 minutes (an hour after a Retry-After) after the fix. The
   * tenant's provider is one instance per setting, so a new instance is a new setting. While the pause holds, the
   * status reads it, in this process and, from the rows it marked, in another.
   */
  @Test
  void aChangeOfTheEndpointsSettingEndsItsPause() throws SQLException {
    TenantId t = platform.tenant("endpoint_fix");
    FhirStore s = new FhirStore(platform.tx, platform.keys);
    EmbeddingProvider wrongUrl = new EmbeddingProvider() {
      @Override public String modelId() { return "remote"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        // another host's 503, asking for two minutes: a pause no test outlasts
        throw io.carecontext.ingest.embedding.EmbeddingException.endpointBusy("embedding failed",
            "the endpoint is unavailable: retry later", 120);
      }
    };
    EmbeddingProvider rightUrl = new EmbeddingProvider() {
      @Override public String modelId() { return "remote"; }
      @Override public int dimensions() { return 3; }
      @Override public List<float[]> embedAll(List<String> texts) {
        return texts.stream().map(x -> new float[] {0, 0, 1}).toList();
      }
    };
    java.util.concurrent.atomic.AtomicReference<EmbeddingProvider> setting = new java.util.concurrent.atomic.AtomicReference<>(wrongUrl);
    EmbeddingWorker w = new EmbeddingWorker(platform.tx, platform.keys, x -> setting.get(), () -> List.of(t), 8);
    EmbeddingWorker elsewhere = new EmbeddingWorker(platform.tx, platform.keys, x -> setting.get(), () -> List.of(t), 8);
    for (String id : List.of("ea", "eb", "ec")) {
      s.put(t, feed(t), Fhir.parseResource("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}"));
    }
    assertThat(w.drain(t)).isZero();
    assertThat(w.failing(t).paused()).as("the pausing process").isTrue();
    assertThat(elsewhere.failing(t).paused()).as("another process, from the rows the pause holds back").isTrue();
    // the rows made due by hand: this process's pause still holds, another sees no marked row waiting
    TestPostgres.superuserExecute(platform.config,
        "UPDATE tenant_endpoint_fix.outbox SET available_at = now() - interval '1 second'");
    assertThat(w.drain(t)).as("same setting: still paused").isZero();
    assertThat(w.failing(t).paused()).isTrue();
    assertThat(elsewhere.failing(t).paused()).isFalse();

    setting.set(rightUrl); // PATCH of embedding.baseUrl: a new provider, same model and size
    assertThat(w.failing(t).paused()).as("the setting's pause is not this one's").isFalse();
    w.retryWithNewModel(t); // as the PATCH of any embedding field does
    assertThat(w.drain(t)).as("the broken endpoint's pause is not waited out").isEqualTo(3);
    assertThat(count("SELECT count(*) FROM tenant_endpoint_fix.chunks WHERE model = 'remote'")).isEqualTo(3);
    assertThat(w.failing(t)).isEqualTo(new EmbeddingWorker.Failing(0, null));
    w.close();
    elsewhere.close();
  }
}
