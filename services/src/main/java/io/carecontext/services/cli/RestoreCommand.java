package io.carecontext.services.cli;

import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.services.RuntimeSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code restore DIR}: the README's restore commands as one command, with their checks in their order: SHA256SUMS and
 * {@code pg_restore -l} before anything changes, a cluster that holds a carecontext database already refused (the drop
 * after a failed restore would drop that one), the roles, then {@code pg_restore -C --exit-on-error}, and on its failure
 * the database it made, and only that one, dropped again. The key and password files are copied only where the home
 * has none; one the home holds with other content is a refusal, since the restored roles and data keys need the
 * backup's.
 */
@Command(name = "restore", description = {"Restore a backup made by `backup` (or the README's commands) into "
    + "CARECONTEXT_HOME on the embedded default: checks SHA256SUMS (backup.txt too when they cover it) and the dump "
    + "before anything changes, refuses a "
    + "cluster that holds a carecontext database already, copies kek.key, admin.key and *.password into a home that has "
    + "none (refuses one that holds others), loads the roles and the dump, and drops the database again if the load "
    + "fails. Then start serve. Not for an external PostgreSQL (CARECONTEXT_DB_URL): see README, Backup and restore.",
    "Exit 0 done, 1 refused or failed (nothing changed, or the failed load's database dropped again), 2 usage."},
    footer = {"%nThe key goes where serve will read it: CARECONTEXT_KEK_FILE when set, else $CARECONTEXT_HOME/kek.key; "
        + "with CARECONTEXT_KEK_PKCS11_* nothing is copied (the token must hold the key)."})
public final class RestoreCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", paramLabel = "DIR", description = "the backup's directory") Path dir;

  @Override
  public Integer call() {
    return restore(Backups.settings(RuntimeSettings::fromEnvironment), dir, spec.commandLine().getOut());
  }

  /** The command with its settings given (a test's home); 0, or a CliException that says what to do next. */
  public static int restore(RuntimeSettings settings, Path dir, PrintWriter out) {
    Backups.requireEmbedded(settings, "restore");
    Path backup = dir.toAbsolutePath().normalize();
    for (String f : List.of(Backups.ROLES, Backups.DUMP)) {
      if (!Files.isRegularFile(backup.resolve(f))) {
        throw new CliException(backup + " holds no " + f + ": not a backup (or one copied half-way); nothing was "
            + "restored");
      }
    }
    try {
      List<String> checked = checkSums(backup);
      Backups.step(out, "checksums match: " + Backups.SUMS);
      if (Files.isRegularFile(backup.resolve(Backups.INFO)) && !checked.contains(Backups.INFO)) {
        // backups the command's first version made: their sums cover the two dumps only; still restored
        Backups.step(out, Backups.INFO + " is not covered by " + Backups.SUMS + " (a backup made before it was): its "
            + "recovery point is shown as the file says");
      }
      if (!Backups.local("pg_restore", "-l", backup.resolve(Backups.DUMP).toString()).ok()) {
        throw new CliException("backup damaged: pg_restore cannot read " + Backups.DUMP + "'s table of contents; nothing "
            + "was restored; take another backup");
      }
      Backups.step(out, "dump readable: pg_restore -l");
      Path home = settings.home();
      Path postgres = home.resolve("postgres");
      Map<Path, Path> copies = copies(settings, backup);
      EmbeddedPostgres pg = EmbeddedPostgres.at(postgres);
      boolean cluster = Files.exists(pg.dataDir().resolve("PG_VERSION"));
      if (cluster && !Files.exists(postgres.resolve("superuser.password"))) {
        throw new CliException("the home has a cluster (" + pg.dataDir() + ") but no superuser.password: restore into "
            + "a fresh CARECONTEXT_HOME; nothing was restored");
      }
      try {
        if (cluster) {
          // before anything is copied: a home whose cluster holds the database gets nothing of the backup
          Backups.start(pg, out, "restore");
          refuseExisting(pg);
        }
        for (var c : copies.entrySet()) {
          Files.createDirectories(c.getValue().getParent());
          Backups.copyPrivate(c.getKey(), c.getValue());
          Backups.step(out, "copied " + c.getKey().getFileName() + " to " + c.getValue());
        }
        Backups.start(pg, out, "restore");
        refuseExisting(pg);
        Backups.Run roles = Backups.client(pg, pg.port(), null, "psql", "-X", "-q", "-d", "postgres", "-f",
            backup.resolve(Backups.ROLES).toString());
        List<String> errors = roles.output().lines()
            .filter(l -> !l.contains("role \"" + EmbeddedPostgres.SUPERUSER + "\" already exists")).toList();
        if (!roles.ok()) {
          throw new CliException("psql could not load " + Backups.ROLES + ": " + String.join("; ", errors)
              + "; no database was restored");
        }
        errors.forEach(l -> Backups.step(out, "  " + l));
        Backups.step(out, "roles loaded: " + Backups.ROLES);
        // until the load ends: a restore killed half-way (kill -9, the machine lost) leaves a database that passes for
        // one, and the next run must say it is a half-loaded one rather than an installation to keep
        Path marker = incomplete(pg);
        Backups.privateFile(marker);
        Files.writeString(marker, backup + "\n", StandardCharsets.UTF_8);
        Backups.Run load = Backups.client(pg, pg.port(), null, "pg_restore", "-C", "--exit-on-error", "-d", "postgres",
            backup.resolve(Backups.DUMP).toString());
        if (load.ok()) {
          Files.delete(marker);
        } else {
          // the check above found no such database, so the one there now is this restore's own
          Backups.Run drop = Backups.client(pg, pg.port(), null, "dropdb", "--if-exists", Backups.DATABASE);
          if (drop.ok()) {
            Files.delete(marker);
          }
          throw new CliException("restore failed: pg_restore stopped (" + firstLines(load.output()) + "); "
              + (drop.ok() ? "its database dropped again" : "its database could not be dropped (" + drop.output()
                  + "): drop it with dropdb carecontext") + "; do not start serve; the roles of " + Backups.ROLES
              + " stay loaded");
        }
        Backups.step(out, "database restored: " + Backups.DUMP);
      } finally {
        Backups.stopIfStartedHere(pg, out);
      }
      out.printf("%nrestore done into %s.%n", home);
      Path info = backup.resolve(Backups.INFO);
      String point = Files.isRegularFile(info) ? Files.readString(info, StandardCharsets.UTF_8).lines()
          .filter(l -> l.startsWith("recovery point: ")).findFirst().map(l -> l.substring(16)).orElse(null) : null;
      out.println("Next: start ./carecontext serve (and worker), and look for a warning naming a key-encryption key it "
          + "lacks. The data is as of " + (point == null ? "the moment pg_dump started" : point) + ": revoke again the "
          + "keys revoked since, repeat the erasures and tenant deletions made since (the audit exports and anchors of "
          + "the lost period say which), and make again the keys made since; check the restored trail with the "
          + "audit-anchor lines kept with the backup.");
      if (settings.kekToken().isPresent()) {
        out.println(Backups.tokenNote(settings) + ".");
      }
      out.flush();
      return 0;
    } catch (IOException e) {
      throw new CliException("restore failed: " + e.getMessage());
    }
  }

  /**
   * SHA256SUMS checked as {@code sha256sum -c} does: every file it names, with the hash it gives; the files it names.
   * It must cover the two dumps; backup.txt is covered since the command's second version, and a backup without it
   * covered (the first version's, or sums made by hand for the README's two dumps) is still restored.
   */
  private static List<String> checkSums(Path backup) throws IOException {
    Path sums = backup.resolve(Backups.SUMS);
    if (!Files.isRegularFile(sums)) {
      throw new CliException(backup + " has no " + Backups.SUMS + " (a backup made before the README's commands wrote "
          + "it): check it by hand with pg_restore -l and pg_restore -f /dev/null (README, Backup and restore) and "
          + "restore it with the README's commands; nothing was restored");
    }
    List<String> failed = new ArrayList<>();
    List<String> checked = new ArrayList<>();
    for (String line : Files.readAllLines(sums, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      String[] parts = line.strip().split("\\s+\\*?", 2);
      Path f = backup.resolve(parts.length == 2 ? parts[1] : "").normalize();
      if (parts.length != 2 || !f.startsWith(backup) || !Files.isRegularFile(f)
          || !Backups.sha256(f).equalsIgnoreCase(parts[0])) {
        failed.add(parts.length == 2 ? parts[1] : line);
      } else {
        checked.add(parts[1]);
      }
    }
    if (!failed.isEmpty() || !checked.containsAll(List.of(Backups.ROLES, Backups.DUMP))) {
      throw new CliException("backup damaged: " + (failed.isEmpty() ? Backups.SUMS + " does not cover "
          + Backups.ROLES + " and " + Backups.DUMP : String.join(", ", failed) + ": FAILED (cut short, changed or "
          + "missing)") + "; nothing was restored; take another backup");
    }
    return checked;
  }

  /**
   * The key and password files to copy (backup file to home file): those the home lacks. One the home holds with the
   * same content is left; one with other content is a refusal before anything changes, since the roles the backup
   * loads log in with its passwords and its data keys open with its key.
   */
  private static Map<Path, Path> copies(RuntimeSettings settings, Path backup) throws IOException {
    Map<Path, Path> wanted = new LinkedHashMap<>();
    if (settings.kekToken().isEmpty()) {
      if (Files.isRegularFile(backup.resolve(Backups.KEK))) {
        wanted.put(backup.resolve(Backups.KEK), settings.kekFile());
      } else if (!Files.isRegularFile(settings.kekFile())) {
        throw new CliException(backup + " holds no " + Backups.KEK + " (stored apart?) and " + settings.kekFile()
            + " does not exist: copy the backup's key into either, then run this again; nothing was restored");
      }
    }
    if (Files.isRegularFile(backup.resolve(Backups.ADMIN_KEY))) {
      wanted.put(backup.resolve(Backups.ADMIN_KEY), settings.home().resolve(Backups.ADMIN_KEY));
    }
    try (var files = Files.newDirectoryStream(backup, "*.password")) {
      for (Path f : files) {
        wanted.put(f, settings.home().resolve("postgres").resolve(f.getFileName()));
      }
    }
    if (!wanted.containsValue(settings.home().resolve("postgres").resolve("superuser.password"))) {
      throw new CliException(backup + " holds no superuser.password: the embedded default's role passwords are part "
          + "of its backup (roles.sql holds only their hashes); nothing was restored");
    }
    Map<Path, Path> copies = new LinkedHashMap<>();
    List<String> conflicts = new ArrayList<>();
    for (var w : wanted.entrySet()) {
      if (!Files.exists(w.getValue())) {
        copies.put(w.getKey(), w.getValue());
      } else if (!Backups.sha256(w.getKey()).equals(Backups.sha256(w.getValue()))) {
        conflicts.add(w.getValue().toString());
      }
    }
    if (!conflicts.isEmpty()) {
      throw new CliException("the home holds " + String.join(", ", conflicts) + " with other content than the "
          + "backup's: the restored roles and data keys need the backup's; restore into a fresh CARECONTEXT_HOME (and "
          + "unset CARECONTEXT_KEK_FILE, or point it at a file that does not exist yet); nothing was restored");
    }
    return copies;
  }

  /** Present while a restore loads the dump into the cluster beside it. */
  private static Path incomplete(EmbeddedPostgres pg) {
    return pg.restoreIncomplete();
  }

  private static void refuseExisting(EmbeddedPostgres pg) {
    if (Backups.databases(pg) != 0 && Files.exists(incomplete(pg))) {
      throw new CliException("the cluster under " + pg.dataDir().getParent() + " holds the carecontext database of a "
          + "restore that stopped half-way (killed before its load ended: " + incomplete(pg) + " is left): it may lack "
          + "tables or rows, so do not start serve on it; nothing was restored. Stop any pg_restore still running, "
          + "drop it (dropdb carecontext as the embedded superuser, README: Backup and restore), remove "
          + incomplete(pg).getFileName() + ", and run this again");
    }
    if (Backups.databases(pg) != 0) {
      throw new CliException("the cluster under " + pg.dataDir().getParent() + " holds a carecontext database "
          + "already: nothing was restored. To replace it, stop serve and drop it yourself first (dropdb carecontext, "
          + "README: Backup and restore); to keep it, restore into a fresh CARECONTEXT_HOME");
    }
  }

  /**
   * The first lines of pg_restore's errors, without the server's DETAIL and CONTEXT lines and the command quoted after
   * them, which can hold a row's values (a COPY's line); the error names the object.
   */
  private static String firstLines(String output) {
    List<String> lines = output.lines().map(String::strip)
        .filter(l -> !l.matches("(?i)(pg_restore: )?(DETAIL|CONTEXT|HINT|LINE \\d+|Command was):.*")).limit(3).toList();
    return lines.isEmpty() ? "no message" : String.join("; ", lines);
  }
}
