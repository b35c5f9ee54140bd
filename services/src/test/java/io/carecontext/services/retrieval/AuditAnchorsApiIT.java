package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditAnchor;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/{tenant}/audit/verify} with the anchors the service's sealing logged: the log line as the
 * service writes it, read back and sent; a made-up anchor reported; bad bodies refused naming the field; the
 * check audited with the number of anchors.
 */
class AuditAnchorsApiIT {

  static TestServer app;
  static String auditor;
  static String clinician;

  @BeforeAll
  static void start() {
    // sealed by the test alone (the scheduled run would seal between its steps)
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_AUDIT_SEAL_SECONDS", "3600"));
    auditor = app.tenantWithKey("anchored", "aud", "[\"auditor\"]", null);
    clinician = app.tenantWithKey("anchored", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The lines the service's sealing logs on the anchor logger, as its log shows them. */
  static List<String> sealAndReadLog() {
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        AuditAnchor.LOGGER);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      app.bean(AuditSealing.class).sealAll();
    } finally {
      logger.detachAppender(logged);
    }
    assertThat(logged.list).isNotEmpty().allMatch(e -> e.getLevel() == Level.INFO);
    return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  static String body(List<AuditAnchor> anchors) {
    HexFormat hex = HexFormat.of();
    return anchors.stream().map(a -> "{\"shard\":" + a.shard() + ",\"seq\":" + a.seq() + ",\"head\":\""
        + hex.formatHex(a.head()) + "\",\"mac\":\"" + hex.formatHex(a.mac()) + "\"}")
        .collect(Collectors.joining(",", "{\"anchors\":[", "]}"));
  }

  /**
   * A row changed in the database as its owner would: verify names the row, when it was written, and says in words
   * what that means and what to do next, naming the tenant; it gave a shard, a seq and a problem code alone.
   */
  @Test
  void aChangedRowIsNamedWithItsTimeAndWhatToDoNext() throws Exception {
    String officer = app.tenantWithKey("tampered", "officer", "[\"auditor\"]", null);
    for (int i = 0; i < 3; i++) { // each listing is an audit row
      assertThat(app.call("GET", "/v1/tampered/audit?limit=1", officer, null).statusCode()).isEqualTo(200);
    }
    String id = io.carecontext.migrations.testing.TestPostgres.superuserString(app.database,
        "SELECT audit_id FROM tenant_tampered.audit_log WHERE action = 'audit-read' ORDER BY at LIMIT 1");
    // since when: the time the row's id carries (its id is a UUIDv7, made as the row was)
    String written = AuditController.writtenAt(id).toString();
    io.carecontext.migrations.testing.TestPostgres.changeAuditRows(app.database, "tenant_tampered",
        "UPDATE tenant_tampered.audit_log SET reason = 'include_bodies' WHERE audit_id = '" + id + "'");
    HttpResponse<String> r = app.call("GET", "/v1/tampered/audit/verify", officer, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"valid\":false").contains("\"problem\":\"row\"")
        .contains("\"auditId\":\"" + id + "\"").contains("\"at\":\"" + written + "\"")
        .contains("the audit trail of tenant tampered does not verify: the row at shard ")
        .contains("was changed, inserted or removed in the database").contains("Next: keep this answer");
  }

  @Test
  void theLoggedAnchorsVerifyAndAMadeUpOneIsReported() {
    for (int i = 0; i < 3; i++) { // each check is an audit row
      assertThat(app.call("GET", "/v1/anchored/audit/verify", auditor, null).statusCode()).isEqualTo(200);
    }
    List<String> lines = sealAndReadLog();
    assertThat(lines).allMatch(l -> l.matches("audit-anchor tenant=[a-z][a-z0-9_]+ shard=[0-7] seq=\\d+ "
        + "head=[0-9a-f]{64} mac=[0-9a-f]{64}"));
    List<AuditAnchor> anchors = AuditAnchor.latestPerShard(TenantId.of("anchored"), lines);
    assertThat(anchors).isNotEmpty();

    HttpResponse<String> ok = app.call("POST", "/v1/anchored/audit/verify", auditor, body(anchors));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).contains("\"valid\":true").contains("\"anchors\":" + anchors.size());
    // GET is as it was
    assertThat(app.call("GET", "/v1/anchored/audit/verify", auditor, null).body()).contains("\"valid\":true")
        .doesNotContain("\"anchors\"");

    AuditAnchor real = anchors.get(0);
    byte[] mac = real.mac();
    mac[0] ^= 1;
    AuditAnchor forged = new AuditAnchor(real.shard(), real.seq() + 5, real.head(), mac);
    HttpResponse<String> refused = app.call("POST", "/v1/anchored/audit/verify", auditor, body(List.of(forged)));
    assertThat(refused.statusCode()).isEqualTo(200);
    assertThat(refused.body()).contains("\"valid\":false").contains("\"problem\":\"forged-anchor\"")
        .contains("\"seq\":" + forged.seq());

    // audited like GET verify, with how many anchors were given; the made-up anchor as what it was, not as a
    // broken chain (the chain was not checked, and is sound)
    String checks = app.call("GET", "/v1/anchored/audit?action=audit-verify&limit=3", auditor, null).body();
    assertThat(checks).contains("\"reason\":\"anchor_forged\",\"breakGlass\":false").doesNotContain("chain_broken")
        .contains("\"details\":{\"anchors\":1}").contains("\"details\":{\"anchors\":" + anchors.size() + "}");
  }

  @Test
  void aBadBodyIsA400NamingTheFieldAndOnlyAnAuditorMayAsk() {
    String head = "ab".repeat(32);
    for (String[] bad : new String[][] {
        {"", "the body must be a JSON object"},
        {"not json", "the body is not JSON"},
        {"{\"anchors\":[]}", "anchors must hold at least one anchor"},
        {"{\"anchors\":[{\"shard\":9,\"seq\":1,\"head\":\"" + head + "\",\"mac\":\"" + head + "\"}]}",
            "anchors[0].shard is required: a whole number from 0 to 7"},
        {"{\"anchors\":[{\"shard\":1,\"seq\":1,\"head\":\"Jane Doe\",\"mac\":\"" + head + "\"}]}",
            "anchors[0].head is required"}}) {
      HttpResponse<String> r = app.call("POST", "/v1/anchored/audit/verify", auditor, bad[0]);
      assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
      assertThat(r.body()).as(bad[0]).contains("\"error\":\"bad_request\"").contains(bad[1]).doesNotContain("Jane");
    }
    String tooLarge = "{\"anchors\":[" + ("{\"shard\":1,\"seq\":1,\"head\":\"" + head + "\",\"mac\":\"" + head + "\"},")
        .repeat(2_000) + "]}";
    HttpResponse<String> large = app.call("POST", "/v1/anchored/audit/verify", auditor, tooLarge);
    assertThat(large.statusCode()).isEqualTo(413);
    assertThat(large.body()).contains("\"error\":\"payload_too_large\"");
    assertThat(app.call("POST", "/v1/anchored/audit/verify", clinician,
        "{\"anchors\":[{\"shard\":1,\"seq\":1,\"head\":\"" + head + "\",\"mac\":\"" + head + "\"}]}").statusCode())
        .isEqualTo(403);
    // each refused body is on record, as a refused parameter is; the one over the limit as what it was (a 413,
    // recorded payload_too_large as every other 413), not as a malformed body
    String refusals = app.call("GET", "/v1/anchored/audit?action=audit-verify&principal=aud&limit=100", auditor, null)
        .body();
    assertThat(refusals.split("\"reason\":\"filter_malformed\"", -1)).hasSizeGreaterThanOrEqualTo(6);
    assertThat(refusals.split("\"reason\":\"payload_too_large\"", -1)).hasSize(2);
  }
}
