package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The context and audit API over HTTP: the contract of API.md, denials that reveal nothing, audit. */
class ContextApiIT {

  static TestServer app;
  static String ehr;
  static String clinician;
  static String auditor;
  static String otherTenantClinician;

  @BeforeAll
  static void start() {
    // no scheduled sealing run while the class runs (one a minute by default): one that came during the sealing
    // test's own run added its seals to the count that test compares with its run's
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_AUDIT_SEAL_SECONDS", "3600"));
    ehr = app.tenantWithKey("ward", "feed", "[\"ehr-integration\"]", null);
    clinician = app.tenantWithKey("ward", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    auditor = app.tenantWithKey("ward", "aud", "[\"auditor\"]", null);
    otherTenantClinician = app.tenantWithKey("elsewhere", "dr-b", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    HttpResponse<String> r = app.call("POST", "/fhir/ward", ehr, TestServer.WARD_BUNDLE, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("ward"));
    app.researchOn("ward");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> context(String key, String tenant, String patient, String body) {
    return app.call("POST", "/v1/" + tenant + "/patients/" + patient + "/context", key, body);
  }

  @Test
  void contextAnswersTheContractShape() {
    HttpResponse<String> r = context(clinician, "ward", "pt-1",
        "{\"query\":\"diabetes\",\"k\":8,\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"chunks\":[").contains("\"resource\":\"Condition/cn-1\"")
        .contains("Type 2 diabetes mellitus (SNOMED CT 44054006)").contains("\"score\":").contains("\"auditId\":\"");
    // extensions: the category and the clinical date, so a trend can be read from chunks that come best first
    assertThat(r.body()).containsPattern("\"resource\":\"Condition/cn-1\",\"score\":[0-9.]+,\"category\":\"[a-z-]+\","
        + "\"date\":\"2021-03-04\"").doesNotContain("breakGlassUntil");
  }

  /**
   * A k over the role's limit is served with the limit and the answer says so (an extension): a caller that asked for
   * 50 and got the clinician's 20 could not tell a cut from a record of 20 chunks. Within the limit, no warning.
   */
  @Test
  void aKOverTheRolesLimitIsServedWithTheLimitAndSaysSo() {
    HttpResponse<String> cut = context(clinician, "ward", "pt-1",
        "{\"query\":\"diabetes\",\"k\":50,\"purposeOfUse\":\"TREAT\"}");
    assertThat(cut.statusCode()).as(cut.body()).isEqualTo(200);
    assertThat(cut.body()).contains("\"warnings\":[\"k 50 is over the 20 chunks this key's role may have in one request "
        + "(the tenant's policy for the role): at most 20 were returned\"]");
    HttpResponse<String> within = context(clinician, "ward", "pt-1",
        "{\"query\":\"diabetes\",\"k\":20,\"purposeOfUse\":\"TREAT\"}");
    assertThat(within.statusCode()).as(within.body()).isEqualTo(200);
    assertThat(within.body()).doesNotContain("warnings");
  }

  /** A break-glass answer says when its window closes: the caller learnt it only from the next refusal. */
  @Test
  void aBreakGlassAnswerSaysWhenItsWindowCloses() {
    String dr = app.tenantWithKey("ward", "dr-btg", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    java.time.Instant before = java.time.Instant.now();
    HttpResponse<String> r = context(dr, "ward", "pt-1",
        "{\"query\":\"diabetes\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"unresponsive in the ED\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    java.util.regex.Matcher until = java.util.regex.Pattern.compile("\"breakGlassUntil\":\"([^\"]+)\"").matcher(r.body());
    assertThat(until.find()).as(r.body()).isTrue();
    // the clinician's default window: 60 minutes from when it opened
    assertThat(java.time.Instant.parse(until.group(1))).isBetween(before.plusSeconds(59 * 60), before.plusSeconds(61 * 60));
  }

  /**
   * The tenant's embedding model down: context, chat and research answer 502 embedding_unavailable
   * (each was a 500 that left no row), naming neither the question nor the model's message, and the
   * attempt is in the trail with that reason.
   */
  @Test
  void aTenantWhoseEmbeddingModelFailsAnswers502AndRecordsTheAttempt() throws Exception {
    String dr = app.tenantWithKey("unembedded", "dr-u", "[\"clinician\"]", null);
    String researcher = app.tenantWithKey("unembedded", "res-u", "[\"researcher\"]", null);
    String aud = app.tenantWithKey("unembedded", "aud-u", "[\"auditor\"]", null);
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens there once the socket is closed
    }
    HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/unembedded", app.adminKey(),
        "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:" + closed
            + "/v1\",\"model\":\"e\",\"dimensions\":384,\"baaCovered\":true,\"maxRetries\":0,\"timeoutSeconds\":2}}}");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    String question = "Zyxwquartz Plimbo's latest potassium";
    for (HttpResponse<String> r : java.util.List.of(
        context(dr, "unembedded", "pt-1", "{\"query\":\"" + question + "\",\"purposeOfUse\":\"TREAT\"}"),
        app.call("POST", "/v1/unembedded/patients/pt-1/chat", dr,
            "{\"question\":\"" + question + "\",\"purposeOfUse\":\"TREAT\"}"),
        app.call("POST", "/v1/unembedded/research/search", researcher,
            "{\"query\":\"" + question + "\",\"purposeOfUse\":\"HRESCH\"}"))) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
      assertThat(r.body()).contains("\"error\":\"embedding_unavailable\"").contains("settings.embedding")
          .contains("connection refused").doesNotContain("Zyxwquartz").doesNotContain("127.0.0.1");
    }
    String trail = app.call("GET", "/v1/unembedded/audit?action=context", aud, null).body()
        + app.call("GET", "/v1/unembedded/audit?action=chat", aud, null).body()
        + app.call("GET", "/v1/unembedded/audit?action=research", aud, null).body();
    assertThat(trail.split("\"reason\":\"embedding_unavailable\"", -1)).hasSize(4);
  }

  /**
   * The tenant's embedding endpoint rate limiting with Retry-After: context, chat and research answer 503
   * model_busy with that Retry-After (it was a 502 "retry later" that left the caller to guess when), a
   * message naming neither the question nor the endpoint's body, the endpoint called once per request (not
   * asked again at once), and the attempt in the trail.
   */
  @Test
  void aTenantWhoseEmbeddingEndpointIsRateLimitingAnswers503WithItsRetryAfter() throws Exception {
    String dr = app.tenantWithKey("ratelimited", "dr-r", "[\"clinician\"]", null);
    String researcher = app.tenantWithKey("ratelimited", "res-r", "[\"researcher\"]", null);
    String aud = app.tenantWithKey("ratelimited", "aud-r", "[\"auditor\"]", null);
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    com.sun.net.httpserver.HttpServer endpoint = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    endpoint.createContext("/", ex -> {
      calls.incrementAndGet();
      ex.getRequestBody().readAllBytes();
      byte[] body = "{\"error\":{\"message\":\"rate limited: Zyxwquartz\"}}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Retry-After", "120");
      ex.sendResponseHeaders(429, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    endpoint.start();
    try {
      HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/ratelimited", app.adminKey(),
          "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:"
              + endpoint.getAddress().getPort() + "/v1\",\"model\":\"e\",\"dimensions\":384,\"baaCovered\":true,"
              + "\"maxRetries\":2,\"timeoutSeconds\":2}}}");
      assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
      String question = "Zyxwquartz Plimbo's latest potassium";
      List<HttpResponse<String>> answers = List.of(
          context(dr, "ratelimited", "pt-1", "{\"query\":\"" + question + "\",\"purposeOfUse\":\"TREAT\"}"),
          app.call("POST", "/v1/ratelimited/patients/pt-1/chat", dr,
              "{\"question\":\"" + question + "\",\"purposeOfUse\":\"TREAT\"}"),
          app.call("POST", "/v1/ratelimited/research/search", researcher,
              "{\"query\":\"" + question + "\",\"purposeOfUse\":\"HRESCH\"}"));
      for (HttpResponse<String> r : answers) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("120");
        assertThat(r.body()).contains("\"error\":\"model_busy\"").contains("\"message\":\"")
            .contains("busy").contains("120 s").doesNotContain("Zyxwquartz").doesNotContain("127.0.0.1");
      }
      assertThat(calls.get()).as("one call a request: a Retry-After is not answered by asking again").isEqualTo(3);
    } finally {
      endpoint.stop(0);
    }
    String trail = app.call("GET", "/v1/ratelimited/audit?action=context", aud, null).body()
        + app.call("GET", "/v1/ratelimited/audit?action=chat", aud, null).body()
        + app.call("GET", "/v1/ratelimited/audit?action=research", aud, null).body();
    assertThat(trail.split("\"reason\":\"embedding_unavailable\"", -1)).hasSize(4);
  }

  /**
   * A tenant that changes its embedding model: until the worker has re-embedded a patient's chunks,
   * its search cannot compare them with the question. To a model of another dimension, context, chat
   * and research said "retry later" (503 unavailable) with an error and stack trace logged per
   * request; now they say why and where to follow it. To another model of the SAME dimension they
   * answered 200, ranking the question against the older model's vectors (measurable, meaningless)
   * as if it were the patient's context (tenant migration 52). And the same model asked for fewer
   * dimensions kept its name, so nothing was queued to re-embed and every search failed until
   * something else changed; the embedding cache would also have answered with the older size.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "another dimension, -, 0, m16, 16",
      "the same dimension, -, 0, m384, 384",
      "the same model with fewer dimensions, m16, 16, m16, 8"})
  void aSearchDuringReEmbeddingSaysSoAndWhereToFollowIt(String change, String firstModel, int firstDimensions,
                                                        String nextModel, int nextDimensions) throws Exception {
    String tenant = "remodel" + nextDimensions + (firstDimensions > 0 ? "b" : "");
    String feed = app.tenantWithKey(tenant, "feed-r", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey(tenant, "dr-r", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String researcher = app.tenantWithKey(tenant, "res-r", "[\"researcher\"]", null);
    HttpResponse<String> stored = app.call("POST", "/fhir/" + tenant, feed, TestServer.CONSENTED_PATIENT_BUNDLE,
        "application/fhir+json");
    assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant)); // 384 dimensions, the in-process model
    com.sun.net.httpserver.HttpServer model = vectorEndpoint();
    model.start();
    try {
      if (firstDimensions > 0) {
        assertThat(patchModel(tenant, model, firstModel, firstDimensions).statusCode()).isEqualTo(200);
        app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant)); // every chunk by the first model
        assertThat(context(dr, tenant, "pt-1", "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}").statusCode())
            .isEqualTo(200);
      }
      // the change: the re-embedding is queued, not yet run (no worker threads)
      HttpResponse<String> patched = patchModel(tenant, model, nextModel, nextDimensions);
      assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
      for (HttpResponse<String> r : java.util.List.of(
          context(dr, tenant, "pt-1", "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}"),
          app.call("POST", "/v1/" + tenant + "/patients/pt-1/chat", dr,
              "{\"question\":\"diabetes\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}"),
          app.call("POST", "/v1/" + tenant + "/research/search", researcher,
              "{\"query\":\"diabetes\",\"purposeOfUse\":\"HRESCH\"}"))) {
        assertThat(r.statusCode()).as(change + ": " + r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(r.body()).contains("\"error\":\"reembedding_in_progress\"")
            .contains("GET /admin/tenants/{tenant}/ingest").doesNotContain("diabetes");
      }
      // each refusal is a denial of its own in the trail, with its true reason: the failed search wrote
      // nothing, and these three requests left no row at all
      assertThat(reembeddingRefusals(tenant)).as(change).containsExactly("context", "chat-dry-run", "research");
      // where the 503 sends the admin: the chunks still to re-embed
      assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
          .contains("\"chunksOfAnotherModel\":").doesNotContain("\"chunksOfAnotherModel\":0");
      app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant)); // the re-embedding done
      assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
          .contains("\"chunksOfAnotherModel\":0");
      HttpResponse<String> after = context(dr, tenant, "pt-1", "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}");
      assertThat(after.statusCode()).as(change + ": " + after.body()).isEqualTo(200);
      assertThat(after.body()).contains("\"resource\":\"Condition/cn-1\"");
    } finally {
      model.stop(0);
    }
  }

  /** The actions of the tenant's audit rows that record a search refused during a re-embedding, oldest first. */
  private java.util.List<String> reembeddingRefusals(String tenant) throws Exception {
    java.util.List<String> actions = new java.util.ArrayList<>();
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT action, decision FROM tenant_" + tenant + ".audit_log "
            + "WHERE reason = 'reembedding_in_progress' ORDER BY at, seq")) {
      while (rs.next()) {
        assertThat(rs.getString(2)).isEqualTo("denied");
        actions.add(rs.getString(1));
      }
    }
    return actions;
  }

  /**
   * Research over the HNSW index measures only the nearest chunks the index hands out: during a
   * re-embedding it refused only when an older chunk came up among them, and otherwise answered 200
   * from the re-embedded chunks alone, leaving out every resource not yet done. Here one chunk, of a
   * patient far from the question, is still of an older model (a re-embedding that has not reached
   * it): research refuses until the worker has re-embedded it, though that chunk is not among the
   * nearest; context for the other patient, whose chunks are all of the model, is answered.
   */
  @Test
  void researchOverTheIndexRefusesWhileAnyChunkIsOfAnotherModel() throws Exception {
    String tenant = "farmodel";
    String feed = app.tenantWithKey(tenant, "feed-f", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey(tenant, "dr-f", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String researcher = app.tenantWithKey(tenant, "res-f", "[\"researcher\"]", null);
    HttpResponse<String> indexed = app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":{\"researchIndex\":true}}");
    assertThat(indexed.statusCode()).as(indexed.body()).isEqualTo(200);
    StringBuilder entries = new StringBuilder();
    for (String[] p : new String[][] {{"pt-1", "44054006", "Type 2 diabetes mellitus"},
        {"pt-2", "16114001", "Fracture of ankle"}}) {
      String n = p[0].substring(3);
      entries.append(entries.isEmpty() ? "" : ",").append("""
          {"resource":{"resourceType":"Patient","id":"%1$s"},"request":{"method":"PUT","url":"Patient/%1$s"}},
          {"resource":{"resourceType":"Consent","id":"cs-%2$s","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-%2$s"}},
          {"resource":{"resourceType":"Encounter","id":"en-%2$s","status":"finished","class":{"code":"AMB"},
             "subject":{"reference":"Patient/%1$s"},"participant":[{"individual":{"reference":"Practitioner/pr-9"}}]},
           "request":{"method":"PUT","url":"Encounter/en-%2$s"}},
          {"resource":{"resourceType":"Condition","id":"cn-%2$s","subject":{"reference":"Patient/%1$s"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"%3$s","display":"%4$s"}]}},
           "request":{"method":"PUT","url":"Condition/cn-%2$s"}}""".formatted(p[0], n, p[1], p[2]));
    }
    HttpResponse<String> stored = app.call("POST", "/fhir/" + tenant, feed,
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}", "application/fhir+json");
    assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant)); // 384 dimensions, the in-process model
    app.researchOn(tenant); // the chunks written after research was turned on, made by a sweep
    String search = "{\"query\":\"diabetes\",\"k\":1,\"purposeOfUse\":\"HRESCH\"}";
    HttpResponse<String> before = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(before.statusCode()).as(before.body()).isEqualTo(200);
    assertThat(before.body()).contains("Type 2 diabetes mellitus").doesNotContain("ankle");
    // the ankle's chunk is left of an older model, as a re-embedding that has not reached it yet leaves it
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      assertThat(st.executeUpdate("UPDATE tenant_farmodel.chunks SET model = 'an-older-model' "
          + "WHERE resource_type = 'Condition' AND resource_id = 'cn-2'")).isEqualTo(1);
    }
    HttpResponse<String> during = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(during.statusCode()).as(during.body()).isEqualTo(503);
    assertThat(during.headers().firstValue("Retry-After")).hasValue("60");
    assertThat(during.body()).contains("\"error\":\"reembedding_in_progress\"")
        .contains("GET /admin/tenants/{tenant}/ingest").doesNotContain("diabetes");
    assertThat(reembeddingRefusals(tenant)).containsExactly("research");
    // context ranks one patient's chunks: this one's are all of the tenant's model
    assertThat(context(dr, tenant, "pt-1", "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}").statusCode())
        .isEqualTo(200);
    assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
        .contains("\"chunksOfAnotherModel\":1");
    // what a worker start queues (the chunks the tenant's model did not make), then the worker's run
    EmbeddingWorker worker = app.bean(EmbeddingWorker.class);
    assertThat(worker.enqueueChunksOfAnotherModel(TenantId.of(tenant))).isEqualTo(1);
    worker.drain(TenantId.of(tenant));
    assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
        .contains("\"chunksOfAnotherModel\":0");
    // The re-embedded chunk has no research embedding yet (this server runs no worker threads, so no
    // sweep): the status shows it pending, and research, whose build has completed (tenant migration 66),
    // answers without it rather than rank it on its identified text (tenant migration 64), saying so.
    assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
        .contains("\"researchIndex\":{\"state\":\"ready\",\"pending\":1}");
    HttpResponse<String> pending = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(pending.statusCode()).as(pending.body()).isEqualTo(200);
    assertThat(pending.body()).contains("Type 2 diabetes mellitus").contains("\"complete\":false")
        .doesNotContain("ankle");
    app.researchOn(tenant);
    HttpResponse<String> after = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(after.statusCode()).as(after.body()).isEqualTo(200);
    assertThat(after.body()).contains("Type 2 diabetes mellitus").contains("\"complete\":true").doesNotContain("ankle");
  }

  /**
   * On a live tenant the feed writes notes every few seconds, and research refused (503
   * research_index_building) while any chunk had no research embedding, so most of the time. It now
   * refuses only until the research build has completed since research was turned on (tenant migration
   * 66: a marker in the database, which another API process sees); afterwards a note written since the
   * last sweep is left out and the response says "complete": false, until the sweep has made it.
   * Turning research off refuses again, and on again answers once its build has completed.
   */
  @Test
  void researchAnswersOnceItsBuildHasCompletedAndSaysWhenTheNewestNotesAreLeftOut() throws Exception {
    String tenant = "livefeed";
    String feed = app.tenantWithKey(tenant, "feed-l", "[\"ehr-integration\"]", null);
    String researcher = app.tenantWithKey(tenant, "res-l", "[\"researcher\"]", null);
    HttpResponse<String> stored = app.call("POST", "/fhir/" + tenant, feed, """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"pt-1"},"request":{"method":"PUT","url":"Patient/pt-1"}},
          {"resource":{"resourceType":"Consent","id":"cs-1","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/pt-1"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-1"}},
          {"resource":{"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/pt-1"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}},
           "request":{"method":"PUT","url":"Condition/cn-1"}}]}""", "application/fhir+json");
    assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    String search = "{\"query\":\"diabetes\",\"k\":10,\"purposeOfUse\":\"HRESCH\"}";
    // (1) research off: refused, saying a tenant admin turns it on, and without a Retry-After (waiting does
    // not help: it answered research_index_building with Retry-After: 30, and a client retried for ever)
    HttpResponse<String> off = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(off.statusCode()).as(off.body()).isEqualTo(503);
    assertThat(off.body()).contains("\"error\":\"research_not_enabled\"", "researchIndex\\\":true")
        .doesNotContain("diabetes");
    assertThat(off.headers().firstValue("Retry-After")).isEmpty();
    app.researchOn(tenant);
    HttpResponse<String> built = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(built.statusCode()).as(built.body()).isEqualTo(200);
    assertThat(built.body()).contains("Type 2 diabetes mellitus").contains("\"complete\":true");
    // (2) a note the feed writes afterwards, before any sweep: research answers without it, and says so
    HttpResponse<String> newer = app.call("PUT", "/fhir/" + tenant + "/Condition/cn-2", feed, """
        {"resourceType":"Condition","id":"cn-2","subject":{"reference":"Patient/pt-1"},
         "code":{"coding":[{"system":"http://snomed.info/sct","code":"4855003","display":"Diabetic retinopathy"}]}}""",
        "application/fhir+json");
    assertThat(newer.statusCode()).as(newer.body()).isIn(200, 201);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    HttpResponse<String> during = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(during.statusCode()).as(during.body()).isEqualTo(200);
    assertThat(during.body()).contains("Type 2 diabetes mellitus").contains("\"complete\":false")
        .doesNotContain("retinopathy");
    assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
        .contains("\"researchIndex\":{\"state\":\"ready\",\"pending\":1}");
    // (4) the build's completion is the database's: another API process, which never ran it, answers too
    try (TestServer other = new TestServer(app, Map.of("CARECONTEXT_WORKER_THREADS", "0"))) {
      HttpResponse<String> elsewhere = other.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
      assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(200);
      assertThat(elsewhere.body()).contains("\"complete\":false").doesNotContain("retinopathy");
    }
    // the sweep makes it: returned, and the response says complete
    app.bean(io.carecontext.services.tenancy.ResearchIndexBuilds.class).sweep();
    HttpResponse<String> swept = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(swept.statusCode()).as(swept.body()).isEqualTo(200);
    assertThat(swept.body()).contains("Diabetic retinopathy").contains("\"complete\":true");
    // (3) off: refused again, in every process; on again: answered once its build has completed
    assertThat(app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(), "{\"settings\":{\"researchIndex\":false}}")
        .statusCode()).isEqualTo(200);
    HttpResponse<String> offAgain = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(offAgain.statusCode()).as(offAgain.body()).isEqualTo(503);
    assertThat(offAgain.body()).contains("\"error\":\"research_not_enabled\"").doesNotContain("diabetes");
    // turning it on again makes every research embedding again (as after a detector change), not only the
    // missing ones: one planted while research was off does not survive the build
    String planted = "UPDATE tenant_livefeed.chunks SET research_embedding = array_fill(0.5, ARRAY[384])::public.vector "
        + "WHERE chunk_id = (SELECT min(chunk_id) FROM tenant_livefeed.chunks)";
    String survivors = "SELECT count(*) FROM tenant_livefeed.chunks WHERE research_embedding = "
        + "array_fill(0.5, ARRAY[384])::public.vector";
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      assertThat(st.executeUpdate(planted)).isEqualTo(1);
    }
    app.researchOn(tenant);
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(survivors)) {
      rs.next();
      assertThat(rs.getLong(1)).isZero();
    }
    HttpResponse<String> onAgain = app.call("POST", "/v1/" + tenant + "/research/search", researcher, search);
    assertThat(onAgain.statusCode()).as(onAgain.body()).isEqualTo(200);
    assertThat(onAgain.body()).contains("Diabetic retinopathy").contains("\"complete\":true");
  }

  /**
   * Research turned off and on again while its build was embedding: the build went on (its batches for a
   * generation no longer current, which it could not complete), turning it off had dropped its indexes, and
   * turning it on again started no build, since one was still under way: research stayed off for good (the
   * index absent, every search refused). The build now stops at its next batch, and another follows it.
   */
  @Test
  void researchTurnedOffAndOnAgainDuringItsBuildIsBuiltAgain() throws Exception {
    String tenant = "rebuilt";
    String feed = app.tenantWithKey(tenant, "feed-rb", "[\"ehr-integration\"]", null);
    java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    com.sun.net.httpserver.HttpServer model = vectorEndpoint(request -> {
      if (hold.get()) {
        entered.countDown();
        try {
          release.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    model.start();
    var builds = app.bean(io.carecontext.services.tenancy.ResearchIndexBuilds.class);
    Thread off = null;
    try {
      assertThat(app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
          "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:"
              + model.getAddress().getPort() + "/v1\",\"model\":\"m8\",\"dimensions\":8,\"baaCovered\":true,"
              + "\"maxRetries\":0,\"timeoutSeconds\":60}}}").statusCode()).isEqualTo(200);
      assertThat(app.call("PUT", "/fhir/" + tenant + "/Condition/cn-1", feed, """
          {"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/pt-1"},
           "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes"}]}}""",
          "application/fhir+json").statusCode()).isIn(200, 201);
      app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
      hold.set(true);
      builds.request(TenantId.of(tenant), true);
      assertThat(entered.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the build embeds").isTrue();
      // off (its index drop waits for the batch in flight), then on again, while the build is under way
      off = new Thread(() -> builds.request(TenantId.of(tenant), false));
      off.start();
      String enabled = "SELECT enabled::text FROM tenant_rebuilt.research_build";
      for (int i = 0; i < 600 && !scalar(enabled).equals("false"); i++) {
        Thread.sleep(50);
      }
      assertThat(scalar(enabled)).isEqualTo("false");
      builds.request(TenantId.of(tenant), true);
      hold.set(false);
      release.countDown();
      off.join(60_000);
      String state = "";
      for (int i = 0; i < 600 && !state.contains("\"researchIndex\":{\"state\":\"ready\"}"); i++) {
        Thread.sleep(100);
        state = app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body();
      }
      assertThat(state).contains("\"researchIndex\":{\"state\":\"ready\"}");
      assertThat(scalar("SELECT count(*) FROM pg_indexes WHERE schemaname = 'tenant_rebuilt' "
          + "AND indexname IN ('chunks_embedding_hnsw', 'chunks_research_pending_idx')")).isEqualTo("2");
    } finally {
      release.countDown();
      if (off != null) {
        off.join(60_000);
      }
      model.stop(0);
    }
  }

  /**
   * Research turned on, off and on again while its build was only queued (behind another tenant's): the second
   * turning-on asked for one more build after it, as if the first were under way. The queued build, started
   * after both, built the current generation, and the one after it forgot every research embedding and made
   * them all a second time (hours on a large tenant). A build is now asked for again only when one is running.
   */
  @Test
  void researchTurnedOnOffAndOnWhileItsBuildIsQueuedIsBuiltOnce() throws Exception {
    String first = "queuefirst";
    String tenant = "queuedonce";
    String feedFirst = app.tenantWithKey(first, "feed-qf", "[\"ehr-integration\"]", null);
    String feed = app.tenantWithKey(tenant, "feed-qo", "[\"ehr-integration\"]", null);
    java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    com.sun.net.httpserver.HttpServer model = vectorEndpoint(request -> {
      if (request.contains("\"m8-queued\"")) {
        calls.incrementAndGet(); // the queued tenant's model is asked
      } else if (hold.get()) {
        entered.countDown(); // the first tenant's build holds the builds' thread
        try {
          release.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    model.start();
    var builds = app.bean(io.carecontext.services.tenancy.ResearchIndexBuilds.class);
    try {
      for (String[] t : new String[][] {{first, "m8-first", feedFirst}, {tenant, "m8-queued", feed}}) {
        assertThat(app.call("PATCH", "/admin/tenants/" + t[0], app.adminKey(),
            "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:"
                + model.getAddress().getPort() + "/v1\",\"model\":\"" + t[1] + "\",\"dimensions\":8,"
                + "\"baaCovered\":true,\"maxRetries\":0,\"timeoutSeconds\":60}}}").statusCode()).isEqualTo(200);
        assertThat(app.call("PUT", "/fhir/" + t[0] + "/Condition/cn-1", t[2], """
            {"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/pt-1"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes"}]}}""",
            "application/fhir+json").statusCode()).isIn(200, 201);
        app.bean(EmbeddingWorker.class).drain(TenantId.of(t[0]));
      }
      hold.set(true);
      builds.request(TenantId.of(first), true);
      assertThat(entered.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the first build embeds").isTrue();
      calls.set(0);
      // on, off, on: the tenant's build is queued behind the first's all the while
      builds.request(TenantId.of(tenant), true);
      builds.request(TenantId.of(tenant), false);
      builds.request(TenantId.of(tenant), true);
      assertThat(builds.underWay(TenantId.of(tenant))).isTrue();
      hold.set(false);
      release.countDown();
      for (int i = 0; i < 600 && (builds.underWay(TenantId.of(tenant)) || builds.underWay(TenantId.of(first))); i++) {
        Thread.sleep(100);
      }
      assertThat(builds.underWay(TenantId.of(tenant))).isFalse();
      assertThat(app.call("GET", "/admin/tenants/" + tenant + "/ingest", app.adminKey(), null).body())
          .contains("\"researchIndex\":{\"state\":\"ready\"}");
      // its few chunks are one batch: one request to its model, not two
      assertThat(Integer.parseInt(scalar("SELECT count(*) FROM tenant_queuedonce.chunks"))).isBetween(1, 64);
      assertThat(calls.get()).as("the chunks' research embeddings are made once").isEqualTo(1);
      assertThat(scalar("SELECT count(*) FROM pg_indexes WHERE schemaname = 'tenant_queuedonce' "
          + "AND indexname IN ('chunks_embedding_hnsw', 'chunks_research_pending_idx')")).isEqualTo("2");
    } finally {
      release.countDown();
      model.stop(0);
    }
  }

  private static String scalar(String sql) throws java.sql.SQLException {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
         java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** PATCHes the tenant's embedding setting to the endpoint {@code model} serves, under this model name and size. */
  private static HttpResponse<String> patchModel(String tenant, com.sun.net.httpserver.HttpServer model, String name,
                                                 int dimensions) {
    return app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:"
            + model.getAddress().getPort() + "/v1\",\"model\":\"" + name + "\",\"dimensions\":" + dimensions
            + ",\"baaCovered\":true,\"maxRetries\":0,\"timeoutSeconds\":5}}}");
  }

  /**
   * An OpenAI-compatible embedding endpoint whose every vector is the same, of the size the request's
   * {@code dimensions} asks for.
   */
  private static com.sun.net.httpserver.HttpServer vectorEndpoint() throws java.io.IOException {
    return vectorEndpoint(request -> { });
  }

  /** {@link #vectorEndpoint()}, which first hands each request's body to {@code hook} (to count or hold it). */
  private static com.sun.net.httpserver.HttpServer vectorEndpoint(java.util.function.Consumer<String> hook)
      throws java.io.IOException {
    com.sun.net.httpserver.HttpServer model = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    java.util.regex.Pattern asked = java.util.regex.Pattern.compile("\"dimensions\"\\s*:\\s*(\\d+)");
    model.createContext("/", exchange -> {
      String request = new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      hook.accept(request);
      java.util.regex.Matcher m = asked.matcher(request);
      int size = m.find() ? Integer.parseInt(m.group(1)) : 1;
      int inputs = Math.max(1, request.split("\",\"", -1).length);
      StringBuilder data = new StringBuilder();
      for (int i = 0; i < inputs; i++) {
        data.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i)
            .append(",\"embedding\":[").append("0.25,".repeat(size - 1)).append("0.25]}");
      }
      byte[] body = ("{\"object\":\"list\",\"data\":[" + data + "],\"model\":\"m\","
          + "\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    return model;
  }

  /**
   * A request that the rate limit or the policy refuses costs no call to the tenant's model: the
   * question was embedded before any check, so a key past its budget, or without the role, still
   * made the tenant pay for (and could slow) its embedding endpoint. The model here counts its calls
   * and fails each, so a request that reached it would be a 502.
   */
  @Test
  void aRefusedRequestNeverCallsTheEmbeddingModel() throws Exception {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    com.sun.net.httpserver.HttpServer model = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    model.createContext("/", exchange -> {
      calls.incrementAndGet();
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(500, -1);
      exchange.close();
    });
    model.start();
    try {
      String dr = app.tenantWithKey("metered", "dr-m", "[\"clinician\"]", null);
      String researcher = app.tenantWithKey("metered", "res-m", "[\"researcher\"]", null);
      HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/metered", app.adminKey(),
          "{\"settings\":{\"rateLimitPerMinute\":4,\"embedding\":{\"provider\":\"openai-compatible\","
              + "\"baseUrl\":\"http://127.0.0.1:" + model.getAddress().getPort() + "/v1\",\"model\":\"e\","
              + "\"dimensions\":384,\"baaCovered\":true,\"maxRetries\":0,\"timeoutSeconds\":5}}}");
      assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
      String q = "{\"query\":\"potassium\"";
      java.util.List<Map.Entry<String, HttpResponse<String>>> refused = new java.util.ArrayList<>();
      refused.add(Map.entry("400 purpose_required", context(dr, "metered", "pt-1", q + "}")));
      refused.add(Map.entry("400 reason_required",
          context(dr, "metered", "pt-1", q + ",\"purposeOfUse\":\"ETREAT\"}")));
      refused.add(Map.entry("403 forbidden", app.call("POST", "/v1/metered/research/search", dr,
          q + ",\"purposeOfUse\":\"HRESCH\"}")));
      refused.add(Map.entry("400 purpose_required", app.call("POST", "/v1/metered/patients/pt-1/chat", dr,
          "{\"question\":\"potassium\"}")));
      // the key's fifth request in the minute, past its budget of four
      refused.add(Map.entry("429 rate_limited",
          context(dr, "metered", "pt-1", q + ",\"purposeOfUse\":\"TREAT\"}")));
      refused.add(Map.entry("403 forbidden",
          context(researcher, "metered", "pt-1", q + ",\"purposeOfUse\":\"HRESCH\"}")));
      for (var r : refused) {
        String[] expected = r.getKey().split(" ");
        assertThat(r.getValue().statusCode()).as(r.getValue().body()).isEqualTo(Integer.parseInt(expected[0]));
        assertThat(r.getValue().body()).contains("\"error\":\"" + expected[1] + "\"");
      }
      assertThat(calls.get()).as("model calls for refused requests").isZero();
      HttpResponse<String> allowed = app.call("POST", "/v1/metered/research/search", researcher,
          q + ",\"purposeOfUse\":\"HRESCH\"}");
      assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(502);
      assertThat(calls.get()).as("the request that passed every check reached the model").isPositive();
    } finally {
      model.stop(0);
    }
  }

  @Test
  void aRolePolicyStoredInvalidByAnEarlierVersionFailsClosedAndIsAudited() throws Exception {
    String dr = app.tenantWithKey("legacy", "dr-l", "[\"clinician\"]", null);
    String aud = app.tenantWithKey("legacy", "aud-l", "[\"auditor\"]", null);
    // written past the PATCH check, as a version before it could have stored it
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE platform.tenants SET settings = settings || "
          + "'{\"rolePolicies\":{\"clinician\":{\"kMax\":0}}}'::jsonb WHERE tenant_id = 'legacy'");
    }
    HttpResponse<String> r = context(dr, "legacy", "pt-1", "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503); // was a 500 from deep inside the policy
    assertThat(r.body()).contains("\"error\":\"tenant_misconfigured\"").contains("settings.rolePolicies");
    assertThat(app.call("GET", "/v1/legacy/audit", aud, null).body()).contains("\"reason\":\"policy_invalid\"");
  }

  @Test
  void anAnswerWhoseAuditRowCannotBeWrittenReturnsNothingAndMayBeRetried() throws Exception {
    String dr = app.tenantWithKey("ward", "dr-unaudited", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      st.executeUpdate("ALTER TABLE tenant_ward.audit_log ADD CONSTRAINT no_rows CHECK (principal <> 'dr-unaudited') "
          + "NOT VALID");
      try {
        HttpResponse<String> r = context(dr, "ward", "pt-1", "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).contains("5");
        assertThat(r.body()).contains("\"error\":\"unavailable\"").doesNotContain("chunks")
            .doesNotContain("diabetes").doesNotContain("pt-1");
      } finally {
        st.executeUpdate("ALTER TABLE tenant_ward.audit_log DROP CONSTRAINT no_rows");
      }
    }
    assertThat(context(dr, "ward", "pt-1", "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}").statusCode())
        .isEqualTo(200);
  }

  @Test
  void anAllowedAnswerWithNothingInScopeStillCarriesTheChunksArray() {
    // Micronaut leaves empty lists out by default: this answer came back as {"auditId": ...} alone
    String feed = app.tenantWithKey("quiet", "feed", "[\"ehr-integration\"]", null);
    String billing = app.tenantWithKey("quiet", "bill-a", "[\"billing\"]", null);
    HttpResponse<String> r = app.call("POST", "/fhir/quiet", feed, """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"pt-q","gender":"male"},"request":{"method":"PUT","url":"Patient/pt-q"}},
          {"resource":{"resourceType":"Consent","id":"cs-q","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/pt-q"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-q"}}]}""", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("quiet"));
    HttpResponse<String> none = context(billing, "quiet", "pt-q", "{\"query\":\"claims\",\"purposeOfUse\":\"HPAYMT\"}");
    assertThat(none.statusCode()).as(none.body()).isEqualTo(200);
    assertThat(none.body()).startsWith("{\"chunks\":[],\"auditId\":\"");
  }

  @Test
  void aCareCoordinatorReadsASensitiveNoteOnlyThroughExplicitConsentAndAsTheTenantConfiguresIt() {
    String feed = app.tenantWithKey("psych", "feed", "[\"ehr-integration\"]", null);
    String coordinator = app.tenantWithKey("psych", "coord", "[\"care-coordinator\"]", null);
    String aud = app.tenantWithKey("psych", "aud-p", "[\"auditor\"]", null);
    String note = java.util.Base64.getEncoder().encodeToString("Therapy session summary.".getBytes());
    HttpResponse<String> r = app.call("POST", "/fhir/psych", feed, """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"pt-p","gender":"female"},"request":{"method":"PUT","url":"Patient/pt-p"}},
          {"resource":{"resourceType":"Consent","id":"cs-p","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/pt-p"},
             "provision":{"type":"permit","provision":[{"type":"permit","securityLabel":[{"code":"PSY"}]}]}},
           "request":{"method":"PUT","url":"Consent/cs-p"}},
          {"resource":{"resourceType":"DocumentReference","id":"dr-p","status":"current",
             "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},
             "subject":{"reference":"Patient/pt-p"},"content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]},
           "request":{"method":"PUT","url":"DocumentReference/dr-p"}}]}""".formatted(note), "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("psych"));
    String q = "{\"query\":\"therapy\",\"purposeOfUse\":\"TREAT\"}";
    HttpResponse<String> withConsent = context(coordinator, "psych", "pt-p", q);
    assertThat(withConsent.statusCode()).as(withConsent.body()).isEqualTo(200);
    assertThat(withConsent.body()).contains("\"resource\":\"DocumentReference/dr-p\"");
    // details is the JSON object the README shows, not a string holding JSON
    assertThat(app.call("GET", "/v1/psych/audit?patient=pt-p", aud, null).body())
        .contains("\"details\":{\"labelsByConsent\":[\"PSY\"]}");
    // The tenant takes the role's labels-with-consent away: in force on the next request.
    HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/psych", app.adminKey(),
        "{\"settings\":{\"rolePolicies\":{\"care-coordinator\":{\"labelsWithConsent\":[]}}}}");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    HttpResponse<String> without = context(coordinator, "psych", "pt-p", q);
    assertThat(without.statusCode()).as(without.body()).isEqualTo(200);
    assertThat(without.body()).doesNotContain("DocumentReference/dr-p");
  }

  @Test
  void aSettingsChangeIsInForceOnTheVeryNextRequest() {
    // The settings a request works with are read with its key, in the statement that authenticates it.
    String q = "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}";
    assertThat(context(clinician, "ward", "pt-2", q).statusCode()).isEqualTo(404); // opt-in: no consent
    try {
      HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/ward", app.adminKey(),
          "{\"settings\":{\"consentMode\":\"opt-out\"}}");
      assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
      HttpResponse<String> r = context(clinician, "ward", "pt-2", q);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200); // opt-out: no denial on record
    } finally {
      assertThat(app.call("PATCH", "/admin/tenants/ward", app.adminKey(), "{\"settings\":{\"consentMode\":\"opt-in\"}}")
          .statusCode()).isEqualTo(200);
    }
    assertThat(context(clinician, "ward", "pt-2", q).statusCode()).isEqualTo(404);
  }

  @Test
  void unknownPatientNoConsentAndOtherTenantRevealNothing() {
    String q = "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}";
    HttpResponse<String> noConsent = context(clinician, "ward", "pt-2", q);
    HttpResponse<String> unknown = context(clinician, "ward", "pt-404", q);
    assertThat(noConsent.statusCode()).isEqualTo(404);
    assertThat(noConsent.body()).isEqualTo(unknown.body()).contains("check the patient id")
        .contains("the tenant's auditor finds the reason in the audit trail");
    HttpResponse<String> otherTenant = context(otherTenantClinician, "ward", "pt-1", q);
    HttpResponse<String> noTenant = context(otherTenantClinician, "nowhere", "pt-1", q);
    assertThat(otherTenant.statusCode()).isEqualTo(404);
    assertThat(otherTenant.body()).isEqualTo(noTenant.body());
    HttpResponse<String> trail = app.call("GET", "/v1/ward/audit?patient=pt-2", auditor, null);
    assertThat(trail.body()).contains("\"reason\":\"no_consent\"").doesNotContain("diabetes");
  }

  @Test
  void researchersSearchAcrossConsentingPatientsWithoutIdentifiers() {
    String researcher = app.tenantWithKey("ward", "res-a", "[\"researcher\"]", null);
    HttpResponse<String> r = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).containsPattern("\"subject\":\"R[0-9A-F]{15}\"").contains("Type 2 diabetes mellitus")
        .contains("\"auditId\"")
        .doesNotContain("pt-1").doesNotContain("pt-2").doesNotContain("cn-1");
    HttpResponse<String> clinicianTries = app.call("POST", "/v1/ward/research/search", clinician,
        "{\"query\":\"diabetes\",\"purposeOfUse\":\"HRESCH\"}");
    assertThat(clinicianTries.statusCode()).isEqualTo(403);
    assertThat(clinicianTries.body()).contains("\"error\":\"forbidden\"");
    HttpResponse<String> noPurpose = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\"}");
    assertThat(noPurpose.statusCode()).isEqualTo(400);
  }

  /**
   * A researcher's k as the README promises it: over the role's kMax (10 for researcher) it is served with 10 at most
   * and the answer says so; outside 1 to 100 (10,000) it is a 400 that says the range, audited with its true reason.
   */
  @Test
  void aResearchersKIsCappedAtTheRolesLimitAndAnAbsurdKIsRefused() {
    String researcher = app.tenantWithKey("ward", "res-k", "[\"researcher\"]", null);
    HttpResponse<String> cut = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\",\"k\":50,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(cut.statusCode()).as(cut.body()).isEqualTo(200);
    assertThat(cut.body()).contains("\"warnings\":[\"k 50 is over the 10 chunks this key's role may have in one request "
        + "(the tenant's policy for the role): at most 10 were returned\"]");
    HttpResponse<String> within = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\",\"k\":10,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(within.statusCode()).as(within.body()).isEqualTo(200);
    assertThat(within.body()).doesNotContain("warnings");
    HttpResponse<String> absurd = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\",\"k\":10000,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(absurd.statusCode()).isEqualTo(400);
    assertThat(absurd.body()).isEqualTo("{\"error\":\"bad_request\",\"message\":\"k must be 1 to 100 (the role's policy "
        + "may cap it lower)\"}");
    HttpResponse<String> rows = app.call("GET", "/v1/ward/audit?principal=res-k&action=research&limit=1", auditor, null);
    assertThat(rows.statusCode()).as(rows.body()).isEqualTo(200);
    assertThat(rows.body()).contains("\"principal\":\"res-k\"").contains("\"decision\":\"denied\"")
        .contains("\"reason\":\"k_out_of_range\"").contains("\"purposeOfUse\":\"HRESCH\"");
  }

  /**
   * A researcher's chat or context call by subject code refused for its body (or question) named the
   * code alone in its row, so the trail by patient missed the attempt; it now names the patient the
   * code stands for, and the code, as the request's other rows do.
   */
  @Test
  void aResearchersBodyRefusalByCodeIsRecordedForThePatientTheCodeStandsFor() {
    String researcher = app.tenantWithKey("ward", "res-body", "[\"researcher\"]", null);
    HttpResponse<String> found = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "\"subject\":\"(R[0-9A-F]{15})\",\"resourceType\":\"Condition\"").matcher(found.body()); // pt-1's cn-1
    assertThat(m.find()).isTrue();
    String code = m.group(1);
    HttpResponse<String> chat = app.call("POST", "/v1/ward/patients/" + code + "/chat", researcher,
        "{\"question\":\"diabetes\",\"purposeOfUse\":\"HRESCH\",\"k\":3}");
    assertThat(chat.statusCode()).isEqualTo(400);
    HttpResponse<String> noQuestion = app.call("POST", "/v1/ward/patients/" + code + "/chat", researcher,
        "{\"purposeOfUse\":\"HRESCH\"}");
    assertThat(noQuestion.statusCode()).isEqualTo(400);
    String trail = app.call("GET", "/v1/ward/audit?patient=pt-1&principal=res-body", auditor, null).body();
    assertThat(trail).contains("\"reason\":\"body_malformed\"").contains("\"reason\":\"query_missing\"")
        .contains(code);
  }

  @Test
  void decisionsAreCountedInMetricsWithoutPhi() {
    String notFound = "carecontext_requests_total{action=\"context\",decision=\"denied\",reason=\"patient_not_found\","
        + "tenant=\"ward\"}";
    double before = metricValue(app.call("GET", "/metrics", app.adminKey(), null).body(), notFound);
    assertThat(context(clinician, "ward", "pt-404", "{\"query\":\"q\",\"purposeOfUse\":\"TREAT\"}").statusCode())
        .isEqualTo(404);
    app.bean(io.carecontext.services.ops.Metrics.class).refreshTenantGauges();
    String metrics = app.call("GET", "/metrics", app.adminKey(), null).body();
    // counted: the one request moved the counter by one
    assertThat(metricValue(metrics, notFound)).as(metrics).isEqualTo(before + 1);
    assertThat(metrics).contains("carecontext_outbox_depth{state=\"ready\",tenant=\"ward\"} 0.0")
        .contains("carecontext_outbox_depth{state=\"parked\",tenant=\"ward\"} 0.0")
        .contains("carecontext_embedding_model_latency_seconds_count")
        .contains("carecontext_query_embedding_cache_misses_total")
        .contains("carecontext_audit_rows_total").contains("carecontext_audit_commits_total")
        .contains("carecontext_audit_rows_alone_total").contains("carecontext_audit_rows_retried_total")
        .contains("carecontext_audit_seals_total").contains("carecontext_audit_seal_failures_total")
        .contains("carecontext_audit_seal_last_complete_timestamp_seconds");
    // the reasons of the one identical 404 are counted together: whoever scrapes /metrics is no auditor, and a counter
    // that moved for one request told which (no consent, no care relationship...) it had met
    assertThat(metrics).contains("carecontext_requests_total{action=\"context\",decision=\"denied\",reason=\"patient_not_found\",tenant=\"ward\"}")
        .doesNotContain("reason=\"unknown_patient\"").doesNotContain("reason=\"no_consent\"")
        .doesNotContain("reason=\"no_care_relationship\"").doesNotContain("reason=\"consent_denied\"")
        .contains("carecontext_request_latency").contains("carecontext_embedding_chunks_total")
        .contains("carecontext_embedding_batch_fallbacks_total")
        .doesNotContain("pt-404").doesNotContain("dr-a");
  }

  /** The value of a Prometheus sample named exactly {@code series} (name and labels), 0 when it is not there. */
  static double metricValue(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }

  @Test
  void purposeIsRequiredAndRolesAreChecked() {
    assertThat(context(clinician, "ward", "pt-1", "{\"query\":\"x\"}").statusCode()).isEqualTo(400);
    HttpResponse<String> auditorAsks = context(auditor, "ward", "pt-1", "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(auditorAsks.statusCode()).isEqualTo(403);
    // what to do next, as every refusal says: a key of a role that reads patient context
    assertThat(auditorAsks.body()).contains("ask the tenant admin for a key of a role that reads it");
    // the same answer when its body is wrong too: the role is the first thing to fix
    assertThat(context(auditor, "ward", "pt-1", "{\"query\":\"x\"}").body())
        .contains("ask the tenant admin for a key of a role that reads it");
    // the refusal names the field to send ("needs a reason in words" did not say where it goes)
    assertThat(context(clinician, "ward", "pt-1", "{\"query\":\"x\",\"purposeOfUse\":\"ETREAT\"}").body())
        .contains("reason_required").contains("needs the field \\\"reason\\\"");
    // a reason is counted in characters, not UTF-16 units: 600 emoji are a reason of 600 (it was "at most 1,000")
    // a key of its own: the break-glass window it opens is no other test's
    String emergency = app.tenantWithKey("ward", "dr-emoji", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    HttpResponse<String> emoji = context(emergency, "ward", "pt-1", "{\"query\":\"x\",\"k\":1,\"purposeOfUse\":\"ETREAT\","
        + "\"reason\":\"unresponsive in ED " + "\uD83D\uDEA8".repeat(600) + "\"}");
    assertThat(emoji.statusCode()).as(emoji.body()).isEqualTo(200);
    HttpResponse<String> tooLong = context(emergency, "ward", "pt-1", "{\"query\":\"x\",\"purposeOfUse\":\"ETREAT\","
        + "\"reason\":\"" + "r".repeat(1_001) + "\"}");
    assertThat(tooLong.body()).contains("reason_too_long").contains("takes at most 1,000 characters: shorten it");
    // a purpose the role may not use: the refusal says which it may, so the caller can fix the request
    HttpResponse<String> payment = context(clinician, "ward", "pt-1", "{\"query\":\"x\",\"purposeOfUse\":\"HPAYMT\"}");
    assertThat(payment.statusCode()).isEqualTo(403);
    assertThat(payment.body()).contains("may not retrieve context for that purpose of use (its roles allow ETREAT, TREAT)");
  }

  @Test
  void auditVerifyListWithBodiesAndExport() {
    context(clinician, "ward", "pt-1", "{\"query\":\"secret question\",\"purposeOfUse\":\"TREAT\"}");
    HttpResponse<String> verify = app.call("GET", "/v1/ward/audit/verify", auditor, null);
    assertThat(verify.statusCode()).isEqualTo(200);
    assertThat(verify.body()).contains("\"valid\":true").contains("\"head\":");
    assertThat(app.call("GET", "/v1/ward/audit", auditor, null).body()).doesNotContain("secret question");
    HttpResponse<String> withBodies = app.call("GET", "/v1/ward/audit?includeBodies=true&patient=pt-1", auditor, null);
    assertThat(withBodies.body()).contains("secret question");
    String afterReads = app.call("GET", "/v1/ward/audit?limit=3", auditor, null).body();
    // each listing is audited after its read: the one with bodies (newest but one), then the plain one
    assertThat(afterReads).contains("\"action\":\"audit-read\"").contains("\"reason\":\"include_bodies\"")
        .contains("\"reason\":\"list\"");
    // a filter the server cannot honour is refused, not quietly replaced
    for (String[] bad : new String[][] {{"limit=100000", "limit must be 1 to 10000"}, {"limit=0", "limit must be 1 to"},
        {"limit=all", "limit must be a whole number"}, {"includeBodies=maybe", "includeBodies must be true or false"},
        {"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from must not be after to"}}) {
      HttpResponse<String> r = app.call("GET", "/v1/ward/audit?" + bad[0], auditor, null);
      assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
      assertThat(r.body()).as(bad[0]).contains(bad[1]);
    }
    assertThat(app.call("GET", "/v1/ward/audit?limit=1", auditor, null).body()).contains("\"count\":1,\"limit\":1");
    HttpResponse<String> export = app.call("GET", "/v1/ward/audit/export", auditor, null);
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.body().lines().findFirst().orElse("")).contains("\"resourceType\":\"AuditEvent\"");
    // the export holds its own row, written before its first line
    assertThat(export.body()).contains("\"code\":\"audit-export\"");
    assertThat(export.body()).doesNotContain("secret question");
    // streamed while it is read, every row of the trail, each a whole line
    assertThat(export.headers().firstValue("content-type")).hasValue("application/fhir+ndjson");
    String verified = app.call("GET", "/v1/ward/audit/verify", auditor, null).body();
    // one row each (a research search of several patients is one event a patient, each naming the one row's link)
    long rows = java.util.regex.Pattern.compile("\"description\":\"chain (\\d+/\\d+) ").matcher(export.body()).results()
        .map(m -> m.group(1)).distinct().count();
    assertThat(rows).isLessThanOrEqualTo(export.body().lines().count());
    assertThat(verified).contains("\"entries\":" + rows + ",");
    assertThat(export.body()).endsWith("}\n");
    assertThat(app.call("GET", "/v1/ward/audit/verify", clinician, null).statusCode()).isEqualTo(403);

    // the service seals the chains (once a minute; here at once): verify then counts the sealed entries
    AuditSealing sealing = app.bean(AuditSealing.class);
    long sealsBefore = sealing.sealsWritten();
    java.util.Map<io.carecontext.migrations.TenantId, Integer> run = sealing.sealAll();
    assertThat(run).containsKey(io.carecontext.migrations.TenantId.of("ward"));
    assertThat(sealing.sealsWritten() - sealsBefore).isEqualTo(run.values().stream().mapToLong(i -> i).sum());
    assertThat(sealing.lastCompleteRunEpochSeconds()).isCloseTo(System.currentTimeMillis() / 1000, within(5L));
    assertThat(sealing.failures()).isZero();
    String sealed = app.call("GET", "/v1/ward/audit/verify", auditor, null).body();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"entries\":(\\d+),.*\"sealedEntries\":(\\d+),"
        + "\"unsealedEntries\":(\\d+)").matcher(sealed);
    assertThat(m.find()).as(sealed).isTrue();
    assertThat(Long.parseLong(m.group(2))).isPositive();
    assertThat(Long.parseLong(m.group(2)) + Long.parseLong(m.group(3))).isEqualTo(Long.parseLong(m.group(1)));
  }

  /**
   * Bodies read from the trail are PHI of the patients whose rows they are (a question names the
   * patient's condition, a prompt holds its record): a listing with bodies and no patient filter was
   * recorded with no patient, so the patient's own accounting ({@code ?patient=pt-2}) never showed that
   * an auditor had read what was asked about it.
   */
  @Test
  void readingBodiesIsRecordedForEachPatientWhoseBodiesWereRead() {
    context(clinician, "ward", "pt-2", "{\"query\":\"bodies of pt-2\",\"purposeOfUse\":\"TREAT\"}");
    HttpResponse<String> all = app.call("GET", "/v1/ward/audit?includeBodies=true&action=context", auditor, null);
    assertThat(all.statusCode()).as(all.body()).isEqualTo(200);
    assertThat(all.body()).contains("bodies of pt-2");
    String forPatient = app.call("GET", "/v1/ward/audit?patient=pt-2&action=audit-read", auditor, null).body();
    assertThat(forPatient).as("the patient's accounting names the read of its bodies")
        .contains("\"reason\":\"include_bodies\"").contains("\"patient\":\"pt-2\"");
  }

  @Test
  void reopenIsABreakGlassFieldOfContextAndChat() {
    HttpResponse<String> r = context(clinician, "ward", "pt-1",
        "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"reopen\":true}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("reopen applies to break-glass only");
    HttpResponse<String> chat = app.call("POST", "/v1/ward/patients/pt-1/chat", clinician,
        "{\"question\":\"chest pain?\",\"purposeOfUse\":\"TREAT\",\"reopen\":true}");
    assertThat(chat.statusCode()).isEqualTo(400);
    assertThat(chat.body()).contains("reopen applies to break-glass only");
    assertThat(context(clinician, "ward", "pt-1",
        "{\"query\":\"chest pain\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"ED\",\"reopen\":\"yes\"}").body())
        .contains("'reopen'");
  }

  @Test
  void aFieldOfTheWrongTypeIsNamedWithoutItsValue() {
    HttpResponse<String> r = context(clinician, "ward", "pt-1",
        "{\"query\":\"chest pain\",\"k\":\"many\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"error\":\"bad_request\"").contains("'k'").doesNotContain("many")
        .doesNotContain("chest pain");
  }

  @Test
  void bodyFieldsAreNotCoercedFromOtherJsonTypes() {
    // "k":"5" was read as 5, 2.5 as 2, true as 1, [3] as 3; "query":123 as "123"
    for (String k : new String[] {"\"5\"", "\"07\"", "2.5", "true", "[3]"}) {
      HttpResponse<String> r = context(clinician, "ward", "pt-1", "{\"query\":\"diabetes\",\"k\":" + k
          + ",\"purposeOfUse\":\"TREAT\"}");
      assertThat(r.statusCode()).as(k).isEqualTo(400);
      assertThat(r.body()).as(k).contains("\"error\":\"bad_request\"").contains("field 'k' must be a whole number");
      HttpResponse<String> research = app.call("POST", "/v1/ward/research/search", clinician,
          "{\"query\":\"diabetes\",\"k\":" + k + ",\"purposeOfUse\":\"HRESCH\"}");
      assertThat(research.statusCode()).as(k).isEqualTo(400);
      assertThat(research.body()).as(k).contains("field 'k' must be a whole number");
    }
    for (String query : new String[] {"123", "true", "[\"a\"]"}) {
      HttpResponse<String> r = context(clinician, "ward", "pt-1", "{\"query\":" + query + ",\"purposeOfUse\":\"TREAT\"}");
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(r.body()).as(query).contains("field 'query' must be a string");
      HttpResponse<String> purpose = context(clinician, "ward", "pt-1", "{\"query\":\"q\",\"purposeOfUse\":" + query + "}");
      assertThat(purpose.body()).as(query).contains("field 'purposeOfUse' must be a string");
    }
    assertThat(context(clinician, "ward", "pt-1", "{\"query\":\"diabetes\",\"k\":5,\"purposeOfUse\":\"TREAT\"}")
        .statusCode()).isEqualTo(200);
  }

  /**
   * A key whose roles may read no patient data (an auditor's here) is refused for its role before
   * anything about its body or purpose: it was told to send a body, a query or a purpose of use, each
   * of which would only have moved it on to this 403. Audited as role_not_allowed.
   */
  @Test
  void aKeyThatMayReadNoPatientDataIsToldSoBeforeAnythingAboutItsBody() {
    for (String[] c : new String[][] {
        {"/v1/ward/patients/zr-1/context", ""},
        {"/v1/ward/patients/zr-2/context", "{\"query\":\"chest pain\",\"maxResults\":3}"},
        {"/v1/ward/patients/zr-3/context", "{\"query\":\"chest pain\"}"},
        {"/v1/ward/patients/zr-4/context", "{\"purposeOfUse\":\"TREAT\"}"},
        {"/v1/ward/patients/zr-5/chat", "{\"question\":\"chest pain\"}"},
        {"/v1/ward/research/search", "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\"}"}}) {
      HttpResponse<String> r = app.call("POST", c[0], auditor, c[1]);
      assertThat(r.statusCode()).as(c[0] + " " + c[1]).isEqualTo(403);
      assertThat(r.body()).as(c[1]).contains("\"error\":\"forbidden\"").contains("this key's roles may not")
          .doesNotContain("chest pain");
    }
    String trail = app.call("GET", "/v1/ward/audit?principal=aud&limit=100", auditor, null).body();
    for (String patient : java.util.List.of("zr-1", "zr-2", "zr-3", "zr-4", "zr-5")) {
      assertThat(app.call("GET", "/v1/ward/audit?patient=" + patient, auditor, null).body()).as(patient)
          .contains("\"reason\":\"role_not_allowed\"").contains("\"decision\":\"denied\"");
    }
    assertThat(trail).contains("\"action\":\"research\"");
  }

  @Test
  void aQueryParameterIsRefusedNotIgnored() {
    // POST …/context?k=3 was served with the default k, and ?purposeOfUse=… or ?patient=… on research
    // search were dropped without a word: the caller believed the request said what it did not
    String dr = app.tenantWithKey("ward", "dr-query", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String body = "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\"}";
    String[][] refused = {
        {"/v1/ward/patients/zq-q1/context?k=3", body, "fields query, k, purposeOfUse, reason, reopen"},
        {"/v1/ward/patients/zq-q2/chat?dryRun=true", "{\"question\":\"chest pain\",\"purposeOfUse\":\"TREAT\"}",
            "fields question, purposeOfUse, reason, dryRun, reopen"},
        {"/v1/ward/research/search?Smith_John=1", "{\"query\":\"chest pain\",\"purposeOfUse\":\"HRESCH\"}",
            "fields query, k, purposeOfUse"}};
    String researcher = app.tenantWithKey("ward", "res-query", "[\"researcher\"]", null);
    for (String[] c : refused) {
      HttpResponse<String> r = app.call("POST", c[0], c[0].contains("research") ? researcher : dr, c[1]);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertThat(r.body()).as(c[0]).contains("\"error\":\"bad_request\"")
          .contains("this endpoint takes no query parameters (nothing after '?'): send a JSON object with the " + c[2])
          .doesNotContain("Smith").doesNotContain("chest pain");
    }
    assertThat(app.call("GET", "/v1/ward/audit?patient=zq-q1", auditor, null).body())
        .contains("\"reason\":\"body_malformed\"").contains("\"action\":\"context\"");
    assertThat(app.call("GET", "/v1/ward/audit?patient=zq-q2", auditor, null).body())
        .contains("\"reason\":\"body_malformed\"").contains("\"action\":\"chat\"");
  }

  @Test
  void bodiesRefusedBeforeTheDecisionAreAuditedWithTheirReason() {
    String dr = app.tenantWithKey("ward", "dr-malformed", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String[][] refused = {
        // patient, body, what the 400 says, the audit row's reason
        // the fields the body takes, named (it said "the documented fields (see /openapi.yml)"), never the one sent
        {"zq-m1", "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"maxResults\":3}", "an unknown field: "
            + "this body takes only the fields query, k, purposeOfUse, reason, reopen (see /openapi.yml)", "body_malformed"},
        {"zq-m2", "{\"query\":\"chest pain\",", "not valid JSON", "body_malformed"},
        {"zq-m3", "[\"chest pain\"]", "not valid JSON or not an object", "body_malformed"},
        {"zq-m4", "", "the request has no body: send a JSON object with the fields query, k, purposeOfUse", "body_malformed"},
        {"zq-m5", "{\"query\":\"chest pain\",\"k\":\"many\",\"purposeOfUse\":\"TREAT\"}", "field 'k' must be a whole number",
            "body_malformed"},
        {"zq-m6", "{\"purposeOfUse\":\"TREAT\"}", "query is required", "query_missing"},
        {"zq-m7", "{\"query\":\"" + "a".repeat(4001) + "\",\"purposeOfUse\":\"TREAT\"}", "query is too long",
            "query_too_long"},
        {"zq-m8", "{\"query\":\"chest pain\",\"k\":0,\"purposeOfUse\":\"TREAT\"}", "k must be 1 to 100", "k_out_of_range"},
        // invisible characters alone: the model had nothing to embed, and it was a 502 "retry later"
        {"zq-m13", "{\"query\":\"\\u200b\",\"purposeOfUse\":\"TREAT\"}", "query has no words", "query_missing"},
        // a NUL (or any control but tab and newlines) within words was embedded, sent on and answered 200
        {"zq-m16", "{\"query\":\"chest\\u0000pain\",\"purposeOfUse\":\"TREAT\"}",
            "query holds a control character (U+0000 to U+001F", "query_malformed"},
        // content after the object was ignored: the request was served (200) and the field never refused
        // (and the 400 said "not valid JSON" of sound JSON: it now says what is wrong)
        {"zq-m12", "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\"} {\"maxResults\":3}",
            "the body has content after its JSON value: send a JSON object with the fields query", "body_malformed"},
        {"zq-m14", "{\"query\":\"chest pain\",\"query\":\"Jane Doe\",\"purposeOfUse\":\"TREAT\"}",
            "an object in the body names a member twice: send a JSON object with the fields query", "body_malformed"},
        // sound JSON past the parser's depth was "not valid JSON": the caller had no syntax to fix
        {"zq-m15", "{\"query\":" + "[".repeat(1500) + "]".repeat(1500) + ",\"purposeOfUse\":\"TREAT\"}",
            "the body nests objects and arrays deeper than 1000 levels, which no field of it needs: send a JSON object "
                + "with the fields query", "body_malformed"}};
    for (String[] c : refused) {
      HttpResponse<String> r = context(dr, "ward", c[0], c[1]);
      assertThat(r.statusCode()).as(c[1]).isEqualTo(400);
      assertThat(r.body()).as(c[1]).contains("\"error\":\"bad_request\"").contains(c[2]).doesNotContain("chest pain")
          .doesNotContain("many");
      String row = app.call("GET", "/v1/ward/audit?patient=" + c[0], auditor, null).body();
      assertThat(row).as(c[1]).contains("\"reason\":\"" + c[3] + "\"").contains("\"decision\":\"denied\"")
          .contains("\"principal\":\"dr-malformed\"").contains("\"action\":\"context\"");
    }
    // the purpose of a body that could be read is kept; the question's text never is in plain
    assertThat(app.call("GET", "/v1/ward/audit?patient=zq-m8", auditor, null).body())
        .contains("\"purposeOfUse\":\"TREAT\"");
    HttpResponse<String> chat = app.call("POST", "/v1/ward/patients/zq-m9/chat", dr,
        "{\"question\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"k\":3}");
    assertThat(chat.statusCode()).isEqualTo(400);
    assertThat(chat.body()).contains("an unknown field: this body takes only the fields question, purposeOfUse, reason, "
        + "dryRun, reopen").doesNotContain("'k'");
    assertThat(app.call("GET", "/v1/ward/audit?patient=zq-m9", auditor, null).body())
        .contains("\"reason\":\"body_malformed\"").contains("\"action\":\"chat\"");
    HttpResponse<String> research = app.call("POST", "/v1/ward/research/search", dr,
        "{\"query\":\"chest pain\",\"purposeOfUse\":\"HRESCH\",\"patient\":\"zq-m10\"}");
    assertThat(research.statusCode()).isEqualTo(400);
    assertThat(research.body()).contains("an unknown field: this body takes only the fields query, k, purposeOfUse")
        .doesNotContain("zq-m10");
    assertThat(app.call("GET", "/v1/ward/audit?principal=dr-malformed&limit=50", auditor, null).body())
        .contains("\"action\":\"research\"");
    // a control character in chat's question and research's query too, each refused and audited as the context one
    HttpResponse<String> chatNul = app.call("POST", "/v1/ward/patients/zq-m17/chat", dr,
        "{\"question\":\"chest\\u0000pain\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}");
    assertThat(chatNul.statusCode()).isEqualTo(400);
    assertThat(chatNul.body()).contains("question holds a control character").doesNotContain("chest");
    assertThat(app.call("GET", "/v1/ward/audit?patient=zq-m17", auditor, null).body())
        .contains("\"reason\":\"query_malformed\"").contains("\"action\":\"chat-dry-run\"");
    String researcher = app.tenantWithKey("ward", "res-nul", "[\"researcher\"]", null);
    HttpResponse<String> researchNul = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"chest\\u001bpain\",\"purposeOfUse\":\"HRESCH\"}");
    assertThat(researchNul.statusCode()).isEqualTo(400);
    assertThat(researchNul.body()).contains("query holds a control character").doesNotContain("chest");
    assertThat(app.call("GET", "/v1/ward/audit?principal=res-nul", auditor, null).body())
        .contains("\"reason\":\"query_malformed\"").contains("\"action\":\"research\"");
    // counted with the decisions, under the reason the audit row records
    String metrics = app.call("GET", "/metrics", app.adminKey(), null).body();
    for (String[] m : new String[][] {{"context", "body_malformed"}, {"context", "query_missing"},
        {"context", "query_too_long"}, {"context", "k_out_of_range"}, {"chat", "body_malformed"},
        {"research", "body_malformed"}, {"context", "query_malformed"}, {"chat", "query_malformed"},
        {"research", "query_malformed"}}) {
      assertThat(metrics).contains("carecontext_requests_total{action=\"" + m[0] + "\",decision=\"denied\",reason=\""
          + m[1] + "\",tenant=\"ward\"}");
    }
    // a malformed body on another tenant's path is still that attempt, in the key's own trail
    HttpResponse<String> elsewhere = context(dr, "elsewhere", "zq-m11", "{");
    assertThat(elsewhere.statusCode()).isEqualTo(404);
    assertThat(elsewhere.body()).contains("\"error\":\"tenant_not_found\"");
  }

  @Test
  void anUnknownPurposeIsNamedAsSuchAndAnOverlongQueryAsTooLong() {
    for (String purpose : new String[] {"FOO", "treat"}) {
      HttpResponse<String> r = context(clinician, "ward", "pt-1", "{\"query\":\"x\",\"purposeOfUse\":\"" + purpose + "\"}");
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.body()).contains("\"error\":\"purpose_unknown\"")
          .contains("purposeOfUse is not one of TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH").doesNotContain(purpose);
    }
    assertThat(context(clinician, "ward", "pt-1", "{\"query\":\"x\"}").body()).contains("\"error\":\"purpose_required\"");
    String trail = app.call("GET", "/v1/ward/audit?principal=dr-a&limit=20", auditor, null).body();
    assertThat(trail).contains("\"reason\":\"purpose_unknown\"").contains("\"reason\":\"purpose_missing\"");
    // the caller's string is not kept in the plain purpose column: it could be anything, a name included
    assertThat(trail).contains("\"purposeOfUse\":\"(unknown)\"").doesNotContain("FOO").doesNotContain("\"treat\"");
    HttpResponse<String> longQuery = context(clinician, "ward", "pt-1",
        "{\"query\":\"" + "a".repeat(6000) + "\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(longQuery.statusCode()).isEqualTo(400);
    assertThat(longQuery.body()).contains("query is too long: at most 4000 characters");
    // 3,001 characters, 6,001 UTF-16 units: within 4,000 characters, so served (it was "too long")
    HttpResponse<String> emoji = context(clinician, "ward", "pt-1",
        "{\"query\":\"HbA1c " + "\uD83D\uDE00".repeat(3000) + "\",\"k\":1,\"purposeOfUse\":\"TREAT\"}");
    assertThat(emoji.statusCode()).as(emoji.body()).isEqualTo(200);
  }

  /**
   * A read of the trail refused for its parameters is itself in the trail, naming the patient it asked
   * about: an auditor's refused attempt on a patient's bodies left no row.
   */
  @Test
  void aReadOfTheTrailRefusedForItsParametersIsRecorded() {
    String typo = app.tenantWithKey("ward", "aud-typo", "[\"auditor\"]", null);
    for (String bad : List.of("patient=pt-1&includeBodies=yes", "patient=pt-1&limit=all", "patient=pt-1&patientId=pt-2")) {
      assertThat(app.call("GET", "/v1/ward/audit?" + bad, typo, null).statusCode()).as(bad).isEqualTo(400);
    }
    assertThat(app.call("GET", "/v1/ward/audit/verify?x=1", typo, null).statusCode()).isEqualTo(400);
    assertThat(app.call("GET", "/v1/ward/audit/export?patientId=pt-1", typo, null).statusCode()).isEqualTo(400);
    String rows = app.call("GET", "/v1/ward/audit?principal=aud-typo&limit=100", auditor, null).body();
    assertThat(rows.split("\"reason\":\"filter_malformed\"", -1)).hasSize(6);
    String reads = app.call("GET", "/v1/ward/audit?principal=aud-typo&action=audit-read&patient=pt-1", auditor, null)
        .body();
    assertThat(reads).contains("\"count\":3").contains("\"decision\":\"denied\"")
        .doesNotContain("\"decision\":\"allowed\"");
    assertThat(app.call("GET", "/v1/ward/audit?principal=aud-typo&action=audit-verify", auditor, null).body())
        .contains("\"count\":1").contains("filter_malformed");
    assertThat(app.call("GET", "/v1/ward/audit?principal=aud-typo&action=audit-export", auditor, null).body())
        .contains("\"count\":1").contains("filter_malformed");
  }

  @Test
  void auditFiltersThatAreMisspeltRepeatedOrEmptyAreRefused() {
    // ?patientId= was ignored and the whole trail came back; repeated and empty filters matched nothing
    for (String[] bad : new String[][] {{"patientId=zq-1", "an unknown query parameter; this endpoint takes patient,"},
        {"patient=a&patient=b", "query parameter 'patient' may be given only once"},
        {"limit=5&limit=6", "query parameter 'limit' may be given only once"},
        {"patient=", "query parameter 'patient' must not be empty"},
        {"principal=", "query parameter 'principal' must not be empty"},
        // a misspelt action matched nothing: an empty 200 said nobody had changed the record
        {"action=fhir_write", "action must be one of admin-request, audit-export, audit-purge, audit-read, audit-verify, "
            + "authenticate, break-glass-review, break-glass-window, chat, chat-dry-run, context, data-key-rotate, fhir-read, fhir-write, ingest-parked-read, "
            + "ingest-parked-retry, kek-rotate, key-create, key-list, key-revoke, patient-erase, request, research, tenant-read, tenant-settings"}}) {
      HttpResponse<String> r = app.call("GET", "/v1/ward/audit?" + bad[0], auditor, null);
      assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
      assertThat(r.body()).as(bad[0]).contains("\"error\":\"bad_request\"").contains(bad[1]).doesNotContain("zq-1");
    }
    assertThat(app.call("GET", "/v1/ward/audit?patient=pt-1&limit=5", auditor, null).statusCode()).isEqualTo(200);
    // verify takes no parameter, export only a patient's: one else sent was ignored, and the whole trail came back
    for (String[] path : new String[][] {{"/v1/ward/audit/verify?x=1", "this endpoint takes none"},
        {"/v1/ward/audit/export?patientId=pt-1", "this endpoint takes patient, patientIdentifier"}}) {
      HttpResponse<String> r = app.call("GET", path[0], auditor, null);
      assertThat(r.statusCode()).as(path[0]).isEqualTo(400);
      assertThat(r.body()).as(path[0]).contains(path[1]).doesNotContain("pt-1");
    }
  }

  @Test
  void aKeyIsRateLimitedWithRetryAfter() {
    String limited = app.tenantWithKey("slow", "dr-s", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    app.call("PATCH", "/admin/tenants/slow", app.adminKey(), "{\"settings\":{\"rateLimitPerMinute\":3}}");
    HttpResponse<String> last = null;
    for (int i = 0; i < 5; i++) {
      last = context(limited, "slow", "pt-x", "{\"query\":\"q\",\"purposeOfUse\":\"TREAT\"}");
    }
    assertThat(last.statusCode()).isEqualTo(429);
    assertThat(last.headers().firstValue("Retry-After")).isPresent();
  }

  @Test
  void aKeyLoopingPastItsRateLimitAddsABoundedNumberOfRowsToTheTrail() {
    // each 429 wrote a row: a key looping past its limit grew the trail without bound and took the
    // audit writer every tenant's reads wait on
    String looping = app.tenantWithKey("looping", "dr-l", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String aud = app.tenantWithKey("looping", "aud-l", "[\"auditor\"]", null);
    app.call("PATCH", "/admin/tenants/looping", app.adminKey(), "{\"settings\":{\"rateLimitPerMinute\":1}}");
    int refused = 0;
    long started = System.nanoTime();
    for (int i = 0; i < 50; i++) {
      if (context(looping, "looping", "pt-x", "{\"query\":\"q\",\"purposeOfUse\":\"TREAT\"}").statusCode() == 429) {
        refused++;
      }
    }
    assertThat(refused).isGreaterThanOrEqualTo(45); // every one past the first, less what the refill let through
    int most = mostRefusalRows(started);
    String trail = app.call("GET", "/v1/looping/audit?principal=dr-l&limit=1000", aud, null).body();
    int rows = trail.split("\"reason\":\"rate_limited\"", -1).length - 1;
    // at most the row budget (a burst of 30, and what refilled during the loop), far fewer than the refusals
    assertThat(rows).as(trail).isBetween(30, most).isLessThan(refused);
  }

  @Test
  void aKeySendingBadBodiesInALoopAddsABoundedNumberOfRowsToTheTrail() {
    // checked before the rate limit, so not bounded by it: each malformed body wrote a row
    String sloppy = app.tenantWithKey("sloppy", "dr-b", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String aud = app.tenantWithKey("sloppy", "aud-b", "[\"auditor\"]", null);
    long started = System.nanoTime();
    for (int i = 0; i < 45; i++) {
      assertThat(context(sloppy, "sloppy", "pt-x", "{\"query\":").statusCode()).isEqualTo(400);
    }
    int most = mostRefusalRows(started);
    String trail = app.call("GET", "/v1/sloppy/audit?principal=dr-b&limit=1000", aud, null).body();
    int rows = trail.split("\"reason\":\"body_malformed\"", -1).length - 1;
    assertThat(rows).as(trail).isBetween(30, most);
  }

  @Test
  void aKeyRefusedTheAuditTrailInALoopAddsABoundedNumberOfRowsToIt() {
    // every refusal on the trail's paths wrote a row into the trail itself, without bound
    String nosy = app.tenantWithKey("nosy", "dr-n", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String aud = app.tenantWithKey("nosy", "aud-n", "[\"auditor\"]", null);
    long started = System.nanoTime();
    HttpResponse<String> first = app.call("GET", "/v1/nosy/audit/verify", nosy, null);
    assertThat(first.statusCode()).isEqualTo(403);
    for (int i = 1; i < 45; i++) {
      HttpResponse<String> again = app.call("GET", i % 2 == 0 ? "/v1/nosy/audit/verify" : "/v1/nosy/audit", nosy, null);
      assertThat(again.statusCode()).isEqualTo(403);
      assertThat(again.body()).isEqualTo(first.body()); // the same refusal past the budget
    }
    int most = mostRefusalRows(started);
    String trail = app.call("GET", "/v1/nosy/audit?principal=dr-n&limit=1000", aud, null).body();
    int rows = trail.split("\"reason\":\"role_not_allowed\"", -1).length - 1;
    assertThat(rows).as(trail).isBetween(30, most);
    // the auditor's own reads are recorded whatever the budget of another key's refusals
    String reads = app.call("GET", "/v1/nosy/audit?principal=aud-n&limit=1000", aud, null).body();
    assertThat(reads.split("\"action\":\"audit-read\"", -1)).hasSize(2);
  }

  /**
   * The most rows a key's refusals of one kind can have added since {@code startedNanos}: the burst of 30, and one
   * for each refill (one every 2 s) since. A loop of 45 requests outlasts a few refills on a busy machine, and a
   * fixed bound of 33 failed there.
   */
  static int mostRefusalRows(long startedNanos) {
    return 30 + (int) ((System.nanoTime() - startedNanos) / 2_000_000_000L);
  }

  @Test
  void researchSearchIsRateLimitedPerKeyToo() {
    // Only context and chat took from the key's budget: a researcher key could search across every
    // consenting patient as often as it liked, whatever rateLimitPerMinute said.
    String researcher = app.tenantWithKey("slowres", "res-s", "[\"researcher\"]", null);
    String aud = app.tenantWithKey("slowres", "aud-s", "[\"auditor\"]", null);
    app.call("PATCH", "/admin/tenants/slowres", app.adminKey(), "{\"settings\":{\"rateLimitPerMinute\":2}}");
    HttpResponse<String> last = null;
    for (int i = 0; i < 3; i++) {
      last = app.call("POST", "/v1/slowres/research/search", researcher,
          "{\"query\":\"q\",\"purposeOfUse\":\"HRESCH\"}");
    }
    assertThat(last.statusCode()).as(last.body()).isEqualTo(429);
    assertThat(last.body()).contains("\"error\":\"rate_limited\"");
    assertThat(last.headers().firstValue("Retry-After")).isPresent();
    // when to come back and who sets the limit ("retry later" said neither)
    assertThat(last.body()).contains("send the request again in " + last.headers().firstValue("Retry-After").get()
        + " s (Retry-After)").contains("settings.rateLimitPerMinute");
    assertThat(app.call("GET", "/v1/slowres/audit?principal=res-s", aud, null).body())
        .contains("\"action\":\"research\",\"decision\":\"denied\",\"reason\":\"rate_limited\"");
  }

  @Test
  void researchSearchWithAnotherPurposeSaysSoRatherThanThatNoneWasSent() {
    // TREAT answered 400 "purpose_required", the code of a request without purposeOfUse: a client
    // branching on the code looked for a missing field.
    String researcher = app.tenantWithKey("ward", "res-p", "[\"researcher\"]", null);
    HttpResponse<String> other = app.call("POST", "/v1/ward/research/search", researcher,
        "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(other.statusCode()).isEqualTo(400);
    assertThat(other.body()).contains("\"error\":\"purpose_not_allowed\"").contains("HRESCH");
    HttpResponse<String> none = app.call("POST", "/v1/ward/research/search", researcher, "{\"query\":\"diabetes\"}");
    assertThat(none.body()).contains("\"error\":\"purpose_required\"");
  }
}
