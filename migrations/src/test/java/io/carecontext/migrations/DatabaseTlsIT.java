package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The platform's PostgreSQL connections with {@code sslmode=verify-full}, against a cluster of this
 * test's own that accepts TLS only ({@code hostssl} + scram-sha-256), with a throwaway CA.
 *
 * <p>The server certificate names only {@code DNS:localhost}, so connecting to {@code 127.0.0.1}
 * is a hostname mismatch that verify-full must refuse while verify-ca accepts it.
 */
class DatabaseTlsIT {

  private static final Path OPENSSL = Path.of("/usr/bin/openssl");
  private static final String SUPERUSER = "tls_admin";
  private static final String DATABASE = "carecontext";

  @TempDir
  static Path dir;

  private static Path pgBin;
  private static Path serverDir;
  private static Path caPem;
  private static Path otherCaPem;
  private static String password;
  private static int port;

  @BeforeAll
  static void startTlsOnlyCluster() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(OPENSSL), "openssl is not installed at " + OPENSSL);
    pgBin = EmbeddedPostgres.findBinaries();
    // The server runs as the postgres OS user when we are root; it needs to traverse the temp dir.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    serverDir = Files.createDirectory(dir.resolve("server"));
    password = UUID.randomUUID().toString();

    caPem = createCa("ca");
    otherCaPem = createCa("other-ca");
    createServerCertificate("ca");
    initdb();
    configureTlsOnly();
    runAsServer(pgCtl("-l", serverDir.resolve("postgres.log").toString(), "-w", "-t", "60", "start"));
    try (Connection c = DriverManager.getConnection(verifyFullUrl("localhost", "postgres", caPem), SUPERUSER, password);
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + DATABASE);
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (serverDir != null && Files.exists(serverDir.resolve("pgdata/postmaster.pid"))) {
      runAsServer(pgCtl("-m", "immediate", "-w", "stop"));
    }
  }

  @Test
  void verifyFullConnectsThroughThePlatformPools() throws SQLException {
    // The same path the services take: bootstrap builds the owner and application pools from the URL.
    DatabaseConfig config = new DatabaseConfig(verifyFullUrl("localhost", DATABASE, caPem),
        SUPERUSER, password, null, null, "tlsit", 2);
    try (PlatformDatabase db = PlatformDatabase.bootstrap(config)) {
      assertEncrypted(db.ownerDataSource());
      assertEncrypted(db.appDataSource());
      // what the start-up check reads: encrypted, whatever the address
      try (Connection c = db.ownerDataSource().getConnection()) {
        assertThat(PlatformDatabase.Transport.of(c)).isEqualTo(new PlatformDatabase.Transport(true, true));
      }
    }
  }

  @Test
  void wrongCertificateAuthorityIsRefused() {
    assertThatThrownBy(() -> connect(verifyFullUrl("localhost", DATABASE, otherCaPem)))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("SSL error")
        .hasCauseInstanceOf(SSLException.class);
  }

  @Test
  void hostnameMismatchIsRefused() throws SQLException {
    // Right CA, so only the name check can refuse: verify-ca to the same address must work.
    try (Connection c = connect(url("127.0.0.1", DATABASE, "verify-ca", caPem))) {
      assertThat(c.isValid(5)).isTrue();
    }
    assertThatThrownBy(() -> connect(verifyFullUrl("127.0.0.1", DATABASE, caPem)))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("hostname 127.0.0.1 could not be verified");
  }

  @Test
  void connectionWithoutTlsIsRefusedByPgHba() {
    assertThatThrownBy(() -> connect("jdbc:postgresql://localhost:" + port + "/" + DATABASE + "?sslmode=disable"))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("no pg_hba.conf entry")
        .hasMessageContaining("no encryption");
  }

  private static void assertEncrypted(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBoolean("ssl")).isTrue();
      assertThat(rs.getString("version")).isIn("TLSv1.2", "TLSv1.3");
    }
  }

  private static Connection connect(String url) throws SQLException {
    return DriverManager.getConnection(url, SUPERUSER, password);
  }

  private static String verifyFullUrl(String host, String database, Path rootCert) {
    return url(host, database, "verify-full", rootCert);
  }

  private static String url(String host, String database, String sslmode, Path rootCert) {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?sslmode=" + sslmode + "&sslrootcert=" + rootCert;
  }

  // --- certificates ---

  /** A self-signed CA; its key stays in the temp dir, owned by the test. */
  private static Path createCa(String name) throws IOException {
    Path pem = dir.resolve(name + ".pem");
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", dir.resolve(name + ".key").toString(), "-out", pem.toString(), "-days", "2",
        "-subj", "/CN=CareContext throwaway " + name);
    return pem;
  }

  private static void createServerCertificate(String caName) throws IOException {
    Path key = serverDir.resolve("server.key");
    Path csr = dir.resolve("server.csr");
    Path extensions = Files.writeString(dir.resolve("server.ext"), String.join("\n",
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=DNS:localhost", ""));
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=localhost");
    openssl("x509", "-req", "-in", csr.toString(), "-CA", dir.resolve(caName + ".pem").toString(),
        "-CAkey", dir.resolve(caName + ".key").toString(), "-set_serial", "2", "-days", "2",
        "-out", serverDir.resolve("server.crt").toString(), "-extfile", extensions.toString());
    // PostgreSQL refuses a key that others can read.
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
  }

  private static void openssl(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(OPENSSL.toString()));
    command.addAll(List.of(args));
    run(command);
  }

  // --- the cluster ---

  private static void initdb() throws IOException {
    Path pwFile = Files.writeString(serverDir.resolve("superuser.pw"), password);
    if (isRoot()) {
      // Hands the certificate, the 0600 key and the data directory's parent to the server user.
      run(List.of("chown", "-R", "postgres:postgres", serverDir.toString()));
    }
    try {
      runAsServer(List.of(pgBin.resolve("initdb").toString(), "-D", serverDir.resolve("pgdata").toString(),
          "-U", SUPERUSER, "--auth=scram-sha-256", "--pwfile=" + pwFile, "-E", "UTF8", "--no-locale",
          "--no-instructions"));
    } finally {
      Files.deleteIfExists(pwFile);
    }
  }

  private static void configureTlsOnly() throws IOException {
    port = freePort();
    Path pgdata = serverDir.resolve("pgdata");
    Files.writeString(pgdata.resolve("postgresql.conf"), String.join("\n",
        "port = " + port,
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        "ssl = on",
        "ssl_cert_file = '" + serverDir.resolve("server.crt") + "'",
        "ssl_key_file = '" + serverDir.resolve("server.key") + "'",
        "ssl_min_protocol_version = 'TLSv1.2'", ""), StandardOpenOption.APPEND);
    // No "host" or "hostnossl" line: a connection without TLS matches nothing and is refused.
    Files.writeString(pgdata.resolve("pg_hba.conf"), "hostssl all all 127.0.0.1/32 scram-sha-256\n");
  }

  private static List<String> pgCtl(String... args) {
    List<String> command = new ArrayList<>(List.of(pgBin.resolve("pg_ctl").toString(),
        "-D", serverDir.resolve("pgdata").toString()));
    command.addAll(List.of(args));
    return command;
  }

  /** initdb refuses root, so as root the cluster belongs to the postgres OS user, as in EmbeddedPostgres. */
  private static void runAsServer(List<String> command) throws IOException {
    if (!isRoot()) {
      run(command);
      return;
    }
    List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    wrapped.addAll(command);
    run(wrapped);
  }

  private static void run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + out.strip() + serverLog());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(command.get(0) + " interrupted", e);
    }
  }

  private static String serverLog() throws IOException {
    Path log = serverDir == null ? null : serverDir.resolve("postgres.log");
    return log != null && Files.exists(log) ? "\n--- postgres.log ---\n" + Files.readString(log) : "";
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
