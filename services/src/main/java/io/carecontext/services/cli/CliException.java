package io.carecontext.services.cli;

/** A failure the command line reports as one line on stderr, with exit code 1. */
final class CliException extends RuntimeException {
  CliException(String message) {
    super(message, null, false, false);
  }
}
