package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The settings that keep row values out of PostgreSQL's own log are the embedded default's, and the
 * same three places must say them alike: the compose file's database (the image's defaults log
 * {@code DETAIL: Key (patient_id)=(…) already exists} and the refused statement) and the README's
 * advice for an external PostgreSQL. {@code PhiNeverLoggedIT} proves the log they give.
 */
class ServerLogSettingsTest {

  @Test
  void theComposeDatabaseAndTheReadmeUseTheEmbeddedDefaultsLogSettings() throws IOException {
    String compose = Files.readString(repositoryFile("docker-compose.yml"));
    String readme = Files.readString(repositoryFile("README.md"));
    assertThat(EmbeddedPostgres.SERVER_LOG_SETTINGS).isNotEmpty();
    for (String setting : EmbeddedPostgres.SERVER_LOG_SETTINGS) {
      assertThat(compose).as("docker-compose.yml starts its database with " + setting)
          .contains("\"-c\", \"" + setting + "\"");
      assertThat(readme).as("the README recommends " + setting + " for an external PostgreSQL")
          .contains("`" + setting.replace("=", " = ") + "`");
    }
  }

  private static Path repositoryFile(String name) {
    String basedir = System.getProperty("basedir");
    return Stream.of(basedir == null ? null : Paths.get(basedir, "..", name), Paths.get("..", name), Paths.get(name))
        .filter(p -> p != null && Files.isRegularFile(p)).findFirst()
        .orElseThrow(() -> new IllegalStateException(name + " not found from " + Paths.get("").toAbsolutePath()));
  }
}
