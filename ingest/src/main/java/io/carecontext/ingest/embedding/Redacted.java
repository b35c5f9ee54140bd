package io.carecontext.ingest.embedding;

import dev.langchain4j.exception.HttpException;

/**
 * Copies of third-party exceptions without their messages. Model clients put request and response
 * bodies (our texts) in exception messages; keeping the type and stack trace preserves what an
 * engineer needs to debug, and nothing a log reader should not see.
 */
final class Redacted {

  private static final int MAX_DEPTH = 8;

  private Redacted() {
  }

  /** Our own exceptions are already PHI-free and are kept; anything else is copied without text. */
  static Throwable cause(Throwable original) {
    if (original instanceof EmbeddingException) {
      return original;
    }
    return copy(original, 0);
  }

  /** A short PHI-free description: the exception type, plus the HTTP status when there is one. */
  static String describe(Throwable t) {
    // LangChain4j wraps the HttpException (which holds the status) in a typed exception.
    Throwable c = t;
    for (int depth = 0; c != null && depth < MAX_DEPTH; c = c.getCause(), depth++) {
      if (c instanceof HttpException http) {
        return t.getClass().getSimpleName() + " (HTTP " + http.statusCode() + ")";
      }
    }
    return t.getClass().getSimpleName();
  }

  private static Throwable copy(Throwable original, int depth) {
    if (original == null || depth == MAX_DEPTH) {
      return null;
    }
    RedactedException copy = new RedactedException(
        original.getClass().getName() + ": message withheld", copy(original.getCause(), depth + 1));
    copy.setStackTrace(original.getStackTrace());
    return copy;
  }

  static final class RedactedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    RedactedException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
