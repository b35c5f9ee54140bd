package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class RuntimeSettingsTest {

  @Test
  void defaultsApplyWhenNothingIsSet() {
    RuntimeSettings s = RuntimeSettings.from(Map.of());
    assertThat(s.port()).isEqualTo(8080);
    assertThat(s.dbPoolSize()).isEqualTo(RuntimeSettings.defaultPoolSize());
    assertThat(s.workerThreads()).isEqualTo(1);
    assertThat(s.dbConnectTimeoutSeconds()).isEqualTo(3);
    assertThat(s.auditSealSeconds()).isEqualTo(60);
    assertThat(s.shutdownGraceSeconds()).isEqualTo(20);
    assertThat(s.shutdownDelaySeconds()).isZero(); // a local Ctrl-C stops at once
    assertThat(s.adminKey()).isEmpty();
  }

  @Test
  void aBadValueNamesTheVariableAndWhatItTakes() {
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_PORT", "notaport")))
        .hasMessage("CARECONTEXT_PORT must be a port number from 1 to 65535 (or -1 for any free port)");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_PORT", "0")))
        .hasMessageStartingWith("CARECONTEXT_PORT must be");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_DB_POOL_SIZE", "0")))
        .hasMessage("CARECONTEXT_DB_POOL_SIZE must be a whole number from 1 to 1000");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_WORKER_THREADS", "-2")))
        .hasMessage("CARECONTEXT_WORKER_THREADS must be a whole number from 0 to 64");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_FHIR_MAX_BYTES", "10")))
        .hasMessageStartingWith("CARECONTEXT_FHIR_MAX_BYTES must be");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES", "0")))
        .hasMessage("CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES must be a whole number of entries from 1 to 1000000");
    assertThat(RuntimeSettings.from(Map.of()).maxBundleEntries()).isEqualTo(10_000);
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES", "500")).maxBundleEntries())
        .isEqualTo(500);
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_DB_CONNECT_TIMEOUT", "0")))
        .hasMessage("CARECONTEXT_DB_CONNECT_TIMEOUT must be a number of seconds from 1 to 60");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_AUDIT_SEAL_SECONDS", "0")))
        .hasMessage("CARECONTEXT_AUDIT_SEAL_SECONDS must be a number of seconds from 1 to 3600");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_SHUTDOWN_GRACE_SECONDS", "-1")))
        .hasMessage("CARECONTEXT_SHUTDOWN_GRACE_SECONDS must be a number of seconds from 0 to 3600");
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_SHUTDOWN_GRACE_SECONDS", "0")).shutdownGraceSeconds()).isZero();
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_SHUTDOWN_DELAY_SECONDS", "301")))
        .hasMessage("CARECONTEXT_SHUTDOWN_DELAY_SECONDS must be a number of seconds from 0 to 300");
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_SHUTDOWN_DELAY_SECONDS", "5")).shutdownDelaySeconds())
        .isEqualTo(5);
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_RATE_LIMIT_SHARES", "0")))
        .hasMessage("CARECONTEXT_RATE_LIMIT_SHARES must be the number of API processes (1 to 1000)");
    assertThat(RuntimeSettings.from(Map.of()).rateLimitShares()).isEqualTo(1);
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_DB_ALLOW_PLAINTEXT", "yes")))
        .hasMessage("CARECONTEXT_DB_ALLOW_PLAINTEXT must be true or false");
    assertThat(RuntimeSettings.from(Map.of()).dbAllowPlaintext()).isFalse();
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_DB_ALLOW_PLAINTEXT", "TRUE")).dbAllowPlaintext()).isTrue();
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_RATE_LIMIT_SHARES", "4")).rateLimitShares()).isEqualTo(4);
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_DB_CONNECT_TIMEOUT", "1.5")))
        .hasMessageStartingWith("CARECONTEXT_DB_CONNECT_TIMEOUT must be");
  }

  /**
   * CARECONTEXT_PUBLIC_URL, the base of the CapabilityStatement's implementation.url behind an ingress:
   * an absolute http(s) URL without query or fragment, or the start is refused naming the variable (and
   * never quoting the value, whose user info would be a password).
   */
  @Test
  void thePublicUrlIsAnAbsoluteHttpUrlWithoutQueryOrFragment() {
    assertThat(RuntimeSettings.from(Map.of()).publicUrl()).isEmpty();
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_PUBLIC_URL", "https://carecontext.example.org")).publicUrl())
        .contains("https://carecontext.example.org");
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_PUBLIC_URL", " HTTPS://cc.example.org:8443/ehr/ ")).publicUrl())
        .contains("https://cc.example.org:8443/ehr");
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_PUBLIC_URL", "http://10.0.0.7:8080")).publicUrl())
        .contains("http://10.0.0.7:8080");
    for (String bad : java.util.List.of("carecontext.example.org", "/fhir", "ftp://cc.example.org",
        "https://cc.example.org/?a=1", "https://cc.example.org/#top", "https://user:secret@cc.example.org",
        "https://", "https://cc example.org", "mailto:ops@example.org")) {
      assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_PUBLIC_URL", bad))).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("CARECONTEXT_PUBLIC_URL must be the absolute http or https URL clients reach the service by, "
              + "without query or fragment, e.g. https://carecontext.example.org, or unset")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret"));
    }
  }

  /**
   * CARECONTEXT_CORS_ORIGINS, the pages a browser may let call the API: exact http(s) origins, kept as a
   * browser names them in Origin (the framework compares them exactly); a wildcard, a path or anything
   * else stops the start naming the variable, never quoting the value.
   */
  @Test
  void theCorsOriginsAreExactOriginsAndNoWildcard() {
    assertThat(RuntimeSettings.from(Map.of()).corsOrigins()).isEmpty();
    assertThat(CareContextServer.corsProperties(RuntimeSettings.from(Map.of()))).isEmpty();
    RuntimeSettings s = RuntimeSettings.from(Map.of("CARECONTEXT_CORS_ORIGINS",
        " https://Chat.Example.org , http://localhost:3000,HTTPS://ehr.example.org:443,http://10.0.0.7:80,"
            + "https://chat.example.org,http://[::1]:8081"));
    assertThat(s.corsOrigins()).containsExactly("https://chat.example.org", "http://localhost:3000",
        "https://ehr.example.org", "http://10.0.0.7", "http://[::1]:8081");
    Map<String, Object> props = CareContextServer.corsProperties(s);
    String c = "micronaut.server.cors.configurations.carecontext.";
    assertThat(props).containsEntry("micronaut.server.cors.enabled", true)
        .containsEntry(c + "allowed-origins", s.corsOrigins())
        .containsEntry(c + "allow-credentials", false);
    assertThat((java.util.List<Object>) props.get(c + "allowed-methods")).containsExactly("GET", "POST", "PUT", "PATCH",
        "DELETE");
    assertThat((java.util.List<Object>) props.get(c + "allowed-headers")).contains("Authorization", "Content-Type",
        "X-Request-Id", "If-Match");
    assertThat((java.util.List<Object>) props.get(c + "exposed-headers")).containsExactly("X-Request-Id", "Location",
        "ETag", "Retry-After");
    for (String bad : java.util.List.of("*", "https://*.example.org", "https://chat.example.org,*",
        "chat.example.org", "https://chat.example.org/", "https://chat.example.org/app", "ftp://chat.example.org",
        "https://chat.example.org?a=1", "https://user:secret@chat.example.org", "https://chat.example.org,,",
        "null", "https://", "file:///tmp/page.html")) {
      assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_CORS_ORIGINS", bad))).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("CARECONTEXT_CORS_ORIGINS must be a comma-separated list of exact web origins, each "
              + "http(s)://host or http(s)://host:port without path, query or wildcard (*), e.g. "
              + "https://chat.example.org,http://localhost:3000, or unset")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret", "app", "user"));
    }
  }

  @Test
  void aKeyInAPkcs11TokenNeedsItsLibrarySlotAndPinFile() {
    assertThat(RuntimeSettings.from(Map.of()).kekToken()).isEmpty();
    assertThat(RuntimeSettings.from(Map.of()).currentKekSetting()).isEqualTo("CARECONTEXT_KEK_FILE");
    RuntimeSettings s = RuntimeSettings.from(Map.of("CARECONTEXT_KEK_PKCS11_LIBRARY", "/usr/lib/softhsm/libsofthsm2.so",
        "CARECONTEXT_KEK_PKCS11_SLOT", "17", "CARECONTEXT_KEK_PKCS11_PIN_FILE", "/run/secrets/pin"));
    assertThat(s.kekToken()).contains(new KekToken(java.nio.file.Path.of("/usr/lib/softhsm/libsofthsm2.so"), 17,
        java.nio.file.Path.of("/run/secrets/pin"), "carecontext-kek", java.util.Optional.empty()));
    assertThat(s.currentKekSetting()).contains("PKCS#11").contains("slot 17");
    assertThat(s.currentKek()).isInstanceOf(io.carecontext.migrations.crypto.Pkcs11KeyProvider.class);

    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_KEK_PKCS11_LIBRARY", "/x.so")))
        .hasMessageContaining("needs CARECONTEXT_KEK_PKCS11_SLOT");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_KEK_PKCS11_SLOT", "1")))
        .hasMessageContaining("only with CARECONTEXT_KEK_PKCS11_LIBRARY");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_KEK_PKCS11_LIBRARY", "/x.so",
        "CARECONTEXT_KEK_PKCS11_SLOT", "first", "CARECONTEXT_KEK_PKCS11_PIN_FILE", "/p")))
        .hasMessageStartingWith("CARECONTEXT_KEK_PKCS11_SLOT must be");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_KEK_PKCS11_LIBRARY", "/x.so",
        "CARECONTEXT_KEK_PKCS11_SLOT", "1", "CARECONTEXT_KEK_PKCS11_PIN_FILE", "/p",
        "CARECONTEXT_KEK_PKCS11_KEY_LABEL", "two words")))
        .hasMessageContaining("CARECONTEXT_KEK_PKCS11_KEY_LABEL");

    Map<String, String> token = Map.of("CARECONTEXT_KEK_PKCS11_LIBRARY", "/x.so", "CARECONTEXT_KEK_PKCS11_SLOT", "1",
        "CARECONTEXT_KEK_PKCS11_PIN_FILE", "/p", "CARECONTEXT_KEK_PKCS11_KEY_LABEL", "kek-2026");
    Map<String, String> rotating = new java.util.HashMap<>(token);
    rotating.put("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL", "kek-2025");
    assertThat(RuntimeSettings.from(rotating).previousKek()).get()
        .isInstanceOf(io.carecontext.migrations.crypto.Pkcs11KeyProvider.class);
    assertThat(RuntimeSettings.from(rotating).previousKekSetting()).isEqualTo("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL");
    rotating.put("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL", "kek-2026");
    assertThatThrownBy(() -> RuntimeSettings.from(rotating)).hasMessageContaining("names the current key's label");
    rotating.put("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL", "kek-2025");
    rotating.put("CARECONTEXT_KEK_PREVIOUS_FILE", "/old.key");
    assertThatThrownBy(() -> RuntimeSettings.from(rotating)).hasMessageContaining("both name a previous key");
  }

  @Test
  void theConnectTimeoutReachesTheDatabaseConfig() {
    RuntimeSettings s = RuntimeSettings.from(Map.of("CARECONTEXT_DB_CONNECT_TIMEOUT", "7",
        "CARECONTEXT_DB_URL", "jdbc:postgresql://db:5432/cc", "CARECONTEXT_DB_USER", "owner"));
    assertThat(CareContextServer.databaseConfig(s).connectTimeoutSeconds()).isEqualTo(7);
  }

  @Test
  void aShortAdminKeyIsFlaggedNotRefused() {
    // a first local run with a short key still starts; the server warns at start-up
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_ADMIN_KEY", "hunter2")).weakAdminKey()).isTrue();
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_ADMIN_KEY", "a-long-random-secret")).weakAdminKey()).isFalse();
    assertThat(RuntimeSettings.from(Map.of()).weakAdminKey()).isFalse();
  }

  @Test
  void trustedProxiesAreCidrsAndAWrongListStopsTheStart() {
    assertThat(RuntimeSettings.from(Map.of()).trustedProxies()).isEmpty();
    assertThat(RuntimeSettings.from(Map.of("CARECONTEXT_TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8")).trustedProxies())
        .contains("10.0.0.0/8,fd00::/8");
    assertThatThrownBy(() -> RuntimeSettings.from(Map.of("CARECONTEXT_TRUSTED_PROXIES", "ingress.local")))
        .hasMessageStartingWith("CARECONTEXT_TRUSTED_PROXIES must be");
  }

  /**
   * Every variable a start reads is in the README's table, and a Kubernetes deployment can set it: the chart sets
   * it from a value of its own (its templates name it), or the README's Deploying section names it among those
   * given through {@code config.extraEnv}. The names are the ones {@link RuntimeSettings#from} asks its
   * environment for, so a setting added there and not to the README and the chart fails here. Four had no word
   * on how a Kubernetes deployment sets them.
   */
  @Test
  void everySettingIsInTheReadmesTableAndSettableThroughTheChart() throws IOException {
    Set<String> read = new LinkedHashSet<>();
    RuntimeSettings.from(new java.util.HashMap<>() {
      @Override
      public String get(Object key) {
        read.add((String) key);
        return null;
      }
    });
    assertThat(read).contains("CARECONTEXT_PORT", "CARECONTEXT_DB_URL", "CARECONTEXT_KEK_PKCS11_SLOT",
        "CARECONTEXT_TRUSTED_PROXIES"); // the recording sees every read, the conditional ones too
    // read outside RuntimeSettings, by the gateway's host and secret checks
    read.add(io.carecontext.migrations.ModelHosts.VARIABLE);
    read.add(io.carecontext.migrations.SecretNames.GRANTS_VARIABLE);

    String readme = Files.readString(repositoryFile("README.md"));
    String deploying = section(readme, "\n## Deploying\n");
    String templates;
    try (Stream<Path> files = Files.list(repositoryFile("helm/carecontext/templates"))) {
      List<String> texts = new ArrayList<>();
      for (Path f : files.collect(Collectors.toList())) {
        texts.add(Files.readString(f));
      }
      templates = String.join("\n", texts);
    }
    List<String> viaExtraEnv = Stream.of(deploying.split(";|\\.\\s"))
        .filter(clause -> clause.contains("through `config.extraEnv`"))
        .flatMap(clause -> read.stream().filter(name -> clause.contains("`" + name + "`")))
        .collect(Collectors.toList());
    for (String name : read) {
      assertThat(readme).as("the README's table has a row for " + name)
          .containsPattern("\\n\\| (`[A-Z_0-9]+` / )?`" + name + "`( / `[A-Z_0-9]+`)? \\|");
      assertThat(templates.contains(name) || viaExtraEnv.contains(name))
          .as(name + " is set by the chart, or the README's Deploying section says to give it through config.extraEnv")
          .isTrue();
      assertThat(templates.contains(name) && viaExtraEnv.contains(name))
          .as(name + " is set by the chart and yet sent through config.extraEnv, where it would override the chart's")
          .isFalse();
    }
  }

  /** A README section, from its heading to the next of its level. */
  private static String section(String readme, String heading) {
    int start = readme.indexOf(heading);
    assertThat(start).as("README section " + heading).isNotNegative();
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  private static Path repositoryFile(String name) {
    String basedir = System.getProperty("basedir");
    return Stream.of(basedir == null ? null : Paths.get(basedir, "..", name), Paths.get("..", name), Paths.get(name))
        .filter(p -> p != null && Files.exists(p)).findFirst()
        .orElseThrow(() -> new IllegalStateException(name + " not found from " + Paths.get("").toAbsolutePath()));
  }
}
