package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CARECONTEXT_FHIR_MAX_BYTES is the largest body the service takes, Bundles included. Micronaut keeps
 * a second limit of its own, 10 MB by default, on a body it reads whole before the handler runs (a
 * Bundle, a single resource, a JSON body): a Bundle of 11 MB under the 50 MB default was a 413 whose
 * message named the 50 MB limit, so the feed could not tell how much to cut. The other tests run with a
 * limit far under 10 MB and never met it.
 */
class RequestBodyLimitIT {

  static final long LIMIT = 16L * 1024 * 1024;
  /** The limit of every path outside /fhir/. */
  static final long SMALL = io.carecontext.services.http.RequestBodyLimits.SMALL_BODY_BYTES;
  static TestServer app;
  static String ehr;
  static String doc;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_FHIR_MAX_BYTES", Long.toString(LIMIT), "CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("big", "ehr-feed", "[\"ehr-integration\"]", null);
    doc = app.tenantWithKey("big", "dr-big", "[\"clinician\"]", "\"practitionerId\":\"pr-big\"");
  }

  /** The tenant's refusals, oldest first: action, reason, patient, principal. */
  static List<String> refusals() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT action || ' ' || reason || ' ' || coalesce(patient_id, '-') || ' ' "
            + "|| principal FROM tenant_big.audit_log WHERE decision = 'denied' ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** A Binary of about 11 MB (a scanned document, say), in a transaction: over 10 MB, under the limit. */
  static String bundleOfBytes(int bytes) {
    byte[] data = new byte[bytes];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{\"resourceType\":\"Binary\","
        + "\"id\":\"scan-1\",\"contentType\":\"application/pdf\",\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\"},\"request\":{\"method\":\"PUT\",\"url\":\"Binary/scan-1\"}}]}";
  }

  @Test
  void aBundleOverTenMegabytesButUnderTheLimitIsStored() {
    String bundle = bundleOfBytes(8 * 1024 * 1024); // base64: about 11.2 MB
    assertThat((long) bundle.length()).isGreaterThan(10L * 1024 * 1024).isLessThan(LIMIT);
    HttpResponse<String> r = app.call("POST", "/fhir/big", ehr, bundle, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("201 Created", "Binary/scan-1/_history/1");
  }

  /**
   * A gzip body is held to the limit as it decompresses: a few kilobytes that expand past it (a
   * decompression bomb) are refused as a body sent that large is, and nothing is stored.
   */
  @Test
  void aCompressedBodyThatExpandsPastTheLimitIsRefused() throws Exception {
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{\"resourceType\":"
        + "\"Binary\",\"id\":\"bomb-1\",\"contentType\":\"application/pdf\",\"data\":\"" + "A".repeat((int) LIMIT + 4096)
        + "\"},\"request\":{\"method\":\"PUT\",\"url\":\"Binary/bomb-1\"}}]}";
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
      z.write(bundle.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    assertThat(out.size()).isLessThan(1024 * 1024);
    HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + app.server.port() + "/fhir/big"))
        .header("Authorization", "Bearer " + ehr).header("Content-Type", "application/fhir+json")
        .header("Content-Encoding", "gzip")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(out.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    assertThat(app.call("GET", "/fhir/big/Binary/bomb-1", ehr, null, "application/fhir+json").statusCode()).isEqualTo(404);
  }

  @Test
  void aBundleOverTheLimitIsRefusedNamingTheLimit() {
    String bundle = bundleOfBytes(13 * 1024 * 1024); // about 17.5 MB
    assertThat((long) bundle.length()).isGreaterThan(LIMIT);
    HttpResponse<String> r = app.call("POST", "/fhir/big", ehr, bundle, "application/fhir+json");
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("OperationOutcome", "over the limit of " + LIMIT + " bytes");
  }

  /**
   * The head of a request that says its body is over the limit and waits for 100 Continue before
   * sending it: answered 413 at once, and the connection closed. The framework sent 100 Continue
   * first, so the client sent the whole body only to be refused after it.
   */
  static String withoutTheBody(String method, String path, String key, String type, long length) throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", app.server.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
          + "\r\nContent-Type: " + type + "\r\nContent-Length: " + length + "\r\nExpect: 100-continue\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8); // closed by the server
    }
  }

  @Test
  void aBodyAnnouncedOverTheLimitIsRefusedBeforeTheClientSendsIt() throws Exception {
    int before = refusals().size();
    for (String path : List.of("/fhir/big", "/fhir/big/Patient/pt-big")) {
      String r = withoutTheBody(path.equals("/fhir/big") ? "POST" : "PUT", path, ehr, "application/fhir+json", LIMIT + 1);
      assertThat(r).as(path).startsWith("HTTP/1.1 413 ").doesNotContain("100 Continue")
          .contains("OperationOutcome", "over the limit of " + LIMIT + " bytes");
    }
    assertThat(withoutTheBody("POST", "/fhir/big/$import", ehr, "application/fhir+ndjson", LIMIT + 1))
        .startsWith("HTTP/1.1 413 ").doesNotContain("100 Continue").contains("OperationOutcome", "split the NDJSON file");
    // a context body is held to the small limit of the paths outside /fhir/
    assertThat(withoutTheBody("POST", "/v1/big/patients/pt-big/context", doc, "application/json", SMALL + 1))
        .startsWith("HTTP/1.1 413 ").doesNotContain("100 Continue")
        .contains("\"error\":\"payload_too_large\"", "over the limit of " + SMALL + " bytes");
    List<String> rows = refusals();
    assertThat(rows.subList(before, rows.size())).containsExactly(
        "fhir-write payload_too_large - ehr-feed",
        "fhir-write payload_too_large pt-big ehr-feed",
        "fhir-write payload_too_large - ehr-feed",
        "context payload_too_large pt-big dr-big");
    // a body under the limit still gets its 100 Continue
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", app.server.port())) {
      s.setSoTimeout(10_000);
      String body = "{\"resourceType\":\"Patient\",\"id\":\"pt-small\"}";
      s.getOutputStream().write(("PUT /fhir/big/Patient/pt-small HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ehr
          + "\r\nContent-Type: application/fhir+json\r\nContent-Length: " + body.length()
          + "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      byte[] interim = new byte[64];
      int n = s.getInputStream().read(interim);
      assertThat(new String(interim, 0, n, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 100 Continue");
      s.getOutputStream().write(body.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("HTTP/1.1 201 ");
    }
  }

  /**
   * A valid key's body over the limit is a refusal like a 415, and is recorded with its own reason: the
   * Bundle's and the context body's 413s (the framework's, before any handler ran) left no row, and
   * $import's was recorded as "refused", a reason no list names.
   */
  @Test
  void aBodyOverTheLimitIsRecordedAsPayloadTooLarge() throws SQLException {
    String big = "x".repeat((int) LIMIT + 1024);
    int before = refusals().size();
    assertThat(app.call("POST", "/fhir/big", ehr, "{\"resourceType\":\"Bundle\",\"x\":\"" + big + "\"}",
        "application/fhir+json").statusCode()).isEqualTo(413);
    assertThat(app.call("PUT", "/fhir/big/Patient/pt-big", ehr, "{\"resourceType\":\"Patient\",\"x\":\"" + big + "\"}",
        "application/fhir+json").statusCode()).isEqualTo(413);
    assertThat(app.call("POST", "/fhir/big/$import", ehr, "{\"resourceType\":\"Patient\",\"x\":\"" + big + "\"}",
        "application/fhir+ndjson").statusCode()).isEqualTo(413);
    HttpResponse<String> context = app.call("POST", "/v1/big/patients/pt-big/context", doc,
        "{\"query\":\"" + "x".repeat((int) SMALL) + "\"}", "application/json");
    assertThat(context.statusCode()).isEqualTo(413);
    assertThat(context.body()).contains("\"error\":\"payload_too_large\"", "over the limit of " + SMALL + " bytes");
    List<String> rows = refusals();
    assertThat(rows.subList(before, rows.size())).containsExactly( // each once
        "fhir-write payload_too_large - ehr-feed",
        "fhir-write payload_too_large pt-big ehr-feed",
        "fhir-write payload_too_large - ehr-feed",
        "context payload_too_large pt-big dr-big");
  }

  /** Sends {@code head} and {@code body}, not ending the request; the connection stays open for the caller. */
  static java.net.Socket sendPart(String head, byte[] body) throws Exception {
    java.net.Socket s = new java.net.Socket("127.0.0.1", app.server.port());
    s.setSoTimeout(120_000);
    s.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    s.getOutputStream().write(body);
    s.getOutputStream().flush();
    return s;
  }

  static String head(String method, String path, String key, String type, String framing) {
    return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key + "\r\nContent-Type: "
        + type + "\r\n" + framing + "\r\n";
  }

  /**
   * A body declared over a small path's limit (the tester's 52,000,000 bytes, under FHIR's limit) is
   * refused at once, before any of it is sent, whatever the key's role; the server does not wait for
   * it, and it is on record as every over-limit body is. Anywhere under /fhir/ the same length is read.
   */
  @Test
  void aBodyDeclaredOverTheSmallLimitIsRefusedBeforeItArrives() throws Exception {
    int before = refusals().size();
    try (java.net.Socket s = sendPart(head("POST", "/v1/big/patients/pt-big/context", doc, "application/json",
        "Content-Length: 52000000\r\n"), new byte[0])) {
      String answer = new String(s.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
      assertThat(answer).isEqualTo("HTTP/1.1 413");
    }
    List<String> rows = refusals();
    assertThat(rows.subList(before, rows.size())).containsExactly("context payload_too_large pt-big dr-big");
    // FHIR keeps CARECONTEXT_FHIR_MAX_BYTES: a Binary of 2 MiB, over the small limit, is stored
    String binary = "{\"resourceType\":\"Binary\",\"id\":\"bin-large\",\"contentType\":\"application/pdf\",\"data\":\""
        + Base64.getEncoder().encodeToString(new byte[3 * (int) SMALL / 2]) + "\"}";
    assertThat((long) binary.length()).isGreaterThan(SMALL);
    HttpResponse<String> r = app.call("PUT", "/fhir/big/Binary/bin-large", ehr, binary, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  /**
   * A small path's limit is on the body as it inflates, not as it was sent: 5 KB of gzip (or deflate)
   * that expands to 5 MiB is the 413 that names 1 MiB, recorded as an over-limit body is, and is never
   * held in memory whole.
   */
  @Test
  void aCompressedSmallBodyIsHeldToTheSmallLimitAsItInflates() throws Exception {
    byte[] plain = ("{\"query\":\"" + "a".repeat(5 * 1024 * 1024) + "\"}").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(gz)) {
      z.write(plain);
    }
    java.io.ByteArrayOutputStream deflated = new java.io.ByteArrayOutputStream();
    try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(deflated)) {
      z.write(plain);
    }
    for (Map.Entry<String, byte[]> sent : Map.of("gzip", gz.toByteArray(), "deflate", deflated.toByteArray()).entrySet()) {
      assertThat(sent.getValue().length).isLessThan(64 * 1024);
      int before = refusals().size();
      HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + app.server.port() + "/v1/big/patients/pt-big/context"))
          .header("Authorization", "Bearer " + doc).header("Content-Type", "application/json")
          .header("Content-Encoding", sent.getKey())
          .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(sent.getValue())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(sent.getKey() + ": " + r.body()).isEqualTo(413);
      assertThat(r.body()).contains("payload_too_large", "over the limit of " + SMALL + " bytes");
      List<String> rows = refusals();
      assertThat(rows.subList(before, rows.size())).as(sent.getKey()).containsExactly("context payload_too_large pt-big dr-big");
    }
  }

  /**
   * A chunked body on a small path is counted as it arrives and refused where it passes the limit: the
   * 413 comes while the client is still sending (its last chunk never sent), so nothing past the limit
   * was waited for or kept.
   */
  @Test
  void aChunkedBodyIsCutWhereItPassesTheSmallLimit() throws Exception {
    int before = refusals().size();
    byte[] chunk = ("{\"query\":\"" + "x".repeat(64 * 1024)).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    for (long sent = 0; sent <= SMALL + chunk.length; sent += chunk.length) {
      body.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      body.write(chunk);
      body.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    try (java.net.Socket s = sendPart(head("POST", "/v1/big/patients/pt-big/context", doc, "application/json",
        "Transfer-Encoding: chunked\r\n"), body.toByteArray())) {
      String answer = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 413 ")
          .contains("\"error\":\"payload_too_large\"", "over the limit of " + SMALL + " bytes");
    }
    List<String> rows = refusals();
    assertThat(rows.subList(before, rows.size())).containsExactly("context payload_too_large pt-big dr-big");
  }

  /**
   * A small path's body that stops arriving is not held for the server's idle timeout (5 minutes): its
   * connection is closed once no byte of it came for RequestBodyLimits.STALL_SECONDS. A FHIR body
   * paused as long is still read to its end and stored: a bulk load over a slow link keeps the server's
   * idle timeout.
   */
  @Test
  void aStalledSmallBodyIsDroppedAndAStalledFhirBodyIsNot() throws Exception {
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"pt-slow\"}";
    try (java.net.Socket fhir = sendPart(head("PUT", "/fhir/big/Patient/pt-slow", ehr, "application/fhir+json",
            "Content-Length: " + patient.length() + "\r\nConnection: close\r\n"),
            patient.substring(0, 10).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
         java.net.Socket context = sendPart(head("POST", "/v1/big/patients/pt-big/context", doc, "application/json",
            "Content-Length: 100000\r\n"), "{\"query\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      // closed by the server without an answer: the client stopped sending, nothing of its body is kept
      assertThat(context.getInputStream().read()).isEqualTo(-1);
      fhir.getOutputStream().write(patient.substring(10).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      fhir.getOutputStream().flush();
      assertThat(new String(fhir.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
          .startsWith("HTTP/1.1 201 ");
    }
  }
}
