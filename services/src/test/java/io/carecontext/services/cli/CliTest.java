package io.carecontext.services.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CliTest {

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void everyCommandAndSubcommandAnswersHelp() {
    List<String> paths = new ArrayList<>();
    collect(new CommandLine(new Cli()), "", paths);
    assertThat(paths).contains("serve", "worker", "migrate", "demo", "db start", "db stop", "db status", "tenant create",
        "key revoke", "context", "audit verify", "audit export", "ingest", "bench retrieval", "eval deid");
    for (String path : paths) {
      List<String> args = new ArrayList<>(List.of(path.split(" ")));
      args.add("--help");
      Run r = cli(args.toArray(String[]::new));
      assertThat(r.code()).as(path).isZero();
      assertThat(r.out()).as(path).startsWith("Usage: carecontext " + path);
    }
  }

  @Test
  void everyOptionSaysWhatItTakesAndServeSaysHowItIsConfigured() {
    // --tenant of ingest, key and audit, and --patients and --seed of bench and eval, showed a bare
    // option with an empty line under it; serve --help said nothing of the port or the operator key
    List<String> bare = new ArrayList<>();
    collectSpecs(new CommandLine(new Cli()), "", (path, spec) -> spec.options().stream()
        .filter(o -> String.join("", o.description()).isBlank())
        .forEach(o -> bare.add(path + " " + o.longestName())));
    assertThat(bare).isEmpty();
    for (String command : List.of("serve", "demo")) {
      assertThat(cli(command, "--help").out()).as(command).contains("CARECONTEXT_PORT").contains("CARECONTEXT_ADMIN_KEY")
          .contains("CARECONTEXT_HOME").contains("README.md");
    }
    assertThat(cli("key", "create", "--help").out()).contains("PractitionerRole/<id>");
    // kek rotate showed serve's footer: the HTTP port, the operator key, and "Stop with Ctrl-C or SIGTERM"
    assertThat(cli("kek", "rotate", "--help").out()).contains("CARECONTEXT_KEK_FILE").contains("CARECONTEXT_KEK_PREVIOUS_FILE")
        .contains("CARECONTEXT_HOME").contains("CARECONTEXT_DB_URL").doesNotContain("Ctrl-C").doesNotContain("CARECONTEXT_PORT");
  }

  // "help kek rotate" showed kek's help: picocli's help command read the first name only
  @Test
  void helpFollowsACommandIntoTheCommandWithinIt() {
    Run rotate = cli("help", "kek", "rotate");
    assertThat(rotate.code()).isZero();
    assertThat(rotate.out()).contains("Usage: carecontext kek rotate").contains("CARECONTEXT_KEK_PREVIOUS_FILE");
    assertThat(cli("help", "kek").out()).contains("Usage: carecontext kek").contains("rotate");
    assertThat(cli("help").out()).contains("Usage: carecontext").contains("serve");
    Run unknown = cli("help", "kek", "spin");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("unknown command 'spin' in 'kek'").contains("rotate");
  }

  private static void collectSpecs(CommandLine cmd, String prefix,
                                   java.util.function.BiConsumer<String, CommandLine.Model.CommandSpec> each) {
    cmd.getSubcommands().forEach((name, sub) -> {
      if (!name.equals("help")) {
        each.accept(prefix + name, sub.getCommandSpec());
        collectSpecs(sub, prefix + name + " ", each);
      }
    });
  }

  @Test
  void aServiceUrlThatIsNoneSaysWhatOneLooksLikeBeforeAnythingIsSent() {
    // "URI with undefined scheme", "Illegal character in scheme name at index 0: 127.0.0.1:8080/admin/tenants"
    for (String url : List.of("foo", "127.0.0.1:8080", "ftp://127.0.0.1", "http://127.0.0.1:abc", "http://h/?x=1")) {
      Run r = cli("tenant", "list", "--url", url, "--key", "k");
      assertThat(r.code()).as(url).isEqualTo(2);
      assertThat(r.err()).as(url).contains("--url is not a service URL").contains("e.g. http://127.0.0.1:8080")
          .doesNotContain("scheme name").doesNotContain("undefined");
    }
    assertThat(Connection.checked(" https://cc.example.org/ ", "--url")).isEqualTo("https://cc.example.org/");
    assertThat(Connection.checked("http://127.0.0.1:18811", "--url")).isEqualTo("http://127.0.0.1:18811");
  }

  @Test
  void httpsToAPlainHttpServiceSaysToUseHttpNotToImportACa() throws Exception {
    // what a plain HTTP server (the service without CARECONTEXT_TLS_CERT) does with a TLS ClientHello:
    // it answers 400 in plain text; it was "the TLS handshake failed: … give the client its truststore"
    try (var server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread plain = new Thread(() -> {
        try {
          while (true) {
            try (java.net.Socket s = server.accept()) {
              s.getInputStream().read(new byte[512]);
              s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
          }
        } catch (java.io.IOException stopped) {
          // the socket closed: the test is over
        }
      });
      plain.setDaemon(true);
      plain.start();
      Run r = cli("tenant", "list", "--url", "https://127.0.0.1:" + server.getLocalPort(), "--key", "k");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("does not speak TLS").contains("--url http://").doesNotContain("truststore");
    }
  }

  @Test
  void migrateWithoutAnExternalDatabaseSaysTheEmbeddedOneNeedsNone() {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("CARECONTEXT_DB_URL") == null
        && System.getProperty("carecontext.db.url") == null);
    Run r = cli("migrate");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("CARECONTEXT_DB_URL").contains("the embedded default needs no migrate");
  }

  /**
   * A runtime command whose configuration is refused fails (1), as the README says: a missing
   * key-encryption key file, a port out of range or in use exited 2, the code of a usage error, while a
   * key file of the wrong mode or an unreachable database exited 1.
   */
  @Test
  void aRefusedConfigurationIsAFailureNotAUsageError() {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("CARECONTEXT_PORT") == null);
    System.setProperty("carecontext.port", "70000");
    try {
      for (String command : List.of("serve", "worker", "demo")) {
        Run r = cli(command);
        assertThat(r.code()).as(command).isEqualTo(1);
        assertThat(r.err()).as(command).contains("CARECONTEXT_PORT must be");
      }
    } finally {
      System.clearProperty("carecontext.port");
      System.clearProperty("carecontext.worker.threads");
    }
    assertThat(Cli.runtimeCommand(new RuntimeCommands.Kek.Rotate())).isTrue();
    assertThat(Cli.runtimeCommand(new RuntimeCommands.Serve())).isTrue();
    assertThat(Cli.runtimeCommand(new KeyCommand())).isFalse();
  }

  /**
   * kek rotate --to made the folders of a path that had none (mode 700), without a word: a mistyped
   * path put the only key that opens the data keys after the rotation where nobody would look.
   */
  @Test
  void kekRotateToAFolderThatDoesNotExistIsRefusedAndMakesNothing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home) {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("CARECONTEXT_HOME") == null
        && System.getenv("CARECONTEXT_KEK_FILE") == null && System.getenv("CARECONTEXT_KEK_PREVIOUS_FILE") == null);
    java.nio.file.Path folder = home.resolve("secrets").resolve("kek");
    System.setProperty("carecontext.home", home.toString());
    try {
      Run r = cli("kek", "rotate", "--to", folder.resolve("new.key").toString());
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("the folder of --to, " + folder + ", does not exist")
          .contains("mkdir -m 700 " + folder).contains("nothing was changed");
      assertThat(home.resolve("secrets")).doesNotExist();
      assertThat(home.resolve("postgres")).doesNotExist(); // refused before the database was started
    } finally {
      System.clearProperty("carecontext.home");
    }
  }

  @Test
  void aPortInUseIsOneLineSayingWhatToDoBeforeAnythingStarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home)
      throws Exception {
    // it was some 60 lines of Micronaut's stack trace, after the embedded PostgreSQL had been started
    // and then left running
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("CARECONTEXT_PORT") == null
        && System.getenv("CARECONTEXT_HOME") == null && System.getenv("CARECONTEXT_DB_URL") == null);
    try (var taken = new java.net.ServerSocket(0)) {
      System.setProperty("carecontext.port", Integer.toString(taken.getLocalPort()));
      System.setProperty("carecontext.home", home.toString());
      for (String command : List.of("serve", "worker", "demo")) {
        Run r = cli(command);
        assertThat(r.code()).as(command).isEqualTo(1);
        assertThat(r.err().strip().lines()).as(command).hasSize(1);
        assertThat(r.err()).as(command).contains("port " + taken.getLocalPort() + " is in use")
            .contains("CARECONTEXT_PORT").contains("nothing was started");
      }
      assertThat(home.resolve("postgres")).doesNotExist(); // no cluster was made, none left running
    } finally {
      System.clearProperty("carecontext.port");
      System.clearProperty("carecontext.home");
      System.clearProperty("carecontext.worker.threads"); // the worker command's default, set as a property
    }
  }

  @Test
  void anUnknownCommandIsAUsageErrorWithASuggestion() {
    Run r = cli("servee");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Unmatched argument").contains("serve");
  }

  /**
   * A usage error names the options and commands it could not place, never the values typed: picocli quoted
   * them all, so an unquoted question printed the patient's name ("Unmatched arguments from index 7: 'Quentin',
   * 'Zebedee'"), a mistyped --patient printed its value, and a mistyped command printed the --key after it.
   */
  @Test
  void aUsageErrorNamesNoValueTheCallerTyped() {
    Run unquoted = cli("context", "--tenant", "acme", "--patient", "p1", "--query", "Does", "Quentin", "Zebedee",
        "--url", "http://127.0.0.1:1", "--key", "k");
    assertThat(unquoted.code()).isEqualTo(2);
    assertThat(unquoted.err()).doesNotContain("Quentin").doesNotContain("Zebedee")
        .contains("Unmatched argument(s): 2 arguments (not shown: an argument may hold a patient's name, an id or a key)")
        .contains("A value with spaces needs quotes, e.g. --query \"recent HbA1c trend\"")
        .contains("Usage: carecontext context");

    Run typo = cli("context", "--tenant", "acme", "--patient", "p1", "--query", "x", "--reasn", "Quentin Zebedee");
    assertThat(typo.code()).isEqualTo(2);
    assertThat(typo.err()).doesNotContain("Quentin")
        .contains("Unknown option: '--reasn', and 1 argument (not shown: an argument may hold a patient's name");
    Run typoWithEquals = cli("context", "--tenant", "acme", "--patient", "p1", "--query", "x", "--reasn=Quentin Zebedee");
    assertThat(typoWithEquals.err()).doesNotContain("Quentin").contains("Unknown option: '--reasn'.");
    // a required option mistyped: picocli reports the missing one, which names no value
    Run missing = cli("context", "--tenant", "acme", "--patinet", "Quentin Zebedee", "--query", "x");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).doesNotContain("Quentin").contains("Missing required option: '--patient=<patient>' (an "
        + "unknown option was given: '--patinet': mistyped?)");
    // a value that looks like an option is a value: neither named nor taken for a typo
    Run dashValue = cli("context", "--tenant", "acme", "--query", "--Quentin", "--patinet", "p1");
    assertThat(dashValue.err()).doesNotContain("Quentin").contains("unknown option was given: '--patinet'");

    Run command = cli("audit", "list", "--tenant", "acme", "--key", "cck_k1_TheSecretPart");
    assertThat(command.code()).isEqualTo(2);
    assertThat(command.err()).doesNotContain("TheSecretPart").doesNotContain("acme")
        .contains("Unmatched argument: 'list' is not a command of audit, and 4 arguments after it (not shown");

    Run value = cli("context", "--tenant", "acme", "--patient", "p1", "--query", "x", "--k", "Quentin");
    assertThat(value.code()).isEqualTo(2);
    assertThat(value.err()).doesNotContain("Quentin").contains("Invalid value for option '--k'");
  }

  /**
   * The README: every variable can also be given as a system property (through CARECONTEXT_JAVA_OPTS). The
   * client commands read the environment alone, so -Dcarecontext.port or -Dcarecontext.key went unheard and
   * they called :8080 without a key.
   */
  @Test
  void theClientsSettingsAreReadAsSystemPropertiesToo() {
    java.util.Map<String, String> props = java.util.Map.of("carecontext.port", "18411", "carecontext.key", "k-from-property",
        "carecontext.admin.key", "admin-from-property");
    props.forEach(System::setProperty);
    try {
      Connection c = new Connection();
      assertThat(c.url()).isEqualTo("http://127.0.0.1:18411");
      assertThat(c.key(false)).isEqualTo("k-from-property");
      // the tenant and key commands send the operator key, never CARECONTEXT_KEY, and their help says so: "admin
      // commands fall back to CARECONTEXT_ADMIN_KEY" read as if they tried CARECONTEXT_KEY first
      assertThat(c.key(true)).isEqualTo("admin-from-property");
      assertThat(cli("key", "list", "--help").out()).contains("never CARECONTEXT_KEY");
      System.setProperty("carecontext.url", "https://cc.example.org");
      assertThat(c.url()).isEqualTo("https://cc.example.org");
    } finally {
      props.keySet().forEach(System::clearProperty);
      System.clearProperty("carecontext.url");
    }
  }

  @Test
  void anExpiryThatIsNoInstantIsAUsageErrorNamingTheOptionBeforeAnythingIsSent() {
    // the server's 400 named its body field 'expiresAt', which this command does not have
    Run r = cli("key", "create", "--tenant", "acme", "--principal", "p", "--role", "clinician", "--expires", "2030-01-01",
        "--url", "http://127.0.0.1:1", "--key", "k");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--expires takes an ISO-8601 instant with its offset, e.g. 2030-01-01T00:00:00Z")
        .doesNotContain("cannot reach");
    // a usage error names the option, never the value typed (README): it echoed it, here a key pasted in the wrong place
    Run pasted = cli("key", "create", "--tenant", "acme", "--principal", "p", "--role", "clinician", "--expires",
        "cck_k3y1d_s3cretvalue", "--url", "http://127.0.0.1:1", "--key", "k");
    assertThat(pasted.code()).isEqualTo(2);
    assertThat(pasted.err()).contains("--expires takes an ISO-8601 instant").doesNotContain("s3cretvalue");
  }

  @Test
  void tenantDeleteSaysTheAuditTrailGoesWithIt() {
    assertThat(cli("tenant", "delete", "--help").out()).contains("audit trail").contains("audit export");
    assertThat(cli("tenant", "delete", "--help").out()).contains("--confirm");
  }

  @Test
  void aDatabaseThatRefusesTheConnectionIsOneLineSayingWhatToCheck() {
    System.setProperty("carecontext.db.url", "jdbc:postgresql://127.0.0.1:1/carecontext");
    System.setProperty("carecontext.db.user", "owner");
    System.setProperty("carecontext.db.password", "secret-password");
    try {
      Run r = cli("migrate");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err().strip().lines()).hasSize(1);
      assertThat(r.err()).startsWith("carecontext: cannot connect to PostgreSQL: the server could not be reached")
          .contains("127.0.0.1:1").contains("CARECONTEXT_DB_URL").doesNotContain("secret-password");
    } finally {
      System.clearProperty("carecontext.db.url");
      System.clearProperty("carecontext.db.user");
      System.clearProperty("carecontext.db.password");
    }
  }

  @Test
  void aRefusedLoginIsNamedAndAFailedStatementIsNotTakenForAConnectionFailure() {
    var login = new org.postgresql.util.PSQLException("FATAL: password authentication failed for user \"owner\"",
        org.postgresql.util.PSQLState.INVALID_PASSWORD);
    assertThat(Cli.connectionFailure(new IllegalStateException("pool", login)))
        .hasValueSatisfying(m -> assertThat(m).contains("the server refused the login")
            .contains("password authentication failed for user \"owner\""));
    var statement = new org.postgresql.util.PSQLException("ERROR: different vector dimensions", 
        org.postgresql.util.PSQLState.DATA_ERROR);
    assertThat(Cli.connectionFailure(new IllegalStateException("x", statement))).isEmpty();
  }

  @Test
  void plainHttpToAServerThatClosesTheConnectionSuggestsHttps() throws Exception {
    // what an HTTPS-only service (CARECONTEXT_TLS_CERT) does to a plain HTTP request; it read "failed: IOException"
    try (var server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread closer = new Thread(() -> {
        try {
          while (true) {
            server.accept().close();
          }
        } catch (java.io.IOException stopped) {
          // the socket closed: the test is over
        }
      });
      closer.setDaemon(true);
      closer.start();
      Run r = cli("tenant", "list", "--url", "http://127.0.0.1:" + server.getLocalPort(), "--key", "k");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("serves HTTPS only").contains("--url https://");
    }
  }

  @Test
  void noCommandListsTheCommandsInsteadOfStartingTheService() {
    Run r = cli();
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required subcommand").contains("serve").contains("demo");
  }

  @Test
  void aBadOptionValueSaysWhatIsAllowed() {
    // bench and eval took 0 too, and printed a table that measured nothing (eval: recall 1.000, targets met)
    for (String[] command : List.of(new String[] {"demo"}, new String[] {"bench", "ingest"},
        new String[] {"bench", "import"}, new String[] {"eval", "deid"})) {
      List<String> args = new ArrayList<>(List.of(command));
      args.addAll(List.of("--patients", "0"));
      Run r = cli(args.toArray(String[]::new));
      // a value the option cannot take is a usage error, 2 (it was 1, as for a refused configuration)
      assertThat(r.code()).as(args.toString()).isEqualTo(2);
      assertThat(r.err()).as(args.toString()).contains("--patients must be 1 to 100000");
      assertThat(r.out()).as(args.toString()).doesNotContain("recall");
    }
    // bench retrieval checked its values only once the service had started, and exited 1
    Run retrieval = cli("bench", "retrieval", "--patients", "0");
    assertThat(retrieval.code()).isEqualTo(2);
    assertThat(retrieval.err()).contains("must be positive").doesNotContain("running");
  }

  @Test
  void dbStopWithNoClusterRunningSaysSoAndSucceeds(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home) {
    // it said "embedded PostgreSQL stopped" when nothing had run
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("CARECONTEXT_HOME") == null);
    System.setProperty("carecontext.home", home.toString());
    try {
      Run r = cli("db", "stop");
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).contains("no embedded PostgreSQL was running under " + home.resolve("postgres"))
          .contains("nothing to stop").doesNotContain("stopped");
    } finally {
      System.clearProperty("carecontext.home");
    }
  }

  @Test
  void theServersMessageIsShownWholeQuotesIncludedAndAFhirOutcomeByItsDiagnostics() {
    // "HTTP 403: the platform operator key creates only a tenant's tenant-admin key (roles [\" and no more:
    // the message was cut at its first escaped quote, before the part that says what to do
    String body = "{\"error\":\"forbidden\",\"message\":\"the platform operator key creates only a tenant's "
        + "tenant-admin key (roles [\\\"tenant-admin\\\"]); create every other key with that tenant-admin key\"}";
    assertThat(ApiClient.failure(403, body).getMessage()).isEqualTo("HTTP 403: the platform operator key creates only a "
        + "tenant's tenant-admin key (roles [\"tenant-admin\"]); create every other key with that tenant-admin key");
    // the FHIR endpoints answer an OperationOutcome: its diagnostics, not 300 characters of its JSON
    String outcome = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"forbidden\","
        + "\"diagnostics\":\"this key may not write resources\"}]}";
    assertThat(ApiClient.failure(403, outcome).getMessage()).isEqualTo("HTTP 403: this key may not write resources");
    assertThat(ApiClient.failure(502, "<html>Bad gateway</html>").getMessage()).isEqualTo("HTTP 502: <html>Bad gateway</html>");
  }

  @Test
  void anExportToAFolderThatDoesNotExistIsOneLineAndAsksTheServiceForNothing(@org.junit.jupiter.api.io.TempDir
                                                                              java.nio.file.Path dir) throws Exception {
    // it was a stack trace (NoSuchFileException), after the whole trail had been read from the service
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    List<String> paths = new java.util.concurrent.CopyOnWriteArrayList<>();
    server.createContext("/", exchange -> {
      paths.add(exchange.getRequestURI().getRawPath());
      byte[] body = "{\"resourceType\":\"AuditEvent\"}\n".getBytes();
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      java.nio.file.Path out = dir.resolve("no-such-folder").resolve("trail.ndjson");
      Run r = cli("audit", "export", "--tenant", "acme", "--out", out.toString(), "--url", url, "--key", "k");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("cannot write " + out).contains("no such folder").contains("nothing was exported")
          .doesNotContain("Exception").doesNotContain("\tat ");
      assertThat(paths).isEmpty();
      Run ok = cli("audit", "export", "--tenant", "acme", "--out", dir.resolve("trail.ndjson").toString(), "--url", url,
          "--key", "k");
      assertThat(ok.code()).as(ok.err()).isZero();
      assertThat(dir.resolve("trail.ndjson")).hasContent("{\"resourceType\":\"AuditEvent\"}");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void idsFromTheCommandLineStayOneSegmentOfThePathAndOutOfTheErrors() throws Exception {
    // A patient id with a space failed with "Illegal character in path …/patients/<the id>/context",
    // printing the id (PHI) and exiting 2 as if the command were misused; an id with a slash reached
    // another endpoint ("tenant get acme/keys" listed the tenant's keys).
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    List<String> paths = new java.util.concurrent.CopyOnWriteArrayList<>();
    server.createContext("/", exchange -> {
      paths.add(exchange.getRequestURI().getRawPath());
      byte[] body = "{\"error\":\"not_found\",\"message\":\"no such patient\"}".getBytes();
      exchange.sendResponseHeaders(404, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Run r = cli("context", "--url", url, "--key", "k", "--tenant", "acme", "--patient", "Quentin Zebedee",
          "--query", "x");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("HTTP 404").doesNotContain("Quentin");
      assertThat(cli("tenant", "get", "acme/keys", "--url", url, "--key", "k").code()).isEqualTo(1);
      assertThat(cli("key", "revoke", "--tenant", "acme", "../x?y", "--url", url, "--key", "k").code()).isEqualTo(1);
      assertThat(paths).containsExactly("/v1/acme/patients/Quentin%20Zebedee/context", "/admin/tenants/acme%2Fkeys",
          "/admin/tenants/acme/keys/..%2Fx%3Fy");
    } finally {
      server.stop(0);
    }
  }

  private static void collect(CommandLine cmd, String prefix, List<String> out) {
    cmd.getSubcommands().forEach((name, sub) -> {
      if (name.equals("help")) {
        return;
      }
      String path = (prefix + " " + name).trim();
      if (sub.getSubcommands().isEmpty()) {
        out.add(path);
      } else {
        out.add(path);
        collect(sub, path, out);
      }
    });
  }

  @Test
  void anIngestPathThatIsNeitherFileNorFolderSaysWhatToCheckAndWhichFilesItTakes(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    // it said only "is neither a file nor a folder"
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> IngestCommand.files(dir.resolve("nope")))
        .isInstanceOf(CliException.class).hasMessageContaining("neither a file nor a folder")
        .hasMessageContaining("check the path").hasMessageContaining("*.json").hasMessageContaining("*.ndjson");
  }

  @Test
  void tenantDeleteWithoutTheIdAgainDeletesNothingAndSaysWhatToType() {
    // nothing is sent: the service URL names no server
    Run none = cli("tenant", "delete", "acme", "--url", "http://127.0.0.1:1", "--key", "k");
    assertThat(none.code()).isEqualTo(2);
    // named as the README and every other hint name the command (it said 'carecontext tenant delete …')
    assertThat(none.err()).contains("run ./carecontext tenant delete acme --confirm acme").doesNotContain("connect");
    // the audit trail goes with the tenant: the refusal names the export that keeps it (it named only --confirm)
    assertThat(none.err()).contains("./carecontext audit export --tenant acme --out acme-audit.ndjson");
    Run wrong = cli("tenant", "delete", "acme", "--confirm", "acne", "--url", "http://127.0.0.1:1", "--key", "k");
    assertThat(wrong.code()).isEqualTo(2);
    assertThat(wrong.err()).contains("does not match").contains("nothing was deleted");
    // confirmed, it goes on to the service (here: none answers)
    Run confirmed = cli("tenant", "delete", "acme", "--confirm", "acme", "--url", "http://127.0.0.1:1", "--key", "k");
    assertThat(confirmed.code()).isNotZero();
    assertThat(confirmed.err()).doesNotContain("--confirm").doesNotContain("does not match");
  }

  @Test
  void atATerminalTheTenantIdTypedWhenAskedConfirmsTheDeletion() {
    List<String> asked = new ArrayList<>();
    TenantCommand.requireConfirmation("acme", null, prompt -> {
      asked.add(prompt);
      return "acme\n";
    });
    assertThat(asked).singleElement().asString().contains("tenant acme").contains("Type the tenant id")
        .contains("audit export --tenant acme");
    // another answer, or none (end of input), deletes nothing
    for (String typed : new String[] {"acne", "", null}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> TenantCommand.requireConfirmation("acme", null,
          prompt -> typed)).as(String.valueOf(typed)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  /** The advice after a broken upload names the batch the importer really commits, not a copy of it. */
  @Test
  void theResendAdviceNamesTheImportersBatch() {
    assertThat(ApiClient.RESEND).startsWith("an NDJSON file is committed "
        + io.carecontext.ingest.FhirStore.NDJSON_LINES_PER_COMMIT + " lines at a time");
    assertThat(io.carecontext.ingest.FhirStore.NDJSON_LINES_PER_COMMIT).isPositive();
  }
}
