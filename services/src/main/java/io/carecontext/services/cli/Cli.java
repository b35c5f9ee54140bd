package io.carecontext.services.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The client half of {@code ./carecontext}: commands that talk to a running service over HTTP,
 * so they work the same against the embedded default and a remote deployment.
 */
@Command(name = "carecontext", mixinStandardHelpOptions = true, version = "CareContext 0.1",
    subcommands = {TenantCommand.class, KeyCommand.class, ContextCommand.class, AuditCommand.class,
        IngestCommand.class})
public final class Cli {

  public static boolean handles(String command) {
    return switch (command) {
      case "tenant", "key", "context", "audit", "ingest" -> true;
      default -> false;
    };
  }

  /** Runs a client command; returns the exit code (0 ok, 1 failure, 2 usage). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Cli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CliException) {
        err.println("carecontext: " + e.getMessage());
        err.flush();
        return 1;
      }
      throw e;
    });
    return cli.execute(args);
  }
}
