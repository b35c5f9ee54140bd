package io.carecontext.services.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit export --out}: the file an operator keeps before offboarding a tenant. A transfer the
 * server broke off was a stack trace with the short file left in place.
 */
class AuditExportTest {

  @TempDir Path dir;

  /** A server whose export sends {@code lines} AuditEvents, then ends, or breaks off when {@code breaks}. */
  static HttpServer server(int lines, boolean breaks) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/acme/audit/export", exchange -> {
      exchange.sendResponseHeaders(200, 0); // chunked, as the service streams it
      for (int i = 0; i < lines; i++) {
        exchange.getResponseBody().write(("{\"resourceType\":\"AuditEvent\",\"id\":\"" + i + "\"}\n")
            .getBytes(StandardCharsets.UTF_8));
      }
      exchange.getResponseBody().flush();
      if (breaks) {
        // no last chunk: the connection just ends, as when the service fails after the first lines
        exchange.getHttpContext().getServer().stop(0);
        return;
      }
      exchange.close();
    });
    server.createContext("/v1/other/audit/export", exchange -> {
      byte[] body = "{\"error\":\"forbidden\",\"message\":\"this key lacks the role this needs (auditor)\"}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(403, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    return server;
  }

  @Test
  void aCompleteExportSaysHowManyEventsItWrote() throws Exception {
    HttpServer server = server(3, false);
    try {
      Path file = dir.resolve("acme.ndjson");
      CliTest.Run r = CliTest.cli("audit", "export", "--tenant", "acme", "--out", file.toString(), "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "k");
      assertThat(r.code()).isZero();
      assertThat(r.err()).contains("wrote 3 AuditEvent(s) to " + file);
      assertThat(Files.readAllLines(file)).hasSize(3);
      CliTest.Run refused = CliTest.cli("audit", "export", "--tenant", "other", "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "k");
      assertThat(refused.code()).isEqualTo(1);
      assertThat(refused.err()).contains("HTTP 403: this key lacks the role this needs (auditor)")
          .doesNotContain("\"error\"");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void theExportFileIsReadableByItsOwnerOnly() throws Exception {
    // it names patients and the workforce; it was written with the umask's mode (0644 on most systems)
    HttpServer server = server(2, false);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Path file = dir.resolve("new.ndjson");
      assertThat(CliTest.cli("audit", "export", "--tenant", "acme", "--out", file.toString(), "--url", url, "--key", "k")
          .code()).isZero();
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
      // a file there already, open to others, is closed to them before the trail goes in
      Path shared = Files.writeString(dir.resolve("shared.ndjson"), "old\n");
      Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(CliTest.cli("audit", "export", "--tenant", "acme", "--out", shared.toString(), "--url", url, "--key", "k")
          .code()).isZero();
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)))
          .isEqualTo("rw-------");
      assertThat(Files.readAllLines(shared)).hasSize(2);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void anExportTheServerBreaksOffSaysSoAndLeavesNoShortFile() throws Exception {
    HttpServer server = server(2, true);
    try {
      Path file = dir.resolve("acme.ndjson");
      CliTest.Run r = CliTest.cli("audit", "export", "--tenant", "acme", "--out", file.toString(), "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "k");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("the export broke off after").contains("incomplete; run it again")
          .contains(file + " was removed").doesNotContain("\tat ");
      assertThat(file).doesNotExist();
    } finally {
      server.stop(0);
    }
  }
}
