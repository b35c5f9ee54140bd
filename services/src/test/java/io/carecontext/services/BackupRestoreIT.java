package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.testing.TestDirectories;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * README, "Backup and restore": the {@code backup} and {@code restore} commands, and the shell the README keeps for an
 * external PostgreSQL, run against the embedded cluster (plus the copies of its role passwords the commands make). The
 * roles and the database dumped as written there, restored into a fresh home with the key, the operator key and the
 * role passwords copied over; the restored service reads what was stored, its keys work, and its audit
 * trail verifies. Until this, the claim rested on runs by hand. The old home is deleted before the restore (the
 * machine is lost), so the backup alone must hold what a restore needs: the embedded default's role passwords too.
 */
class BackupRestoreIT {

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aBackupRestoredIntoANewHomeServesTheSameDataKeysAndTrail() throws Exception {
    Path work = TestDirectories.create("backup");
    Path oldHome = work.resolve("old");
    Path newHome = work.resolve("new");
    String feedPatient = "pat-bk";
    String auditor = installation(oldHome, feedPatient);

    Path backup = work.resolve("backups").resolve("20260101-020000");
    EmbeddedPostgres oldCluster = EmbeddedPostgres.at(oldHome.resolve("postgres")).start();
    try {
      // the README's backup commands (./carecontext db status gives the port)
      sh(work, Map.of("CARECONTEXT_HOME", oldHome.toString(), "BACKUP", backup.toString()), """
          umask 077
          mkdir -p "$BACKUP"
          PGHOST=127.0.0.1 PGPORT=%d PGUSER=carecontext_admin \\
          PGPASSWORD=$(cat "$CARECONTEXT_HOME/postgres/superuser.password")
          export PGHOST PGPORT PGUSER PGPASSWORD
          pg_dumpall --roles-only > "$BACKUP/roles.sql"
          pg_dump -Fc -d carecontext -f "$BACKUP/carecontext.dump"
          cp "$CARECONTEXT_HOME"/postgres/*.password "$BACKUP/"
          [ -f "$CARECONTEXT_HOME/admin.key" ] && cp "$CARECONTEXT_HOME/admin.key" "$BACKUP/"
          cp "${CARECONTEXT_KEK_FILE:-$CARECONTEXT_HOME/kek.key}" "$BACKUP/kek.key"
          (cd "$BACKUP" && sha256sum roles.sql carecontext.dump > SHA256SUMS)
          """.formatted(oldCluster.port()));
    } finally {
      oldCluster.stop();
    }
    for (String f : List.of("roles.sql", "carecontext.dump", "kek.key", "admin.key", "superuser.password", "SHA256SUMS")) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(backup.resolve(f))))
          .as(f).isEqualTo("rw-------");
    }
    // the machine is lost: the restore has the backup and nothing of the old home
    deleteTree(oldHome);

    // the README's restore commands, with the new cluster started by `db start`
    sh(work, Map.of("CARECONTEXT_HOME", newHome.toString(), "BACKUP", backup.toString()), """
        mkdir -p "$CARECONTEXT_HOME/postgres"
        cp "$BACKUP/kek.key" "$CARECONTEXT_HOME/"; cp "$BACKUP"/*.password "$CARECONTEXT_HOME/postgres/"
        [ -f "$BACKUP/admin.key" ] && cp "$BACKUP/admin.key" "$CARECONTEXT_HOME/"
        """);
    // a copy of the backup whose dump was cut short (a copy that stopped half-way): the README's check refuses it
    // before anything changes. Unchecked, pg_restore created the database and most tables before the end of file
    Path damaged = work.resolve("backups").resolve("damaged");
    Files.createDirectories(damaged);
    try (var files = Files.list(backup)) {
      for (Path f : files.toList()) {
        Files.copy(f, damaged.resolve(f.getFileName()));
      }
    }
    byte[] dump = Files.readAllBytes(backup.resolve("carecontext.dump"));
    Files.write(damaged.resolve("carecontext.dump"), java.util.Arrays.copyOf(dump, dump.length * 2 / 3));
    EmbeddedPostgres newCluster = EmbeddedPostgres.at(newHome.resolve("postgres")).start();
    try {
      String refused = sh(work, Map.of("CARECONTEXT_HOME", newHome.toString(), "BACKUP", damaged.toString()),
          restoreScript(newCluster.port()));
      assertThat(refused).contains("carecontext.dump: FAILED", "backup damaged: nothing was restored");
      assertThat(databases(newHome, newCluster.port())).isEqualTo("0");

      // a backup whose sums pass but whose restore fails (here: its roles.sql lost, the sums made again): the
      // database pg_restore created is dropped again
      Path roleless = work.resolve("backups").resolve("roleless");
      Files.createDirectories(roleless);
      for (String f : List.of("carecontext.dump", "kek.key")) {
        Files.copy(backup.resolve(f), roleless.resolve(f));
      }
      sh(roleless, Map.of(), ": > roles.sql; sha256sum roles.sql carecontext.dump > SHA256SUMS");
      String failed = sh(work, Map.of("CARECONTEXT_HOME", newHome.toString(), "BACKUP", roleless.toString()),
          restoreScript(newCluster.port()));
      assertThat(failed).contains("restore failed: its database dropped again");
      assertThat(databases(newHome, newCluster.port())).isEqualTo("0");

      String restore = sh(work, Map.of("CARECONTEXT_HOME", newHome.toString(), "BACKUP", backup.toString()),
          restoreScript(newCluster.port()));
      assertThat(restore).doesNotContain("ERROR").doesNotContain("damaged").doesNotContain("failed");
      CareContextServer restored = CareContextServer.start(settings(newHome), CareContextServer.embeddedConfig(newCluster,
          settings(newHome)), newCluster);
      try {
        servesTheBackup(restored, auditor, feedPatient);
      } finally {
        restored.close();
      }
    } finally {
      newCluster.stop();
    }
    // the restore run again with the service stopped (or into a cluster still holding the installation):
    // pg_restore -C stops at the existing database, and the drop after a failed restore dropped that good one
    EmbeddedPostgres restoredCluster = EmbeddedPostgres.at(newHome.resolve("postgres")).start();
    try {
      String again = sh(work, Map.of("CARECONTEXT_HOME", newHome.toString(), "BACKUP", backup.toString()),
          restoreScript(restoredCluster.port()));
      assertThat(again).contains("holds a carecontext database already").doesNotContain("dropped");
      assertThat(databases(newHome, restoredCluster.port())).as("the restored database kept").isEqualTo("1");
    } finally {
      restoredCluster.stop();
    }
  }

  /**
   * {@code backup} and {@code restore}, the commands that replace the README's shell on the embedded default, with the
   * checks the shell's drills paid for: a truncated dump refused before anything changes, a load that fails dropping
   * only the database it made, a cluster that holds the database refused without dropping it, and a backup restored
   * into a fresh home (the old one gone) whose trail verifies and whose old keys work.
   */
  @Test
  void theBackupAndRestoreCommandsKeepTheShellsChecks() throws Exception {
    Path work = TestDirectories.create("backup-cmd");
    Path oldHome = work.resolve("old");
    Path newHome = work.resolve("new");
    String feedPatient = "pat-bk";
    String auditor = installation(oldHome, feedPatient);
    Path backup = work.resolve("backups").resolve("20260101-020000");

    java.io.StringWriter log = new java.io.StringWriter();
    assertThat(io.carecontext.services.cli.BackupCommand.backup(settings(oldHome), backup, new java.io.PrintWriter(log)))
        .isZero();
    assertThat(log.toString()).contains("embedded PostgreSQL started", "roles dumped", "database dumped",
        "recovery point", "store " + backup.resolve("kek.key") + " apart", "embedded PostgreSQL stopped again")
        .doesNotContain(Files.readString(oldHome.resolve("postgres/superuser.password")).strip());
    assertThat(EmbeddedPostgres.at(oldHome.resolve("postgres")).isRunning()).as("stopped again: it started it").isFalse();
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(backup)))
        .isEqualTo("rwx------");
    for (String f : List.of("roles.sql", "carecontext.dump", "kek.key", "admin.key", "superuser.password", "SHA256SUMS",
        "backup.txt")) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(backup.resolve(f))))
          .as(f).isEqualTo("rw-------");
    }
    // the sums are sha256sum's, so a person checks them by hand as the README says
    sh(backup, Map.of(), "sha256sum -c --quiet SHA256SUMS");
    // a second backup into the same directory is refused, and leaves the first as it was
    String sums = Files.readString(backup.resolve("SHA256SUMS"));
    assertThat(cli(Map.of("CARECONTEXT_HOME", oldHome.toString()), "backup", backup.toString()).code()).isEqualTo(1);
    assertThatThrownBy(() -> io.carecontext.services.cli.BackupCommand.backup(settings(oldHome), backup,
        new java.io.PrintWriter(new java.io.StringWriter()))).hasMessageContaining("not an empty directory");
    assertThat(Files.readString(backup.resolve("SHA256SUMS"))).isEqualTo(sums);
    // an external PostgreSQL is refused, pointing at the README's commands for it
    RuntimeSettings external = RuntimeSettings.from(Map.of("CARECONTEXT_HOME", oldHome.toString(),
        "CARECONTEXT_DB_URL", "jdbc:postgresql://db.invalid/carecontext"));
    assertThatThrownBy(() -> io.carecontext.services.cli.BackupCommand.backup(external, work.resolve("ext"),
        new java.io.PrintWriter(new java.io.StringWriter()))).hasMessageContaining("README");
    assertThat(work.resolve("ext")).doesNotExist();
    deleteTree(oldHome);

    // a copy whose dump was cut short: refused before anything changes; the new home gets nothing
    Path damaged = copyOf(backup, work.resolve("backups").resolve("damaged"), List.of());
    byte[] dump = Files.readAllBytes(backup.resolve("carecontext.dump"));
    Files.write(damaged.resolve("carecontext.dump"), java.util.Arrays.copyOf(dump, dump.length * 2 / 3));
    assertThatThrownBy(() -> restore(newHome, damaged))
        .hasMessageContaining("carecontext.dump: FAILED").hasMessageContaining("nothing was restored");
    assertThat(newHome).doesNotExist();

    // a backup whose sums pass but whose load fails (its roles.sql lost, the sums made again): the database the
    // load made is dropped again
    Path roleless = copyOf(backup, work.resolve("backups").resolve("roleless"), List.of("roles.sql", "SHA256SUMS"));
    sh(roleless, Map.of(), ": > roles.sql; sha256sum roles.sql carecontext.dump > SHA256SUMS");
    assertThatThrownBy(() -> restore(newHome, roleless)).hasMessageContaining("restore failed")
        .hasMessageContaining("its database dropped again");
    EmbeddedPostgres cluster = EmbeddedPostgres.at(newHome.resolve("postgres"));
    assertThat(cluster.isRunning()).as("stopped again: it started it").isFalse();
    cluster.start();
    try {
      assertThat(databases(newHome, cluster.port())).isEqualTo("0");
    } finally {
      cluster.stop();
    }

    // the backup itself: restored into the home the failed load left (same key and passwords), then served
    java.io.StringWriter restoreLog = new java.io.StringWriter();
    assertThat(io.carecontext.services.cli.RestoreCommand.restore(settings(newHome), backup,
        new java.io.PrintWriter(restoreLog))).isZero();
    assertThat(restoreLog.toString()).contains("checksums match", "database restored", "start ./carecontext serve",
        "revoke again");
    CareContextServer restored = CareContextServer.start(settings(newHome));
    try {
      servesTheBackup(restored, auditor, feedPatient);
      // under a running service (its cluster holds the database): refused, the database kept
      assertThatThrownBy(() -> restore(newHome, backup)).hasMessageContaining("holds a carecontext database already");
      assertThat(databases(newHome, EmbeddedPostgres.at(newHome.resolve("postgres")).runningPort().orElseThrow()))
          .isEqualTo("1");
    } finally {
      restored.close();
    }
    // and with the service stopped: refused again through the command line (exit 1), the database kept
    CliRun again = cli(Map.of("CARECONTEXT_HOME", newHome.toString()), "restore", backup.toString());
    assertThat(again.code()).as(again.err()).isEqualTo(1);
    assertThat(again.err()).contains("holds a carecontext database already").doesNotContain("dropped");
    EmbeddedPostgres kept = EmbeddedPostgres.at(newHome.resolve("postgres")).start();
    try {
      assertThat(databases(newHome, kept.port())).as("the restored database kept").isEqualTo("1");
    } finally {
      kept.stop();
    }
    // a key file the home holds with other content: refused before anything changes
    Path otherHome = work.resolve("other");
    Files.createDirectories(otherHome);
    Files.writeString(otherHome.resolve("admin.key"), "another-installations-operator-key-0123456789");
    assertThatThrownBy(() -> restore(otherHome, backup)).hasMessageContaining("admin.key with other content");
    assertThat(otherHome.resolve("postgres")).doesNotExist();
    assertThat(cli(Map.of(), "restore").code()).as("usage").isEqualTo(2);
  }

  private static int restore(Path home, Path backup) {
    return io.carecontext.services.cli.RestoreCommand.restore(settings(home), backup,
        new java.io.PrintWriter(new java.io.StringWriter()));
  }

  /** A copy of a backup's files, but those {@code leaveOut} names. */
  private static Path copyOf(Path backup, Path to, List<String> leaveOut) throws java.io.IOException {
    Files.createDirectories(to);
    try (var files = Files.list(backup)) {
      for (Path f : files.toList()) {
        if (!leaveOut.contains(f.getFileName().toString())) {
          Files.copy(f, to.resolve(f.getFileName()));
        }
      }
    }
    return to;
  }

  record CliRun(int code, String out, String err) {}

  /** The command line in this process, its home given as the system property the settings read first. */
  private static CliRun cli(Map<String, String> settings, String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    Map<String, String> before = new java.util.HashMap<>();
    settings.forEach((k, v) -> {
      String property = k.toLowerCase(java.util.Locale.ROOT).replace('_', '.');
      before.put(property, System.getProperty(property));
      System.setProperty(property, v);
    });
    try {
      int code = io.carecontext.services.cli.Cli.run(args, new java.io.PrintWriter(out, true),
          new java.io.PrintWriter(err, true));
      return new CliRun(code, out.toString(), err.toString());
    } finally {
      before.forEach((k, v) -> {
        if (v == null) {
          System.clearProperty(k);
        } else {
          System.setProperty(k, v);
        }
      });
    }
  }

  /**
   * An installation in {@code home} with a tenant, its keys, a patient its feed stored and an audit trail that
   * verifies; the service stopped again. Returns the tenant's auditor key.
   */
  private String installation(Path home, String feedPatient) throws Exception {
    CareContextServer old = CareContextServer.start(settings(home));
    try {
      String admin = old.adminKey();
      assertThat(call(old, "POST", "/admin/tenants", admin, "{\"id\":\"bk\",\"name\":\"Backup\"}").statusCode()).isEqualTo(201);
      String tenantAdmin = secret(call(old, "POST", "/admin/tenants/bk/keys", admin,
          "{\"principal\":\"bk-admin\",\"roles\":[\"tenant-admin\"]}"));
      String feed = secret(call(old, "POST", "/admin/tenants/bk/keys", tenantAdmin,
          "{\"principal\":\"bk-feed\",\"roles\":[\"ehr-integration\"]}"));
      String auditor = secret(call(old, "POST", "/admin/tenants/bk/keys", tenantAdmin,
          "{\"principal\":\"bk-auditor\",\"roles\":[\"auditor\"]}"));
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base(old) + "/fhir/bk/Patient/" + feedPatient))
          .header("Authorization", "Bearer " + feed).header("Content-Type", "application/fhir+json")
          .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + feedPatient
              + "\",\"name\":[{\"family\":\"Backup\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).as(put.body()).isBetween(200, 201);
      assertThat(call(old, "GET", "/v1/bk/audit/verify", auditor, null).body()).contains("\"valid\":true");
      return auditor;
    } finally {
      old.close();
    }
  }

  /** The restored service reads what was stored: its trail verifies, the old keys work, the operator's too. */
  private void servesTheBackup(CareContextServer restored, String auditor, String feedPatient) throws Exception {
    HttpResponse<String> verify = call(restored, "GET", "/v1/bk/audit/verify", auditor, null);
    assertThat(verify.statusCode()).as(verify.body()).isEqualTo(200);
    assertThat(verify.body()).contains("\"valid\":true");
    HttpResponse<String> trail = call(restored, "GET", "/v1/bk/audit?patient=" + feedPatient, auditor, null);
    assertThat(trail.statusCode()).as(trail.body()).isEqualTo(200);
    assertThat(trail.body()).contains(feedPatient);
    assertThat(call(restored, "GET", "/admin/tenants/bk", restored.adminKey(), null).statusCode()).isEqualTo(200);
  }

  /** How many databases named carecontext the cluster holds. */
  private static String databases(Path home, int port) throws Exception {
    return sh(home.getParent(), Map.of("CARECONTEXT_HOME", home.toString()), """
        PGPASSWORD=$(cat "$CARECONTEXT_HOME/postgres/superuser.password") psql -h 127.0.0.1 -p %d -U carecontext_admin \\
          -d postgres -Atc "select count(*) from pg_database where datname = 'carecontext'"
        """.formatted(port)).strip();
  }

  /** The README's restore commands after `db start`: the backup checked before anything changes, then loaded. */
  private static String restoreScript(int port) {
    return """
        export PGHOST=127.0.0.1 PGUSER=carecontext_admin PGPORT=%d \\
          PGPASSWORD=$(cat "$CARECONTEXT_HOME/postgres/superuser.password")
        if [ "$(psql -d postgres -Atc "SELECT count(*) FROM pg_database WHERE datname = 'carecontext'")" != 0 ]; then
          echo "the cluster holds a carecontext database already, or psql reached none: nothing was restored" >&2
        elif (cd "$BACKUP" && sha256sum -c --quiet SHA256SUMS) && pg_restore -l "$BACKUP/carecontext.dump" > /dev/null; then
          psql -q -d postgres -f "$BACKUP/roles.sql" 2>&1 | grep -v 'role "carecontext_admin" already exists' || true
          pg_restore -C --exit-on-error -d postgres "$BACKUP/carecontext.dump" \\
            || { dropdb --if-exists carecontext; echo "restore failed: its database dropped again; do not start serve" >&2; }
        else
          echo "backup damaged: nothing was restored; take another backup" >&2
        fi
        """.formatted(port);
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static RuntimeSettings settings(Path home) {
    return RuntimeSettings.from(Map.of("CARECONTEXT_HOME", home.toString(), "CARECONTEXT_PORT", "-1",
        "CARECONTEXT_WORKER_THREADS", "0"));
  }

  private static String base(CareContextServer s) {
    return "http://127.0.0.1:" + s.port();
  }

  private HttpResponse<String> call(CareContextServer s, String method, String path, String key, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(s) + path)).header("Authorization", "Bearer " + key);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String secret(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return io.carecontext.services.cli.ApiJson.text(r.body(), "secret");
  }

  private static String sh(Path dir, Map<String, String> env, String script) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(List.of("bash", "-euo", "pipefail", "-c", script)).directory(dir.toFile())
        .redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("CARECONTEXT_") || k.startsWith("PG"));
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }
}
