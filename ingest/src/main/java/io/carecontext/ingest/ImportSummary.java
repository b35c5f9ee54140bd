package io.carecontext.ingest;

import java.util.List;

/**
 * The outcome of an NDJSON import: counts, and the line numbers (never the content) that failed
 * with the reason for each.
 */
public record ImportSummary(long lines, long written, long unchanged, List<LineError> errors, long millis) {

  public record LineError(long line, String message) {}

  public ImportSummary {
    errors = List.copyOf(errors);
  }
}
