package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The embedded default as `db stop` and `db start` use it, on a cluster of its own. */
class EmbeddedPostgresIT {

  @Test
  void aSecondProcessOnTheSameHomeLeavesTheFirstOneItsApplicationPassword() throws Exception {
    // serve and a worker on one embedded home: each start gave the application role a new random
    // password, so the first process could open no new connection (its readiness went DOWN and its
    // requests 503 at the first reconnect, "the database does not answer") until it was restarted.
    Path home = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(), "embedded-two");
    EmbeddedPostgres pg = EmbeddedPostgres.at(home).start();
    try (PlatformDatabase serve = PlatformDatabase.bootstrap(pg.platformDatabase("carecontext", "cc_two"));
        PlatformDatabase worker = PlatformDatabase.bootstrap(pg.platformDatabase("carecontext", "cc_two"))) {
      // the first process opens new connections as it did before the second one started
      var app = (com.zaxxer.hikari.HikariDataSource) serve.appDataSource();
      app.getHikariPoolMXBean().softEvictConnections();
      try (var c = app.getConnection(); var rs = c.createStatement().executeQuery("SELECT current_user")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("cc_two_app");
      }
      assertThat(java.nio.file.Files.getPosixFilePermissions(home.resolve("cc_two_app.password")))
          .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
              java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    } finally {
      pg.stop();
    }
  }

  @Test
  void aRestartedClusterTakesItsPortAgainSoARunningServiceReconnects() throws Exception {
    Path home = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(), "embedded-restart");
    EmbeddedPostgres pg = EmbeddedPostgres.at(home);
    try {
      int first = pg.start().port();
      // the server's log can quote values statements sent: its owner's only
      assertThat(Files.getPosixFilePermissions(home.resolve("postgres.log")))
          .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
              java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
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

  /**
   * A process stops on exit only the cluster it started: after {@code db stop} and {@code db start}
   * under a running {@code serve}, stopping serve stopped the cluster that db start had started.
   */
  @Test
  void aClusterStartedAgainByAnotherCommandIsLeftRunningOnExit() throws Exception {
    Path home = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(), "embedded-owner");
    EmbeddedPostgres serve = EmbeddedPostgres.at(home).start();
    try {
      EmbeddedPostgres.at(home).stop();                      // db stop
      EmbeddedPostgres dbStart = EmbeddedPostgres.at(home).start(); // db start
      assertThat(dbStart.startedHere()).isTrue();
      assertThat(serve.stopIfStillStartedHere()).isFalse();
      assertThat(EmbeddedPostgres.at(home).isRunning()).as("db start's cluster keeps running").isTrue();
      assertThat(dbStart.stopIfStillStartedHere()).isTrue();
      assertThat(EmbeddedPostgres.at(home).isRunning()).isFalse();
    } finally {
      EmbeddedPostgres.at(home).stop();
    }
  }

  /**
   * serve's shutdown closes the cluster (CareContextServer.close, not the exit hook): that stopped the cluster
   * db stop and db start had restarted meanwhile (walked: a serve stopped after a database outage drill took the
   * cluster down with it). The cluster it did start, it still stops.
   */
  @Test
  void closingLeavesAClusterStartedAgainByAnotherCommandRunning() throws Exception {
    Path home = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(), "embedded-close");
    try {
      EmbeddedPostgres serve = EmbeddedPostgres.at(home).start();
      EmbeddedPostgres.at(home).stop();                            // db stop
      EmbeddedPostgres dbStart = EmbeddedPostgres.at(home).start(); // db start
      serve.close();
      assertThat(EmbeddedPostgres.at(home).isRunning()).as("db start's cluster keeps running").isTrue();
      dbStart.close();
      assertThat(EmbeddedPostgres.at(home).isRunning()).as("closed by the process that started it").isFalse();
    } finally {
      EmbeddedPostgres.at(home).stop();
    }
  }

  /**
   * A postmaster killed leaves postmaster.pid; once another process of the server's user has its process id (a
   * container's ids start again at 1), pg_ctl took the cluster for running: serve said "already running", then
   * failed to connect (SQLSTATE 08001, "see postgres.log", where nothing said why), and db stop signalled the
   * other process. Now the file is recognised as stale and removed, and the cluster starts.
   */
  @Test
  void aPidFileLeftByAKilledServerNamingAnotherLiveProcessDoesNotPassForTheCluster() throws Exception {
    Path home = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(), "embedded-stale");
    Process other = null;
    try {
      EmbeddedPostgres pg = EmbeddedPostgres.at(home).start();
      Path pidFile = pg.dataDir().resolve("postmaster.pid");
      List<String> lines = new ArrayList<>(Files.readAllLines(pidFile));
      pg.stop();
      // a live process of the server's user, working elsewhere, that took the dead postmaster's id
      boolean root = "root".equals(System.getProperty("user.name"));
      List<String> command = new ArrayList<>(root
          ? List.of("runuser", "-u", "postgres", "--") : List.of());
      command.addAll(List.of("sh", "-c", "echo $$; exec sleep 120"));
      other = new ProcessBuilder(command).directory(Path.of("/").toFile()).start();
      String otherPid = new BufferedReader(new InputStreamReader(other.getInputStream())).readLine().trim();
      lines.set(0, otherPid);
      Files.write(pidFile, lines);

      assertThat(EmbeddedPostgres.at(home).isRunning()).as("the pid file names another program").isFalse();
      EmbeddedPostgres again = EmbeddedPostgres.at(home).start();
      assertThat(again.startedHere()).isTrue();
      try (var c = again.superuserConnection("postgres"); var rs = c.createStatement().executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
      assertThat(ProcessHandle.of(Long.parseLong(otherPid))).as("the other program was left alone").isPresent();
    } finally {
      EmbeddedPostgres.at(home).stop();
      if (other != null) {
        other.descendants().forEach(ProcessHandle::destroyForcibly);
        other.destroyForcibly();
      }
    }
  }
}
