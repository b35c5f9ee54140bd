package io.carecontext.migrations;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.api.MigrationVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The platform database: two connection pools (owner for DDL and provisioning, application role
 * for everything else) and the bootstrap that brings roles and schemas up to date.
 */
public final class PlatformDatabase implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PlatformDatabase.class);

  private final DatabaseConfig config;
  private final HikariDataSource owner;
  /** Long-running owner work (research index builds), kept off the owner pool that provisioning needs. */
  private HikariDataSource builds;
  private HikariDataSource app;
  private DatabaseProbe probe;

  private PlatformDatabase(DatabaseConfig config, HikariDataSource owner) {
    this.config = config;
    this.owner = owner;
  }

  /**
   * Connects as the owner, makes sure the application role exists with the configured password (a
   * random one when none is configured), applies the platform migrations and brings every existing
   * tenant schema to the current template version. Idempotent.
   */
  public static PlatformDatabase bootstrap(DatabaseConfig config) {
    return bootstrap(config, MigrationVersion.LATEST);
  }

  /**
   * As {@link #bootstrap(DatabaseConfig)}, with the platform schema migrated up to {@code platformTarget}
   * only: an installation as a release whose platform migrations ended there left it (tests of the
   * upgrade path). Every other caller takes the latest.
   */
  static PlatformDatabase bootstrap(DatabaseConfig config, MigrationVersion platformTarget) {
    // The owner pool keeps nothing idle: it serves start-up, tenant provisioning and the daily
    // audit retention, and two idle connections in every pod would cost the database more slots
    // than the readiness probe's one (DatabaseProbe).
    HikariDataSource owner = pool(config, config.ownerUser(), config.ownerPassword(), 3, 0, "carecontext-owner", 0);
    try {
      PlatformDatabase db = new PlatformDatabase(config, owner);
      db.requireEncryptedTransport();
      db.ensureVectorExtension();
      DatabaseConfig effective = db.ensureAppRole();
      Migrations.migratePlatform(owner, effective, platformTarget);
      db.app = pool(effective, effective.appUser(), effective.appPassword(), effective.appPoolSize(),
          Math.min(2, effective.appPoolSize()), "carecontext-app", db.vectorTypeOid());
      db.probe = new DatabaseProbe(effective.jdbcUrl(), effective.appUser(), effective.appPassword(), db::reachabilityChanged);
      int tenants = Migrations.migrateAllTenants(owner, effective, db.tenantIds());
      LOG.info("platform database ready ({} tenant schema(s) up to date)", tenants);
      return db;
    } catch (RuntimeException | SQLException e) {
      owner.close();
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new DatabaseException("could not bootstrap the platform database: " + e.getMessage(), e);
    }
  }

  public DatabaseConfig config() {
    return config;
  }

  /** Owner role: DDL and provisioning only. */
  public DataSource ownerDataSource() {
    return owner;
  }

  /**
   * Owner role, for DDL that runs for minutes (a research index build over millions of chunks): a
   * pool of its own, so tenants are still provisioned meanwhile.
   */
  public synchronized DataSource buildsDataSource() {
    if (builds == null) {
      // Made at the first build: most processes never run one. Two connections: a build, and the
      // drop a tenant admin may ask for meanwhile; nothing kept idle.
      builds = pool(config, config.ownerUser(), config.ownerPassword(), 2, 0, "carecontext-owner-builds", 0);
    }
    return builds;
  }

  /** Application login role: owns nothing; tenant data only through {@link TenantTransactions}. */
  public DataSource appDataSource() {
    return app;
  }

  /**
   * Whether the database answers the application role, known within about
   * {@value DatabaseProbe#TIMEOUT_SECONDS} s and never waiting for the pools (readiness). When it
   * stops answering, the pools drop the connections they hold: after an outage (a restart, a cut
   * network) those are dead or silent, and each would cost a request a failed check first.
   */
  public boolean reachable() {
    return probe.reachable();
  }

  private void reachabilityChanged(boolean reachable) {
    if (reachable) {
      LOG.info("the database answers again");
      return;
    }
    LOG.warn("the database does not answer: requests fail with 503 until it does; pooled connections are replaced");
    for (HikariDataSource pool : List.of(app, owner)) {
      // idle connections close now, borrowed ones when they are given back
      pool.getHikariPoolMXBean().softEvictConnections();
    }
  }

  List<TenantId> tenantIds() throws SQLException {
    List<TenantId> ids = new ArrayList<>();
    try (Connection c = owner.getConnection();
        Statement st = c.createStatement()) {
      if (!exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = 'platform'")) {
        return ids;
      }
      try (ResultSet rs = st.executeQuery("SELECT tenant_id FROM platform.tenants WHERE status = 'active' ORDER BY tenant_id")) {
        while (rs.next()) {
          ids.add(TenantId.of(rs.getString(1)));
        }
      }
    }
    return ids;
  }

  private void ensureVectorExtension() throws SQLException {
    try (Connection c = owner.getConnection()) {
      if (exists(c, "SELECT 1 FROM pg_extension WHERE extname = 'vector'")) {
        return;
      }
      try (Statement st = c.createStatement()) {
        st.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public");
      } catch (SQLException e) {
        throw new DatabaseException("the pgvector extension is not installed in this database and the owner role "
            + "may not create it: ask a database administrator to run CREATE EXTENSION vector (pgvector 0.5 or newer)", e);
      }
    }
  }

  private long vectorTypeOid() throws SQLException {
    try (Connection c = owner.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT 'public.vector'::regtype::oid")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private DatabaseConfig ensureAppRole() throws SQLException {
    String password = config.appPassword();
    boolean generated = password == null || password.isEmpty();
    if (generated) {
      byte[] bytes = new byte[24];
      new SecureRandom().nextBytes(bytes);
      password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
    String role = Identifiers.quote(config.appUser());
    try (Connection c = owner.getConnection();
        Statement st = c.createStatement()) {
      boolean exists;
      String comment;
      String marker = RoleOwnership.marker(c, config);
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT rolcanlogin, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = ?")) {
        ps.setString(1, config.appUser());
        try (ResultSet rs = ps.executeQuery()) {
          exists = rs.next();
          comment = exists ? rs.getString(2) : null;
          // A role with no mark that cannot log in is no application role: it is another
          // installation's tenant role (made before roles were marked) or someone's group.
          if (exists && (RoleOwnership.anotherInstallations(comment, marker) || (comment == null && !rs.getBoolean(1)))) {
            throw new RoleNameTakenException(config.appUser(), RoleOwnership.installation(comment));
          }
        }
      }
      if (!exists) {
        st.execute("CREATE ROLE " + role + " LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE");
      }
      if (comment == null) {
        RoleOwnership.claim(st, config.appUser(), marker);
      }
      // NOINHERIT: the login role has no tenant rights until it runs SET LOCAL ROLE.
      st.execute("ALTER ROLE " + role + " LOGIN NOINHERIT PASSWORD " + Identifiers.literal(password));
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT rolsuper OR rolbypassrls OR rolcreaterole FROM pg_roles WHERE rolname = ?")) {
        ps.setString(1, config.appUser());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && rs.getBoolean(1)) {
            // Row-level security would not bind such a role: refuse to run rather than run unprotected.
            throw new DatabaseException("the application role " + config.appUser() + " is a superuser, bypasses "
                + "row-level security or may create roles: give the application its own NOSUPERUSER NOBYPASSRLS "
                + "NOCREATEROLE role (CARECONTEXT_DB_APP_USER)");
          }
        }
      }
      String database = c.getCatalog();
      st.execute("GRANT CONNECT ON DATABASE " + Identifiers.quote(database) + " TO " + role);
      refuseTemporaryTables(c, st, database);
    }
    if (generated) {
      LOG.info("application role {} has a generated password for this process", config.appUser());
    }
    return config.withAppPassword(password);
  }

  /**
   * Patient data crosses the connection to the database, so it must be encrypted unless it never
   * leaves the machine (a loopback address or a Unix socket: the embedded default, or a local proxy
   * that encrypts on its own) or the operator has said the network encrypts it
   * ({@link DatabaseConfig#plaintextAllowed}). The server says what the connection is, whatever the
   * URL asked for: {@code sslmode=prefer}, the driver's default, falls back to plain text silently.
   * An encrypted connection whose server certificate is not checked is started with a warning.
   */
  void requireEncryptedTransport() throws SQLException {
    Transport t;
    try (Connection c = owner.getConnection()) {
      t = Transport.of(c);
    }
    transportProblem(t.encrypted(), t.local(), config).ifPresent(problem -> {
      if (!t.encrypted() && !config.plaintextAllowed()) {
        throw new DatabaseException(problem);
      }
      LOG.warn(problem);
    });
  }

  /** A connection as its server sees it: encrypted (TLS), and local (loopback or a Unix socket). */
  record Transport(boolean encrypted, boolean local) {
    static Transport of(Connection c) throws SQLException {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
          SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
                 coalesce(inet_server_addr() <<= inet '127.0.0.0/8' OR inet_server_addr() = inet '::1', true)""")) {
        rs.next();
        return new Transport(rs.getBoolean(1), rs.getBoolean(2));
      }
    }
  }

  /**
   * What is wrong with a connection to the database: refused when it is not encrypted, crosses a
   * network and plain text was not allowed; warned about otherwise; empty when nothing is.
   */
  static Optional<String> transportProblem(boolean encrypted, boolean local, DatabaseConfig config) {
    if (local) {
      return Optional.empty();
    }
    if (!encrypted) {
      return Optional.of(config.plaintextAllowed()
          ? "the connection to the database is not encrypted; CARECONTEXT_DB_ALLOW_PLAINTEXT says the network "
              + "encrypts it (a service mesh with mutual TLS, say): patient data crosses it as sent"
          : "the connection to the database is not encrypted, and patient data would cross the network in plain "
              + "text: add sslmode=verify-full&sslrootcert=<the server's CA file> to CARECONTEXT_DB_URL (the server "
              + "must have ssl = on), or, only if the network encrypts it otherwise (a service mesh with mutual TLS), "
              + "set CARECONTEXT_DB_ALLOW_PLAINTEXT=true");
    }
    String url = config.jdbcUrl().toLowerCase(java.util.Locale.ROOT);
    boolean verified = url.matches(".*[?&]sslmode=verify-(full|ca)(&.*)?")
        || !url.matches(".*[?&]sslmode=.*") && url.matches(".*[?&]ssl=true(&.*)?"); // the driver then verifies fully
    return verified ? Optional.empty() : Optional.of("the connection to the database is encrypted, but the server's "
        + "certificate is not checked, so a machine in between could pose as the database: use "
        + "sslmode=verify-full&sslrootcert=<the server's CA file> in CARECONTEXT_DB_URL");
  }

  /**
   * PostgreSQL lets PUBLIC create temporary tables in a new database. On a pooled connection, which
   * serves every tenant in turn, such a table outlives the transaction that made it: code running as
   * one tenant's role could leave rows there, granted to PUBLIC, for a later request as another
   * tenant's role to read, past row-level security. Nothing here uses temporary tables, so the
   * database refuses them to PUBLIC, and so to the application and every tenant role. The owner
   * revokes it when it owns the database (the embedded default, and the documented set-up);
   * otherwise it says what a database administrator should run.
   */
  private void refuseTemporaryTables(Connection c, Statement st, String database) throws SQLException {
    if (exists(c, "SELECT 1 FROM pg_database WHERE datname = current_database() AND pg_has_role(datdba, 'USAGE')")) {
      st.execute("REVOKE TEMPORARY ON DATABASE " + Identifiers.quote(database) + " FROM PUBLIC");
    }
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT has_database_privilege(?, current_database(), 'TEMPORARY')")) {
      ps.setString(1, config.appUser());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getBoolean(1)) {
          LOG.warn("the application role may create temporary tables in this database, which a pooled connection "
              + "carries from one tenant's request to the next: have its owner run REVOKE TEMPORARY ON DATABASE {} "
              + "FROM PUBLIC (and from {})", database, config.appUser());
        }
      }
    }
  }

  private static boolean exists(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next();
    }
  }

  /**
   * With {@code vectorOid}, vectors travel in pgvector's binary format: 384 floats as text cost
   * more to print and parse than the search that uses them. The OID differs between databases.
   */
  static HikariDataSource pool(DatabaseConfig config, String user, String password, int size, int idle,
                               String name, long vectorOid) {
    HikariConfig hc = new HikariConfig();
    if (vectorOid > 0) {
      hc.addDataSourceProperty("binaryTransferEnable", String.valueOf(vectorOid));
    }
    hc.setJdbcUrl(config.jdbcUrl());
    hc.setUsername(user);
    hc.setPassword(password);
    hc.setMaximumPoolSize(size);
    hc.setMinimumIdle(idle);
    hc.setPoolName(name);
    hc.setAutoCommit(true);
    hc.setInitializationFailTimeout(10_000);
    int timeout = config.connectTimeoutSeconds();
    hc.setConnectionTimeout(timeout * 1000L);
    // A connection idle for a moment is checked before it is handed out; against a database that
    // went silent the check would otherwise wait 5 s (Hikari's default) per pooled connection.
    hc.setValidationTimeout(1000);
    // A new connection must not wait longer than a caller does: the driver's own defaults are 10 s
    // for TCP and, for a login nobody answers, whatever DriverManager holds process-wide; and Hikari
    // opens connections on one thread, so one hung attempt keeps the pool empty after the database
    // is back. The same settings in the URL win over these.
    hc.addDataSourceProperty("connectTimeout", String.valueOf(timeout));
    hc.addDataSourceProperty("loginTimeout", String.valueOf(timeout));
    // A database that vanishes silently is noticed in about 25 s, not the system's quarter of an hour.
    hc.addDataSourceProperty("socketFactory", KeepAliveSocketFactory.class.getName());
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    hc.addDataSourceProperty("ApplicationName", name);
    hc.addDataSourceProperty("reWriteBatchedInserts", "true");
    // A constraint violation's DETAIL quotes the row ("Failing row contains (...)", "Key (...)=(...)"):
    // PHI that must not reach an exception message or a log.
    hc.addDataSourceProperty("logServerErrorDetail", "false");
    return new HikariDataSource(hc);
  }

  @Override
  public void close() {
    if (probe != null) {
      probe.close();
    }
    if (app != null) {
      app.close();
    }
    synchronized (this) {
      if (builds != null) {
        builds.close();
      }
    }
    owner.close();
  }
}
