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
        RuntimeCommands.Migrate.class, RuntimeCommands.Db.class, TenantCommand.class, KeyCommand.class,
        ContextCommand.class, AuditCommand.class, IngestCommand.class, RuntimeCommands.Bench.class,
        RuntimeCommands.Eval.class, CommandLine.HelpCommand.class})
public final class Cli {

  /** Runs a command; returns the exit code (0 ok, 1 failure, 2 usage). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Cli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CliException || e instanceof io.carecontext.migrations.DatabaseException) {
        err.println("carecontext: " + e.getMessage());
        err.flush();
        return 1;
      }
      if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
        err.println("carecontext: " + e.getMessage());
        err.flush();
        return 2;
      }
      throw e;
    });
    return cli.execute(args);
  }
}
