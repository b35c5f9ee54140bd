package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code worker} command's process serves its probes and metrics, and nothing a key opens: it
 * served the whole API (admin, FHIR, context) with any valid key, on a port the Helm chart opens to
 * metrics scrapers.
 */
class WorkerProcessIT {

  static TestServer worker;
  static final String SCRAPE_TOKEN = "scrape-token-of-this-test-0123456789";

  @BeforeAll
  static void start() {
    worker = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "1", "CARECONTEXT_METRICS_TOKEN", SCRAPE_TOKEN),
        UnaryOperator.identity(), true);
  }

  @AfterAll
  static void stop() {
    worker.close();
  }

  @Test
  void probesAndMetricsAnswer() {
    for (String path : new String[] {"/health", "/health/liveness", "/health/readiness"}) {
      HttpResponse<String> r = worker.call("GET", path, null, null);
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.body()).as(path).contains("UP");
    }
    HttpResponse<String> metrics = worker.call("GET", "/metrics", SCRAPE_TOKEN, null);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("# TYPE");
  }

  /** Metrics name every tenant: the scraper's own token or the operator key reads them, nothing else does. */
  @Test
  void metricsNeedTheScrapeTokenOrTheOperatorKey() {
    assertThat(worker.call("GET", "/metrics", worker.adminKey(), null).statusCode()).isEqualTo(200);
    for (String wrong : new String[] {null, SCRAPE_TOKEN + "x", "scrape"}) {
      HttpResponse<String> r = worker.call("GET", "/metrics", wrong, null);
      assertThat(r.statusCode()).as(String.valueOf(wrong)).isEqualTo(401);
      assertThat(r.body()).contains("\"error\":\"unauthorized\"").contains("CARECONTEXT_METRICS_TOKEN")
          .doesNotContain("carecontext_");
    }
  }

  @Test
  void theApiIsNotServedEvenWithTheOperatorKey() {
    HttpResponse<String> admin = worker.call("GET", "/admin/tenants", worker.adminKey(), null);
    assertThat(admin.statusCode()).isEqualTo(404);
    assertThat(admin.body()).contains("\"error\":\"not_found\"").contains("embedding worker");
    assertThat(worker.call("POST", "/admin/tenants", worker.adminKey(), "{\"id\":\"acme\"}").statusCode())
        .isEqualTo(404);
    assertThat(worker.call("GET", "/openapi.yml", null, null).statusCode()).isEqualTo(404);
    HttpResponse<String> fhir = worker.call("GET", "/fhir/acme/metadata", null, null);
    assertThat(fhir.statusCode()).isEqualTo(404);
    assertThat(fhir.body()).contains("OperationOutcome") // FHIR paths answer as FHIR, as everywhere
        .contains("embedding worker"); // and say why: it read "no such FHIR path: resources are at …"
  }
}
