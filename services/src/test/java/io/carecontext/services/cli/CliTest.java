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
  void anUnknownCommandIsAUsageErrorWithASuggestion() {
    Run r = cli("servee");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Unmatched argument").contains("serve");
  }

  @Test
  void noCommandListsTheCommandsInsteadOfStartingTheService() {
    Run r = cli();
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required subcommand").contains("serve").contains("demo");
  }

  @Test
  void aBadOptionValueSaysWhatIsAllowed() {
    Run r = cli("demo", "--patients", "0");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--patients must be 1 to 100000");
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
}
