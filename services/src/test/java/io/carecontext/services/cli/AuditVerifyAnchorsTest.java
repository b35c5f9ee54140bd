package io.carecontext.services.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.carecontext.retrieval.audit.AuditAnchor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit verify --anchors FILE}: the seals the service logged, kept outside its database, read back
 * from a log file (the service's own lines, or a log system's JSON copy of them) and sent to verify.
 */
class AuditVerifyAnchorsTest {

  @TempDir Path dir;

  static String hex(int fill) {
    return String.format("%02x", fill).repeat(32);
  }

  static String line(String tenant, int shard, long seq, int head, int mac) {
    return "audit-anchor tenant=" + tenant + " shard=" + shard + " seq=" + seq + " head=" + hex(head) + " mac=" + hex(mac);
  }

  Path file(String... lines) throws Exception {
    Path f = dir.resolve("service.log");
    Files.write(f, List.of(lines), StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void theTenantsLatestAnchorOfEachShardIsTakenFromAnyLogLine() throws Exception {
    Path f = file(
        "01:00:00.000 INFO  c.c.s.Application - started",
        "01:01:00.000 INFO  carecontext.audit.anchor - " + line("acme", 3, 7, 1, 2),
        "01:01:00.001 INFO  carecontext.audit.anchor - " + line("other", 3, 99, 3, 4), // another tenant's
        "{\"level\":\"INFO\",\"logger\":\"carecontext.audit.anchor\",\"message\":\"" + line("acme", 3, 12, 5, 6) + "\"}",
        "01:03:00.000 INFO  carecontext.audit.anchor - " + line("acme", 0, 4, 7, 8),
        "01:04:00.000 INFO  carecontext.audit.anchor - " + line("acme", 3, 9, 9, 10), // older than seq 12
        "01:05:00.000 INFO  carecontext.audit.anchor - " + line("acmex", 1, 50, 11, 12), // a longer tenant id
        "01:06:00.000 INFO  carecontext.audit.anchor - audit-anchor tenant=acme shard=2 seq=5 head=abc mac=def");

    List<AuditAnchor> anchors = AuditCommand.Verify.anchorsIn(f, "acme");

    assertThat(anchors).extracting(AuditAnchor::shard, AuditAnchor::seq).containsExactly(
        org.assertj.core.groups.Tuple.tuple(0, 4L), org.assertj.core.groups.Tuple.tuple(3, 12L));
    assertThat(HexFormat.of().formatHex(anchors.get(1).head())).isEqualTo(hex(5));
    assertThat(HexFormat.of().formatHex(anchors.get(1).mac())).isEqualTo(hex(6));
    assertThat(AuditCommand.Verify.anchorsBody(anchors)).isEqualTo("{\"anchors\":["
        + "{\"shard\":0,\"seq\":4,\"head\":\"" + hex(7) + "\",\"mac\":\"" + hex(8) + "\"},"
        + "{\"shard\":3,\"seq\":12,\"head\":\"" + hex(5) + "\",\"mac\":\"" + hex(6) + "\"}]}");
  }

  /**
   * A tenant deleted and made again under the same id has a new key: its predecessor's anchors, higher seqs on
   * every shard, were the "latest" and the sound trail of the new tenant was reported forged-anchor. The line the
   * deletion logs ends the predecessor's anchors.
   */
  @Test
  void anchorsOfATenantDeletedBeforeAreNotTheNewTenantsOfTheSameId() throws Exception {
    Path f = file(
        "01:01:00.000 INFO  carecontext.audit.anchor - " + line("acme", 3, 900, 1, 2),
        "01:01:00.000 INFO  carecontext.audit.anchor - " + line("acme", 5, 40, 3, 4),
        "01:02:00.000 INFO  carecontext.audit.anchor - " + AuditAnchor.offboardedLine(
            io.carecontext.migrations.TenantId.of("acmex")), // another tenant's deletion
        "01:02:00.000 INFO  carecontext.audit.anchor - " + AuditAnchor.offboardedLine(
            io.carecontext.migrations.TenantId.of("acme")),
        "01:03:00.000 INFO  carecontext.audit.anchor - " + line("acme", 3, 2, 5, 6),
        "01:03:00.000 INFO  carecontext.audit.anchor - " + line("acmex", 1, 2, 7, 8));

    assertThat(AuditCommand.Verify.anchorsIn(f, "acme")).extracting(AuditAnchor::shard, AuditAnchor::seq)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(3, 2L));
    assertThat(AuditCommand.Verify.anchorsIn(f, "acmex")).extracting(AuditAnchor::shard, AuditAnchor::seq)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1, 2L));
    assertThat(AuditAnchor.offboardedLine(io.carecontext.migrations.TenantId.of("acme")))
        .isEqualTo("audit-anchor tenant=acme offboarded");
    // deleted and not made again (yet): nothing of the tenant's is left to check against
    Path deleted = file(line("acme", 3, 900, 1, 2), AuditAnchor.offboardedLine(io.carecontext.migrations.TenantId.of("acme")));
    assertThatThrownBy(() -> AuditCommand.Verify.anchorsIn(deleted, "acme")).isInstanceOf(CliException.class)
        .hasMessageContaining("no audit-anchor line of tenant acme");
  }

  /**
   * A log holds lines of every kind: one not valid UTF-8 (a crashed process's bytes, a Latin-1 line of another
   * program) made the whole file unreadable ("cannot read"), and the anchors in it could not be checked at all.
   */
  @Test
  void aLineThatIsNotUtf8DoesNotHideTheAnchorsAroundIt() throws Exception {
    Path f = dir.resolve("mixed.log");
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    bytes.writeBytes((line("acme", 3, 7, 1, 2) + "\n").getBytes(StandardCharsets.UTF_8));
    bytes.writeBytes(new byte[] {'x', (byte) 0xff, (byte) 0xfe, 'y', '\n'});
    bytes.writeBytes((line("acme", 5, 9, 3, 4) + "\n").getBytes(StandardCharsets.UTF_8));
    Files.write(f, bytes.toByteArray());

    assertThat(AuditCommand.Verify.anchorsIn(f, "acme")).extracting(AuditAnchor::shard, AuditAnchor::seq)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(3, 7L), org.assertj.core.groups.Tuple.tuple(5, 9L));
  }

  @Test
  void aFileWithoutTheTenantsAnchorsIsAnErrorNotACheckWithoutThem() throws Exception {
    Path f = file("01:01:00.000 INFO  carecontext.audit.anchor - " + line("other", 3, 7, 1, 2));
    assertThatThrownBy(() -> AuditCommand.Verify.anchorsIn(f, "acme")).isInstanceOf(CliException.class)
        .hasMessageContaining("no audit-anchor line of tenant acme in " + f).hasMessageContaining("nothing was verified");
    assertThatThrownBy(() -> AuditCommand.Verify.anchorsIn(dir.resolve("missing.log"), "acme"))
        .isInstanceOf(CliException.class).hasMessageContaining("no such file");
  }

  @Test
  void theAnchorsAreSentToVerifyAndItsAnswerDecidesTheExitCode() throws Exception {
    AtomicReference<String> sent = new AtomicReference<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/acme/audit/verify", exchange -> {
      sent.set(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Content-Type") + " "
          + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      byte[] body = ("{\"valid\":false,\"entries\":3,\"brokenAt\":{\"shard\":3,\"seq\":12,\"auditId\":null,"
          + "\"problem\":\"behind-seal\"},\"anchors\":1}").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      Path f = file("x " + line("acme", 3, 12, 5, 6));
      CliTest.Run r = CliTest.cli("audit", "verify", "--tenant", "acme", "--anchors", f.toString(), "--url",
          "http://127.0.0.1:" + server.getAddress().getPort(), "--key", "k");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.out()).contains("behind-seal");
      assertThat(sent.get()).isEqualTo("POST application/json {\"anchors\":[{\"shard\":3,\"seq\":12,\"head\":\""
          + hex(5) + "\",\"mac\":\"" + hex(6) + "\"}]}");
    } finally {
      server.stop(0);
    }
  }
}
