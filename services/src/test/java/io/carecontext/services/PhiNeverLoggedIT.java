package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * HIPAA's rule for this service, proven from outside: no PHI in application logs, error messages or
 * exceptions. One patient whose identifiers are words found nowhere else (canaries) goes through every
 * path that handles PHI — ingest, refused FHIR bodies that carry the identifiers in the wrong places,
 * context, break-glass, chat (with a model endpoint whose error body echoes the prompt), research,
 * the audit trail — with the service's own log level lowered to DEBUG. Every log line (message,
 * arguments, exception messages and stack frames, MDC) and every error answer's body is then searched
 * for each canary.
 */
class PhiNeverLoggedIT {

  /** The patient's identifiers: a name, an MRN, a phone number, a street, an id that is a name. */
  static final List<String> CANARIES = List.of("Zintlemayer", "Quorabel", "QX77310452", "867-3309", "Wexmoor");

  static final String PATIENT = "zintlemayer-q";
  static final String TENANT = "canary";

  static TestServer app;
  static HttpServer model;
  static final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  static final List<HttpResponse<String>> refused = new ArrayList<>();
  static Level ownLevel;
  static String feed;
  static String clinician;
  static String researcher;
  static String auditor;

  @BeforeAll
  static void start() throws Exception {
    logged.start();
    root().addAppender(logged);
    Logger own = (Logger) LoggerFactory.getLogger("io.carecontext");
    ownLevel = own.getLevel();
    own.setLevel(Level.DEBUG);
    // A model endpoint that fails the way providers do: a 400 whose body quotes the request back.
    model = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    model.createContext("/v1/chat/completions", quotingRefusal());
    // and an embedding endpoint that refuses the same way, quoting the texts it was sent
    model.createContext("/v1/embeddings", quotingRefusal());
    model.start();
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    feed = app.tenantWithKey(TENANT, "feed", "[\"ehr-integration\"]", null);
    clinician = app.tenantWithKey(TENANT, "dr-c", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    researcher = app.tenantWithKey(TENANT, "res", "[\"researcher\"]", null);
    auditor = app.tenantWithKey(TENANT, "aud", "[\"auditor\"]", null);
    HttpResponse<String> settings = app.call("PATCH", "/admin/tenants/" + TENANT, app.adminKey(),
        "{\"settings\":{\"researchIndex\":false,\"llm\":{\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:"
            + model.getAddress().getPort() + "/v1\",\"model\":\"test-model\",\"baaCovered\":true,\"maxRetries\":0}]}}}");
    assertThat(settings.statusCode()).as(settings.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    root().detachAppender(logged);
    ((Logger) LoggerFactory.getLogger("io.carecontext")).setLevel(ownLevel);
    if (app != null) {
      app.close();
    }
    if (model != null) {
      model.stop(0);
    }
  }

  /** A 400 whose error message quotes the request's body back, as providers' messages do. */
  private static com.sun.net.httpserver.HttpHandler quotingRefusal() {
    return ex -> {
      byte[] echoed = ("{\"error\":{\"message\":\"invalid request: "
          + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).replace("\"", "'")
          + "\"}}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(400, echoed.length);
      ex.getResponseBody().write(echoed);
      ex.close();
    };
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Test
  void noPathPutsThePatientsIdentifiersInALogLineOrAnErrorAnswer() {
    ingest();
    refusedFhirBodies();
    context();
    chatAndResearch();
    audit();
    embeddingFailures();

    assertThat(logged.list).as("the capture saw the requests' own lines, the failed chat's among them")
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("/chat status=502"));
    for (ILoggingEvent e : logged.list) {
      String line = everything(e).toLowerCase(Locale.ROOT);
      for (String canary : CANARIES) {
        assertThat(line).as("a %s line of %s", e.getLevel(), e.getLoggerName())
            .doesNotContain(canary.toLowerCase(Locale.ROOT));
      }
    }
    assertThat(refused).as("error answers checked").hasSizeGreaterThan(15);
    for (HttpResponse<String> r : refused) {
      for (String canary : CANARIES) {
        assertThat(r.body().toLowerCase(Locale.ROOT)).as("the %d answer to %s %s", r.statusCode(),
            r.request().method(), r.request().uri().getPath().replace(PATIENT, "{patient}"))
            .doesNotContain(canary.toLowerCase(Locale.ROOT));
      }
    }
  }

  private static void ingest() {
    ingest(TENANT, feed);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(TENANT));
  }

  /**
   * The same patient in a tenant whose embedding endpoint refuses every text, quoting it: what the
   * worker logs and what the tenant's admin reads of the failures (lastError, the parked rows).
   */
  private static void embeddingFailures() {
    String tenant = TENANT + "_embed";
    String feedKey = app.tenantWithKey(tenant, "feed", "[\"ehr-integration\"]", null);
    HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:"
            + model.getAddress().getPort() + "/v1\",\"model\":\"m\",\"dimensions\":8,\"baaCovered\":true,"
            + "\"maxRetries\":0,\"timeoutSeconds\":5}}}");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    ingest(tenant, feedKey);
    for (int attempt = 0; attempt < 6; attempt++) {
      app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    }
    for (String path : List.of("/ingest", "/ingest/parked")) {
      HttpResponse<String> r = app.call("GET", "/admin/tenants/" + tenant + path, app.adminKey(), null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      refused.add(r); // what it says of the failures: no text of the record's
    }
  }

  private static void ingest(String tenant, String key) {
    String bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"%1$s","gender":"female","birthDate":"1961-04-17",
             "name":[{"family":"Zintlemayer","given":["Quorabel"]}],
             "identifier":[{"system":"urn:oid:1.2.36.146.595.217.0.1","value":"QX77310452"}],
             "telecom":[{"system":"phone","value":"555-867-3309"}],
             "address":[{"line":["4417 Wexmoor Lane"],"city":"Springfield","state":"IL"}]},
           "request":{"method":"PUT","url":"Patient/%1$s"}},
          {"resource":{"resourceType":"Consent","id":"cs-1","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-1"}},
          {"resource":{"resourceType":"Encounter","id":"en-1","status":"finished","class":{"code":"AMB"},
             "subject":{"reference":"Patient/%1$s"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]},
           "request":{"method":"PUT","url":"Encounter/en-1"}},
          {"resource":{"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/%1$s"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"29857009","display":"Chest pain"}]},
             "note":[{"text":"Quorabel Zintlemayer (MRN QX77310452, 555-867-3309, 4417 Wexmoor Lane) reports chest pain."}]},
           "request":{"method":"PUT","url":"Condition/cn-1"}}]}""".formatted(PATIENT);
    HttpResponse<String> r = app.call("POST", "/fhir/" + tenant, key, bundle, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** FHIR bodies refused with the identifiers where a value, a code, a date or a reference goes. */
  private static void refusedFhirBodies() {
    String base = "/fhir/" + TENANT;
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"gender\":\"Zintlemayer\"}");
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"birthDate\":\"Quorabel-1961\"}");
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zintlemayer\"");
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"active\":\"QX77310452\"}");
    refuse("PUT", base + "/Patient/zintlemayer-a", feed, "{\"resourceType\":\"Patient\",\"id\":\"zintlemayer-b\"}");
    refuse("POST", base + "/Condition", feed, "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
        + "\"Patient/zintlemayer-missing\"},\"onsetDateTime\":\"Wexmoor\"}");
    refuse("POST", base, feed, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Observation\",\"status\":\"Quorabel\",\"code\":{\"text\":\"Zintlemayer\"},"
        + "\"subject\":{\"reference\":\"Patient/zintlemayer-missing\"}},\"request\":{\"method\":\"POST\","
        + "\"url\":\"Observation\"}}]}");
    HttpResponse<String> imported = app.call("POST", base + "/$import", feed,
        "{\"resourceType\":\"Patient\",\"gender\":\"Zintlemayer\"}\n{\"resourceType\":\"Patient\",\"name\":[{\"family\"\n",
        "application/fhir+ndjson");
    assertThat(imported.statusCode()).as(imported.body()).isGreaterThanOrEqualTo(200);
    refused.add(imported); // its summary lists the refused lines: no value of theirs
    refuse("GET", base + "/Patient/zintlemayer-nope", feed, null);
    refuse("GET", base + "/Patient/" + PATIENT, clinician, null);
    refuse("DELETE", base + "/Patient/zintlemayer-nope", clinician, null);
  }

  private static void context() {
    String path = "/v1/" + TENANT + "/patients/" + PATIENT + "/context";
    HttpResponse<String> allowed = app.call("POST", path, clinician,
        "{\"query\":\"Zintlemayer chest pain QX77310452\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    refuse("POST", "/v1/" + TENANT + "/patients/zintlemayer-nope/context", clinician,
        "{\"query\":\"Quorabel\",\"purposeOfUse\":\"TREAT\"}");
    refuse("POST", path, clinician, "{\"query\":\"chest pain\",\"purposeOfUse\":\"Zintlemayer\"}");
    refuse("POST", path, clinician, "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"k\":\"Quorabel\"}");
    refuse("POST", path, clinician, "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"Zintlemayer\":1}");
    refuse("POST", path, clinician, "{\"query\":\"Zintlemayer " + "x".repeat(20_000) + "\",\"purposeOfUse\":\"TREAT\"}");
    refuse("POST", path, clinician, "{\"query\":\"Zintlemayer\",\"purposeOfUse\":\"ETREAT\"}");
    refuse("POST", path, researcher, "{\"query\":\"Zintlemayer\",\"purposeOfUse\":\"HRESCH\"}");
    refuse("POST", path, feed, "{\"query\":\"Zintlemayer\",\"purposeOfUse\":\"TREAT\"}");
    HttpResponse<String> glass = app.call("POST", path, clinician,
        "{\"query\":\"Wexmoor\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"Quorabel Zintlemayer unresponsive\"}");
    assertThat(glass.statusCode()).as(glass.body()).isEqualTo(200);
  }

  private static void chatAndResearch() {
    String chat = "/v1/" + TENANT + "/patients/" + PATIENT + "/chat";
    HttpResponse<String> dry = app.call("POST", chat, clinician,
        "{\"question\":\"Does Quorabel Zintlemayer at Wexmoor Lane have chest pain?\",\"purposeOfUse\":\"TREAT\","
            + "\"dryRun\":true}");
    assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
    HttpResponse<String> failed = refuse("POST", chat, clinician,
        "{\"question\":\"Does Quorabel Zintlemayer (QX77310452) have chest pain?\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(failed.statusCode()).as("the model endpoint refused the prompt").isEqualTo(502);
    refuse("POST", chat, clinician, "{\"question\":\"Zintlemayer\",\"purposeOfUse\":\"TREAT\",\"dryRun\":\"Quorabel\"}");
    refuse("POST", "/v1/" + TENANT + "/patients/zintlemayer-nope/chat", clinician,
        "{\"question\":\"Zintlemayer\",\"purposeOfUse\":\"TREAT\"}");
    HttpResponse<String> search = app.call("POST", "/v1/" + TENANT + "/research/search", researcher,
        "{\"query\":\"Zintlemayer chest pain\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    refuse("POST", "/v1/" + TENANT + "/research/search", researcher,
        "{\"query\":\"Zintlemayer\",\"k\":5,\"purposeOfUse\":\"Quorabel\"}");
    refuse("POST", "/v1/" + TENANT + "/research/search", clinician,
        "{\"query\":\"Zintlemayer\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}");
  }

  private static void audit() {
    String audit = "/v1/" + TENANT + "/audit";
    HttpResponse<String> bodies = app.call("GET", audit + "?includeBodies=true&patient=" + PATIENT, auditor, null);
    assertThat(bodies.statusCode()).as(bodies.body()).isEqualTo(200);
    assertThat(app.call("GET", audit + "/export", auditor, null).statusCode()).isEqualTo(200);
    assertThat(app.call("GET", audit + "/verify", auditor, null).body()).contains("\"valid\":true");
    refuse("GET", audit + "?patient=" + PATIENT, clinician, null);
    refuse("GET", audit + "?from=Zintlemayer", auditor, null);
    refuse("GET", audit + "?includeBodies=Quorabel", auditor, null);
  }

  /** A request the service must refuse; its answer is kept for the search. */
  private static HttpResponse<String> refuse(String method, String path, String key, String body) {
    HttpResponse<String> r = path.startsWith("/fhir/")
        ? app.call(method, path, key, body, body == null ? null : "application/fhir+json")
        : app.call(method, path, key, body);
    assertThat(r.statusCode()).as("%s %s: %s", method, path.replace(PATIENT, "{patient}"), r.body())
        .isGreaterThanOrEqualTo(400);
    refused.add(r);
    return r;
  }

  /** A log event as a reader of the log could see it: message, arguments, exception chain, MDC. */
  private static String everything(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(e.getFormattedMessage());
    if (e.getArgumentArray() != null) {
      for (Object a : e.getArgumentArray()) {
        b.append(' ').append(a);
      }
    }
    e.getMDCPropertyMap().forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      b.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
      for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
        b.append(' ').append(frame.getSTEAsString());
      }
      for (IThrowableProxy s : t.getSuppressed()) {
        b.append(' ').append(s.getClassName()).append(": ").append(s.getMessage());
      }
    }
    return b.toString();
  }
}
