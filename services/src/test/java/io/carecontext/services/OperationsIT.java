package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The operations endpoints of API.md answer without a key and carry no PHI. */
class OperationsIT {

  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void healthAnswersUp() {
    HttpResponse<String> r = app.call("GET", "/health", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("UP");
  }

  @Test
  void metricsAreInPrometheusFormat() {
    app.call("GET", "/admin/tenants", app.adminKey(), null);
    HttpResponse<String> r = app.call("GET", "/metrics", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    assertThat(r.body()).contains("# TYPE").contains("jvm_memory_used_bytes");
  }

  @Test
  void openApiDocumentDescribesTheAdminApi() {
    HttpResponse<String> r = app.call("GET", "/openapi.yml", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("openapi: 3").contains("/admin/tenants").contains("/admin/tenants/{tenant}/keys")
        .contains("bearer");
    HttpResponse<String> ui = app.call("GET", "/swagger-ui/index.html", null, null);
    assertThat(ui.statusCode()).isEqualTo(200);
    assertThat(ui.body()).contains("swagger");
    assertThat(app.call("GET", "/swagger/carecontext-0.1.yml", null, null).statusCode()).isEqualTo(200);
  }
}
