package io.carecontext.migrations.testing;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.Identifiers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real PostgreSQL + pgvector for {@code *IT} tests: one cluster per test run, a fresh database (and
 * a fresh role prefix, since roles are cluster-wide) per test class.
 *
 * <p>Where the cluster comes from, in order: {@code CARECONTEXT_TEST_DB_URL} (a superuser JDBC URL
 * with user and password parameters); Testcontainers' {@code pgvector/pgvector} image where a Docker
 * engine answers; otherwise a cluster started here from the installed binaries under
 * {@code CARECONTEXT_TEST_PG_HOME} (default {@code target/test-postgres}), stopped when the JVM
 * exits unless the test command that started it will stop it.
 */
public final class TestPostgres {

  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static volatile Cluster cluster;

  private TestPostgres() {}

  /** The superuser side of the shared cluster. */
  public interface Cluster {
    String jdbcUrl(String database);

    Connection superuser(String database) throws SQLException;

    /** What the server has logged so far, where the tests can read it. */
    Optional<String> serverLog();

    /** The cluster's data directory, where it is on this machine. */
    Optional<Path> dataDirectory();
  }

  /**
   * The shared cluster's own server log so far (the embedded cluster's {@code postgres.log}, the
   * container's output); empty for a cluster given by {@code CARECONTEXT_TEST_DB_URL}.
   */
  public static Optional<String> serverLog() {
    return cluster().serverLog();
  }

  /** The shared cluster's data directory, when it runs on this machine (the embedded one). */
  public static Optional<Path> dataDirectory() {
    return cluster().dataDirectory();
  }

  /** A new database with an owner role, the vector extension and its own role prefix. */
  public static DatabaseConfig freshDatabase() {
    Cluster c = cluster();
    String suffix = Long.toString(ProcessHandle.current().pid(), 36) + COUNTER.incrementAndGet()
        + Long.toString(System.nanoTime() % 46656, 36);
    String prefix = ("t" + suffix).toLowerCase(Locale.ROOT);
    String database = "cc_" + prefix;
    String owner = prefix + "_owner";
    String password = "pw_" + prefix;
    try (Connection su = c.superuser("postgres");
        Statement st = su.createStatement()) {
      st.execute("CREATE ROLE " + Identifiers.quote(owner) + " LOGIN CREATEROLE NOSUPERUSER PASSWORD "
          + Identifiers.literal(password));
      st.execute("CREATE DATABASE " + Identifiers.quote(database) + " OWNER " + Identifiers.quote(owner));
    } catch (SQLException e) {
      throw new IllegalStateException("could not create a test database", e);
    }
    try (Connection su = c.superuser(database);
        Statement st = su.createStatement()) {
      st.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public");
      st.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare the test database", e);
    }
    // Synthetic data only: a CARECONTEXT_TEST_DB_URL on another machine without TLS is the tester's choice
    // (the start-up refusal itself is proven by DatabaseTransportTest and DatabaseTlsIT).
    return new DatabaseConfig(c.jdbcUrl(database), owner, password, null, "app_" + prefix, prefix, 4)
        .allowingPlaintext(true);
  }

  /** A superuser connection to one test database (for tests that tamper as a privileged user). */
  public static Connection superuser(DatabaseConfig config) throws SQLException {
    String url = config.jdbcUrl();
    String database = url.substring(url.lastIndexOf('/') + 1).replaceAll("\\?.*$", "");
    return cluster().superuser(database);
  }

  /** Runs {@code sql} as the superuser, in its own transaction (a test's set-up or tampering). */
  public static void superuserExecute(DatabaseConfig config, String sql) throws SQLException {
    try (Connection c = superuser(config); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** The first column of the first row {@code sql} answers the superuser, as a long (a count, a sequence). */
  public static long superuserLong(DatabaseConfig config, String sql) throws SQLException {
    try (Connection c = superuser(config); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The first column of the first row {@code sql} answers the superuser, as text. */
  public static String superuserString(DatabaseConfig config, String sql) throws SQLException {
    try (Connection c = superuser(config); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * Runs {@code sql} as the superuser with the audit trail's refusal of updates off (tenant migration
   * 57) in {@code schema}, in one transaction that turns it back on before it commits: what an insider
   * with the owner's rights has to do to change audit rows, and what verify is there to find.
   */
  public static void changeAuditRows(DatabaseConfig config, String schema, String sql) throws SQLException {
    try (Connection c = superuser(config)) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        String table = Identifiers.quote(schema) + ".audit_log";
        st.execute("ALTER TABLE " + table + " DISABLE TRIGGER audit_log_no_update");
        st.execute(sql);
        st.execute("ALTER TABLE " + table + " ENABLE ALWAYS TRIGGER audit_log_no_update");
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** A connection as one of the test database's roles. */
  public static Connection connect(DatabaseConfig config, String user, String password) throws SQLException {
    return DriverManager.getConnection(config.jdbcUrl(), user, password);
  }

  static synchronized Cluster cluster() {
    if (cluster == null) {
      cluster = startCluster();
    }
    return cluster;
  }

  private static Cluster startCluster() {
    String url = System.getenv("CARECONTEXT_TEST_DB_URL");
    if (url != null && !url.isBlank()) {
      return new UrlCluster(url);
    }
    if (DockerCluster.dockerAvailable()) {
      return DockerCluster.start();
    }
    String home = System.getenv().getOrDefault("CARECONTEXT_TEST_PG_HOME", "target/test-postgres");
    Path dir = Path.of(home).toAbsolutePath();
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot create " + dir, e);
    }
    EmbeddedPostgres pg = EmbeddedPostgres.at(dir).start();
    if (!"script".equals(System.getenv("CARECONTEXT_TEST_PG_OWNER"))) {
      pg.stopOnExit();
    }
    return new Cluster() {
      @Override
      public String jdbcUrl(String database) {
        return pg.jdbcUrl(database);
      }

      @Override
      public Connection superuser(String database) throws SQLException {
        return pg.superuserConnection(database);
      }

      @Override
      public Optional<String> serverLog() {
        try {
          // as root the log belongs to postgres (mode 0600), which root reads all the same
          return Optional.of(Files.readString(dir.resolve("postgres.log"), StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }

      @Override
      public Optional<Path> dataDirectory() {
        return Optional.of(pg.dataDir());
      }
    };
  }

  /** A cluster given as {@code jdbc:postgresql://host:port/db?user=...&password=...}. */
  private record UrlCluster(String url) implements Cluster {
    @Override
    public String jdbcUrl(String database) {
      String base = url.replaceAll("\\?.*$", "");
      return base.substring(0, base.lastIndexOf('/') + 1) + database;
    }

    @Override
    public Connection superuser(String database) throws SQLException {
      String query = url.contains("?") ? url.substring(url.indexOf('?')) : "";
      return DriverManager.getConnection(jdbcUrl(database) + query);
    }

    @Override
    public Optional<String> serverLog() {
      return Optional.empty();
    }

    @Override
    public Optional<Path> dataDirectory() {
      return Optional.empty();
    }
  }
}
