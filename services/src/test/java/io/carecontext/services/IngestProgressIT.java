package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GET /admin/tenants/{t}/ingest tells an operator polling it during a load how fast the worker embeds, when it
 * will be done and when it last made progress, from its own successive reads. The worker is driven by the test
 * (no worker threads), one batch at a time, so each read sees a known queue.
 */
class IngestProgressIT {

  static final String T = "progress";
  static TestServer app;
  static String feed;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    feed = app.tenantWithKey(T, "feed", "[\"ehr-integration\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void theStatusGivesTheRateTheTimeLeftAndTheLastProgressOnceItHasSeenSome() throws Exception {
    StringBuilder ndjson = new StringBuilder();
    for (int i = 0; i < 70; i++) { // one batch of 64 and 6 left
      ndjson.append("{\"resourceType\":\"Patient\",\"id\":\"rate-p").append(i)
          .append("\",\"name\":[{\"family\":\"Ratefam\",\"given\":[\"Pat\"]}],\"gender\":\"male\"}\n");
    }
    HttpResponse<String> load = app.call("POST", "/fhir/" + T + "/$import", feed, ndjson.toString(),
        "application/fhir+ndjson");
    assertThat(load.statusCode()).as(load.body()).isEqualTo(200);

    String first = status();
    assertThat(number(first, "outboxDepth")).isEqualTo(70);
    assertThat(first).as("one read measures nothing")
        .doesNotContain("embeddedPerSecond").doesNotContain("etaSeconds").doesNotContain("lastProgressAt");

    assertThat(app.bean(EmbeddingWorker.class).processBatch(TenantId.of(T))).isEqualTo(64);
    String later = status();
    for (int i = 0; i < 200 && !later.contains("embeddedPerSecond"); i++) {
      Thread.sleep(50); // the rate wants half a second between the reads it compares
      later = status();
    }
    assertThat(number(later, "outboxDepth")).isEqualTo(6);
    assertThat(later).contains("\"embeddedPerSecond\":").contains("\"rateWindowSeconds\":");
    assertThat(number(later, "etaSeconds")).as(later).isGreaterThanOrEqualTo(0);
    Instant progressed = Instant.parse(text(later, "lastProgressAt"));
    assertThat(progressed).isBeforeOrEqualTo(Instant.now());

    app.bean(EmbeddingWorker.class).drain(TenantId.of(T));
    String done = status();
    assertThat(number(done, "outboxDepth")).isZero();
    assertThat(done).as("nothing left: no time left to give").doesNotContain("etaSeconds")
        .contains("\"embeddedPerSecond\":");
    assertThat(Instant.parse(text(done, "lastProgressAt"))).isAfterOrEqualTo(progressed);
  }

  /**
   * A tenant deleted and created again under the same id is another tenant: its status showed the deleted one's
   * lastProgressAt (and, within the window, its rate) before its own worker had finished anything.
   */
  @Test
  void aTenantMadeAgainUnderADeletedOnesIdDoesNotInheritItsProgress() throws Exception {
    String again = "progress_again";
    String key = app.tenantWithKey(again, "feed", "[\"ehr-integration\"]", null);
    HttpResponse<String> load = app.call("POST", "/fhir/" + again + "/$import", key,
        "{\"resourceType\":\"Patient\",\"id\":\"again-p1\",\"gender\":\"female\"}\n", "application/fhir+ndjson");
    assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
    status(again);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(again));
    String first = status(again);
    for (int i = 0; i < 200 && !first.contains("lastProgressAt"); i++) {
      Thread.sleep(50); // the first life's progress, as a poller saw it
      first = status(again);
    }
    assertThat(first).contains("lastProgressAt");

    assertThat(app.call("DELETE", "/admin/tenants/" + again, app.adminKey(), null).statusCode()).isEqualTo(204);
    app.tenantWithKey(again, "feed", "[\"ehr-integration\"]", null);
    String anew = status(again);
    assertThat(number(anew, "resources")).isZero();
    assertThat(anew).as("the deleted tenant's progress is not this one's")
        .doesNotContain("lastProgressAt").doesNotContain("embeddedPerSecond").doesNotContain("etaSeconds");
  }

  /**
   * While the tenant's endpoint is paused nothing is embedded, and the status says so: it showed the rate of the half
   * minute before the pause and an ETA for up to 30 s. The pause as a worker in another process leaves it: a batch
   * marked with the endpoint's failure, charged no attempt, held back.
   */
  @Test
  void aPausedEndpointShowsPausedAndNoRateOrTimeLeft() throws Exception {
    String paused = "progress_paused";
    String key = app.tenantWithKey(paused, "feed", "[\"ehr-integration\"]", null);
    StringBuilder ndjson = new StringBuilder();
    for (int i = 0; i < 100; i++) { // one batch of 64, 36 left
      ndjson.append("{\"resourceType\":\"Patient\",\"id\":\"paused-p").append(i).append("\",\"gender\":\"male\"}\n");
    }
    HttpResponse<String> load = app.call("POST", "/fhir/" + paused + "/$import", key, ndjson.toString(),
        "application/fhir+ndjson");
    assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
    status(paused);
    assertThat(app.bean(EmbeddingWorker.class).processBatch(TenantId.of(paused))).isEqualTo(64);
    String moving = status(paused);
    for (int i = 0; i < 200 && !moving.contains("etaSeconds"); i++) {
      Thread.sleep(50); // the rate wants half a second between the reads it compares
      moving = status(paused);
    }
    assertThat(moving).contains("\"etaSeconds\":").doesNotContain("\"paused\"");

    io.carecontext.migrations.testing.TestPostgres.superuserExecute(app.database, "UPDATE tenant_" + paused
        + ".outbox SET last_error = 'EmbeddingException: endpoint_unreachable', available_at = now() + interval "
        + "'5 minutes' WHERE outbox_id IN (SELECT outbox_id FROM tenant_" + paused + ".outbox ORDER BY outbox_id "
        + "LIMIT 8)");
    String held = status(paused);
    assertThat(number(held, "outboxDepth")).isEqualTo(36);
    assertThat(held).as(held).contains("\"paused\":true").contains("\"lastError\":")
        .doesNotContain("embeddedPerSecond").doesNotContain("etaSeconds").contains("lastProgressAt");
  }

  private static String status() {
    return status(T);
  }

  private static String status(String tenant) {
    HttpResponse<String> r = app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.tenantAdmin(tenant), null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private static long number(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*(\\d+)").matcher(json);
    assertThat(m.find()).as(field + " in " + json).isTrue();
    return Long.parseLong(m.group(1));
  }

  private static String text(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    assertThat(m.find()).as(field + " in " + json).isTrue();
    return m.group(1);
  }
}
