package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.testing.TestDirectories;
import io.carecontext.services.cli.BackupCommand;
import io.carecontext.services.cli.RestoreCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code backup} and {@code restore} on a bad day, against a real embedded cluster holding a small carecontext database
 * (no service: BackupRestoreIT restores a served installation): a serve that starts while a backup runs keeps its
 * cluster, a restore killed half-way is named as such when run again, a DIR on a path that cannot be written says why.
 */
class BackupCommandIT {

  @Test
  void aBackupLeavesRunningTheClusterAServeStartedMeanwhileUses() throws Exception {
    Path home = home(TestDirectories.create("backup-race"));
    EmbeddedPostgres pg = EmbeddedPostgres.at(home.resolve("postgres"));
    Connection[] serve = new Connection[1];
    // the serve: it connects once the backup has started the cluster (as serve does when it finds one running)
    StringWriter log = new StringWriter();
    PrintWriter out = new PrintWriter(log) {
      @Override
      public void println(String line) {
        super.println(line);
        if (line.startsWith("roles dumped") && serve[0] == null) {
          try {
            serve[0] = EmbeddedPostgres.at(home.resolve("postgres")).start().superuserConnection("carecontext");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      }
    };
    try {
      assertThat(BackupCommand.backup(settings(home), home.resolve("b1"), out)).isZero();
      assertThat(log.toString()).contains("embedded PostgreSQL started", "embedded PostgreSQL left running")
          .doesNotContain("embedded PostgreSQL stopped again");
      assertThat(pg.isRunning()).as("the serve's cluster kept").isTrue();
      try (var st = serve[0].createStatement(); var rs = st.executeQuery("SELECT count(*) FROM t")) {
        assertThat(rs.next()).isTrue();
      }
    } finally {
      if (serve[0] != null) {
        serve[0].close();
      }
      pg.stop();
    }
    // nobody else connected: the cluster it started is stopped again
    StringWriter alone = new StringWriter();
    assertThat(BackupCommand.backup(settings(home), home.resolve("b2"), new PrintWriter(alone))).isZero();
    assertThat(alone.toString()).contains("embedded PostgreSQL stopped again");
    assertThat(pg.isRunning()).isFalse();
  }

  @Test
  void aRestoreKilledHalfWayIsNamedAsSuchWhenRunAgain() throws Exception {
    Path work = TestDirectories.create("restore-killed");
    Path old = home(work);
    Path backup = work.resolve("backup with spaces");
    assertThat(BackupCommand.backup(settings(old), backup, new PrintWriter(new StringWriter()))).isZero();
    Path fresh = work.resolve("new home");
    assertThat(RestoreCommand.restore(settings(fresh), backup, new PrintWriter(new StringWriter()))).isZero();
    Path marker = fresh.resolve("postgres").resolve("restore.incomplete");
    assertThat(marker).as("removed once the load ended").doesNotExist();
    // kill -9 during pg_restore leaves the database it made and the marker: the next run says what it is
    Files.writeString(marker, backup + "\n");
    assertThatThrownBy(() -> RestoreCommand.restore(settings(fresh), backup, new PrintWriter(new StringWriter())))
        .hasMessageContaining("restore that stopped half-way").hasMessageContaining("do not start serve")
        .hasMessageContaining("nothing was restored");
    // nor does serve (or worker, or demo) start on it: it migrated the tables the load had not made as empty ones
    assertThatThrownBy(() -> CareContextServer.start(settings(fresh), false))
        .hasMessageContaining("a restore that stopped half-way").hasMessageContaining("nothing was started");
    assertThat(EmbeddedPostgres.at(fresh.resolve("postgres")).isRunning()).as("not even the cluster").isFalse();
    Files.delete(marker);
    assertThatThrownBy(() -> RestoreCommand.restore(settings(fresh), backup, new PrintWriter(new StringWriter())))
        .hasMessageContaining("holds a carecontext database already");
    EmbeddedPostgres pg = EmbeddedPostgres.at(fresh.resolve("postgres")).start();
    try (Connection c = pg.superuserConnection("carecontext"); var st = c.createStatement();
        var rs = st.executeQuery("SELECT v FROM t")) {
      assertThat(rs.next()).as("the database kept").isTrue();
      assertThat(rs.getString(1)).isEqualTo("kept");
    } finally {
      pg.stop();
    }
  }

  @Test
  void aBackupDuringWhichTheRolesChangeIsRefusedAndRemoved() throws Exception {
    Path home = home(TestDirectories.create("backup-roles"));
    Path dir = home.resolve("b");
    // a tenant created between the roles' dump and the database's: its roles would be missing from roles.sql
    PrintWriter out = new PrintWriter(new StringWriter()) {
      @Override
      public void println(String line) {
        super.println(line);
        if (line.startsWith("roles dumped")) {
          try (Connection c = EmbeddedPostgres.at(home.resolve("postgres")).start().superuserConnection("postgres");
              var st = c.createStatement()) {
            st.execute("CREATE ROLE tenant_made_meanwhile");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      }
    };
    assertThatThrownBy(() -> BackupCommand.backup(settings(home), dir, out))
        .hasMessageContaining("the roles changed while the database was dumped").hasMessageContaining("run the backup "
            + "again");
    assertThat(dir).as("nothing that could pass for a backup").doesNotExist();
    assertThat(EmbeddedPostgres.at(home.resolve("postgres")).isRunning()).isFalse();
  }

  @Test
  void aDirThatCannotBeMadeSaysWhy() throws Exception {
    Path home = home(TestDirectories.create("backup-ro"));
    assertThatThrownBy(() -> BackupCommand.backup(settings(home), Path.of("/proc/carecontext-backup/x"),
        new PrintWriter(new StringWriter()))).hasMessageContaining("cannot make /proc/carecontext-backup/x: a directory "
            + "above it does not exist and cannot be made").hasMessageContaining("nothing was written");
  }

  @Test
  void aBackupWhoseKeyOpensNoneOrOnlySomeOfTheDataKeysIsRefusedAndRemoved() throws Exception {
    Path home = home(TestDirectories.create("backup-key"));
    // after `kek rotate --to new.key`, which serve runs with: kek.key is the old key, which opens nothing any longer
    Files.delete(home.resolve("kek.key"));
    var old = new io.carecontext.migrations.crypto.LocalFileKeyProvider(home.resolve("kek.key"));
    var next = new io.carecontext.migrations.crypto.LocalFileKeyProvider(home.resolve("new.key"));
    old.kekId(); // made now, as the first serve made it
    dataKeys(home, Map.of("t1", next, "t2", next));
    Path dir = home.resolve("b-old");
    assertThatThrownBy(() -> BackupCommand.backup(settings(home), dir, new PrintWriter(new StringWriter())))
        .hasMessageContaining("CARECONTEXT_KEK_FILE (" + home.resolve("kek.key") + ") is kek " + old.kekId()
            + ", which opens none of the 2 tenant data key(s) stored: 2 are wrapped under kek " + next.kekId())
        .hasMessageContaining("Set CARECONTEXT_KEK_FILE to the key serve runs with").hasMessageContaining("nothing "
            + "was kept");
    assertThat(dir).as("nothing that could pass for a backup").doesNotExist();
    assertThat(EmbeddedPostgres.at(home.resolve("postgres")).isRunning()).isFalse();

    // with the key serve runs with it is done, and says what it checked; the sums cover backup.txt too
    StringWriter log = new StringWriter();
    Path good = home.resolve("b-new");
    assertThat(BackupCommand.backup(settings(home, home.resolve("new.key")), good, new PrintWriter(log))).isZero();
    assertThat(log.toString()).contains("key-encryption key checked: kek " + next.kekId() + " opens all 2 tenant data "
        + "key(s) stored").contains("for the backup (stopped again at the end, unless a serve or worker connects");
    assertThat(Files.readAllBytes(good.resolve("kek.key"))).isEqualTo(Files.readAllBytes(home.resolve("new.key")));
    assertThat(Files.readString(good.resolve("SHA256SUMS"))).contains("  roles.sql\n", "  carecontext.dump\n",
        "  backup.txt\n");

    // a tenant made under the old key meanwhile (a process still on it): the new key opens only some
    dataKeys(home, Map.of("t3", old));
    Path some = home.resolve("b-some");
    assertThatThrownBy(() -> BackupCommand.backup(settings(home, home.resolve("new.key")), some,
        new PrintWriter(new StringWriter()))).hasMessageContaining("is kek " + next.kekId() + ", which opens only 2 of "
            + "the 3 tenant data key(s) stored: 1 are wrapped under kek " + old.kekId());
    assertThat(some).doesNotExist();
  }

  @Test
  void aChangedBackupTxtIsRefusedAndTheFirstVersionsSumsStillRestore() throws Exception {
    Path work = TestDirectories.create("backup-sums");
    Path backup = work.resolve("b");
    assertThat(BackupCommand.backup(settings(home(work)), backup, new PrintWriter(new StringWriter()))).isZero();
    Path changed = work.resolve("changed");
    copy(backup, changed);
    Files.writeString(changed.resolve("backup.txt"), "recovery point: 2020-01-01T00:00:00Z (pg_dump started)\n");
    assertThatThrownBy(() -> RestoreCommand.restore(settings(work.resolve("h1")), changed,
        new PrintWriter(new StringWriter()))).hasMessageContaining("backup.txt: FAILED")
        .hasMessageContaining("nothing was restored");
    // the command's first version: sums of the two dumps only
    Path first = work.resolve("first");
    copy(backup, first);
    Files.writeString(first.resolve("SHA256SUMS"), Files.readString(backup.resolve("SHA256SUMS")).lines()
        .filter(l -> !l.endsWith("backup.txt")).map(l -> l + "\n").reduce("", String::concat));
    Path fresh = work.resolve("h2");
    StringWriter log = new StringWriter();
    assertThat(RestoreCommand.restore(settings(fresh), first, new PrintWriter(log))).isZero();
    assertThat(log.toString()).contains("backup.txt is not covered by SHA256SUMS (a backup made before it was)");
    // the restored home's cluster, stopped: a second restore starts it, says so, and stops it again
    StringWriter again = new StringWriter();
    assertThatThrownBy(() -> RestoreCommand.restore(settings(fresh), backup, new PrintWriter(again)))
        .hasMessageContaining("holds a carecontext database already");
    assertThat(again.toString()).contains("embedded PostgreSQL started on 127.0.0.1:", "for the restore",
        "embedded PostgreSQL stopped again");
    assertThat(EmbeddedPostgres.at(fresh.resolve("postgres")).isRunning()).isFalse();
  }

  private static void copy(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  /** Tenant data keys stored as serve stores them (platform.tenant_keys), each wrapped under the key given. */
  private static void dataKeys(Path home, Map<String, io.carecontext.migrations.crypto.KeyEncryptionKeyProvider> keys)
      throws Exception {
    EmbeddedPostgres pg = EmbeddedPostgres.at(home.resolve("postgres")).start();
    try (Connection c = pg.superuserConnection("carecontext"); var st = c.createStatement()) {
      st.execute("CREATE SCHEMA IF NOT EXISTS platform");
      st.execute("CREATE TABLE IF NOT EXISTS platform.tenant_keys (tenant_id text, key_version int, kek_id text, "
          + "wrapped_key bytea, PRIMARY KEY (tenant_id, key_version))");
      for (var k : keys.entrySet()) {
        try (var ps = c.prepareStatement("INSERT INTO platform.tenant_keys VALUES (?, 1, ?, ?)")) {
          ps.setString(1, k.getKey());
          ps.setString(2, k.getValue().kekId());
          ps.setBytes(3, k.getValue().wrap(new byte[32]));
          ps.executeUpdate();
        }
      }
    } finally {
      pg.stop();
    }
  }

  /** A home whose embedded cluster holds a small carecontext database (stopped), and a key file. */
  private static Path home(Path work) throws Exception {
    Path home = work.resolve("home");
    EmbeddedPostgres pg = EmbeddedPostgres.at(home.resolve("postgres")).start();
    try {
      try (Connection c = pg.superuserConnection("postgres"); var st = c.createStatement()) {
        st.execute("CREATE DATABASE carecontext");
      }
      try (Connection c = pg.superuserConnection("carecontext"); var st = c.createStatement()) {
        st.execute("CREATE TABLE t (v text)");
        st.execute("INSERT INTO t VALUES ('kept')");
      }
    } finally {
      pg.stop();
    }
    Files.writeString(home.resolve("kek.key"), "not-a-real-key-the-backup-only-copies-it\n");
    return home;
  }

  private static RuntimeSettings settings(Path home) {
    return RuntimeSettings.from(Map.of("CARECONTEXT_HOME", home.toString(), "CARECONTEXT_PORT", "-1",
        "CARECONTEXT_WORKER_THREADS", "0"));
  }

  private static RuntimeSettings settings(Path home, Path kekFile) {
    return RuntimeSettings.from(Map.of("CARECONTEXT_HOME", home.toString(), "CARECONTEXT_PORT", "-1",
        "CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_KEK_FILE", kekFile.toString()));
  }
}
