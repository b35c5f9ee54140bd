package io.carecontext.services;

import io.carecontext.services.cli.Cli;
import java.io.PrintWriter;

/**
 * The {@code ./carecontext} command line. Without a command it lists the commands (exit 2): a
 * newcomer who types {@code ./carecontext} should not start a service by accident. The image and
 * the chart pass {@code serve} explicitly.
 */
public final class Application {

  private Application() {}

  public static void main(String[] args) {
    System.exit(Cli.run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }
}
