package io.carecontext.services.cli;

import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.services.RuntimeSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code backup DIR}: the README's backup commands as one command, each of their checks kept (each was a drill's
 * finding): the roles and the database dumped, the embedded default's role passwords, the operator key and the
 * key-encryption key serve runs with copied once it is checked to open the stored tenant data keys, SHA256SUMS written
 * for the restore to check before it changes anything, every file 0600 in a directory of mode 0700.
 */
@Command(name = "backup", description = {"Back up the embedded default into a new directory DIR: the roles "
    + "(roles.sql), the database (carecontext.dump), the role passwords (*.password), admin.key when there is one, the "
    + "key-encryption key serve runs with (kek.key: store it apart from the dumps), backup.txt and SHA256SUMS. Refuses "
    + "a key that opens none or only some of the tenant data keys stored (checked as serve checks it). Starts the "
    + "embedded PostgreSQL if it is not running (and stops it again, unless a serve or worker connected to it "
    + "meanwhile); serve may keep running. The recovery point is the moment "
    + "pg_dump started. Not for an external PostgreSQL (CARECONTEXT_DB_URL): see README, Backup and restore.",
    "Exit 0 done, 1 refused or failed (a directory this made is removed again), 2 usage."},
    footer = {"%nRun it with the service's own settings: CARECONTEXT_HOME, CARECONTEXT_KEK_FILE (or "
        + "CARECONTEXT_KEK_PKCS11_*: the key never leaves the token and is not copied), CARECONTEXT_PG_BIN."})
public final class BackupCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", paramLabel = "DIR", description = "a directory that does not exist yet, or is empty "
      + "(outside the checkout: git would list a dump there to add)") Path dir;

  @Override
  public Integer call() {
    return backup(Backups.settings(RuntimeSettings::fromEnvironment), dir, spec.commandLine().getOut());
  }

  /** The command with its settings given (a test's home); 0, or a CliException that says what to do next. */
  public static int backup(RuntimeSettings settings, Path dir, PrintWriter out) {
    Backups.requireEmbedded(settings, "backup");
    Path target = dir.toAbsolutePath().normalize();
    Path postgres = settings.home().resolve("postgres");
    if (!Files.exists(postgres.resolve("pgdata").resolve("PG_VERSION")) || !Files.exists(postgres.resolve("superuser.password"))) {
      throw new CliException("no embedded PostgreSQL under " + postgres + ": nothing to back up (check CARECONTEXT_HOME)");
    }
    boolean token = settings.kekToken().isPresent();
    if (!token && !Files.isRegularFile(settings.kekFile())) {
      throw new CliException("the key-encryption key " + settings.kekFile() + " does not exist: a backup without the key "
          + "that wraps the data keys opens nothing; set CARECONTEXT_KEK_FILE to the key serve runs with; nothing was "
          + "written");
    }
    boolean made = !Files.exists(target);
    try {
      if (!made && (!Files.isDirectory(target) || !empty(target))) {
        throw new CliException(target + " exists and is not an empty directory: give a new directory (e.g. named "
            + "by the date and time: /var/backups/carecontext/$(date +%Y%m%d-%H%M%S)); nothing was written");
      }
      Files.createDirectories(target,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new CliException("cannot make " + target + ": " + why(e) + "; give a DIR on a disk this user can write "
          + "(not a read-only mount); nothing was written");
    }
    boolean done = false;
    EmbeddedPostgres pg = EmbeddedPostgres.at(postgres);
    try {
      if (Backups.start(pg, out, "backup")) {
        Backups.step(out, "embedded PostgreSQL running on 127.0.0.1:" + pg.port());
      }
      if (Backups.databases(pg) == 0) {
        throw new CliException("the embedded PostgreSQL holds no carecontext database: nothing to back up (start "
            + "serve once, or check CARECONTEXT_HOME)");
      }
      // before the dumps, so that a wrong key costs no dump's time; checked again after them (a rotation meanwhile)
      Backups.keyCheck(pg, settings);
      Backups.Run roles = Backups.client(pg, pg.port(), target.resolve(Backups.ROLES), "pg_dumpall", "--roles-only",
          "-l", "postgres");
      if (!roles.ok()) {
        throw new CliException("pg_dumpall --roles-only failed: " + roles.output());
      }
      Backups.step(out, "roles dumped: " + Backups.ROLES);
      Instant recoveryPoint = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      Backups.privateFile(target.resolve(Backups.DUMP));
      Backups.Run dump = Backups.client(pg, pg.port(), null, "pg_dump", "-Fc", "-d", Backups.DATABASE, "-f",
          target.resolve(Backups.DUMP).toString());
      if (!dump.ok()) {
        throw new CliException("pg_dump failed: " + dump.output());
      }
      // the roles are dumped apart from the database: a tenant created or deleted in between leaves a dump whose
      // schemas belong to roles roles.sql lacks (or the reverse), which pg_restore --exit-on-error then refuses
      Path again = target.resolve(Backups.ROLES + ".again");
      Backups.Run rolesAgain = Backups.client(pg, pg.port(), again, "pg_dumpall", "--roles-only", "-l", "postgres");
      boolean same = rolesAgain.ok() && roles(again).equals(roles(target.resolve(Backups.ROLES)));
      Files.deleteIfExists(again);
      if (!same) {
        throw new CliException("the roles changed while the database was dumped (a tenant created or deleted "
            + "meanwhile), so the two dumps would not restore together: run the backup again; nothing was kept");
      }
      Backups.step(out, "database dumped: " + Backups.DUMP + " (pg_dump started " + recoveryPoint + ")");
      Backups.step(out, Backups.keyCheck(pg, settings));
      List<String> passwords = new ArrayList<>();
      try (var files = Files.newDirectoryStream(postgres, "*.password")) {
        for (Path f : files) {
          Backups.copyPrivate(f, target.resolve(f.getFileName()));
          passwords.add(f.getFileName().toString());
        }
      }
      java.util.Collections.sort(passwords);
      Backups.step(out, "role passwords copied: " + String.join(", ", passwords));
      Path adminKey = settings.home().resolve(Backups.ADMIN_KEY);
      if (Files.isRegularFile(adminKey)) {
        Backups.copyPrivate(adminKey, target.resolve(Backups.ADMIN_KEY));
        Backups.step(out, "operator key copied: " + Backups.ADMIN_KEY);
      } else {
        Backups.step(out, "no " + Backups.ADMIN_KEY + " in the home: restore with the same CARECONTEXT_ADMIN_KEY");
      }
      if (token) {
        Backups.step(out, Backups.tokenNote(settings));
      } else {
        Backups.copyPrivate(settings.kekFile(), target.resolve(Backups.KEK));
        Backups.step(out, "key-encryption key copied: " + Backups.KEK + " (from " + settings.kekFile() + ")");
      }
      Path info = target.resolve(Backups.INFO);
      Backups.privateFile(info);
      Files.writeString(info, "recovery point: " + recoveryPoint + " (pg_dump started)\nkey-encryption key: "
          + (token ? settings.currentKekSetting() + " (in the token, not copied)" : Backups.KEK) + "\n",
          StandardCharsets.UTF_8);
      // backup.txt too: the restore repeats its recovery point, which a changed file would misstate
      Path sums = target.resolve(Backups.SUMS);
      Backups.privateFile(sums);
      StringBuilder lines = new StringBuilder();
      for (String f : List.of(Backups.ROLES, Backups.DUMP, Backups.INFO)) {
        lines.append(Backups.sha256(target.resolve(f))).append("  ").append(f).append('\n');
      }
      Files.writeString(sums, lines, StandardCharsets.UTF_8);
      Backups.step(out, "checksums written: " + Backups.SUMS + " (the restore checks them before it changes anything)");
      out.printf("%nbackup done in %s:%n", target);
      for (String f : List.of(Backups.ROLES, Backups.DUMP)) {
        out.printf("  %-18s %s%n", f, Backups.size(Files.size(target.resolve(f))));
      }
      out.println("  recovery point     " + recoveryPoint + ": a restore loses everything after it, and brings back "
          + "what was revoked, erased or deleted since");
      out.println(token ? "  the key stays in the token: check that the HSM's own backup holds it"
          : "  store " + target.resolve(Backups.KEK) + " apart from the dumps (with a copy of " + Backups.SUMS + "), "
              + "then remove it here: whoever holds both reads everything");
      out.println("  keep the audit-anchor lines serve logged up to the recovery point with this backup (e.g. grep "
          + "'audit-anchor' serve.log > " + target.resolve("anchors.log") + "): a restored trail is checked against them");
      out.flush();
      done = true;
      return 0;
    } catch (IOException e) {
      throw new CliException("backup failed: " + e.getMessage());
    } finally {
      Backups.stopIfStartedHere(pg, out);
      if (!done) {
        removeQuietly(target, made);
      }
    }
  }

  /** The JDK's file exceptions name only the path ("cannot make /mnt/ro/x (/mnt/ro/x)"): the cause, in words. */
  private static String why(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "a directory above it does not exist and cannot be made";
    }
    if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
      return fs.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * A roles dump without its restrict and unrestrict meta-command lines, whose key pg_dumpall draws at random
   * on each run (PostgreSQL 15.14 and later): the roles it creates, to compare.
   */
  private static List<String> roles(Path dump) throws IOException {
    return Files.readAllLines(dump, StandardCharsets.UTF_8).stream()
        .filter(l -> !l.startsWith("\\restrict ") && !l.startsWith("\\unrestrict ")).toList();
  }

  private static boolean empty(Path dir) throws IOException {
    try (var entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  /** A failed backup leaves nothing that could pass for one: its files, and the directory when this made it. */
  private static void removeQuietly(Path target, boolean made) {
    try (var paths = Files.walk(target)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (made || !p.equals(target)) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      // said by the failure's own message; the directory's name is in it
    }
  }
}
