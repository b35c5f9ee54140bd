package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmbeddedPostgresTest {

  static final long GB = 1024L * 1024 * 1024;

  @Test
  void sharedBuffersAreAQuarterOfTheMachinesMemoryWithinPostgresDefaultAndFourGigabytes() {
    assertThat(EmbeddedPostgres.sharedBuffersMb(null, 8 * GB)).isEqualTo(2048);
    assertThat(EmbeddedPostgres.sharedBuffersMb("", 2 * GB)).isEqualTo(512);
    assertThat(EmbeddedPostgres.sharedBuffersMb(null, 24 * GB)).isEqualTo(4096);
    assertThat(EmbeddedPostgres.sharedBuffersMb(null, GB / 4)).isEqualTo(128);
    assertThat(EmbeddedPostgres.sharedBuffersMb(null, 0)).isEqualTo(128); // memory unknown
  }

  @Test
  void aConfiguredSizeWins() {
    assertThat(EmbeddedPostgres.sharedBuffersMb(" 256 ", 24 * GB)).isEqualTo(256);
  }

  @ParameterizedTest
  @ValueSource(strings = {"2GB", "-1", "8", "abc", "2000000"})
  void aSizeThatIsNotWholeMegabytesInRangeIsRefusedWithWhatToSet(String configured) {
    assertThatThrownBy(() -> EmbeddedPostgres.sharedBuffersMb(configured, 8 * GB))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("CARECONTEXT_PG_SHARED_BUFFERS must be a whole number of megabytes")
        .hasMessageContaining(configured);
  }

  /**
   * CARECONTEXT_PG_BIN naming a folder without the server binaries was a NullPointerException stack trace
   * (/nonexistent) or "pgvector is not installed for PostgreSQL usr" (/usr/bin); it now says what the
   * variable must name. A source build's layout (bin/ next to share/extension/) has its pgvector found.
   */
  @Test
  void aPgBinWithoutTheServerBinariesSaysWhatToSetInsteadOfFailingLater(@org.junit.jupiter.api.io.TempDir
                                                                         java.nio.file.Path dir) throws Exception {
    for (String configured : new String[] {"/nonexistent", dir.toString(), "relative/bin"}) {
      assertThatThrownBy(() -> EmbeddedPostgres.findBinaries(configured))
          .as(configured).isInstanceOf(DatabaseException.class)
          .hasMessageContaining("CARECONTEXT_PG_BIN=" + configured)
          .hasMessageContaining("initdb and pg_ctl")
          .hasMessageContaining("/usr/lib/postgresql/<version>/bin");
    }
    java.nio.file.Path bin = java.nio.file.Files.createDirectories(dir.resolve("pgsql/bin"));
    for (String tool : new String[] {"initdb", "pg_ctl"}) {
      java.nio.file.Files.writeString(bin.resolve(tool), "#!/bin/sh\n");
      bin.resolve(tool).toFile().setExecutable(true);
    }
    assertThat(EmbeddedPostgres.findBinaries(bin.toString())).isEqualTo(bin);
    assertThat(EmbeddedPostgres.pgvectorControl(bin)).isEmpty();
    java.nio.file.Path control = java.nio.file.Files.createDirectories(dir.resolve("pgsql/share/extension"))
        .resolve("vector.control");
    java.nio.file.Files.writeString(control, "");
    assertThat(EmbeddedPostgres.pgvectorControl(bin)).contains(control);
    // Debian's layout: /usr/lib/postgresql/N/bin and /usr/share/postgresql/N/extension
    java.nio.file.Path debianBin = java.nio.file.Files.createDirectories(dir.resolve("usr/lib/postgresql/16/bin"));
    java.nio.file.Path debianControl = java.nio.file.Files.createDirectories(
        dir.resolve("usr/share/postgresql/16/extension")).resolve("vector.control");
    java.nio.file.Files.writeString(debianControl, "");
    assertThat(EmbeddedPostgres.pgvectorControl(debianBin)).contains(debianControl);
    assertThat(EmbeddedPostgres.pgvectorControl(java.nio.file.Path.of("/"))).isEmpty();
  }

  /** As every setting: the system property (through CARECONTEXT_JAVA_OPTS) too; it was read from the environment only. */
  @Test
  void thePgBinIsASettingLikeEveryOther() {
    System.setProperty("carecontext.pg.bin", "/nonexistent/carecontext-pg-bin");
    try {
      assertThatThrownBy(EmbeddedPostgres::findBinaries).hasMessageStartingWith(
          "CARECONTEXT_PG_BIN=/nonexistent/carecontext-pg-bin has no initdb and pg_ctl");
    } finally {
      System.clearProperty("carecontext.pg.bin");
    }
    assertThat(Setting.of("CARECONTEXT_NO_SUCH_SETTING")).isEmpty();
    System.setProperty("carecontext.no.such.setting", "  ");
    try {
      assertThat(Setting.of("CARECONTEXT_NO_SUCH_SETTING")).isEmpty(); // blank is unset, as for the service
    } finally {
      System.clearProperty("carecontext.no.such.setting");
    }
  }

  @Test
  void theLastStartsPortIsReadFromPostmasterOpts() {
    assertThat(EmbeddedPostgres.lastStartPort("/usr/lib/postgresql/15/bin/postgres \"-D\" \"/x/pgdata\" \"-p\" \"40019\" "
        + "\"-c\" \"listen_addresses=127.0.0.1\"")).contains(40019);
    assertThat(EmbeddedPostgres.lastStartPort("/usr/lib/postgresql/15/bin/postgres \"-D\" \"/x/pgdata\"")).isEmpty();
    assertThat(EmbeddedPostgres.lastStartPort("postgres \"-p\" \"5432\"")).isEmpty(); // never the default port
    assertThat(EmbeddedPostgres.lastStartPort("postgres \"-p\" \"99999\"")).isEmpty();
  }

  @Test
  void theServerStartsWithGlibcsAllocatorHeldOpenUnlessTheEnvironmentSaysOtherwise() {
    assertThat(EmbeddedPostgres.serverEnvironment(java.util.Map.of("PATH", "/usr/bin")))
        .containsExactly(java.util.Map.entry("GLIBC_TUNABLES",
            "glibc.malloc.trim_threshold=33554432:glibc.malloc.mmap_threshold=8388608"));
    // an operator's own setting, even an empty one, is left as it is
    assertThat(EmbeddedPostgres.serverEnvironment(java.util.Map.of("GLIBC_TUNABLES", ""))).isEmpty();
  }

  @Test
  void aHomeThatCannotBeWrittenIsNamedWithItsCauseAndTheVariableThatFixesIt() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("cc-home", ".txt");
    try {
      java.io.IOException notADirectory = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
          () -> java.nio.file.Files.createDirectories(file.resolve("home")));
      assertThat(EmbeddedPostgres.describe(notADirectory)).contains("Not a directory")
          .contains("set CARECONTEXT_HOME to a directory this user can write");
    } finally {
      java.nio.file.Files.delete(file);
    }
    // the JDK's own messages are the path alone: the cause is said in words
    assertThat(EmbeddedPostgres.describe(new java.nio.file.AccessDeniedException("/srv/cc")))
        .isEqualTo("/srv/cc: permission denied; set CARECONTEXT_HOME to a directory this user can write (it holds "
            + "the cluster, its passwords and the keys), or free the disk if it is full");
    assertThat(EmbeddedPostgres.describe(new java.nio.file.NoSuchFileException("/proc/cc")))
        .startsWith("/proc/cc: it does not exist and cannot be made; set CARECONTEXT_HOME");
    assertThat(EmbeddedPostgres.describe(new java.nio.file.FileSystemException("/d", null, "No space left on device")))
        .startsWith("/d: No space left on device; set CARECONTEXT_HOME");
    assertThat(EmbeddedPostgres.describe(new java.io.IOException("initdb failed"))).isEqualTo("initdb failed");
  }
}
