package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tenant rotate-data-key} as the command line runs it ({@link Cli#run}, its settings from CARECONTEXT_*
 * system properties as a shell's environment gives them), against a running service: a rotation, a run stopped after
 * its first batch and resumed, --retire before the wait (refused, saying when to run again) and after it (the wait's
 * start moved back, as the age check reads it from platform.tenant_keys), and its exit codes; and the audit trail over
 * HTTP across rotations and a retirement: it verifies, and its bodies open, whichever version sealed them.
 */
class DataKeyRotationIT {

  static final String FHIR = "application/fhir+json";
  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  record Run(int code, String out, String err) {}

  /** The command line with the installation's settings (and {@code env} on top) as CARECONTEXT_* system properties. */
  static Run cli(Map<String, String> env, Writer outSink, String... args) {
    Map<String, String> all = KeyEncryptionKeyRotationIT.environmentOf(app);
    all.putAll(env);
    all.forEach((k, v) -> System.setProperty(property(k), v));
    StringWriter err = new StringWriter();
    try {
      int code = Cli.run(args, new PrintWriter(outSink, true), new PrintWriter(err, true));
      return new Run(code, outSink.toString(), err.toString());
    } finally {
      all.keySet().forEach(k -> System.clearProperty(property(k)));
    }
  }

  static Run cli(String... args) {
    return cli(Map.of(), new StringWriter(), args);
  }

  private static String property(String variable) {
    return variable.toLowerCase(Locale.ROOT).replace('_', '.');
  }

  static String loaded(String tenant) {
    String ehr = app.tenantWithKey(tenant, "feed", "[\"ehr-integration\"]", null);
    HttpResponse<String> r = app.call("POST", "/fhir/" + tenant, ehr, TestServer.WARD_BUNDLE, FHIR);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    return ehr;
  }

  static long keyVersions(String tenant, int version) throws SQLException {
    return TestPostgres.superuserLong(app.database, "SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = '"
        + tenant + "' AND key_version = " + version);
  }

  /** Moves the tenant's key versions' creation an hour back: the wait before --retire (2 x MAX_STALE) is over. */
  static void waitOver(String tenant) throws SQLException {
    TestPostgres.superuserExecute(app.database, "UPDATE platform.tenant_keys SET created_at = created_at - interval "
        + "'1 hour' WHERE tenant_id = '" + tenant + "'");
  }

  @Test
  void theCommandRotatesResumesAfterAStopAndRetiresOnlyAfterTheWait() throws SQLException {
    String ehr = loaded("dkcli");

    // stopped after its first batch's line (the batch committed): what is left stays under version 1
    Writer killed = new StringWriter() {
      @Override
      public void write(String s, int off, int len) {
        throw new IllegalStateException("killed");
      }
    };
    Run stopped = cli(Map.of(), killed, "tenant", "rotate-data-key", "dkcli", "--batch", "1");
    assertThat(stopped.code()).as(stopped.err()).isEqualTo(1);
    assertThat(keyVersions("dkcli", 2)).isEqualTo(1);

    Run resumed = cli("tenant", "rotate-data-key", "dkcli", "--resume", "--batch", "2");
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.out()).containsPattern("tenant dkcli: data key version 2 active \\(was 2\\); [1-9][0-9]* value\\(s\\)"
        + " sealed again").contains("resources: ").contains("chunks: ").contains("data key version 1 is kept");
    Run nothingLeft = cli("tenant", "rotate-data-key", "dkcli", "--resume");
    assertThat(nothingLeft.out()).contains("data key version 2 active (was 2); 0 value(s) sealed again");

    // a second rotation with --retire: version 2 was replaced just now, so --retire is refused and says from when
    Run early = cli("tenant", "rotate-data-key", "dkcli", "--retire");
    assertThat(early.code()).as(early.out() + early.err()).isEqualTo(1);
    Instant from = Instant.ofEpochSecond(TestPostgres.superuserLong(app.database, "SELECT ceil(extract(epoch FROM "
        + "created_at))::bigint + " + TenantKeys.MAX_STALE.multipliedBy(2).toSeconds() + " FROM platform.tenant_keys "
        + "WHERE tenant_id = 'dkcli' AND key_version = 3"));
    assertThat(early.out()).contains("data key version 3 active (was 2)")
        .contains("data key version 2 is kept: replaced less than two minutes ago");
    assertThat(early.err()).contains("--retire refused for data key version(s) [2]")
        .contains("run `tenant rotate-data-key dkcli --resume --retire` again at or after " + from + " (UTC)")
        .contains("The rotation and re-encryption are done").doesNotContain("\tat ");
    assertThat(keyVersions("dkcli", 2)).isEqualTo(1);

    waitOver("dkcli");
    Run retired = cli("tenant", "rotate-data-key", "dkcli", "--resume", "--retire");
    assertThat(retired.code()).as(retired.out() + retired.err()).isZero();
    assertThat(retired.out()).contains("data key version 2 retired: nothing was sealed under it any more")
        .contains("data key version 1 is kept");
    assertThat(keyVersions("dkcli", 2)).isZero();
    app.bean(TenantKeys.class).evict(TenantId.of("dkcli"));
    HttpResponse<String> read = app.call("GET", "/fhir/dkcli/Condition/cn-1", ehr, null, FHIR);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    assertThat(read.body()).contains("44054006");
  }

  /** Failures exit 1 like the other commands' (they exited 2, the usage code); usage errors exit 2. */
  @Test
  void failuresExitOneAndUsageErrorsTwo() {
    app.tenantWithKey("dkexit", "aud-x", "[\"auditor\"]", null); // the first tenant's data key makes the KEK file
    Run unknown = cli("tenant", "rotate-data-key", "nosuchtenant");
    assertThat(unknown.code()).as(unknown.err()).isEqualTo(1);
    assertThat(unknown.err()).contains("has no data key").doesNotContain("\tat ");

    // another key-encryption key than the data key's: one line, no stack trace (it printed one)
    java.nio.file.Path other = app.home.resolve("other-kek.key");
    new io.carecontext.migrations.crypto.LocalFileKeyProvider(other).kekId(); // made, with its mode
    Run otherKek = cli(Map.of("CARECONTEXT_KEK_FILE", other.toString()), new StringWriter(),
        "tenant", "rotate-data-key", "dkexit");
    assertThat(otherKek.code()).as(otherKek.err()).isEqualTo(1);
    assertThat(otherKek.err()).contains("which this process does not hold").doesNotContain("\tat ");
    // a setting refused: configuration, a failure as for kek rotate (it exited 2, the usage code)
    Run badSetting = cli(Map.of("CARECONTEXT_PORT", "0"), new StringWriter(), "tenant", "rotate-data-key", "dkexit");
    assertThat(badSetting.code()).as(badSetting.err()).isEqualTo(1);
    assertThat(badSetting.err()).contains("CARECONTEXT_PORT must be");

    Run batch = cli("tenant", "rotate-data-key", "nosuchtenant", "--batch", "0");
    assertThat(batch.code()).as(batch.err()).isEqualTo(2);
    assertThat(batch.err()).contains("--batch must be at least 1");
    assertThat(cli("tenant", "rotate-data-key", "Not A Tenant!").code()).isEqualTo(2);
    assertThat(cli("tenant", "rotate-data-key", "nosuchtenant", "--retrie").code()).isEqualTo(2);
  }

  /**
   * A CARECONTEXT_KEK_FILE that names no file (a typo) is refused before anything, and no key is made there: one was
   * made, and with CARECONTEXT_KEK_PREVIOUS_FILE the real key (serve and worker mid kek rotate), the new version was
   * wrapped under that stray key, which no running process holds, and the command exited 0.
   */
  @Test
  void aMissingKeyEncryptionKeyFileIsRefusedNotMade() throws SQLException {
    app.tenantWithKey("dkstray", "aud-s", "[\"auditor\"]", null);
    String real = app.home.resolve("kek.key").toString();
    java.nio.file.Path typo = app.home.resolve("kek.kye");
    for (Map<String, String> env : java.util.List.of(
        Map.of("CARECONTEXT_KEK_FILE", typo.toString(), "CARECONTEXT_KEK_PREVIOUS_FILE", real),
        Map.of("CARECONTEXT_KEK_FILE", typo.toString()))) {
      Run run = cli(env, new StringWriter(), "tenant", "rotate-data-key", "dkstray");
      assertThat(run.code()).as(run.out() + run.err()).isEqualTo(1);
      assertThat(run.err()).contains("there is no key-encryption key at " + typo + " (CARECONTEXT_KEK_FILE")
          .contains("nothing was changed").doesNotContain("\tat ");
      assertThat(typo).doesNotExist();
      assertThat(keyVersions("dkstray", 2)).isZero();
    }
    Run previousMissing = cli(Map.of("CARECONTEXT_KEK_PREVIOUS_FILE", typo.toString()), new StringWriter(),
        "tenant", "rotate-data-key", "dkstray");
    assertThat(previousMissing.code()).as(previousMissing.err()).isEqualTo(1);
    assertThat(previousMissing.err()).contains("(CARECONTEXT_KEK_PREVIOUS_FILE)");
    assertThat(typo).doesNotExist();
    assertThat(keyVersions("dkstray", 2)).isZero();
  }

  /**
   * Audit rows written before a rotation, between two of its batches and after it, and after a later --retire,
   * verify over HTTP, and a listing with bodies opens each, whichever version sealed it.
   */
  @Test
  void theAuditTrailVerifiesAndItsBodiesOpenAcrossRotationsAndARetirement() throws SQLException {
    loaded("dkaudit");
    String clinician = app.tenantWithKey("dkaudit", "dr-k", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String auditor = app.tenantWithKey("dkaudit", "aud-k", "[\"auditor\"]", null);
    TenantId tenant = TenantId.of("dkaudit");
    TenantKeys appKeys = app.bean(TenantKeys.class);
    RuntimeSettings settings = KeyEncryptionKeyRotationIT.settingsOf(app, Map.of());
    read(clinician, "question before the rotation");

    AtomicInteger batches = new AtomicInteger();
    DataKeyRotation.Result first = DataKeyRotation.run(settings, tenant, false, false, 1, b -> {
      if (batches.incrementAndGet() == 2) {
        appKeys.evict(tenant); // the service sees the new version (it would within seconds)
        read(clinician, "question during the rotation");
      }
    });
    assertThat(batches.get()).isGreaterThan(2);
    assertThat(first.toVersion()).isEqualTo(2);
    read(clinician, "question after the rotation");
    verified(auditor);

    // version 3 has no audit body (nothing read under it): --retire deletes it once version 4 is old enough
    DataKeyRotation.run(settings, tenant, false, false, 500, b -> { });
    DataKeyRotation.run(settings, tenant, false, false, 500, b -> { });
    waitOver("dkaudit");
    DataKeyRotation.Result retired = DataKeyRotation.run(settings, tenant, true, true, 500, b -> { });
    assertThat(retired.retired()).containsExactly(3);
    assertThat(retired.stillUsed()).containsOnlyKeys(1, 2);
    assertThat(retired.stillUsed().get(1).get("audit_log")).as("bodies under version 1").isPositive();
    assertThat(retired.stillUsed().get(2).get("audit_log")).as("bodies under version 2").isPositive();
    appKeys.evict(tenant);
    read(clinician, "question after the retirement");
    verified(auditor);

    HttpResponse<String> bodies = app.call("GET", "/v1/dkaudit/audit?includeBodies=true&action=context", auditor, null);
    assertThat(bodies.statusCode()).as(bodies.body()).isEqualTo(200);
    assertThat(bodies.body()).contains("question before the rotation", "question during the rotation",
        "question after the rotation", "question after the retirement");
  }

  private static void read(String key, String question) {
    HttpResponse<String> r = app.call("POST", "/v1/dkaudit/patients/pt-1/context", key,
        "{\"query\":\"" + question + "\",\"k\":2,\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  private static void verified(String auditor) {
    HttpResponse<String> verify = app.call("GET", "/v1/dkaudit/audit/verify", auditor, null);
    assertThat(verify.statusCode()).as(verify.body()).isEqualTo(200);
    assertThat(verify.body()).contains("\"valid\":true");
  }
}
