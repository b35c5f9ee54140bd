package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS files that are not PEM are refused before anything starts: Micronaut failed on them with some
 * 140 lines of stack trace and ended the process, leaving the embedded PostgreSQL running.
 */
class TlsFilesTest {

  @TempDir Path dir;

  @Test
  void aCertificateOrKeyThatIsNotPemIsRefusedNamingTheVariable() throws Exception {
    Path pemCert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path pemKey = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    Path der = Files.write(dir.resolve("cert.der"), new byte[] {0x30, (byte) 0x82, 0x01, (byte) 0xff, 0x00});
    Path text = Files.writeString(dir.resolve("notes.txt"), "not a certificate");

    assertThatThrownBy(() -> tls(der, pemKey)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CARECONTEXT_TLS_CERT").hasMessageContaining("is not the PEM certificate chain");
    assertThatThrownBy(() -> tls(pemCert, text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CARECONTEXT_TLS_KEY").hasMessageContaining("is not the PEM private key")
        .hasMessageNotContaining("not a certificate"); // the file's content is never shown
    assertThatThrownBy(() -> tls(pemKey, pemKey)).hasMessageContaining("CARECONTEXT_TLS_CERT"); // a key given as cert
    assertThat(tls(pemCert, pemKey)).containsEntry("micronaut.server.ssl.enabled", true);
  }

  private static Map<String, Object> tls(Path cert, Path key) {
    return CareContextServer.tlsProperties(RuntimeSettings.from(Map.of(
        "CARECONTEXT_TLS_CERT", cert.toString(), "CARECONTEXT_TLS_KEY", key.toString())));
  }
}
