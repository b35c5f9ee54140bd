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
        RuntimeCommands.Migrate.class, RuntimeCommands.Db.class, BackupCommand.class, RestoreCommand.class,
        RuntimeCommands.Kek.class, TenantCommand.class, KeyCommand.class,
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
    cli.setParameterExceptionHandler(Cli::usageError);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      // a key-encryption key file that cannot be used (mode, format) says so and how to fix it, without key bytes
      if (e instanceof CliException || e instanceof io.carecontext.migrations.DatabaseException
          || e instanceof io.carecontext.migrations.crypto.KeyProviderException
          || e instanceof io.carecontext.migrations.TenantKeys.DataKeyUnavailableException
          || e instanceof io.carecontext.migrations.TenantKeys.KekNotHeldException) {
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

  /**
   * A usage error, as picocli reports it (the message, then the suggestions or the command's usage; exit 2),
   * but without the values the command line held. Picocli quoted every argument it could not place: an
   * unquoted question ({@code --query Does Quentin Zebedee …}: "Unmatched arguments from index 7: 'Quentin',
   * 'Zebedee'"), a mistyped option's value ("Unknown options: '--patinet', 'Quentin Zebedee'"), the
   * {@code --key} secret after a mistyped command; and what a terminal prints is often kept (a script's log,
   * CI). Option names and the name of a command that does not exist are still shown.
   */
  static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(cmd.getColorScheme().errorText(withoutValues(e, args)));
    if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
      cmd.usage(err, cmd.getColorScheme());
    }
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** The usage error's message, naming options and commands but no value the caller typed. */
  static String withoutValues(CommandLine.ParameterException e, String[] args) {
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      java.util.List<String> unmatched = u.getUnmatched();
      String first = unmatched.get(0);
      if (!option(first) && !u.getCommandLine().getSubcommands().isEmpty()) {
        // a command name that does not exist: naming it is the point, and a command name is no value
        return "Unmatched argument: '" + first + "' is not a command of " + u.getCommandLine().getCommandName()
            + notShown(unmatched.size() - 1, " after it");
      }
      java.util.List<String> options = new java.util.ArrayList<>();
      for (String a : unmatched) {
        if (option(a)) {
          options.add(optionName(a));
        }
      }
      String values = notShown(unmatched.size() - options.size(), "");
      return (options.isEmpty() ? "Unmatched argument(s)" + values.replaceFirst("^, and", ":")
          : (options.size() == 1 ? "Unknown option: '" : "Unknown options: '") + String.join("', '", options) + "'"
              + values)
          + ". A value with spaces needs quotes, e.g. --query \"recent HbA1c trend\"";
    }
    String message = String.valueOf(e.getMessage());
    if (e instanceof CommandLine.MissingParameterException) {
      // picocli reports the missing option first: "--patinet X" said "Missing required option: '--patient'",
      // and not the typo that caused it
      java.util.List<String> unknown = unknownOptions(e.getCommandLine(), args);
      if (!unknown.isEmpty()) {
        message += " (" + (unknown.size() == 1 ? "an unknown option was given: '" : "unknown options were given: '")
            + String.join("', '", unknown) + "': mistyped?)";
      }
    }
    String value = e.getValue();
    if (value != null && !value.isEmpty()) {
      message = message.replace("'" + value + "'", "the value given");
      if (value.length() > 2) {
        message = message.replace(value, "the value given");
      }
    }
    return message;
  }

  /**
   * The options in {@code args} that {@code cmd} does not take, by name: a word that follows one of its options
   * that takes a value is that value, and is neither checked nor shown; so is everything after {@code --}.
   */
  static java.util.List<String> unknownOptions(CommandLine cmd, String[] args) {
    java.util.Map<String, CommandLine.Model.OptionSpec> known = cmd.getCommandSpec().optionsMap();
    java.util.List<String> unknown = new java.util.ArrayList<>();
    boolean valueNext = false;
    for (String a : args == null ? new String[0] : args) {
      if (valueNext) {
        valueNext = false;
        continue;
      }
      if (a.equals("--")) {
        break;
      }
      if (!option(a)) {
        continue;
      }
      String name = optionName(a);
      CommandLine.Model.OptionSpec spec = known.get(name);
      if (spec == null) {
        unknown.add(name);
      } else {
        valueNext = !a.contains("=") && spec.arity().max() > 0;
      }
    }
    return unknown;
  }

  /** An option's name as typed, without the value of {@code --name=value}. */
  private static String optionName(String arg) {
    return arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
  }

  /** An option as typed ({@code --name}, {@code -h}, {@code --name=value}), not a negative number. */
  private static boolean option(String arg) {
    return arg.length() > 1 && arg.startsWith("-") && !Character.isDigit(arg.charAt(1));
  }

  private static String notShown(int values, String where) {
    return values == 0 ? "" : ", and " + values + (values == 1 ? " argument" : " arguments") + where
        + " (not shown: an argument may hold a patient's name, an id or a key)";
  }

  /**
   * Whether {@code command} runs in this process (serve, worker, migrate, demo, kek, db, bench, eval, and
   * tenant rotate-data-key, whose refused configuration or failure exited 2, the usage code, as a client command's).
   */
  static boolean runtimeCommand(Object command) {
    if (command instanceof RotateDataKeyCommand) {
      return true;
    }
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
