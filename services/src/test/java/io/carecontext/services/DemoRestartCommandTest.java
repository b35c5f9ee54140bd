package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The command `demo --exit` prints to start the service again, after which its keys and calls work. It
 * named CARECONTEXT_HOME and the port only: after a `kek rotate --to` the README has the service run with
 * CARECONTEXT_KEK_FILE=the new key, and a serve started as printed took the home's old kek.key, under
 * which no data key opens (every call of the demo tenant 503 key_unavailable); a key in a token, or an
 * external database, were dropped alike. Secrets (passwords, the operator key, a URL's parameters) are
 * never printed: those settings are named, not given.
 */
class DemoRestartCommandTest {

  @Test
  void theKeyAndDatabaseSettingsTheDemoRanWithAreInTheCommandWithoutSecrets() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("CARECONTEXT_HOME", "/tmp/cc");
    env.put("CARECONTEXT_KEK_FILE", "/keys/kek 2.key");
    env.put("CARECONTEXT_KEK_PKCS11_LIBRARY", "/usr/lib/softhsm/libsofthsm2.so");
    env.put("CARECONTEXT_KEK_PKCS11_SLOT", "42");
    env.put("CARECONTEXT_KEK_PKCS11_PIN_FILE", "/keys/pin");
    env.put("CARECONTEXT_DB_URL", "jdbc:postgresql://db:5432/cc?password=hunter2");
    env.put("CARECONTEXT_DB_PASSWORD", "hunter3");
    env.put("CARECONTEXT_ADMIN_KEY", "operator-secret-key");
    String command = Demo.restartCommand(env, 18411);
    assertThat(command).startsWith("CARECONTEXT_HOME=/tmp/cc CARECONTEXT_KEK_FILE='/keys/kek 2.key' "
            + "CARECONTEXT_KEK_PKCS11_LIBRARY=/usr/lib/softhsm/libsofthsm2.so CARECONTEXT_KEK_PKCS11_SLOT=42 "
            + "CARECONTEXT_KEK_PKCS11_PIN_FILE=/keys/pin CARECONTEXT_PORT=18411 ./carecontext serve")
        .contains("the same CARECONTEXT_DB_* settings")
        .doesNotContain("hunter").doesNotContain("operator-secret").doesNotContain("db:5432");
  }

  @Test
  void withTheDefaultsItIsTheHomeAndThePortAsBefore() {
    assertThat(Demo.restartCommand(Map.of("CARECONTEXT_HOME", "/tmp/my cc"), 8080))
        .isEqualTo("CARECONTEXT_HOME='/tmp/my cc' CARECONTEXT_PORT=8080 ./carecontext serve");
    assertThat(Demo.restartCommand(Map.of(), 8080)).isEqualTo("CARECONTEXT_PORT=8080 ./carecontext serve");
  }

  @Test
  void aSettingGivenAsASystemPropertyIsNamedAsTheDemoReadIt() {
    // CARECONTEXT_JAVA_OPTS='-Dcarecontext.kek.file=…' is how the README says any setting may be given, and it
    // wins over the variable: the restart command named the variable's value, or nothing
    String previous = System.setProperty("carecontext.kek.file", "/keys/rotated.key");
    try {
      assertThat(Demo.restartCommand(Map.of("CARECONTEXT_KEK_FILE", "/keys/old.key"), 8080))
          .isEqualTo("CARECONTEXT_KEK_FILE=/keys/rotated.key CARECONTEXT_PORT=8080 ./carecontext serve");
    } finally {
      if (previous == null) {
        System.clearProperty("carecontext.kek.file");
      } else {
        System.setProperty("carecontext.kek.file", previous);
      }
    }
  }
}
