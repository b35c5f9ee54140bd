package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A re-embedding had no metric: only {@code GET /admin/tenants/{t}/ingest} showed its {@code chunksOfAnotherModel},
 * so nothing could alert on a change of model that stalled (parked rows, an endpoint down) while context and chat
 * answered 503 reembedding_in_progress. The gauge {@code carecontext_chunks_of_another_model} publishes that count per
 * tenant, read by the background refresh that reads the outbox depth, never by a scrape.
 */
class ReembeddingMetricIT {

  static TestServer app;
  static final String TENANT = "remodel";
  static final String SERIES = "carecontext_chunks_of_another_model{tenant=\"" + TENANT + "\"}";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    String feed = app.tenantWithKey(TENANT, "feed", "[\"ehr-integration\"]", null);
    HttpResponse<String> stored = app.call("POST", "/fhir/" + TENANT, feed, TestServer.CONSENTED_PATIENT_BUNDLE,
        "application/fhir+json");
    assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(TENANT));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void theChunksATenantsModelHasNotMadeArePublishedPerTenantFromTheBackgroundRefresh() throws Exception {
    Metrics metrics = app.bean(Metrics.class);
    metrics.refreshTenantGauges();
    assertThat(scrape()).contains(SERIES + " 0.0");
    // the diabetes's chunks left of an older model, the patient's of the model at another size, as a re-embedding
    // not done yet leaves them
    long left;
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      left = st.executeUpdate("UPDATE tenant_" + TENANT + ".chunks SET model = 'an-older-model' "
          + "WHERE resource_type = 'Condition'");
      left += st.executeUpdate("UPDATE tenant_" + TENANT + ".chunks SET embedding = "
          + "array_fill(0.1::real, ARRAY[8])::public.vector WHERE resource_type = 'Patient'");
    }
    assertThat(left).isGreaterThanOrEqualTo(2);
    // a scrape reads what the last refresh found: it never counts chunks itself
    assertThat(scrape()).contains(SERIES + " 0.0");
    metrics.refreshTenantGauges();
    String during = scrape();
    assertThat(during).contains(SERIES + " " + (double) left)
        .contains("# HELP carecontext_chunks_of_another_model chunks per tenant that its embedding model has not made");
    // a tenant whose count cannot be read (here a failed statement; a secret no longer granted alike) keeps the value
    // last read: its series vanished, and with it an alert on the re-embedding that stalled for that very reason
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("ALTER TABLE tenant_" + TENANT + ".chunks RENAME TO chunks_away");
    }
    try {
      metrics.refreshTenantGauges();
      assertThat(scrape()).contains(SERIES + " " + (double) left);
    } finally {
      try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
        st.execute("ALTER TABLE tenant_" + TENANT + ".chunks_away RENAME TO chunks");
      }
    }
    // the same count the ingest status answers, and the tenant id is its only label
    assertThat(app.call("GET", "/admin/tenants/" + TENANT + "/ingest", app.adminKey(), null).body())
        .contains("\"chunksOfAnotherModel\":" + left);
    assertThat(during.lines().filter(l -> l.startsWith("carecontext_chunks_of_another_model{")))
        .allSatisfy(l -> assertThat(l).matches("carecontext_chunks_of_another_model\\{tenant=\"[a-z0-9_]+\"} \\d+\\.0"));
    // what a worker start queues, then the worker's run: the re-embedding done, the gauge back to 0
    EmbeddingWorker worker = app.bean(EmbeddingWorker.class);
    assertThat(worker.enqueueChunksOfAnotherModel(TenantId.of(TENANT))).isEqualTo(2); // two resources
    worker.drain(TenantId.of(TENANT));
    metrics.refreshTenantGauges();
    assertThat(scrape()).contains(SERIES + " 0.0");
  }

  private static String scrape() {
    HttpResponse<String> r = app.call("GET", "/metrics", app.adminKey(), null);
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }
}
