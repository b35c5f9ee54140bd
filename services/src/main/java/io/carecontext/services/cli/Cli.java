package io.carecontext.services.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./carecontext}. Client commands (tenant, key, context, audit, ingest) talk to a running
 * service over HTTP, so they work the same against the embedded default and a remote deployment;
 * runtime commands (serve, worker, migrate, demo, db, bench, eval) run in this process.
 */
@Command(name = "carecontext", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
    version = "CareContext 0.1",
    description = "The CareContext service and its command line. Configuration comes from CARECONTEXT_* "
        + "environment variables (see README.md).",
    subcommands = {RuntimeCommands.DemoCommand.class, RuntimeCommands.Serve.class, RuntimeCommands.Worker.class,
        RuntimeCommands.Migrate.class, RuntimeCommands.Db.class, RuntimeCommands.Kek.class, TenantCommand.class, KeyCommand.class,
        ContextCommand.class, AuditCommand.class, IngestCommand.class, RuntimeCommands.Bench.class,
        RuntimeCommands.Eval.class, HelpCommand.class})
public final class Cli {

  /**
   * Runs a command; returns the exit code: 0 ok, 1 failure (a runtime command's configuration refused
   * included), 2 usage (an unknown command or option, an option value that cannot be used).
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Cli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      // a key-encryption key file that cannot be used (mode, format) says so and how to fix it, without key bytes
      if (e instanceof CliException || e instanceof io.carecontext.migrations.DatabaseException
          || e instanceof io.carecontext.migrations.crypto.KeyProviderException) {
        err.println("carecontext: " + e.getMessage());
        err.flush();
        return 1;
      }
      if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
        err.println("carecontext: " + e.getMessage());
        err.flush();
        // A runtime command's is its configuration refused (a port in use, a key-encryption key file
        // missing, a TLS file that is not PEM): a failure, 1, as the README says; a missing key file
        // exited 2 while one with the wrong mode exited 1. A client command's is an option value
        // it cannot use (--url, --expires): a usage error, 2.
        return runtimeCommand(commandLine.getCommand()) ? 1 : 2;
      }
      java.util.Optional<String> db = connectionFailure(e);
      if (db.isPresent()) {
        err.println("carecontext: " + db.get());
        err.flush();
        return 1;
      }
      throw e;
    });
    return cli.execute(args);
  }

  /** Whether {@code command} runs in this process (serve, worker, migrate, demo, kek, db, bench, eval). */
  static boolean runtimeCommand(Object command) {
    for (Class<?> c = command == null ? null : command.getClass(); c != null; c = c.getEnclosingClass()) {
      if (c == RuntimeCommands.class) {
        return true;
      }
    }
    return false;
  }

  /**
   * A start that could not open its first database connection (server unreachable, login refused,
   * no such database): one line with the server's reason and what to check, instead of a stack
   * trace of 30 to 50 lines whose first one alone said it (serve, worker, migrate in a Helm Job's
   * log). These SQLSTATEs are raised before any statement runs, so the message holds no row values.
   */
  static java.util.Optional<String> connectionFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
          && sql.getSQLState().matches("08.*|28.*|3D000")) {
        String what = sql.getSQLState().startsWith("28") ? "the server refused the login"
            : sql.getSQLState().equals("3D000") ? "the database does not exist" : "the server could not be reached";
        return java.util.Optional.of("cannot connect to PostgreSQL: " + what + " (" + sql.getMessage().strip()
            + "). Check CARECONTEXT_DB_URL, CARECONTEXT_DB_USER and CARECONTEXT_DB_PASSWORD (the owner role; "
            + "CARECONTEXT_DB_APP_USER and CARECONTEXT_DB_APP_PASSWORD for the application role), and that the "
            + "server accepts connections from this host (README: An external PostgreSQL)");
      }
    }
    return java.util.Optional.empty();
  }
}
