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
}
