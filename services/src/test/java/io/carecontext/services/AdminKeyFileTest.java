package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator key kept in $CARECONTEXT_HOME/admin.key, which the README lets operators write themselves.
 * An empty file started the service with no operator key at all, without a word (every admin call then
 * answered 401); a file others may read, or a short key written there, passed without the warning that
 * CARECONTEXT_ADMIN_KEY gets. The key itself is never logged.
 */
class AdminKeyFileTest {

  @Test
  void anEmptyFileStopsTheStartSayingToDeleteItOrWriteTheKey(@TempDir Path home) throws Exception {
    Files.writeString(home.resolve("admin.key"), " \n");
    Files.setPosixFilePermissions(home.resolve("admin.key"), PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> CareContextServer.generatedAdminKey(home))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(home.resolve("admin.key") + " is empty")
        .hasMessageContaining("delete it");
  }

  @Test
  void aFileOthersMayReadOrAShortKeyIsWarnedAboutWithoutTheKey(@TempDir Path home) throws Exception {
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        CareContextServer.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      Path file = home.resolve("admin.key");
      Files.writeString(file, "a-long-enough-operator-secret\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(CareContextServer.generatedAdminKey(home)).isEqualTo("a-long-enough-operator-secret");
      assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).contains("chmod 600 " + file).contains("rw-r--r--"))
          .allSatisfy(m -> assertThat(m).doesNotContain("operator-secret"));

      lines.list.clear();
      Files.writeString(file, "short");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      assertThat(CareContextServer.generatedAdminKey(home)).isEqualTo("short");
      assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).contains("shorter than 16 characters").contains(file.toString()))
          .allSatisfy(m -> assertThat(m).doesNotContain("short\""));

      lines.list.clear();
      Files.delete(file);
      String made = CareContextServer.generatedAdminKey(home);
      assertThat(made).startsWith("ccadmin_");
      assertThat(CareContextServer.generatedAdminKey(home)).isEqualTo(made);
      assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
          .noneSatisfy(m -> assertThat(m).containsAnyOf("chmod", "shorter"));
    } finally {
      log.detachAppender(lines);
    }
  }
}
