package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The embedded default as `db stop` and `db start` use it, on a cluster of its own. */
class EmbeddedPostgresIT {

  @Test
  void aRestartedClusterTakesItsPortAgainSoARunningServiceReconnects() throws Exception {
    Path home = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(), "embedded-restart");
    EmbeddedPostgres pg = EmbeddedPostgres.at(home);
    try {
      int first = pg.start().port();
      pg.stop();
      assertThat(pg.isRunning()).isFalse();
      EmbeddedPostgres again = EmbeddedPostgres.at(home).start();
      assertThat(again.port()).isEqualTo(first);
      try (var c = again.superuserConnection("postgres"); var rs = c.createStatement().executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
    } finally {
      EmbeddedPostgres.at(home).stop();
    }
  }
}
