package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.KekRotation;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `kek rotate` as the command runs it, against the service's own database: each tenant whose data key
 * it rewraps gets one row in its trail (action kek-rotate, the two KEKs' ids), which its auditor reads,
 * the chain still verifies, and a second run rewraps nothing and writes no row.
 */
class KeyEncryptionKeyRotationIT {

  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void eachRewrappedTenantsTrailSaysSoAndStillVerifies() {
    String auditor = app.tenantWithKey("kekrot", "aud-k", "[\"auditor\"]", null);
    RuntimeSettings settings = RuntimeSettings.from(Map.of(
        "CARECONTEXT_HOME", app.home.toString(),
        "CARECONTEXT_DB_URL", app.database.jdbcUrl(),
        "CARECONTEXT_DB_USER", app.database.ownerUser(),
        "CARECONTEXT_DB_PASSWORD", app.database.ownerPassword(),
        "CARECONTEXT_DB_APP_USER", app.database.appUser(),
        "CARECONTEXT_DB_APP_PASSWORD", app.database.appPassword(),
        "CARECONTEXT_DB_ROLE_PREFIX", app.database.rolePrefix(),
        "CARECONTEXT_DB_ALLOW_PLAINTEXT", "true"));
    Path next = app.home.resolve("kek-next.key");

    KekRotation.Result done = KeyEncryptionKeyRotation.run(settings, next, running -> { });

    assertThat(done.rewrappedTenants()).extracting(t -> t.value()).contains("kekrot");
    HttpResponse<String> rows = app.call("GET", "/v1/kekrot/audit?action=kek-rotate", auditor, null);
    assertThat(rows.statusCode()).as(rows.body()).isEqualTo(200);
    assertThat(rows.body()).contains("\"count\":1").contains("\"reason\":\"kek_rotated\"")
        .contains("\"fromKek\":\"" + done.fromKekId() + "\"").contains("\"toKek\":\"" + done.toKekId() + "\"");
    assertThat(app.call("GET", "/v1/kekrot/audit/verify", auditor, null).body()).contains("\"valid\":true");
    assertThat(app.call("GET", "/v1/kekrot/audit/export", auditor, null).body())
        .contains("\"code\":\"110113\"").contains("\"code\":\"kek-rotate\"");

    KekRotation.Result again = KeyEncryptionKeyRotation.run(settings, next, running -> { });
    assertThat(again.rewrapped()).isZero();
    assertThat(app.call("GET", "/v1/kekrot/audit?action=kek-rotate", auditor, null).body()).contains("\"count\":1");
  }
}
