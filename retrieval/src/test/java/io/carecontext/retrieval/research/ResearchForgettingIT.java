package io.carecontext.retrieval.research;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.WriteAudit;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Turning research on forgets every research embedding of the tenant ({@link ResearchEmbeddings#forgetAll}) while
 * the embedding worker writes: the worker's batch replaces a resource's chunks and then forgets its patient's
 * research embeddings, the forgetting updates every chunk that has one. The two met with their locks taken in
 * opposite orders, and PostgreSQL aborted one of them (40P01): the turning-on's build failed, or the worker's
 * batch was counted a failure and put off.
 */
class ResearchForgettingIT {

  static final EmbeddingProvider MODEL = new EmbeddingProvider() {
    @Override
    public String modelId() {
      return "forgetting-test-model";
    }

    @Override
    public int dimensions() {
      return 384;
    }

    @Override
    public List<float[]> embedAll(List<String> texts) {
      return texts.stream().map(t -> {
        float[] v = new float[384];
        Arrays.fill(v, 0.05f);
        return v;
      }).toList();
    }
  };

  static TestPlatform platform;
  static TenantId tenant;
  static FhirWriter feed;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("forgetting");
    feed = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /**
   * The worker's batch renames a patient: it has deleted the Patient's chunk (which has a research embedding) and
   * waits to lock the patient's chunk still without one (a research batch in flight holds it). Research is turned
   * on again meanwhile, and its forgetting starts: it takes the patient's note first, then waits for the Patient's
   * chunk. The research batch ends, and the worker goes on to forget the note's research embedding, held by the
   * forgetting. Now both end: the worker's batch done, its row gone without a failure counted, every research
   * embedding of the patient forgotten, and the generation recorded as forgotten.
   */
  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void forgettingEverythingWhileTheWorkerForgetsAPatientEndsBothWithoutADeadlock() throws Exception {
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64);
    store.put(tenant, feed, Fhir.parseResource("""
        {"resourceType":"Patient","id":"p-1","name":[{"family":"Quillfeather","given":["Ambrose"]}]}"""));
    store.put(tenant, feed, Fhir.parseResource("""
        {"resourceType":"DocumentReference","id":"d-1","status":"current","subject":{"reference":"Patient/p-1"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(
        java.util.Base64.getEncoder().encodeToString("Ambrose Quillfeather reports a cough.".getBytes()))));
    store.put(tenant, feed, Fhir.parseResource("""
        {"resourceType":"Observation","id":"o-1","status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
         "subject":{"reference":"Patient/p-1"},"valueQuantity":{"value":6.1,"unit":"%"}}"""));
    worker.drain(tenant);
    ResearchEmbeddings embeddings = new ResearchEmbeddings(platform.tx, platform.keys);
    embeddings.turnOn(tenant);
    embeddings.forgetAll(tenant);
    platform.provisioner.researchIndex(tenant, true);
    // the note's research embedding, then the Patient's (the forgetting reads them in that order), the
    // Observation's still to be made
    superuser("UPDATE tenant_forgetting.chunks SET research_embedding = embedding WHERE resource_type = 'DocumentReference'");
    superuser("UPDATE tenant_forgetting.chunks SET research_embedding = embedding WHERE resource_type = 'Patient'");
    long generation = embeddings.turnOn(tenant);

    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Connection researchBatch = TestPostgres.superuser(platform.config)) {
      researchBatch.setAutoCommit(false);
      try (Statement st = researchBatch.createStatement()) {
        st.executeQuery("SELECT 1 FROM tenant_forgetting.chunks WHERE resource_type = 'Observation' FOR UPDATE").close();
      }
      store.put(tenant, feed, Fhir.parseResource("""
          {"resourceType":"Patient","id":"p-1","name":[{"family":"Quillfeather-Hale","given":["Ambrose"]}]}"""));
      Future<Integer> batch = pool.submit(() -> worker.drain(tenant));
      awaitLockWaits(1, batch); // the worker waits for the research batch's Observation chunk
      Future<Integer> forgetting = pool.submit(() -> embeddings.forgetAll(tenant));
      awaitLockWaits(2, forgetting); // the forgetting waits too
      assertThat(batch.isDone() || forgetting.isDone()).as("both under way, both waiting").isFalse();
      researchBatch.rollback();

      assertThat(batch.get()).as("the renamed Patient's row is done").isEqualTo(1);
      forgetting.get(); // no 40P01
    } finally {
      pool.shutdownNow();
    }
    assertThat(superuserLong("SELECT count(*) FROM tenant_forgetting.outbox")).as("nothing put off").isZero();
    assertThat(superuserLong("SELECT count(*) FROM tenant_forgetting.chunks WHERE research_embedding IS NOT NULL"))
        .isZero();
    assertThat(superuserLong("SELECT forgotten FROM tenant_forgetting.research_build")).isEqualTo(generation);
  }

  /**
   * A FHIR write that removes chunks (a transaction Bundle deleting two results) while research is turned on
   * again. The Bundle deletes the chunk the forgetting reads last, then waits for the other result's row (a
   * moment's lock of another write); the forgetting, which updates every chunk that has a research embedding in
   * the table's order, takes the first and waits for the Bundle's. The Bundle goes on to delete the first result's
   * chunk, held by the forgetting: without the forgetting lock the two wait for each other, and PostgreSQL
   * aborts the one that waited first, the forgetting (40P01: turning research on failed, the build did not run;
   * the Bundle, when it is the one aborted, runs again a deadlock timeout later). Now the Bundle's first chunk
   * deletion holds the lock shared, the forgetting waits for the Bundle, and both end.
   */
  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void forgettingEverythingWhileABundleDeletesChunksEndsBothWithoutADeadlock() throws Exception {
    TenantId writes = platform.tenant("forgetwrites");
    FhirWriter writesFeed = new FhirWriter(platform.issueKey(writes, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    EmbeddingWorker worker = new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(writes), 64);
    for (String id : List.of("o-a", "o-b")) {
      store.put(writes, writesFeed, Fhir.parseResource("""
          {"resourceType":"Observation","id":"%s","status":"final",
           "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
           "subject":{"reference":"Patient/p-1"},"valueQuantity":{"value":6.1,"unit":"%%"}}""".formatted(id)));
    }
    worker.drain(writes);
    ResearchEmbeddings embeddings = new ResearchEmbeddings(platform.tx, platform.keys);
    embeddings.turnOn(writes);
    embeddings.forgetAll(writes);
    platform.provisioner.researchIndex(writes, true);
    superuser("UPDATE tenant_forgetwrites.chunks SET research_embedding = embedding");
    // the results in the order the forgetting reads their chunks (the table's)
    String[] order = superuserString("SELECT string_agg(resource_id, ',' ORDER BY ctid) FROM tenant_forgetwrites.chunks "
        + "WHERE research_embedding IS NOT NULL").split(",");
    assertThat(order).as("one chunk each").containsExactlyInAnyOrder("o-a", "o-b");
    long generation = embeddings.turnOn(writes);

    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Connection otherWrite = TestPostgres.superuser(platform.config)) {
      otherWrite.setAutoCommit(false);
      try (Statement st = otherWrite.createStatement()) {
        st.executeQuery("SELECT 1 FROM tenant_forgetwrites.resources WHERE resource_type = 'Observation' "
            + "AND resource_id = '" + order[0] + "' FOR UPDATE").close();
      }
      Future<org.hl7.fhir.r4.model.Bundle> bundle = pool.submit(() -> store.transaction(writes, writesFeed,
          (org.hl7.fhir.r4.model.Bundle) Fhir.parseResource("""
              {"resourceType":"Bundle","type":"transaction","entry":[
                {"request":{"method":"DELETE","url":"Observation/%s"}},
                {"request":{"method":"DELETE","url":"Observation/%s"}}]}""".formatted(order[1], order[0]))));
      awaitLockWaits(1, bundle); // the Bundle has deleted the last chunk and waits for the first result's row
      assertThat(superuserLong("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND wait_event = 'transactionid' AND datname = current_database()")).as("waiting for the row").isOne();
      Future<Integer> forgetting = pool.submit(() -> embeddings.forgetAll(writes));
      awaitLockWaits(2, forgetting); // the forgetting waits too (for the Bundle's chunk, or for its lock)
      assertThat(bundle.isDone() || forgetting.isDone()).as("both under way, both waiting").isFalse();
      otherWrite.rollback();

      // no 40P01; the Bundle's deletions went first, so no research embedding was left to forget
      assertThat(forgetting.get()).isZero();
      assertThat(bundle.get().getEntry()).extracting(e -> e.getResponse().getStatus())
          .as("both deletions stored").containsExactly("204 No Content", "204 No Content");
    } finally {
      pool.shutdownNow();
    }
    assertThat(superuserLong("SELECT count(*) FROM tenant_forgetwrites.chunks")).as("both results' chunks gone").isZero();
    assertThat(superuserLong("SELECT forgotten FROM tenant_forgetwrites.research_build")).isEqualTo(generation);
  }

  /** Until {@code n} sessions wait for a lock (or the task ends, which the assertions after then judge). */
  static void awaitLockWaits(int n, Future<?> task) throws SQLException, InterruptedException {
    while (!task.isDone() && superuserLong("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        + "AND datname = current_database()") < n) {
      Thread.sleep(10);
    }
  }

  static long superuserLong(String sql) throws SQLException {
    return TestPostgres.superuserLong(platform.config, sql);
  }

  static String superuserString(String sql) throws SQLException {
    return TestPostgres.superuserString(platform.config, sql);
  }

  static void superuser(String sql) throws SQLException {
    TestPostgres.superuserExecute(platform.config, sql);
  }
}
