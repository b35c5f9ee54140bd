package io.carecontext.ingest;

import java.util.List;

/**
 * The outcome of an NDJSON import: counts, and the line numbers (never the content) that failed
 * with the reason for each; {@code errors} lists the first {@link NdjsonImporter#MAX_REPORTED_ERRORS}
 * of the {@code failed} lines. Under lenient handling, {@code skippedLines} counts the lines stored (written
 * or unchanged) although the parser skipped elements FHIR R4 does not define in them, and {@code skipped}
 * lists the first {@link NdjsonImporter#MAX_REPORTED_SKIPPED} of them with the paths of the elements that
 * held what was skipped: where, never the skipped element's name or value (a sender's key can be anything).
 */
public record ImportSummary(long lines, long written, long unchanged, long failed, List<LineError> errors,
                            long millis, long keyRefusedLines, List<SkippedLine> skipped, long skippedLines) {

  /**
   * A line that failed: {@code message} said of the line itself ({@code aboutTheLine}: "is not a JSON object", read
   * after the line's number) or of what it holds.
   */
  public record LineError(long line, String message, boolean aboutTheLine) {
    /** As the caller reads it: {@code line 4 is not a JSON object: …}, or {@code line 4: <message>}. */
    public String diagnostics() {
      return "line " + line + (aboutTheLine ? " " : ": ") + message;
    }
  }

  /** A stored line and the FHIRPaths (from the line's resource, {@code Patient.name[0]}) where elements were skipped. */
  public record SkippedLine(long line, List<String> paths) {
    public SkippedLine {
      paths = List.copyOf(paths);
    }
  }

  public ImportSummary {
    errors = List.copyOf(errors);
    skipped = List.copyOf(skipped);
  }

  /** An import that skipped nothing. */
  public ImportSummary(long lines, long written, long unchanged, long failed, List<LineError> errors, long millis,
                       long keyRefusedLines) {
    this(lines, written, unchanged, failed, errors, millis, keyRefusedLines, List.of(), 0);
  }

  /** An import the database admitted the key for throughout. */
  public ImportSummary(long lines, long written, long unchanged, long failed, List<LineError> errors, long millis) {
    this(lines, written, unchanged, failed, errors, millis, 0);
  }

  /**
   * {@code keyRefusedLines}: of the {@code failed} lines, those valid lines the database refused for the
   * key (revoked or expired while the import ran, after earlier batches were stored); the others were
   * refused for what they held, or could not be read or stored.
   */
  public long invalidLines() {
    return failed - keyRefusedLines;
  }

  /** Lines failed and none stored (written or unchanged): the import as a whole was refused. */
  public boolean nothingStored() {
    return failed > 0 && written == 0 && unchanged == 0;
  }

  /**
   * No line held anything: the body was empty or blank lines only. Not a load that stored nothing of
   * what it was sent, but a body without resources, refused as an empty body is.
   */
  public boolean noResources() {
    return written == 0 && unchanged == 0 && failed == 0;
  }
}
