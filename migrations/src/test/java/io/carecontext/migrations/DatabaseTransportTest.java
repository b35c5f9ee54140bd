package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Patient data crosses the connection to the database: a start refuses a plain-text connection to
 * another machine unless the operator said the network encrypts it, and warns about an encrypted one
 * whose server is not verified. (Which connection it has is read from the server: DatabaseTlsIT.)
 */
class DatabaseTransportTest {

  static DatabaseConfig config(String url) {
    return new DatabaseConfig(url, "owner", "pw", null, null, "cc", 2);
  }

  @Test
  void aLocalConnectionNeedsNoEncryption() {
    assertThat(PlatformDatabase.transportProblem(false, true, config("jdbc:postgresql://127.0.0.1:5433/cc"))).isEmpty();
  }

  @Test
  void aPlainConnectionAcrossANetworkIsRefusedUnlessAllowed() {
    DatabaseConfig prefer = config("jdbc:postgresql://db.internal:5432/cc"); // the driver's default: sslmode=prefer
    assertThat(prefer.plaintextAllowed()).isFalse();
    assertThat(PlatformDatabase.transportProblem(false, false, prefer)).hasValueSatisfying(m -> assertThat(m)
        .contains("not encrypted", "sslmode=verify-full", "CARECONTEXT_DB_ALLOW_PLAINTEXT=true"));
    assertThat(PlatformDatabase.transportProblem(false, false, prefer.allowingPlaintext(true)))
        .hasValueSatisfying(m -> assertThat(m).contains("not encrypted").doesNotContain("=true"));
  }

  @Test
  void anEncryptedConnectionIsWarnedAboutUnlessItsServerIsVerified() {
    for (String verified : new String[] {"?sslmode=verify-full&sslrootcert=/ca.pem", "?sslrootcert=/ca.pem&sslmode=verify-ca",
        "?ssl=true"}) {
      assertThat(PlatformDatabase.transportProblem(true, false, config("jdbc:postgresql://db:5432/cc" + verified)))
          .as(verified).isEmpty();
    }
    for (String unverified : new String[] {"?sslmode=require", "", "?ssl=true&sslmode=require", "?sslmode=prefer"}) {
      assertThat(PlatformDatabase.transportProblem(true, false, config("jdbc:postgresql://db:5432/cc" + unverified)))
          .as(unverified).hasValueSatisfying(m -> assertThat(m).contains("certificate is not checked"));
    }
  }

  @Test
  void allowingPlaintextKeepsEverythingElse() {
    DatabaseConfig c = new DatabaseConfig("jdbc:postgresql://db/cc", "owner", "pw", "app", "apw", "cc", 4, 7);
    DatabaseConfig allowed = c.allowingPlaintext(true);
    assertThat(allowed.plaintextAllowed()).isTrue();
    assertThat(allowed.withAppPassword("x").plaintextAllowed()).isTrue();
    assertThat(allowed.allowingPlaintext(false)).isEqualTo(c);
  }
}
