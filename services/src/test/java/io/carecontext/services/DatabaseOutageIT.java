package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.TenantId;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The database going away under a running service, as a cut network does it (the hard case:
 * nothing is refused or reset, nothing answers): readiness says so within seconds, requests fail
 * with 503 within the connect timeout and store nothing, liveness stays up, and all of it comes
 * back when the database answers again. Times are bounded generously: this is about not waiting
 * for a 10 s pool timeout or the operating system, not about speed.
 */
class DatabaseOutageIT {

  static final int CONNECT_TIMEOUT_SECONDS = 2;
  static final String QUESTION = "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}";

  static DatabaseGate gate;
  static TestServer app;
  static String feed;
  static String clinician;
  static String auditor;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"), direct -> {
      gate = new DatabaseGate(direct.jdbcUrl());
      return new DatabaseConfig(gate.route(direct.jdbcUrl()), direct.ownerUser(), direct.ownerPassword(),
          direct.appUser(), direct.appPassword(), direct.rolePrefix(), direct.appPoolSize(), CONNECT_TIMEOUT_SECONDS);
    });
    feed = app.tenantWithKey("clinic", "feed", "[\"ehr-integration\"]", null);
    clinician = app.tenantWithKey("clinic", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    auditor = app.tenantWithKey("clinic", "aud", "[\"auditor\"]", null);
    HttpResponse<String> r = app.call("POST", "/fhir/clinic", feed, TestServer.CONSENTED_PATIENT_BUNDLE,
        "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("clinic"));
  }

  @AfterAll
  static void stop() {
    app.close();
    gate.close();
  }

  @Test
  void aCutDatabaseIsReportedWithinSecondsRequestsFailFastAndAllRecoversWhenItAnswersAgain() {
    assertThat(app.call("GET", "/health/readiness", null, null).statusCode()).isEqualTo(200);
    assertThat(context().statusCode()).isEqualTo(200);
    long contextsBefore = contextRows();

    gate.cut();
    try {
      // a readiness answer is reused for a second, so the first after the cut may still be UP
      Timed ready = timed(() -> poll(() -> app.call("GET", "/health/readiness", null, null), 200, 5_000));
      assertThat(ready.response.statusCode()).as(ready.response.body()).isEqualTo(503);
      assertThat(ready.response.body()).as("the probe's answer names what is down")
          .isEqualTo("{\"status\":\"DOWN\",\"details\":{\"down\":[\"database\"]}}");
      assertThat(ready.millis).as("time from the cut to readiness DOWN").isLessThan(3_000);

      Timed live = timed(() -> app.call("GET", "/health/liveness", null, null));
      assertThat(live.response.statusCode()).as(live.response.body()).isEqualTo(200);
      assertThat(live.millis).as("liveness answer time").isLessThan(2_000);

      long bound = CONNECT_TIMEOUT_SECONDS * 1_000L + 3_000;
      Timed context = timed(DatabaseOutageIT::context);
      assertThat(context.response.statusCode()).as(context.response.body()).isEqualTo(503);
      assertThat(context.response.headers().firstValue("Retry-After")).contains("5");
      assertThat(context.response.body()).startsWith("{\"error\":\"unavailable\"").doesNotContain("pt-1")
          .doesNotContain("diabetes");
      assertThat(context.millis).as("context answer time").isLessThan(bound);
      // answered by the service, not lost on the way: the access log (which sets this header) has it
      assertThat(context.response.headers().firstValue("X-Request-Id")).isPresent();

      Timed fhir = timed(() -> app.call("PUT", "/fhir/clinic/Patient/pt-new", feed,
          "{\"resourceType\":\"Patient\",\"id\":\"pt-new\",\"gender\":\"female\"}", "application/fhir+json"));
      assertThat(fhir.response.statusCode()).as(fhir.response.body()).isEqualTo(503);
      assertThat(fhir.response.body()).contains("OperationOutcome").contains("\"transient\"").doesNotContain("pt-new");
      assertThat(fhir.millis).as("FHIR answer time").isLessThan(bound);
      assertThat(fhir.response.headers().firstValue("Content-Type")).hasValueSatisfying(
          type -> assertThat(type).startsWith("application/fhir+json"));
      assertThat(fhir.response.headers().firstValue("Retry-After")).contains("5");

      // The admin API meets the outage in its repositories, past authentication: the same 503, and
      // one warning line rather than the framework's stack trace.
      ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
          org.slf4j.Logger.ROOT_LOGGER_NAME);
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
          new ch.qos.logback.core.read.ListAppender<>();
      logged.start();
      root.addAppender(logged);
      Timed admin;
      try {
        admin = timed(() -> app.call("GET", "/admin/tenants/clinic", app.adminKey(), null));
      } finally {
        root.detachAppender(logged);
      }
      assertThat(admin.response.statusCode()).as(admin.response.body()).isEqualTo(503);
      assertThat(admin.response.headers().firstValue("Retry-After")).contains("5");
      assertThat(admin.millis).as("admin answer time").isLessThan(bound);
      assertThat(logged.list).as("log lines of the refused admin request")
          .noneMatch(event -> event.getThrowableProxy() != null)
          .filteredOn(event -> event.getLevel() == ch.qos.logback.classic.Level.WARN
              && event.getFormattedMessage().contains("answered 503"))
          .hasSize(1);

      // asked again at once: still down, and answered without waiting for the database again
      Timed again = timed(() -> app.call("GET", "/health/readiness", null, null));
      assertThat(again.response.statusCode()).isEqualTo(503);
      assertThat(again.millis).isLessThan(3_000);
    } finally {
      gate.restore();
    }

    // that it recovers is asserted, not how soon: on a loaded CI machine the pool may take longer than 10 s
    HttpResponse<String> back = poll(() -> app.call("GET", "/health/readiness", null, null), 503, 60_000);
    assertThat(back.statusCode()).as("readiness after the database is back").isEqualTo(200);
    assertThat(back.body()).contains("UP");
    HttpResponse<String> served = poll(DatabaseOutageIT::context, 503, 60_000);
    assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
    assertThat(served.body()).contains("Type 2 diabetes mellitus");
    // nothing of the refused write was stored, and the refused read left no audit row: the trail
    // was out of reach, so the request was refused before anything was read
    assertThat(app.call("GET", "/fhir/clinic/Patient/pt-new", feed, null).statusCode()).isEqualTo(404);
    assertThat(contextRows()).isEqualTo(contextsBefore + 1);
    assertThat(app.call("GET", "/v1/clinic/audit/verify", auditor, null).body()).contains("\"valid\":true");
  }

  private static HttpResponse<String> context() {
    return app.call("POST", "/v1/clinic/patients/pt-1/context", clinician, QUESTION);
  }

  /** Audit rows of context reads of the patient. */
  private static long contextRows() {
    String body = app.call("GET", "/v1/clinic/audit?patient=pt-1", auditor, null).body();
    return body.split("\"action\":\"context\"", -1).length - 1;
  }

  private record Timed(HttpResponse<String> response, long millis) {}

  private static Timed timed(Supplier<HttpResponse<String>> call) {
    long started = System.nanoTime();
    HttpResponse<String> r = call.get();
    return new Timed(r, (System.nanoTime() - started) / 1_000_000);
  }

  /** The first answer with another status than {@code status}, or the last one when the time is up. */
  private static HttpResponse<String> poll(Supplier<HttpResponse<String>> call, int status, long millis) {
    long deadline = System.nanoTime() + millis * 1_000_000;
    HttpResponse<String> r = call.get();
    while (r.statusCode() == status && System.nanoTime() < deadline) {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      r = call.get();
    }
    return r;
  }
}
