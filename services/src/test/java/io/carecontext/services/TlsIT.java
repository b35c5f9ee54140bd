package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.testing.TestDirectories;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.FileInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The service terminates TLS 1.2+ with a configured PEM certificate and key. */
class TlsIT {

  static CareContextServer server;
  static Path cert;

  @BeforeAll
  static void start() throws Exception {
    Path dir = TestDirectories.create("cc-tls");
    cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).isZero();
    RuntimeSettings settings = RuntimeSettings.from(Map.of(
        "CARECONTEXT_PORT", String.valueOf(freePort()),
        "CARECONTEXT_ADMIN_KEY", "tls-admin-key-0123456789",
        "CARECONTEXT_HOME", dir.toString(),
        "CARECONTEXT_TLS_CERT", cert.toString(),
        "CARECONTEXT_TLS_KEY", key.toString()));
    server = CareContextServer.start(settings, TestPostgres.freshDatabase(), null);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static int freePort() throws Exception {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static HttpClient client(String... protocols) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (FileInputStream in = new FileInputStream(cert.toFile())) {
      trust.setCertificateEntry("cc", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    SSLParameters params = new SSLParameters();
    params.setProtocols(protocols);
    return HttpClient.newBuilder().sslContext(ctx).sslParameters(params).build();
  }

  @Test
  void servesHttpsWithTls12AndTls13() throws Exception {
    for (String protocol : new String[] {"TLSv1.2", "TLSv1.3"}) {
      HttpResponse<String> r = client(protocol).send(
          HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.sslSession()).isPresent();
      assertThat(r.sslSession().get().getProtocol()).isEqualTo(protocol);
    }
  }

  /**
   * Every HTTPS answer tells the browser to use HTTPS only (HSTS), a refusal as well as a success: a browser
   * first sent to http:// tried plain HTTP every time. With the other headers every answer carries.
   */
  @Test
  void everyAnswerOverHttpsSaysHttpsOnly() throws Exception {
    HttpClient client = client("TLSv1.3");
    for (String path : new String[] {"/health", "/v1/acme/patients/p1/context", "/fhir/acme/Patient/p1",
        "/admin/tenants"}) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port()
          + path)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.headers().allValues("Strict-Transport-Security")).as(path).containsExactly("max-age=31536000");
      assertThat(r.headers().allValues("Cache-Control")).as(path).containsExactly("no-store");
      assertThat(r.headers().allValues("X-Content-Type-Options")).as(path).containsExactly("nosniff");
    }
  }

  /**
   * Over HTTPS too each path keeps its own body limit: the check joins the connection's pipeline
   * however TLS set it up, so a 2 MiB body on an admin path is the 413 that names 1 MiB, and the same
   * body on a FHIR path is read (and refused for its key, not its size).
   */
  @Test
  void overHttpsASmallPathKeepsItsBodyLimit() throws Exception {
    HttpClient client = client("TLSv1.3");
    byte[] body = new byte[2 * 1024 * 1024];
    java.util.Arrays.fill(body, (byte) ' ');
    HttpResponse<String> admin = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port()
            + "/admin/tenants")).header("Authorization", "Bearer tls-admin-key-0123456789")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(admin.statusCode()).as(admin.body()).isEqualTo(413);
    assertThat(admin.body()).contains("payload_too_large", "over the limit of "
        + io.carecontext.services.http.RequestBodyLimits.SMALL_BODY_BYTES + " bytes");
    HttpResponse<String> fhir = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port()
            + "/fhir/acme/Patient/p1")).header("Authorization", "Bearer tls-admin-key-0123456789")
        .header("Content-Type", "application/fhir+json").PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(fhir.statusCode()).as(fhir.body()).isNotEqualTo(413).isBetween(400, 499);
  }

  @Test
  void plainHttpIsNotServed() {
    assertThatThrownBy(() -> HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + server.port() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(java.io.IOException.class);
  }
}
