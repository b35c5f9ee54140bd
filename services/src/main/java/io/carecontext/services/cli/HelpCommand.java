package io.carecontext.services.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ./carecontext help [COMMAND [SUBCOMMAND]]}: the help of a command or of a command within one.
 * Picocli's own help command took the first name only, so {@code help kek rotate} showed kek's help.
 */
@Command(name = "help", helpCommand = true,
    description = "Shows the help of a command, or of a command within one (help kek rotate).")
final class HelpCommand implements CommandLine.IHelpCommandInitializable2, Runnable {

  @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command, then the command within it.")
  private List<String> names = new ArrayList<>();

  private CommandLine self;
  private CommandLine.Help.ColorScheme colors;
  private PrintWriter out;
  private PrintWriter err;

  @Override
  public void init(CommandLine helpCommandLine, CommandLine.Help.ColorScheme colorScheme, PrintWriter outWriter,
                   PrintWriter errWriter) {
    this.self = helpCommandLine;
    this.colors = colorScheme;
    this.out = outWriter;
    this.err = errWriter;
  }

  @Override
  public void run() {
    CommandLine target = self.getParent();
    for (String name : names) {
      CommandLine sub = target.getSubcommands().get(name);
      if (sub == null) {
        throw new CommandLine.ParameterException(self, "unknown command '" + name + "' in '"
            + target.getCommandName() + "': its commands are " + String.join(", ", target.getSubcommands().keySet()));
      }
      target = sub;
    }
    target.usage(out, colors);
  }
}
