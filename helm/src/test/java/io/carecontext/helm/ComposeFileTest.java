package io.carecontext.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml, read as compose reads it (YAML merge keys resolved): the same least privilege as the chart.
 * The migration got the key-encryption key through the shared anchor, although a migration decrypts nothing
 * and the chart's migration Job gets no key.
 */
class ComposeFileTest {

  @SuppressWarnings("unchecked")
  private static Map<String, Object> services() throws Exception {
    Path compose = Paths.get(System.getProperty("basedir", "."), "..", "docker-compose.yml");
    Map<String, Object> doc = new Yaml().load(Files.readString(compose));
    return (Map<String, Object>) doc.get("services");
  }

  @Test
  @SuppressWarnings("unchecked")
  void onlyTheProcessesThatDecryptGetTheKeyEncryptionKey() throws Exception {
    Map<String, Object> services = services();
    for (String decrypts : List.of("api", "worker")) {
      Map<String, Object> s = (Map<String, Object>) services.get(decrypts);
      assertThat((List<Object>) s.get("secrets")).as(decrypts).containsExactly("kek");
      assertThat(((Map<String, Object>) s.get("environment")).get("CARECONTEXT_KEK_FILE")).as(decrypts)
          .isEqualTo("/run/secrets/kek");
    }
    Map<String, Object> migrate = (Map<String, Object>) services.get("migrate");
    assertThat((List<Object>) migrate.get("secrets")).isEmpty();
    Map<String, Object> env = (Map<String, Object>) migrate.get("environment");
    assertThat(env.get("CARECONTEXT_KEK_FILE")).isNotEqualTo("/run/secrets/kek");
    // it still gets what a migration needs
    assertThat(env).containsKeys("CARECONTEXT_DB_URL", "CARECONTEXT_DB_USER", "CARECONTEXT_DB_PASSWORD",
        "CARECONTEXT_DB_APP_PASSWORD").doesNotContainKey("CARECONTEXT_ADMIN_KEY");
    assertThat(migrate.get("command")).isEqualTo(List.of("migrate"));
  }

  /** Docker kills a container 10 s after SIGTERM by default, inside the service's 20 s grace period for requests. */
  @Test
  @SuppressWarnings("unchecked")
  void theServicesHaveTimeToFinishTheirRequestsWhenStopped() throws Exception {
    Map<String, Object> services = services();
    for (String name : List.of("api", "worker")) {
      assertThat(((Map<String, Object>) services.get(name)).get("stop_grace_period")).as(name).isEqualTo("30s");
    }
  }
}
