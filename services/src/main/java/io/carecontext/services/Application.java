package io.carecontext.services;

import io.carecontext.services.cli.Cli;
import java.io.PrintWriter;

/** The {@code ./carecontext} command line; without arguments it serves. */
public final class Application {

  private Application() {}

  public static void main(String[] args) {
    String[] command = args.length == 0 ? new String[] {"serve"} : args;
    System.exit(Cli.run(command, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }
}
