package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.testing.TestDirectories;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code serve} as its own process, stopped with SIGTERM while an {@code $import} is in flight. The stop closed
 * the connection at once: the sender got no answer (curl: "Empty reply from server") though part of the file was
 * committed. The request is held in flight by its sender: part of the body, a batch the server has committed, then
 * SIGTERM, and the rest of the body only once the process says it is stopping.
 */
class ServeStopIT {

  static final String ADMIN_KEY = "serve-stop-operator-key-0123456789";
  static DatabaseConfig database;
  static Path home;

  Served serve;

  @BeforeAll
  static void database() {
    database = TestPostgres.freshDatabase();
    home = TestDirectories.create("cc-stop");
  }

  @AfterEach
  void end() throws Exception {
    if (serve != null && serve.process.isAlive()) {
      serve.process.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
    }
  }

  /** The head of a chunked {@code $import} to {@code tenant}, whose lines the test then sends as it goes. */
  private void startImport(OutputStream out, String tenant, String feed) throws IOException {
    out.write(("POST /fhir/" + tenant + "/$import HTTP/1.1\r\nHost: 127.0.0.1:" + serve.port + "\r\n"
        + "Authorization: Bearer " + feed + "\r\nContent-Type: application/fhir+ndjson\r\n"
        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void anImportInFlightWhenSigtermComesGetsItsFullAnswerAndTheProcessExitsAsDocumented() throws Exception {
    serve = Served.start(Map.of());
    String feed = feedKey(serve, "stopping");
    try (Socket socket = new Socket("127.0.0.1", serve.port)) {
      OutputStream out = socket.getOutputStream();
      startImport(out, "stopping", feed);
      chunk(out, patients(0, 250)); // a batch of 200 is committed; the importer then waits for more lines
      awaitResources(serve, "stopping", 200);

      serve.process.toHandle().destroy(); // SIGTERM (Process.destroy would close the output this test reads)
      serve.awaitOutput(line -> line.startsWith("CareContext stopping"));

      chunk(out, patients(250, 300));
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = readAll(socket.getInputStream());
      assertThat(answer).startsWith("HTTP/1.1 200").contains("lines 300, written 300");
    }
    assertThat(serve.process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(serve.process.exitValue()).as(serve.output()).isEqualTo(143); // 128 + SIGTERM, as the README says
    assertThat(serve.output()).contains("CareContext stopped");
  }

  @Test
  void aRequestLongerThanTheGracePeriodIsCutAndTheStopSaysSo() throws Exception {
    serve = Served.start(Map.of("CARECONTEXT_SHUTDOWN_GRACE_SECONDS", "1"));
    String feed = feedKey(serve, "cut");
    try (Socket socket = new Socket("127.0.0.1", serve.port)) {
      OutputStream out = socket.getOutputStream();
      startImport(out, "cut", feed);
      chunk(out, patients(1000, 1001)); // the rest never comes
      out.flush();
      serve.process.toHandle().destroy();
      // the log is kept until the stop ends, so the framework's word on the cut request is not lost
      serve.awaitOutput(line -> line.contains("Timeout hit in graceful shutdown"));
      assertThat(readAll(socket.getInputStream())).isEmpty(); // no answer: the sender re-sends (README, Stop)
    }
    assertThat(serve.process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(serve.process.exitValue()).as(serve.output()).isEqualTo(143);
  }

  /**
   * A Kubernetes Service drops a terminating pod from its endpoints asynchronously: for a second or more after
   * SIGTERM the ingress still sends it new requests. With CARECONTEXT_SHUTDOWN_DELAY_SECONDS the stop first turns
   * readiness DOWN while the listener still accepts and answers new connections; only then are connections
   * refused, and the process still ends as documented. The delay (10 s) is the product's own wait, long against
   * the few requests made inside it; each assertion waits for its exact condition.
   */
  @Test
  void readinessGoesDownWhileNewConnectionsAreStillAnsweredAndOnlyThenAreTheyRefused() throws Exception {
    serve = Served.start(Map.of("CARECONTEXT_SHUTDOWN_DELAY_SECONDS", "10", "CARECONTEXT_SHUTDOWN_GRACE_SECONDS", "5"));
    assertThat(fresh(serve, "/health/readiness", null).statusCode()).isEqualTo(200);
    feedKey(serve, "draining");

    long sigterm = System.nanoTime();
    serve.process.toHandle().destroy(); // SIGTERM
    serve.awaitOutput(line -> line.startsWith("CareContext draining"));
    // each on a new connection, as a load balancer's probe and a newly routed request would come
    HttpResponse<String> readiness = fresh(serve, "/health/readiness", null);
    long down = System.nanoTime();
    HttpResponse<String> routed = fresh(serve, "/admin/tenants/draining/ingest", ADMIN_KEY);
    HttpResponse<String> liveness = fresh(serve, "/health/liveness", null);
    assertThat(serve.output()).as("the drain was still on when they were answered").doesNotContain("CareContext stopping");
    assertThat(readiness.statusCode()).isEqualTo(503);
    assertThat(readiness.body()).as("the probe's answer says a stop, not the database")
        .isEqualTo("{\"status\":\"DOWN\",\"details\":{\"down\":[\"shutdown\"]}}");
    assertThat(routed.statusCode()).as(routed.body()).isEqualTo(200);
    assertThat(liveness.statusCode()).as("the process is leaving, not wedged: no restart").isEqualTo(200);

    serve.awaitOutput(line -> line.startsWith("CareContext stopping"));
    long stopping = System.nanoTime();
    awaitRefused(serve);
    long refused = System.nanoTime();
    assertThat(serve.process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    long exited = System.nanoTime();
    assertThat(serve.process.exitValue()).as(serve.output()).isEqualTo(143);
    assertThat(serve.output()).contains("CareContext stopped");
    // measured, not asserted (speed belongs to benchmarks): the figures the README's drain section quotes
    System.out.printf("drain timings after SIGTERM: readiness 503 at %d ms, listener closing at %d ms, first refused "
        + "connection at %d ms, exit at %d ms%n", millis(sigterm, down), millis(sigterm, stopping),
        millis(sigterm, refused), millis(sigterm, exited));
  }

  /**
   * demo's progress, while it waits for the embeddings, says Ctrl-C stops it. Micronaut's start had registered a
   * hook that stopped the context; the service now starts its server itself, and a stop before it began to wait
   * stopped nothing: no stop message, the context left unstopped, an embedded PostgreSQL left running. (No
   * worker threads here, so the demo waits for its embeddings until it is stopped.)
   */
  @Test
  void aStopWhileTheDemoLoadsItsPatientsStopsTheServiceInFull() throws Exception {
    serve = Served.start(Map.of(), line -> line.startsWith("embed   outbox"), "demo", "--patients", "1");
    serve.process.toHandle().destroy(); // SIGTERM, as Ctrl-C's SIGINT
    assertThat(serve.process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(serve.process.exitValue()).as(serve.output()).isEqualTo(143);
    assertThat(serve.output()).contains("CareContext stopping").contains("CareContext stopped")
        .as("the load's polling, cut by the stop, printed no stack trace").doesNotContain("Exception");
  }

  private static long millis(long from, long to) {
    return TimeUnit.NANOSECONDS.toMillis(to - from);
  }

  /** A request on a connection of its own (the test's shared client would reuse one opened before the stop). */
  private static HttpResponse<String> fresh(Served s, String path, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port + path)).GET();
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    try {
      return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("GET " + path + " on a new connection failed", e);
    }
  }

  /** Waits until a new connection is refused (the listener closed, or the process gone). */
  private static void awaitRefused(Served s) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3); // a bound against a hang, not a timing
    while (System.nanoTime() < deadline) {
      try (Socket probe = new Socket("127.0.0.1", s.port)) {
        Thread.sleep(20);
      } catch (java.net.ConnectException refused) {
        return;
      } catch (IOException other) {
        Thread.sleep(20);
      }
    }
    throw new AssertionError("the listener never closed:\n" + s.output());
  }

  /** A tenant and an ehr-integration key made through its tenant admin. */
  private static String feedKey(Served s, String tenant) {
    assertThat(s.call("POST", "/admin/tenants", ADMIN_KEY, "{\"id\":\"" + tenant + "\"}").statusCode()).isEqualTo(201);
    String ta = secret(s.call("POST", "/admin/tenants/" + tenant + "/keys", ADMIN_KEY,
        "{\"principal\":\"ta\",\"roles\":[\"tenant-admin\"]}"));
    return secret(s.call("POST", "/admin/tenants/" + tenant + "/keys", ta,
        "{\"principal\":\"feed\",\"roles\":[\"ehr-integration\"]}"));
  }

  private static String secret(HttpResponse<String> r) {
    Matcher m = Pattern.compile("\"secret\"\\s*:\\s*\"([^\"]*)\"").matcher(r.body());
    assertThat(m.find()).as(r.statusCode() + " " + r.body()).isTrue();
    return m.group(1);
  }

  /** Waits until the tenant holds {@code n} resources (the importer committed its first batch). */
  private static void awaitResources(Served s, String tenant, long n) throws InterruptedException {
    Pattern resources = Pattern.compile("\"resources\"\\s*:\\s*(\\d+)");
    for (int i = 0; i < 1200; i++) {
      Matcher m = resources.matcher(s.call("GET", "/admin/tenants/" + tenant + "/ingest", ADMIN_KEY, null).body());
      if (m.find() && Long.parseLong(m.group(1)) >= n) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the import's first batch was never committed");
  }

  private static byte[] patients(int from, int to) {
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      b.append("{\"resourceType\":\"Patient\",\"id\":\"stop-p").append(i)
          .append("\",\"name\":[{\"family\":\"Stopfam\",\"given\":[\"Pat\"]}],\"gender\":\"female\"}\n");
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void chunk(OutputStream out, byte[] data) throws Exception {
    out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(data);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static String readAll(InputStream in) throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try {
      in.transferTo(all);
    } catch (java.net.SocketException reset) {
      // a connection closed with data unread is reset: what came before it is the answer
    }
    return all.toString(StandardCharsets.UTF_8);
  }

  /** {@code serve} in its own JVM (this test's class path) on the test database, its output kept. */
  static final class Served {
    final Process process;
    final int port;
    private final List<String> lines = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    private Served(Process process, Predicate<String> up) throws Exception {
      this.process = process;
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            synchronized (lines) {
              lines.add(line);
              lines.notifyAll();
            }
          }
        } catch (java.io.IOException ended) {
          // the process is gone
        } finally {
          synchronized (lines) {
            lines.add(null); // the end
            lines.notifyAll();
          }
        }
      }, "serve-output");
      reader.setDaemon(true);
      reader.start();
      String ready = awaitOutput(up);
      this.port = ready.startsWith("CareContext listening on port ") ? Integer.parseInt(ready.replaceAll("\\D+", "")) : -1;
    }

    static Served start(Map<String, String> env) throws Exception {
      return start(env, line -> line.startsWith("CareContext listening on port "), "serve");
    }

    /** {@code command} in its own JVM, returned once it printed the line {@code up} matches. */
    static Served start(Map<String, String> env, Predicate<String> up, String... command) throws Exception {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), Application.class.getName()));
      cmd.addAll(List.of(command));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().keySet().removeIf(k -> k.startsWith("CARECONTEXT_"));
      pb.environment().putAll(Map.of(
          "CARECONTEXT_DB_URL", database.jdbcUrl(),
          "CARECONTEXT_DB_USER", database.ownerUser(),
          "CARECONTEXT_DB_PASSWORD", database.ownerPassword(),
          "CARECONTEXT_DB_APP_USER", database.appUser(),
          "CARECONTEXT_DB_APP_PASSWORD", database.appPassword(),
          "CARECONTEXT_DB_ROLE_PREFIX", database.rolePrefix(),
          "CARECONTEXT_HOME", home.toString(),
          "CARECONTEXT_PORT", "-1",
          "CARECONTEXT_ADMIN_KEY", ADMIN_KEY,
          "CARECONTEXT_WORKER_THREADS", "0"));
      pb.environment().putAll(env);
      return new Served(pb.start(), up);
    }

    /** The first output line that matches, waiting for it; fails if the process ends without one. */
    String awaitOutput(Predicate<String> wanted) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3); // a bound against a hang, not a timing
      synchronized (lines) {
        for (int seen = 0; System.nanoTime() < deadline; ) {
          while (seen < lines.size()) {
            String line = lines.get(seen++);
            if (line == null) {
              throw new AssertionError("serve ended without the awaited line:\n" + output());
            }
            if (wanted.test(line)) {
              return line;
            }
          }
          lines.wait(1000);
        }
      }
      throw new AssertionError("serve never printed the awaited line:\n" + output());
    }

    String output() {
      synchronized (lines) {
        return String.join("\n", lines.stream().filter(java.util.Objects::nonNull).toList());
      }
    }

    HttpResponse<String> call(String method, String path, String key, String body) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      try {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (Exception e) {
        throw new AssertionError(method + " " + path + " failed", e);
      }
    }
  }
}
