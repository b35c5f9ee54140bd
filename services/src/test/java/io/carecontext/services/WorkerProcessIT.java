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

  @BeforeAll
  static void start() {
    worker = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "1"), UnaryOperator.identity(), true);
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
    HttpResponse<String> metrics = worker.call("GET", "/metrics", null, null);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("# TYPE");
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
