package io.carecontext.ingest;

/** Progress of a long ingest operation, reported after each committed batch. */
@FunctionalInterface
public interface ImportProgress {
  void update(long linesRead, long resourcesWritten, long failedLines);

  ImportProgress NONE = (l, w, f) -> { };
}
