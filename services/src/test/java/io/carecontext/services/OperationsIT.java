package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operations endpoints of API.md carry no PHI; health answers without a key, metrics (which name
 * every tenant) only to the scrape token or the operator key.
 */
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
    assertThat(r.body()).as("UP names nothing").isEqualTo("{\"status\":\"UP\"}");
  }

  /**
   * A probe pointed at a health path that does not exist (/health/live, /health/ready, the names other
   * frameworks use) was answered 400 "the request is malformed: send a JSON body with the documented
   * fields", which sent its operator looking at a body a GET does not have.
   */
  @Test
  void anUnknownHealthPathIsA404NamingTheHealthPaths() {
    for (String path : new String[] {"/health/live", "/health/ready", "/health/Zebulon"}) {
      HttpResponse<String> r = app.call("GET", path, null, null);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(r.body()).contains("\"error\":\"not_found\"", "/health/liveness", "/health/readiness")
          .doesNotContain("JSON body", "Zebulon");
    }
    for (String path : new String[] {"/health", "/health/liveness", "/health/readiness"}) {
      assertThat(app.call("GET", path, null, null).statusCode()).as(path).isEqualTo(200);
    }
  }

  @Test
  void metricsAreInPrometheusFormat() {
    app.call("GET", "/admin/tenants", app.adminKey(), null);
    HttpResponse<String> r = app.call("GET", "/metrics", app.adminKey(), null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    assertThat(r.body()).contains("# TYPE").contains("jvm_memory_used_bytes")
        // CPU time in seconds, as Prometheus names it; the binder's nanoseconds counter is left out
        .contains("# TYPE process_cpu_seconds_total counter").doesNotContain("process_cpu_time_ns");
  }

  @Test
  void metricsAreNotReadWithoutACredentialNorWithATenantsKey() {
    String doc = app.tenantWithKey("scraped", "scraped-doc", "[\"clinician\"]", null);
    for (String key : new String[] {null, doc, app.tenantAdmin("scraped")}) {
      HttpResponse<String> r = app.call("GET", "/metrics", key, null);
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
      assertThat(r.body()).contains("CARECONTEXT_METRICS_TOKEN").doesNotContain("scraped\"");
    }
  }

  /**
   * The router serves {@code /metrics/} as {@code /metrics}, but the filter guarded only the exact
   * path: with a trailing slash any live key of any tenant, a clinician's or a feed's, read every
   * tenant's counters (and the request went through as an ordinary API call).
   */
  @Test
  void aTrailingSlashDoesNotOpenMetricsToATenantsKey() {
    String doc = app.tenantWithKey("slashed", "slashed-doc", "[\"clinician\"]", null);
    String feed = app.tenantWithKey("slashed", "slashed-feed", "[\"ehr-integration\"]", null);
    for (String key : new String[] {null, doc, feed, app.tenantAdmin("slashed")}) {
      HttpResponse<String> r = app.call("GET", "/metrics/", key, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
      assertThat(r.body()).contains("CARECONTEXT_METRICS_TOKEN").doesNotContain("# TYPE");
    }
    HttpResponse<String> operator = app.call("GET", "/metrics/", app.adminKey(), null);
    assertThat(operator.statusCode()).isEqualTo(200);
    assertThat(operator.body()).contains("# TYPE");
  }

  @Test
  void theIngestMetricCountsEveryWriteWhateverTheEndpoint() {
    // Only Bundles were counted: a feed of single PUTs or an $import showed 0 resources ingested.
    String feed = app.tenantWithKey("meter", "feed", "[\"ehr-integration\"]", null);
    assertThat(app.call("PUT", "/fhir/meter/Patient/m1", feed, "{\"resourceType\":\"Patient\",\"id\":\"m1\"}",
        "application/fhir+json").statusCode()).isEqualTo(201);
    assertThat(app.call("POST", "/fhir/meter/Patient", feed, "{\"resourceType\":\"Patient\"}",
        "application/fhir+json").statusCode()).isEqualTo(201);
    assertThat(app.call("POST", "/fhir/meter/$import", feed, """
        {"resourceType":"Patient","id":"m2"}
        {"resourceType":"Patient","id":"m3"}
        {"resourceType":"Patient","id":"m1"}
        """, "application/fhir+ndjson").statusCode()).isEqualTo(200);
    assertThat(app.call("POST", "/fhir/meter", feed, """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","id":"m4"},"request":{"method":"PUT","url":"Patient/m4"}}]}""",
        "application/fhir+json").statusCode()).isEqualTo(200);
    // re-sending identical content writes nothing, and counts nothing
    assertThat(app.call("PUT", "/fhir/meter/Patient/m1", feed, "{\"resourceType\":\"Patient\",\"id\":\"m1\"}",
        "application/fhir+json").statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/metrics", app.adminKey(), null).body())
        .contains("carecontext_ingest_resources_total{tenant=\"meter\"} 5.0");
  }

  @Test
  void everyProductMetricSaysWhatItCounts() {
    // carecontext_requests_total, carecontext_request_latency_seconds and carecontext_ingest_resources_total
    // had an empty HELP line: an operator reading /metrics had to find their meaning in the README
    String feed = app.tenantWithKey("helped", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("helped", "dr", "[\"clinician\"]", null);
    assertThat(app.call("PUT", "/fhir/helped/Patient/h1", feed, "{\"resourceType\":\"Patient\",\"id\":\"h1\"}",
        "application/fhir+json").statusCode()).isEqualTo(201);
    app.call("POST", "/v1/helped/patients/h1/context", dr, "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}");
    String metrics = app.call("GET", "/metrics", app.adminKey(), null).body();
    assertThat(metrics).contains("# HELP carecontext_requests_total ").contains("# HELP carecontext_request_latency_seconds ")
        .contains("# HELP carecontext_ingest_resources_total ");
    assertThat(metrics.lines().filter(l -> l.startsWith("# HELP carecontext_")))
        .allSatisfy(l -> assertThat(l.split(" ", 4)).as(l).hasSize(4).allSatisfy(w -> assertThat(w).isNotBlank()));
  }

  @Test
  void openApiDocumentDescribesTheAdminApi() throws Exception {
    HttpResponse<String> r = app.call("GET", "/openapi.yml", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("openapi: 3").contains("/admin/tenants").contains("/admin/tenants/{tenant}/keys")
        .contains("bearer");
    // the patient-data paths read their bodies raw (to audit one that cannot be read): the document
    // still describes each body by its record, not as a byte string
    for (String body : new String[] {"ContextController.ContextRequest", "ChatController.ChatRequest",
        "ResearchController.SearchRequest"}) {
      assertThat(r.body()).contains("$ref: \"#/components/schemas/" + body + "\"");
    }
    assertThat(r.body()).doesNotContain("format: byte");
    HttpResponse<String> ui = app.call("GET", "/swagger-ui/index.html", null, null);
    assertThat(ui.statusCode()).isEqualTo(200);
    assertThat(ui.body()).contains("swagger");
    // the page may run its own inline script (by the hash of what was served) and the service's files, nothing
    // else, in no frame; the document itself, as every other answer, may load nothing
    String inline = ui.body().substring(ui.body().indexOf("<script>") + 8, ui.body().indexOf("</script>"));
    String hash = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-256")
        .digest(inline.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(ui.headers().firstValue("Content-Security-Policy")).get().asString()
        .contains("script-src 'self' 'sha256-" + hash + "';").contains("frame-ancestors 'none'")
        .contains("connect-src 'self'").doesNotContain("unsafe-eval").doesNotContain("script-src 'self' 'unsafe-inline'");
    assertThat(ui.headers().firstValue("X-Frame-Options")).contains("DENY");
    assertThat(r.headers().firstValue("Content-Security-Policy")).contains(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    assertThat(app.call("GET", "/swagger/carecontext-0.1.yml", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void theSwaggerUiFolderWithoutItsSlashLeadsToTheUi() {
    // it answered 401, as a path that needs a key
    HttpResponse<String> r = app.call("GET", "/swagger-ui", null, null);
    assertThat(r.statusCode()).isEqualTo(301);
    assertThat(r.headers().firstValue("Location")).contains("/swagger-ui/index.html");
  }

  /**
   * A web page of another origin calling the service at localhost is refused by the framework (a
   * drive-by localhost attack); its 403 had no body, which told the caller nothing. It is the API's
   * error body now, on FHIR paths an OperationOutcome; the origin is not quoted back.
   */
  @Test
  void aForeignOriginIsRefusedWithABodySayingWhatToDo() throws Exception {
    String plain = raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://page.example.org\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(plain).startsWith("HTTP/1.1 403 ").contains("\"error\":\"origin_refused\"")
        .contains("Origin header").contains("call the API from a server").doesNotContain("page.example.org");
    String fhir = raw("GET /fhir/acme/Patient/p1 HTTP/1.1\r\nHost: localhost\r\nOrigin: http://page.example.org\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(fhir).startsWith("HTTP/1.1 403 ").contains("OperationOutcome").contains("\"forbidden\"")
        .contains("Origin header").doesNotContain("page.example.org");
    // a page of localhost itself goes on as before
    assertThat(raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n"
        + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 200 ");
  }

  /**
   * Without CARECONTEXT_CORS_ORIGINS a preflight from a page of another origin is refused like any
   * request naming it, and nothing says a browser may go on: no cross-origin requests, as before.
   */
  @Test
  void withoutCorsOriginsAPreflightIsRefused() {
    HttpResponse<String> preflight = app.call("OPTIONS", "/admin/tenants", null, null, null, Map.of(
        "Origin", "https://chat.example.org", "Access-Control-Request-Method", "GET",
        "Access-Control-Request-Headers", "authorization"));
    assertThat(preflight.statusCode()).isEqualTo(403);
    assertThat(preflight.body()).contains("\"error\":\"origin_refused\"", "CARECONTEXT_CORS_ORIGINS");
    assertThat(preflight.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));
  }

  /**
   * CARECONTEXT_CORS_ORIGINS lets a page of a listed origin call the API from a browser: its preflight
   * is answered without a key, before any route (no audit row, no key made), and its requests with a
   * key carry Access-Control-Allow-Origin; a page of any other origin is still refused at localhost.
   */
  @Test
  void aListedOriginMayCallTheApiFromABrowserAndNoOtherMay() throws Exception {
    String page = "https://chat.example.org";
    try (TestServer cors = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0",
        "CARECONTEXT_CORS_ORIGINS", "https://ehr.example.org, https://Chat.Example.org"))) {
      String tenantAdmin = cors.tenantWithKey("corsy", "ta-cors", "[\"tenant-admin\"]", null);
      long rows = auditRows(cors, "corsy");
      HttpResponse<String> preflight = cors.call("OPTIONS", "/admin/tenants/corsy/keys", null, null, null, Map.of(
          "Origin", page, "Access-Control-Request-Method", "POST",
          "Access-Control-Request-Headers", "authorization,content-type,x-request-id"));
      assertThat(preflight.statusCode()).as(preflight.body()).isEqualTo(200);
      assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).contains(page);
      assertThat(String.join(",", preflight.headers().allValues("Access-Control-Allow-Methods"))).contains("POST");
      assertThat(String.join(",", preflight.headers().allValues("Access-Control-Allow-Headers")).toLowerCase())
          .contains("authorization", "content-type", "x-request-id");
      assertThat(preflight.headers().firstValue("Access-Control-Max-Age")).contains("600");
      assertThat(preflight.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
      assertThat(auditRows(cors, "corsy")).isEqualTo(rows);
      // a header the API does not take is not let through
      assertThat(cors.call("OPTIONS", "/admin/tenants/corsy/keys", null, null, null, Map.of("Origin", page,
          "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-secret-sauce"))
          .headers().firstValue("Access-Control-Allow-Origin")).isEmpty();

      HttpResponse<String> listed = cors.call("GET", "/admin/tenants/corsy/keys", tenantAdmin, null, null,
          Map.of("Origin", page));
      assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
      assertThat(listed.body()).contains("ta-cors");
      assertThat(listed.headers().firstValue("Access-Control-Allow-Origin")).contains(page);
      assertThat(String.join(",", listed.headers().allValues("Access-Control-Expose-Headers")))
          .contains("X-Request-Id", "Location", "ETag", "Retry-After");
      assertThat(listed.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
      // the key is still needed for the request itself
      HttpResponse<String> keyless = cors.call("GET", "/admin/tenants/corsy/keys", null, null, null,
          Map.of("Origin", page));
      assertThat(keyless.statusCode()).isEqualTo(401);
      rows = auditRows(cors, "corsy");

      for (String foreign : List.of("https://evil.example.org", "http://chat.example.org",
          "https://chat.example.org:8443")) {
        HttpResponse<String> refused = cors.call("GET", "/admin/tenants/corsy/keys", tenantAdmin, null, null,
            Map.of("Origin", foreign));
        assertThat(refused.statusCode()).as(foreign).isEqualTo(403);
        assertThat(refused.body()).contains("\"error\":\"origin_refused\"", "CARECONTEXT_CORS_ORIGINS")
            .doesNotContain("ta-cors");
        assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).as(foreign).isEmpty();
        HttpResponse<String> foreignPreflight = cors.call("OPTIONS", "/admin/tenants/corsy/keys", null, null, null,
            Map.of("Origin", foreign, "Access-Control-Request-Method", "POST"));
        assertThat(foreignPreflight.statusCode()).as(foreign).isEqualTo(403);
        assertThat(foreignPreflight.headers().firstValue("Access-Control-Allow-Origin")).as(foreign).isEmpty();
      }
      assertThat(auditRows(cors, "corsy")).isEqualTo(rows); // the refused pages reached no route
      // a caller that sends no Origin (a server, a script) is as before
      assertThat(cors.call("GET", "/admin/tenants/corsy/keys", tenantAdmin, null).statusCode()).isEqualTo(200);
    }
  }

  private static long auditRows(TestServer server, String tenant) throws java.sql.SQLException {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(server.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM tenant_" + tenant + ".audit_log")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void anOverlongUrlOrHeaderIsNamedAsSuchNotAsATooLargeBody() throws Exception {
    String url = raw("GET /fhir/t/Patient/" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(url).startsWith("HTTP/1.").contains(" 414 ").contains("\"error\":\"uri_too_long\"")
        .doesNotContain("aaaa");
    String header = raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n");
    assertThat(header).contains(" 431 ").contains("\"error\":\"headers_too_large\"").doesNotContain("bbbb");
    String malformed = raw("GET /health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\nConnection: close\r\n\r\n");
    // these answers reach no filter: they went without the headers every answer carries
    for (String answer : List.of(url, header, malformed)) {
      assertThat(answer.toLowerCase(java.util.Locale.ROOT)).contains("cache-control: no-store")
          .contains("x-content-type-options: nosniff").containsPattern("x-request-id: [0-9a-f-]{36}")
          .contains("content-security-policy: default-src 'none';").contains("x-frame-options: deny");
    }
  }

  @Test
  void aMalformedHeaderIsNamedAsSuchNotAsABadBody() throws Exception {
    // answered "send a JSON body with the documented fields", for a request whose body was never the problem
    for (String head : List.of("Bad Header: secret-value", "Content-Length: xyz")) {
      String answer = raw("GET /health HTTP/1.1\r\nHost: x\r\n" + head + "\r\nConnection: close\r\n\r\n");
      assertThat(answer).startsWith("HTTP/1.").contains(" 400 ").contains("a header is malformed")
          .doesNotContain("JSON body", "secret-value", "xyz");
    }
  }

  @Test
  void aPathThatCannotBeDecodedIsABadRequestNotAnInvalidKey() throws Exception {
    // answered 401 "invalid API key" with a valid key: the framework hands on a stand-in without headers
    String answer = raw("GET /v1/t/patients/%ZZ/context HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.").contains(" 400 ").contains("percent-encoded").doesNotContain("API key");
  }

  /** Sends the bytes as they are (a client library would refuse such a request) and returns the whole answer. */
  private static String raw(String request) throws java.io.IOException {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", app.server.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}
