package io.carecontext.services.cli;

import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.services.RuntimeSettings;
import io.carecontext.services.ops.KeyReadiness;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * What {@code backup} and {@code restore} share: the files a backup holds, the PostgreSQL client tools run against the
 * embedded cluster as its superuser (the password in the child's environment, never on a command line or in output),
 * and files written for their owner's eyes only (roles.sql holds the roles' password hashes).
 */
final class Backups {

  static final String ROLES = "roles.sql";
  static final String DUMP = "carecontext.dump";
  static final String SUMS = "SHA256SUMS";
  static final String KEK = "kek.key";
  static final String ADMIN_KEY = "admin.key";
  /** The recovery point and what the backup holds, for the restore to repeat and a person to read. */
  static final String INFO = "backup.txt";
  static final String DATABASE = "carecontext";

  private Backups() {}

  /** The settings, a value that cannot be used being a refusal (1), as for the other commands run in this process. */
  static RuntimeSettings settings(java.util.function.Supplier<RuntimeSettings> source) {
    try {
      return source.get();
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage());
    }
  }

  /**
   * The commands work on the embedded default only: with an external PostgreSQL the project knows its owner role, which
   * can neither dump the cluster's roles with their passwords nor create the database, and no administrator's.
   */
  static void requireEmbedded(RuntimeSettings settings, String command) {
    if (settings.dbUrl().isPresent()) {
      throw new CliException(command + " works on the embedded PostgreSQL only, and CARECONTEXT_DB_URL is set: with an "
          + "external PostgreSQL use the managed service's snapshots, or the README's commands for an external "
          + "PostgreSQL (Backup and restore), run as its administrator; nothing was changed");
    }
  }

  /** The token's key never leaves it: what a backup copies for it, and what a restore needs, is the HSM's own. */
  static String tokenNote(RuntimeSettings settings) {
    return "the key-encryption key is in a PKCS#11 token (" + settings.currentKekSetting() + "): it never leaves the "
        + "token, so no key file is copied; its backup is the HSM's own (a backup or a second device that keeps the key's "
        + "label), and a restore runs with the same CARECONTEXT_KEK_PKCS11_* settings against a token that holds it";
  }

  /**
   * The key-encryption key these settings name, checked against the tenant data keys stored in the cluster's database,
   * as serve's start checks it (the data keys by the key they are wrapped under, each key named by its id, a hash of
   * the key itself): a line saying what it opens, or a refusal naming the keys it lacks. The backup copies that key,
   * so one that opens none or only some of them (the old {@code kek.key} after a {@code kek rotate --to NEW} that serve
   * runs with) is a backup that cannot be restored. A token's key is looked up, never made; a token that cannot be
   * opened leaves the check undone, and the line says so.
   */
  static String keyCheck(EmbeddedPostgres pg, RuntimeSettings settings) {
    Map<String, Integer> byKek = dataKeysByKek(pg);
    int stored = byKek.values().stream().mapToInt(Integer::intValue).sum();
    if (byKek.isEmpty()) {
      return "key-encryption key not needed yet: the database holds no tenant data key";
    }
    String id;
    try {
      id = settings.kekToken().<io.carecontext.migrations.crypto.KeyEncryptionKeyProvider>map(t ->
              io.carecontext.migrations.crypto.Pkcs11KeyProvider.existing(t.library(), t.slot(), t.pinFile(),
                  t.keyLabel()))
          .orElseGet(() -> new io.carecontext.migrations.crypto.LocalFileKeyProvider(settings.kekFile())).kekId();
    } catch (RuntimeException e) {
      if (settings.kekToken().isPresent()) {
        return "key-encryption key NOT checked: the token could not be opened (" + e.getMessage() + "); check that "
            + settings.currentKekSetting() + " opens the " + stored + " tenant data key(s) before relying on this backup";
      }
      throw new CliException("the key-encryption key " + settings.kekFile() + " cannot be read (" + e.getMessage()
          + "): set CARECONTEXT_KEK_FILE to the key serve runs with; nothing was kept");
    }
    if (!byKek.keySet().stream().allMatch(id::equals)) {
      Map<String, Integer> lacking = new java.util.TreeMap<>(byKek);
      lacking.remove(id);
      String where = settings.kekToken().isPresent() ? settings.currentKekSetting() : "CARECONTEXT_KEK_FILE ("
          + settings.kekFile() + ")";
      throw new CliException("the key-encryption key " + where + " is kek " + id + ", which opens "
          + (KeyReadiness.opensNone(byKek, id::equals) ? "none" : "only " + byKek.getOrDefault(id, 0)) + " of the " + stored
          + " tenant data key(s) stored: " + lacking.entrySet().stream().map(e -> e.getValue() + " are wrapped under kek "
              + e.getKey()).collect(java.util.stream.Collectors.joining(", ")) + ", so this backup could not be restored. "
          + (settings.kekToken().isPresent() ? "Set CARECONTEXT_KEK_PKCS11_* to the token and label serve runs with"
              : "Set CARECONTEXT_KEK_FILE to the key serve runs with (after a kek rotate --to NEW, NEW)")
          + "; while a kek rotate is under way (" + settings.previousKekSetting() + " set on serve), finish it first "
          + "(kek rotate, no --to); nothing was kept");
    }
    return "key-encryption key checked: kek " + id + " opens all " + stored + " tenant data key(s) stored";
  }

  /** The stored data keys by the key they are wrapped under, read as serve reads them; none before the first start. */
  private static Map<String, Integer> dataKeysByKek(EmbeddedPostgres pg) {
    try (var c = pg.superuserConnection(DATABASE); var st = c.createStatement();
        var rs = st.executeQuery("SELECT to_regclass('platform.tenant_keys') IS NOT NULL")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        return Map.of();
      }
    } catch (java.sql.SQLException e) {
      throw new CliException("cannot read the tenant data keys (" + e.getMessage().strip() + "); nothing was kept");
    }
    org.postgresql.ds.PGSimpleDataSource db = new org.postgresql.ds.PGSimpleDataSource();
    db.setURL(pg.jdbcUrl(DATABASE));
    db.setUser(EmbeddedPostgres.SUPERUSER);
    db.setPassword(pg.superuserPassword());
    db.setLogServerErrorDetail(false);
    try {
      return TenantKeys.dataKeysByKek(db);
    } catch (RuntimeException e) {
      throw new CliException("cannot read the tenant data keys (" + e.getMessage() + "); nothing was kept");
    }
  }

  /** A client tool of the embedded cluster's PostgreSQL: CARECONTEXT_PG_BIN's when set, else the one on the PATH. */
  static String tool(String name) {
    return io.carecontext.migrations.Setting.of("CARECONTEXT_PG_BIN").map(b -> Path.of(b.strip()).resolve(name).toString())
        .orElse(name);
  }

  /** The result of a client tool: its exit code and what it printed (both streams). */
  record Run(int code, String output) {
    boolean ok() {
      return code == 0;
    }
  }

  /**
   * Runs a client tool as the embedded superuser on 127.0.0.1:{@code port}; standard output to {@code stdout} when
   * given (a file made 0600 first), else kept with standard error in the result.
   */
  static Run client(EmbeddedPostgres pg, int port, Path stdout, String... command) {
    Map<String, String> env = new java.util.HashMap<>();
    env.put("PGHOST", "127.0.0.1");
    env.put("PGPORT", Integer.toString(port));
    env.put("PGUSER", EmbeddedPostgres.SUPERUSER);
    env.put("PGPASSWORD", pg.superuserPassword());
    env.put("PGCONNECT_TIMEOUT", "10");
    return run(env, stdout, command);
  }

  /** Runs a tool that reads a file and connects nowhere (pg_restore -l); what it prints is kept in the result. */
  static Run local(String... command) {
    return run(Map.of(), null, command);
  }

  /** Runs a client tool with this process's environment but its PG* variables, {@code env} added. */
  private static Run run(Map<String, String> env, Path stdout, String... command) {
    List<String> cmd = new ArrayList<>(List.of(command));
    cmd.set(0, tool(cmd.get(0)));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
    pb.environment().putAll(env);
    try {
      Path log = Files.createTempFile("carecontext-backup", ".log");
      try {
        if (stdout != null) {
          privateFile(stdout);
          pb.redirectOutput(stdout.toFile());
          pb.redirectError(log.toFile());
        } else {
          pb.redirectErrorStream(true).redirectOutput(log.toFile());
        }
        Process p = pb.start();
        p.getOutputStream().close();
        p.waitFor(); // as long as the dump or restore takes
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8).strip());
      } finally {
        Files.deleteIfExists(log);
      }
    } catch (IOException e) {
      throw new CliException(cmd.get(0) + " could not be run (" + e.getMessage() + "): install the PostgreSQL client "
          + "tools of the embedded server's version (scripts/install-prerequisites.sh), or set CARECONTEXT_PG_BIN");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(cmd.get(0) + " interrupted");
    }
  }

  /** How many databases named carecontext the cluster holds. */
  static int databases(EmbeddedPostgres pg) {
    try (var c = pg.superuserConnection("postgres");
        var st = c.prepareStatement("SELECT count(*) FROM pg_database WHERE datname = ?")) {
      st.setString(1, DATABASE);
      try (var rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (java.sql.SQLException e) {
      throw new CliException("cannot connect to the embedded PostgreSQL as its superuser (" + e.getMessage().strip()
          + "): its superuser.password does not open the cluster under " + pg.dataDir().getParent());
    }
  }

  /**
   * Starts the cluster unless it is running, and says so when it started it: whether it is stopped again is said at the
   * end ({@link #stopIfStartedHere}), since a serve or worker that connects meanwhile keeps it running. Whether it ran.
   */
  static boolean start(EmbeddedPostgres pg, PrintWriter out, String command) {
    boolean running = pg.isRunning();
    pg.start();
    if (!running) {
      step(out, "embedded PostgreSQL started on 127.0.0.1:" + pg.port() + " for the " + command + " (stopped again at "
          + "the end, unless a serve or worker connects to it meanwhile)");
    }
    return running;
  }

  /**
   * Stops the cluster when this command started it, unless another client connected to it meanwhile: a serve or
   * worker started while a backup or restore ran found the cluster running and uses it, and stopping it would take
   * their database away (they answer 503 until restarted). Then the cluster is left running, and this says so.
   */
  static void stopIfStartedHere(EmbeddedPostgres pg, PrintWriter out) {
    if (!pg.startedHere()) {
      return;
    }
    int others = otherClients(pg);
    if (others > 0) {
      step(out, "embedded PostgreSQL left running: " + others + " other client connection(s) to it (a serve or worker "
          + "started while this ran uses it); stop it with ./carecontext db stop once they are stopped");
      return;
    }
    if (pg.stopIfStillStartedHere()) {
      step(out, "embedded PostgreSQL stopped again");
    }
  }

  /** The client connections to the cluster but this check's own; 0 when it cannot be reached (stopped already). */
  static int otherClients(EmbeddedPostgres pg) {
    try (var c = pg.superuserConnection("postgres");
        var st = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            + "AND pid <> pg_backend_pid()");
        var rs = st.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    } catch (java.sql.SQLException e) {
      return 0;
    }
  }

  /** An empty file only its owner can read, made so before anything is written into it. */
  static void privateFile(Path file) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }

  /** Copies a file, its copy mode 0600. */
  static void copyPrivate(Path from, Path to) throws IOException {
    privateFile(to);
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-------"));
  }

  /** The SHA-256 of a file, in hex, as sha256sum prints it. */
  static String sha256(Path file) throws IOException {
    try (var in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A size as a person reads it. */
  static String size(long bytes) {
    return bytes < 1024 ? bytes + " B" : bytes < 1024 * 1024 ? String.format("%.1f kB", bytes / 1024.0)
        : String.format("%.1f MB", bytes / (1024.0 * 1024));
  }

  static void step(PrintWriter out, String line) {
    out.println(line);
    out.flush();
  }
}
