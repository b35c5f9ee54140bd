package io.carecontext.migrations;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL cluster that the project starts itself from the installed server binaries, under a
 * project-owned directory, on a free loopback port (never 5432), TCP only, password auth. A second
 * start reuses the data (and a cluster that is already running).
 *
 * <p>Layout of {@code home}: {@code pgdata/} (the cluster), {@code superuser.password},
 * {@code postgres.log}. initdb refuses to run as root, so as root the server runs as the
 * {@code postgres} OS user.
 */
public final class EmbeddedPostgres implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  public static final String SUPERUSER = "carecontext_admin";

  /** Sets the embedded cluster's shared buffers, in MB (see {@link #sharedBuffersMb}). */
  public static final String SHARED_BUFFERS_VARIABLE = "CARECONTEXT_PG_SHARED_BUFFERS";

  /**
   * What the server's own log may hold: no DETAIL, HINT, CONTEXT or QUERY lines ({@code Key
   * (patient_id)=(…) already exists}, {@code Failing row contains (…)}, a PL/pgSQL context quoting
   * values), no statement text with an error (a statement can carry literals), and no bind parameter
   * values, neither with an error nor where an operator turns on statement logging (slow queries,
   * say). Given on the server's command line, which {@code ALTER SYSTEM} and postgresql.conf cannot
   * override; the README recommends the same for an external PostgreSQL, and docker-compose.yml
   * starts its database with them.
   */
  public static final List<String> SERVER_LOG_SETTINGS = List.of("log_error_verbosity=terse",
      "log_min_error_statement=panic", "log_parameter_max_length=0", "log_parameter_max_length_on_error=0");

  private final Path home;
  private final Path bin;
  private int port;
  private boolean startedHere;
  /** The postmaster's process id when this process started the cluster (postmaster.pid's first line). */
  private String startedPostmaster;

  private EmbeddedPostgres(Path home, Path bin) {
    this.home = home;
    this.bin = bin;
  }

  /** Finds the binaries; does not start anything. */
  public static EmbeddedPostgres at(Path home) {
    return new EmbeddedPostgres(home.toAbsolutePath().normalize(), findBinaries());
  }

  public Path dataDir() {
    return home.resolve("pgdata");
  }

  /**
   * The file {@code restore} keeps beside the cluster while it loads a dump: left there, a restore stopped half-way
   * (killed, the machine lost) and the cluster's database may lack tables or rows.
   */
  public Path restoreIncomplete() {
    return home.resolve("restore.incomplete");
  }

  public int port() {
    return port;
  }

  /** Superuser JDBC URL of a database in this cluster. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  public String superuserPassword() {
    try {
      return Files.readString(home.resolve("superuser.password"), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new DatabaseException("cannot read the embedded superuser password under " + home, e);
    }
  }

  /**
   * A superuser connection, with the server's error detail kept out of exception messages as on
   * the application's pools ({@code DETAIL: Key (…)=(…)} would carry row values).
   */
  public Connection superuserConnection(String database) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", SUPERUSER);
    props.setProperty("password", superuserPassword());
    props.setProperty("logServerErrorDetail", "false");
    return DriverManager.getConnection(jdbcUrl(database), props);
  }

  /** Starts the cluster (initdb on first use) unless it is already running. Idempotent. */
  public synchronized EmbeddedPostgres start() {
    try {
      requirePgvector();
      Files.createDirectories(home);
      if (!Files.exists(dataDir().resolve("PG_VERSION"))) {
        initdb();
      }
      Optional<Integer> running = runningPort();
      if (running.isPresent()) {
        port = running.get();
        LOG.info("embedded PostgreSQL already running on 127.0.0.1:{}", port);
        return this;
      }
      removeStalePidFile();
      privateLog();
      port = previousPort().filter(EmbeddedPostgres::isFree).orElse(freePort());
      long sharedBuffers = sharedBuffersMb(Setting.of(SHARED_BUFFERS_VARIABLE).orElse(null), physicalMemoryBytes());
      List<String> cmd = List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir().toString(),
          "-l", home.resolve("postgres.log").toString(), "-w", "-t", "60",
          "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
              + SERVER_LOG_SETTINGS.stream().map(s -> " -c " + s).collect(Collectors.joining())
              + " -c shared_buffers=" + sharedBuffers + "MB", "start");
      run(cmd, "pg_ctl start", serverEnvironment(System.getenv()));
      startedHere = true;
      startedPostmaster = postmaster().orElse(null);
      LOG.info("embedded PostgreSQL started on 127.0.0.1:{} (data in {}, shared buffers {} MB)", port, dataDir(),
          sharedBuffers);
      return this;
    } catch (IOException e) {
      throw new DatabaseException("could not start the embedded PostgreSQL under " + home + ": " + describe(e), e);
    }
  }

  /**
   * What went wrong with a file, and what to do: the JDK's file exceptions say only the path (a home under
   * {@code /proc}, a read-only mount or another user's directory read "…/postgres: /proc/cchome", which named no
   * cause and no fix).
   */
  static String describe(IOException e) {
    String what;
    if (e instanceof java.nio.file.AccessDeniedException) {
      what = "permission denied";
    } else if (e instanceof java.nio.file.NoSuchFileException) {
      what = "it does not exist and cannot be made";
    } else if (e instanceof java.nio.file.FileAlreadyExistsException) {
      what = "a file that is not a directory is in the way";
    } else if (e instanceof java.nio.file.FileSystemException fs) {
      what = fs.getReason() != null ? fs.getReason() : "it cannot be written (" + e.getClass().getSimpleName() + ")";
    } else {
      return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    String file = e instanceof java.nio.file.FileSystemException fs && fs.getFile() != null ? fs.getFile() : null;
    return (file == null ? "" : file + ": ") + what + "; set CARECONTEXT_HOME to a directory this user can write "
        + "(it holds the cluster, its passwords and the keys), or free the disk if it is full";
  }

  /**
   * The embedded cluster's shared buffers in MB: {@code configured} when set, otherwise a quarter of
   * the machine's memory (PostgreSQL's advice for a server of its own), at least 128 MB (its
   * default) and at most 4 GB. With its default the data lives in the kernel's page cache, which a
   * machine may reclaim while the service runs: on a machine that pages out file pages unused for
   * about a minute, every phase of the retrieval benchmark then read much of its data from disk
   * again (docs/benchmarks.md). Memory PostgreSQL never touches is never taken.
   */
  static long sharedBuffersMb(String configured, long physicalBytes) {
    if (configured != null && !configured.isBlank()) {
      try {
        long mb = Long.parseLong(configured.trim());
        if (mb >= 16 && mb <= 1_048_576) {
          return mb;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new DatabaseException(SHARED_BUFFERS_VARIABLE + " must be a whole number of megabytes from 16 to "
          + "1048576 (e.g. 2048), not '" + configured.trim() + "'");
    }
    return Math.max(128, Math.min(4096, physicalBytes / 4 / (1024 * 1024)));
  }

  private static long physicalMemoryBytes() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : 0;
  }

  /** True when this process started the cluster (and so stops it); false when it found it running. */
  public boolean startedHere() {
    return startedHere;
  }

  /** True when the cluster under {@code home} runs. */
  public boolean isRunning() {
    return runningPort().isPresent();
  }

  public Optional<Integer> runningPort() {
    Path pid = dataDir().resolve("postmaster.pid");
    if (!Files.exists(pid)) {
      return Optional.empty();
    }
    try {
      Process p = new ProcessBuilder(asServerUser(List.of(bin.resolve("pg_ctl").toString(), "-D",
          dataDir().toString(), "status"))).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return Optional.empty();
      }
      List<String> lines = Files.readAllLines(pid);
      if (lines.isEmpty() || !servesThisDataDir(lines.get(0).trim())) {
        return Optional.empty();
      }
      return lines.size() > 3 ? Optional.of(Integer.parseInt(lines.get(3).trim())) : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /**
   * False when the process postmaster.pid names is alive but is not a server of this data directory: a
   * postmaster killed (kill -9, an OOM kill, a machine or container that went down) leaves its pid file,
   * and once its process id is taken by another process of the server's user (in a container, ids
   * start again at 1), pg_ctl took the cluster for running: serve then failed to connect ("could not
   * prepare the embedded platform database"), PostgreSQL itself refused to start over the file, and
   * {@code db stop} signalled that other process. A postmaster works in its data directory, so the
   * process's working directory tells; where it cannot be read (no /proc, another user's process),
   * pg_ctl's answer stands.
   */
  private boolean servesThisDataDir(String pid) {
    try {
      Path cwd = Path.of("/proc", pid, "cwd");
      return Files.readSymbolicLink(cwd).equals(dataDir().toRealPath());
    } catch (IOException | SecurityException | java.nio.file.InvalidPathException e) {
      return true;
    }
  }

  /** Removes postmaster.pid when it names a live process that is not this cluster's server (see above). */
  private void removeStalePidFile() throws IOException {
    Path pid = dataDir().resolve("postmaster.pid");
    List<String> lines;
    try {
      lines = Files.readAllLines(pid);
    } catch (java.nio.file.NoSuchFileException e) {
      return;
    }
    if (!lines.isEmpty() && lines.get(0).trim().matches("[0-9]+")
        && ProcessHandle.of(Long.parseLong(lines.get(0).trim())).isPresent() && !servesThisDataDir(lines.get(0).trim())) {
      Files.deleteIfExists(pid);
      LOG.warn("removed {}: left by a PostgreSQL that did not stop (killed, or its machine went down), it names "
          + "process {}, which now is another program", pid, lines.get(0).trim());
    }
  }

  public synchronized void stop() {
    if (!isRunning()) {
      return;
    }
    try {
      run(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir().toString(), "-m", "fast", "-w", "stop"),
          "pg_ctl stop");
      LOG.info("embedded PostgreSQL stopped");
    } catch (IOException e) {
      LOG.warn("could not stop the embedded PostgreSQL: {}", e.getMessage());
    }
  }

  /**
   * Stops the cluster on JVM exit, but only if this process started it and it is still that start:
   * after {@code db stop} and {@code db start} under a running {@code serve}, the cluster running is
   * that command's, and stopping {@code serve} stopped it too, without a word.
   */
  public EmbeddedPostgres stopOnExit() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopIfStillStartedHere, "embedded-postgres-stop"));
    return this;
  }

  /** What {@link #stopOnExit} and {@link #close} do: true when it stopped the cluster. */
  public synchronized boolean stopIfStillStartedHere() {
    if (!startedHere) {
      return false;
    }
    Optional<String> now = postmaster();
    if (now.isPresent() && !now.get().equals(startedPostmaster)) {
      // also on standard error: a service's shutdown closes the database after its logging may have stopped
      String left = "embedded PostgreSQL left running: another command started it again after this process had "
          + "started it (stop it with ./carecontext db stop)";
      LOG.info(left);
      System.err.println(left);
      return false;
    }
    stop();
    return true;
  }

  /** The running postmaster's process id, from postmaster.pid; empty when there is none. */
  private Optional<String> postmaster() {
    try {
      List<String> lines = Files.readAllLines(dataDir().resolve("postmaster.pid"));
      return lines.isEmpty() ? Optional.empty() : Optional.of(lines.get(0).trim());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Creates (once) the platform database with an owner role that has CREATEROLE, and the vector
   * extension, and returns how to reach it: as the owner, and as the application role with a
   * password kept beside the owner's ({@code <prefix>_app.password}, mode 0600). Every process on
   * this home (serve, worker, demo) then sets the same password: with one generated per process, a
   * worker's start changed it under a running serve, whose next new connection was refused.
   */
  public DatabaseConfig platformDatabase(String database, String rolePrefix) {
    String owner = rolePrefix + "_owner";
    Path passwordFile = home.resolve(owner + ".password");
    try (Connection c = superuserConnection("postgres");
        Statement st = c.createStatement()) {
      String password = readOrCreateSecret(passwordFile);
      if (!exists(st, "SELECT 1 FROM pg_roles WHERE rolname = '" + owner.replace("'", "") + "'")) {
        st.execute("CREATE ROLE " + Identifiers.quote(owner) + " LOGIN CREATEROLE NOSUPERUSER");
      }
      st.execute("ALTER ROLE " + Identifiers.quote(owner) + " PASSWORD " + Identifiers.literal(password));
      if (!exists(st, "SELECT 1 FROM pg_database WHERE datname = '" + database.replace("'", "") + "'")) {
        st.execute("CREATE DATABASE " + Identifiers.quote(database) + " OWNER " + Identifiers.quote(owner));
      }
      try (Connection d = superuserConnection(database);
          Statement ds = d.createStatement()) {
        ds.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public");
        ds.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
      }
      String app = rolePrefix + "_app";
      String appPassword = readOrCreateSecret(home.resolve(app + ".password"));
      return new DatabaseConfig(jdbcUrl(database), owner, password, app, appPassword, rolePrefix, 0);
    } catch (SQLException e) {
      throw new DatabaseException("could not prepare the embedded platform database (SQLSTATE " + e.getSQLState()
          + "): see " + home.resolve("postgres.log"), e);
    } catch (IOException e) {
      throw new DatabaseException("could not prepare the embedded platform database: " + e.getMessage(), e);
    }
  }

  /**
   * Stops the cluster if this process started it and it is still that start ({@link #stopIfStillStartedHere}):
   * serve's shutdown closes it here, and stopped a cluster that db stop and db start had restarted meanwhile,
   * under a worker or a backup using it, although the README says that one keeps running.
   */
  @Override
  public void close() {
    stopIfStillStartedHere();
  }

  private void initdb() throws IOException {
    Path pwFile = home.resolve("superuser.password");
    readOrCreateSecret(pwFile);
    Files.createDirectories(dataDir());
    if (isRoot()) {
      // initdb refuses root; the cluster belongs to the postgres OS user, the secrets stay root's.
      ensureTraversable(home);
      Path tmp = Files.createTempFile("cc-initdb", ".pw");
      Files.writeString(tmp, Files.readString(pwFile));
      run(List.of("chown", "postgres:postgres", tmp.toString()), "chown");
      run(List.of("chown", "-R", "postgres:postgres", dataDir().toString()), "chown");
      run(List.of("chmod", "0700", dataDir().toString()), "chmod");
      try {
        runInit(tmp);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } else {
      runInit(pwFile);
    }
  }

  /**
   * The server's log, readable by its owner only (it was 0644): even terse, an error's message can
   * quote a value a statement sent ("invalid input syntax for type …: "…""). pg_ctl -l writes it as
   * the server user, so as root it belongs to postgres.
   */
  private void privateLog() throws IOException {
    Path log = home.resolve("postgres.log");
    if (!Files.exists(log)) {
      Files.createFile(log);
    }
    Files.setPosixFilePermissions(log, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    if (isRoot()) {
      run(List.of("chown", "postgres:postgres", log.toString()), "chown");
    }
  }

  /**
   * The postgres OS user must be able to reach the data directory: give "search" (x) on every
   * ancestor that lacks it (e.g. a 0700 temporary directory), nothing more.
   */
  private static void ensureTraversable(Path dir) throws IOException {
    for (Path p = dir; p != null; p = p.getParent()) {
      var perms = Files.getPosixFilePermissions(p);
      if (!perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
        Files.setPosixFilePermissions(p, perms);
        LOG.info("gave other users search permission on {} so the postgres user can reach its data", p);
      }
    }
  }

  private void runInit(Path pwFile) throws IOException {
    run(List.of(bin.resolve("initdb").toString(), "-D", dataDir().toString(), "-U", SUPERUSER,
        "--auth=scram-sha-256", "--pwfile=" + pwFile, "-E", "UTF8", "--no-locale", "--no-instructions"),
        "initdb");
  }

  /**
   * The allocator settings the embedded server's processes start with, unless the environment sets
   * its own {@value #GLIBC_TUNABLES}: glibc's malloc keeps up to 32 MB free at the top of a
   * backend's heap (its default: 128 kB) and serves requests under 8 MB from the heap (its default:
   * 128 kB, raised by glibc itself only after a larger block has been freed). With the defaults a
   * backend whose queries each take a few hundred kB gave that memory back to the kernel at the end
   * of every query and took it again at the start of the next: a brk call, the page faults of the
   * new pages and, on a virtual machine, a TLB flush on every core, about a fifth of PostgreSQL's
   * time on a nearest-neighbour read (docs/benchmarks.md, the thirty-eighth session). A backend
   * that once ran a large query had its thresholds raised by glibc and did not pay it, so the same
   * statement cost twice as much on a fresh connection as on one that had sorted a large table.
   * Both values are within the range glibc's own raising reaches (mmap up to 32 MB, trim twice that);
   * set explicitly, they are fixed (glibc raises them no further). CareContext's own reads cost the
   * same either way; what changes is that a statement costs the same on every connection, which the
   * benchmark's baseline needs to be measured alike in every mode. Only glibc reads the variable.
   */
  static final String MALLOC_TUNABLES = "glibc.malloc.trim_threshold=33554432:glibc.malloc.mmap_threshold=8388608";
  static final String GLIBC_TUNABLES = "GLIBC_TUNABLES";

  /** The variables the server starts with beyond this process's own: the allocator's, unless set. */
  static java.util.Map<String, String> serverEnvironment(java.util.Map<String, String> own) {
    return own.containsKey(GLIBC_TUNABLES) ? java.util.Map.of() : java.util.Map.of(GLIBC_TUNABLES, MALLOC_TUNABLES);
  }

  private void run(List<String> command, String what) throws IOException {
    run(command, what, java.util.Map.of());
  }

  private void run(List<String> command, String what, java.util.Map<String, String> environment) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(asServerUser(command)).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(what + " failed: " + out.strip() + " (see " + home.resolve("postgres.log") + ")");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(what + " interrupted", e);
    }
  }

  private List<String> asServerUser(List<String> command) {
    if (!isRoot() || command.get(0).equals("chown") || command.get(0).equals("chmod")) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    wrapped.addAll(command);
    return wrapped;
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private void requirePgvector() throws IOException {
    if (pgvectorControl(bin).isEmpty()) {
      throw new IOException("pgvector is not installed for the PostgreSQL in " + bin
          + ": run scripts/install-prerequisites.sh (it builds and installs pgvector), then start again");
    }
  }

  /**
   * pgvector's control file for the server in {@code bin}: Debian's layout ({@code /usr/lib/postgresql/N/bin},
   * {@code /usr/share/postgresql/N/extension}) or a source build's ({@code bin/} next to {@code share/extension/}
   * or {@code share/postgresql/extension/}). The Debian path alone was looked at, and a {@code bin} without
   * a grandparent (CARECONTEXT_PG_BIN=/nonexistent) was a NullPointerException.
   */
  static Optional<Path> pgvectorControl(Path bin) {
    Path abs = bin.toAbsolutePath().normalize();
    Path version = abs.getParent() == null ? null : abs.getParent().getFileName();
    List<Path> candidates = new ArrayList<>();
    if (version != null) {
      candidates.add(abs.getParent().resolve("../../../share/postgresql").normalize().resolve(version)
          .resolve("extension/vector.control"));
      candidates.add(abs.getParent().resolve("share/extension/vector.control"));
      candidates.add(abs.getParent().resolve("share/postgresql/extension/vector.control"));
    }
    return candidates.stream().filter(Files::isRegularFile).findFirst();
  }

  static Path findBinaries() {
    return findBinaries(Setting.of("CARECONTEXT_PG_BIN").orElse(null));
  }

  /** The server binaries: {@code configured} (CARECONTEXT_PG_BIN) when set, else the newest Debian's. */
  static Path findBinaries(String configured) {
    if (configured != null && !configured.isBlank()) {
      Path bin = Path.of(configured.strip());
      if (!Files.isExecutable(bin.resolve("initdb")) || !Files.isExecutable(bin.resolve("pg_ctl"))) {
        throw new DatabaseException("CARECONTEXT_PG_BIN=" + configured + " has no initdb and pg_ctl: point it at "
            + "the bin folder of a PostgreSQL server (e.g. /usr/lib/postgresql/<version>/bin), or unset it to use the "
            + "newest under /usr/lib/postgresql");
      }
      return bin;
    }
    try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions.map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString())))
          .orElseThrow(() -> new DatabaseException(
              "no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/install-prerequisites.sh"));
    } catch (IOException e) {
      throw new DatabaseException(
          "no PostgreSQL server binaries found: run scripts/install-prerequisites.sh or set CARECONTEXT_PG_BIN", e);
    }
  }

  private static final java.util.regex.Pattern PORT_OPTION = java.util.regex.Pattern.compile("\"-p\" \"(\\d{1,5})\"");

  /**
   * The port of the cluster's last start (PostgreSQL keeps its command line in
   * {@code postmaster.opts}). A restarted cluster takes it again when it is free, so that a service
   * still running, whose pool knows only that port, reconnects by itself after
   * {@code db stop} and {@code db start}.
   */
  Optional<Integer> previousPort() {
    try {
      Path opts = dataDir().resolve("postmaster.opts");
      return Files.exists(opts) ? lastStartPort(Files.readString(opts, StandardCharsets.UTF_8)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The {@code "-p" "N"} of a {@code postmaster.opts} line. */
  static Optional<Integer> lastStartPort(String opts) {
    java.util.regex.Matcher m = PORT_OPTION.matcher(opts);
    if (!m.find()) {
      return Optional.empty();
    }
    int p = Integer.parseInt(m.group(1));
    return p > 1024 && p < 65536 && p != 5432 ? Optional.of(p) : Optional.empty();
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    for (int attempt = 0; attempt < 20; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        int p = s.getLocalPort();
        if (p != 5432) {
          return p;
        }
      }
    }
    throw new IOException("no free loopback port");
  }

  static String readOrCreateSecret(Path file) throws IOException {
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    Files.createDirectories(file.getParent());
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, secret, StandardCharsets.UTF_8);
    return secret;
  }

  private static boolean exists(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      return rs.next();
    }
  }
}
