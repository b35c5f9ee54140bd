package io.carecontext.services.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ingest} shows how far one large file is, not only how many files are done. */
class IngestProgressTest {

  @TempDir Path dir;

  @Test
  void aFileBeingReadSlowlyReportsTheBytesSentUntilTheAnswer() throws Exception {
    Path file = dir.resolve("big.ndjson");
    byte[] line = "{\"resourceType\":\"Observation\",\"id\":\"o\"}\n".getBytes(StandardCharsets.UTF_8);
    byte[] content = new byte[32_000_000]; // well over what loopback socket buffers hold
    for (int i = 0; i < content.length; i++) {
      content[i] = line[i % line.length];
    }
    Files.write(file, content);
    AtomicLong received = new AtomicLong();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      try (InputStream in = exchange.getRequestBody()) {
        byte[] buf = new byte[1024 * 1024];
        long started = System.nanoTime();
        int n;
        while ((n = in.read(buf)) > 0) {
          // a server that stores as it reads, at 8 MB/s
          long due = started + received.addAndGet(n) * 1_000_000_000L / 8_000_000L;
          long wait = due - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000L);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      reply(exchange, 200, "{\"resourceType\":\"OperationOutcome\"}");
    });
    server.start();
    try {
      List<Long> reported = new CopyOnWriteArrayList<>();
      var r = new ApiClient("http://127.0.0.1:" + server.getAddress().getPort(), "k")
          .sendFile("POST", "/fhir/t/$import", file, "application/fhir+ndjson", n -> reported.add(n) && false);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(received.get()).isEqualTo(content.length);
      assertThat(reported).isNotEmpty().isSorted().allSatisfy(n -> assertThat(n).isBetween(0L, (long) content.length));
      assertThat(reported.get(0)).isLessThan(content.length); // seen while it was still going
    } finally {
      server.stop(0);
    }
  }

  /**
   * The service killed mid-import: the connection breaks with no answer. It said re-sending "creates no second
   * version of what was stored", and a feed that re-sent a file of lines without an id stored the lines committed
   * before the kill twice ($import gives such a line a new id each time).
   */
  @Test
  void anImportCutOffByTheServiceDyingSaysThatLinesWithoutAnIdAreStoredAgainWhenResent() throws Exception {
    Path file = dir.resolve("noid.ndjson");
    byte[] line = "{\"resourceType\":\"Observation\",\"status\":\"final\"}\n".getBytes(StandardCharsets.UTF_8);
    byte[] content = new byte[8_000_000];
    for (int i = 0; i < content.length; i++) {
      content[i] = line[i % line.length];
    }
    Files.write(file, content);
    try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread dying = new Thread(() -> {
        try (java.net.Socket s = server.accept()) {
          s.getInputStream().readNBytes(1_000_000); // takes part of the body, then the process is gone
          s.setSoLinger(true, 0);
        } catch (java.io.IOException ignored) {
          // the client went first
        }
      });
      dying.start();
      ApiClient client = new ApiClient("http://127.0.0.1:" + server.getLocalPort(), "k");
      org.assertj.core.api.Assertions.assertThatThrownBy(() ->
              client.sendFile("POST", "/fhir/t/$import", file, "application/fhir+ndjson", n -> false))
          .isInstanceOf(CliException.class)
          .hasMessageContaining("unknown")
          .hasMessageContaining("lines without an \"id\", which are stored again under new ids")
          .hasMessageNotContaining("re-sending it creates no second version of what was stored)");
      dying.join(10_000);
    }
  }

  @Test
  void aLoadWhoseEmbeddingFailsSaysWhyWhileItWaitsAndWhatToDoWhenRowsWereParked() throws Exception {
    // It waited for the ready depth alone: against a model that refused every call it showed
    // "N left" for the hours the rows took to be parked, then said nothing of them and exited 0.
    Files.writeString(dir.resolve("obs.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"p\"}\n");
    String why = "EmbeddingException: connection refused: check settings.embedding.baseUrl and that the endpoint is up";
    List<String> statuses = new CopyOnWriteArrayList<>(List.of(
        "{\"outboxDepth\":0,\"parked\":2,\"retrying\":0,\"resources\":5,\"chunks\":3}", // before: 2 parked earlier
        "{\"outboxDepth\":0,\"parked\":2,\"retrying\":0,\"resources\":5,\"chunks\":3}",
        "{\"outboxDepth\":1,\"parked\":2,\"retrying\":1,\"lastError\":\"" + why + "\",\"resources\":6,\"chunks\":3}",
        "{\"outboxDepth\":0,\"parked\":3,\"retrying\":0,\"lastError\":\"" + why + "\",\"resources\":6,\"chunks\":3}"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      String path = exchange.getRequestURI().getRawPath();
      String body = path.endsWith("/$import")
          ? "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\",\"code\":\"informational\","
              + "\"diagnostics\":\"lines 1, written 1, unchanged 0, failed 0, 3 ms\"}]}"
          : statuses.size() > 1 ? statuses.remove(0) : statuses.get(0);
      reply(exchange, 200, body);
    });
    server.start();
    try {
      CliTest.Run r = CliTest.cli("ingest", dir.toString(), "--tenant", "acme", "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "feed", "--admin-key", "admin");
      assertThat(r.code()).as("a parked row is a failed load").isEqualTo(1);
      assertThat(r.err()).contains("embedding is failing (" + why + ")").contains("1 failing (")
          .contains("1 resource(s) stored but not embedded").contains("POST /admin/tenants/acme/ingest/parked/retry")
          .doesNotContain("3 resource(s)"); // the 2 parked before this load are not its own
      assertThat(r.out()).contains("1 resource(s) not embedded (parked)");
    } finally {
      server.stop(0);
    }
  }

  /**
   * A file sent again: the summary said "3 NDJSON line(s) not loaded; 1 NDJSON resource(s) of them were stored
   * already", which read as one of the lines not loaded having been stored. It now names which count it is of.
   */
  @Test
  void aFileSentAgainSaysHowManyOfTheResourcesWereStoredAlready() throws Exception {
    Files.writeString(dir.resolve("obs.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"p\"}\n"
        + "{\"resourceType\":\"Patient\",\"id\":\"q\"}\n{\n");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      reply(exchange, 200, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\","
          + "\"code\":\"informational\",\"diagnostics\":\"lines 3, written 1, unchanged 1, failed 1, 3 ms\"},"
          + "{\"severity\":\"error\",\"code\":\"invalid\",\"diagnostics\":\"line 3: the body is not valid FHIR JSON\","
          + "\"expression\":[\"line[3]\"]}]}");
    });
    server.start();
    try {
      CliTest.Run r = CliTest.cli("ingest", dir.toString(), "--tenant", "acme", "--no-wait", "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "feed");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.out()).contains("ingested 2 resources from 1 file(s)").contains("1 NDJSON line(s) not loaded")
          .contains("; 1 of the 2 resources were stored already as sent (unchanged, no new version: a file sent again)")
          .doesNotContain("of them");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void tenantWaitFollowsWorkNoLoadCommandFollows() throws Exception {
    // a change of embedding model re-embeds every resource: it could be followed only by polling the API
    List<String> statuses = new CopyOnWriteArrayList<>(List.of(
        "{\"outboxDepth\":3,\"parked\":0,\"retrying\":0,\"resources\":3,\"chunks\":3,\"chunksOfAnotherModel\":3}",
        "{\"outboxDepth\":1,\"parked\":0,\"retrying\":0,\"resources\":3,\"chunks\":3,\"chunksOfAnotherModel\":1}",
        "{\"outboxDepth\":0,\"parked\":0,\"retrying\":0,\"resources\":3,\"chunks\":3,\"chunksOfAnotherModel\":0}"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    List<String> paths = new CopyOnWriteArrayList<>();
    server.createContext("/", exchange -> {
      paths.add(exchange.getRequestURI().getRawPath());
      reply(exchange, 200, statuses.size() > 1 ? statuses.remove(0) : statuses.get(0));
    });
    server.start();
    try {
      CliTest.Run r = CliTest.cli("tenant", "wait", "acme", "--url", "http://127.0.0.1:" + server.getAddress().getPort(),
          "--key", "admin");
      assertThat(r.code()).isZero();
      // and, of a change of model, the chunks searches still refuse
      assertThat(r.err()).contains("embedding: 3 left  chunks 3 (3 of another model)")
          .contains("embedding: 1 left  chunks 3 (1 of another model)").contains("embedding: 0 left  chunks 3  ");
      assertThat(r.out()).contains("tenant acme: nothing left to embed");
      assertThat(paths).allMatch("/admin/tenants/acme/ingest"::equals);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void tenantWaitThatLosesTheServiceEndsItsProgressLineAndSaysNothingStoredIsLost() throws Exception {
    // the service killed while a wait followed it: the error was printed on the end of the progress line and said
    // only "start it with ./carecontext serve"
    AtomicInteger polls = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      if (polls.incrementAndGet() > 1) {
        exchange.close(); // gone: no answer
        return;
      }
      reply(exchange, 200, "{\"outboxDepth\":3,\"parked\":0,\"retrying\":0,\"resources\":3,\"chunks\":3}");
    });
    server.start();
    try {
      CliTest.Run r = CliTest.cli("tenant", "wait", "acme", "--url", "http://127.0.0.1:" + server.getAddress().getPort(),
          "--key", "admin");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).containsPattern("embedding: 3 left[^\\n]*\\n(.*\\n)?carecontext: stopped waiting")
          .contains("What was stored stays stored").contains("./carecontext tenant wait acme");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void tenantWaitSaysSoWhenChunksOfAnotherModelAreLeftWithNothingQueued() throws Exception {
    // a batch of the old model committed after the change (or a parked resource): the wait ended "nothing left
    // to embed", exit 0, while searches for those patients still answered 503 reembedding_in_progress
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      reply(exchange, 200,
          "{\"outboxDepth\":0,\"parked\":0,\"retrying\":0,\"resources\":3,\"chunks\":3,\"chunksOfAnotherModel\":2}");
    });
    server.start();
    try {
      CliTest.Run r = CliTest.cli("tenant", "wait", "acme", "--url", "http://127.0.0.1:" + server.getAddress().getPort(),
          "--key", "admin");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("2 chunk(s) are still of another model than the tenant's, with nothing queued")
          .contains("POST /admin/tenants/acme/ingest/parked/retry").contains("restart the service or the worker");
      assertThat(r.out()).contains("tenant acme: nothing left to embed; 2 chunk(s) still of another model");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aJsonFileThatIsNoBundleIsToldHowThisCommandLoadsSingleResources() throws Exception {
    Files.writeString(dir.resolve("patient.json"), "{\"resourceType\":\"Patient\",\"id\":\"p\"}");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      reply(exchange, 400,
          "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"invalid\","
          + "\"diagnostics\":\"the base URL takes a transaction or batch Bundle; post other resources to "
          + "/fhir/{tenant}/{type}\"}]}");
    });
    server.start();
    try {
      CliTest.Run r = CliTest.cli("ingest", dir.toString(), "--tenant", "acme", "--no-wait", "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "feed");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("patient.json: HTTP 400").contains("one a line in an *.ndjson file");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void ratesAndTimesLeft() {
    assertThat(IngestCommand.stored(6_400, 2_000_000_000L)).isEqualTo("  6,400 new resources stored (3200/s)");
    assertThat(IngestCommand.stored(-1, 2_000_000_000L)).isEmpty(); // --no-wait: no key to read them with
    IngestCommand.EmbedRate rate = new IngestCommand.EmbedRate();
    assertThat(rate.add(0, 1_000, 0)).isEmpty(); // the first read: no rate
    assertThat(rate.add(3_000_000_000L, 400, 0)).isEqualTo("200 resources/s  ETA 2s");
    IngestCommand.EmbedRate idle = new IngestCommand.EmbedRate();
    assertThat(idle.add(0, 1_000, 0)).isEmpty();
    assertThat(idle.add(3_000_000_000L, 1_000, 0)).isEmpty(); // nothing done yet: no rate
    assertThat(idle.add(IngestCommand.WINDOW_NANOS, 1_000, 0)).as("no worker: said, not a rate")
        .startsWith("the queue did not go down in 30 s: check that an embedding worker runs");
    assertThat(idle.add(IngestCommand.WINDOW_NANOS, 1_000, 1_000)).as("all of it waits out a backoff: failing says so")
        .isEmpty();
    assertThat(IngestCommand.megabytes(28_400_000)).isEqualTo("28.4 MB");
    assertThat(IngestCommand.padded("x")).hasSize(100);
    assertThat(IngestCommand.failing(0, null)).isEmpty();
    assertThat(IngestCommand.failing(1_200, "IllegalStateException")).isEqualTo("  1,200 failing (IllegalStateException)");
  }

  /**
   * The rate is the last 30 s's, not the whole wait's: a worker that stops shows, within a window, that
   * the queue did not go down, not a rate sinking slowly from its last value with an ETA of seconds; and
   * what is left only retrying gets no ETA (it showed "ETA 0s" for minutes).
   */
  @Test
  void theRateIsTheLastWindowsAndNoEtaForRowsThatOnlyRetry() {
    IngestCommand.EmbedRate rate = new IngestCommand.EmbedRate();
    long s = 1_000_000_000L;
    rate.add(0, 10_000, 0);
    assertThat(rate.add(10 * s, 9_000, 0)).isEqualTo("100 resources/s  ETA 90s");
    // the worker stops at 10 s: a rate while the window still holds its work, then what to check
    assertThat(rate.add(20 * s, 9_000, 0)).isEqualTo("50 resources/s  ETA 180s");
    assertThat(rate.add(40 * s, 9_000, 0)).isEqualTo("the queue did not go down in 30 s: check that an embedding "
        + "worker runs (serve with CARECONTEXT_WORKER_THREADS above 0, or a worker process) and its log");
    IngestCommand.EmbedRate retrying = new IngestCommand.EmbedRate();
    retrying.add(0, 107, 0);
    assertThat(retrying.add(2 * s, 7, 7)).isEqualTo("50 resources/s");
  }

  /** Answers a stubbed service's request with {@code body} (JSON or an OperationOutcome). */
  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }
}
