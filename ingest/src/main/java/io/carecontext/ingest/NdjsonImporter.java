package io.carecontext.ingest;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.migrations.TenantId;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bulk load from {@code application/fhir+ndjson}: one resource a line, read as a stream and
 * committed in batches, so memory stays flat whatever the size. A bad line is reported by number
 * and reason and does not cost the good ones.
 */
final class NdjsonImporter {

  private static final Logger LOG = LoggerFactory.getLogger(NdjsonImporter.class);

  static final int BATCH = 200;
  static final int MAX_REPORTED_ERRORS = 1000;
  /** The most stored lines with skipped elements the summary lists (all are counted). */
  static final int MAX_REPORTED_SKIPPED = 100;

  private final FhirStore store;
  private final TenantId tenant;
  private final FhirWriter writer;
  private final ImportProgress progress;
  private final java.nio.charset.Charset charset;
  /** Prefer: handling=strict refuses a line holding an element R4 does not define, as any bad line. */
  private final io.carecontext.fhir.Handling handling;

  NdjsonImporter(FhirStore store, TenantId tenant, FhirWriter writer, java.nio.charset.Charset charset,
                 ImportProgress progress, io.carecontext.fhir.Handling handling) {
    this.store = store;
    this.handling = handling;
    this.charset = charset;
    this.tenant = tenant;
    this.writer = writer;
    this.progress = progress;
  }

  ImportSummary run(InputStream in) {
    long start = System.nanoTime();
    CharsetDecoder decoder = charset.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    List<ImportSummary.LineError> errors = new ArrayList<>();
    long lines = 0;
    long written = 0;
    long unchanged = 0;
    long failed = 0;
    long keyRefused = 0;
    long batchStart = 0; // the line of the batch's first resource
    List<Resource> batch = new ArrayList<>(BATCH);
    // the lines of the batch in which lenient handling skipped elements: reported once the batch is stored
    List<ImportSummary.SkippedLine> batchSkipped = new ArrayList<>();
    List<ImportSummary.SkippedLine> skipped = new ArrayList<>();
    long skippedLines = 0;
    // Lines are split as bytes and decoded one at a time: decoded as a stream, one byte that is not
    // UTF-8 failed the read-ahead buffer, and the good lines before it (up to 64 KB of them) were
    // reported as the bad line 1 and never stored.
    try (InputStream body = in) {
      Lines reader = new Lines(body);
      String line;
      while (true) {
        byte[] raw;
        try {
          raw = reader.next();
        } catch (IOException e) {
          // The body went over the server's size limit, its compressed stream ended early or broke, or
          // its sender went away, part-way: the batches before are committed, so the caller must
          // learn where it stopped (it answered 500).
          lines++;
          failed++;
          record(errors, lines, "the body could not be read from this line on (over the server's size "
              + "limit, its gzip or deflate stream cut short or corrupt, or the connection broke); import stopped: "
              + "the lines before it are written, re-send the rest");
          break;
        }
        if (raw == null) {
          break;
        }
        lines++;
        try {
          line = decoder.decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
          failed++;
          recordOfLine(errors, lines, "is not valid " + DeclaredCharset.named(charset) + ": send the file encoded as UTF-8");
          continue;
        }
        if (line.isBlank()) {
          continue;
        }
        String opening = (line.startsWith("\uFEFF") ? line.substring(1) : line).stripLeading();
        if (!opening.startsWith("{") && !opening.startsWith("<")) {
          // the parse's own words, "the body is not a JSON object", named the whole file for one line
          failed++;
          recordOfLine(errors, lines, "is not a JSON object: NDJSON holds one FHIR resource as JSON on each line");
          continue;
        }
        try {
          Resource r = Fhir.parseResource(line, handling);
          if (!r.getIdElement().hasIdPart()) {
            r.setId(UUID.randomUUID().toString());
          }
          FhirStore.requireValidId(r);
          FhirStore.requireValid(r);
          BundleProcessor.refuseUnresolved(r);
          if (batch.isEmpty()) {
            batchStart = lines;
          }
          batch.add(r);
          List<String> paths = Fhir.skipped(r);
          if (!paths.isEmpty()) {
            batchSkipped.add(new ImportSummary.SkippedLine(lines, paths));
          }
        } catch (FhirInputException e) {
          failed++;
          record(errors, lines, e.getMessage());
        }
        if (batch.size() >= BATCH) {
          long[] counts;
          try {
            counts = flush(batch, written + unchanged);
          } catch (StoppedBatch stop) {
            failed += stop.lines;
            keyRefused += stop.keyRefused ? stop.lines : 0;
            record(errors, batchStart, stop.message(batchStart, lines));
            batch.clear();
            batchSkipped.clear(); // not stored: its lines are failed ones
            break;
          }
          written += counts[0];
          unchanged += counts[1];
          skippedLines += stored(batchSkipped, skipped);
          progress.update(lines, written, failed);
        }
      }
      try {
        long[] counts = flush(batch, written + unchanged);
        written += counts[0];
        unchanged += counts[1];
        skippedLines += stored(batchSkipped, skipped);
      } catch (StoppedBatch stop) {
        failed += stop.lines;
        keyRefused += stop.keyRefused ? stop.lines : 0;
        record(errors, batchStart, stop.message(batchStart, lines));
      }
      progress.update(lines, written, failed);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the NDJSON stream failed", e);
    }
    // the line a batch stopped at is recorded after the lines refused within it
    errors.sort(java.util.Comparator.comparingLong(ImportSummary.LineError::line));
    return new ImportSummary(lines, written, unchanged, failed, errors, (System.nanoTime() - start) / 1_000_000,
        keyRefused, skipped, skippedLines);
  }

  /**
   * The skipped lines of a batch just stored, moved to the summary's list while it has room; how many
   * there were. A batch that was not stored reports its lines as failed instead, and none as skipped.
   */
  private static int stored(List<ImportSummary.SkippedLine> batchSkipped, List<ImportSummary.SkippedLine> skipped) {
    int n = batchSkipped.size();
    for (ImportSummary.SkippedLine l : batchSkipped) {
      if (skipped.size() >= MAX_REPORTED_SKIPPED) {
        break;
      }
      skipped.add(l);
    }
    batchSkipped.clear();
    return n;
  }

  /**
   * A batch the database refused for the key, or that could not be stored or audited, after earlier
   * batches were stored: the import stops there. It failed the whole request, whose answer (403, or 503
   * "nothing was stored") hid the batches committed before, so a feed sent the file again and its lines
   * without an id were stored twice.
   */
  private static final class StoppedBatch extends RuntimeException {
    final int lines;
    final boolean keyRefused;

    StoppedBatch(int lines, boolean keyRefused) {
      super(null, null, false, false);
      this.lines = lines;
      this.keyRefused = keyRefused;
    }

    String message(long first, long last) {
      return "this line and the valid lines after it up to line " + last + " were not stored: " + (keyRefused
          ? "the database refused the key (revoked or expired while the import ran)"
          : "they could not be stored or recorded in the audit trail (a failure of the server)")
          + "; import stopped: the lines before this one are written, re-send the file from this line"
          + (keyRefused ? " with a live key" : " later");
    }
  }

  /** {@code storedBefore}: resources earlier batches stored; while there are none a failure fails the import whole. */
  private long[] flush(List<Resource> batch, long storedBefore) {
    if (batch.isEmpty()) {
      return new long[] {0, 0};
    }
    long written = 0;
    long unchanged = 0;
    List<WriteOutcome> outcomes;
    try {
      outcomes = store.putAll(tenant, writer, batch);
    } catch (FhirInputException e) {
      throw e;
    } catch (RuntimeException e) {
      if (storedBefore == 0) {
        throw e; // nothing stored: the request's own failure (403, 503) says so truly
      }
      boolean key = e instanceof KeyNotAdmittedException;
      if (!key) {
        LOG.warn("tenant {}: an $import batch failed after earlier batches were stored ({}, SQLSTATE {}); the import "
            + "stops there", tenant, e.getClass().getSimpleName(), BundleProcessor.sqlState(e));
      }
      throw new StoppedBatch(batch.size(), key);
    }
    for (WriteOutcome o : outcomes) {
      if (o.status() == WriteOutcome.Status.UNCHANGED) {
        unchanged++;
      } else {
        written++;
      }
    }
    batch.clear();
    return new long[] {written, unchanged};
  }

  private static void record(List<ImportSummary.LineError> errors, long line, String message) {
    add(errors, new ImportSummary.LineError(line, message, false));
  }

  /** A fault of the line itself, said of it: {@code is not a JSON object …} ({@link ImportSummary.LineError}). */
  private static void recordOfLine(List<ImportSummary.LineError> errors, long line, String predicate) {
    add(errors, new ImportSummary.LineError(line, predicate, true));
  }

  private static void add(List<ImportSummary.LineError> errors, ImportSummary.LineError e) {
    if (errors.size() < MAX_REPORTED_ERRORS) {
      errors.add(e);
    }
  }

  /** The lines of a stream as bytes, without their line feed (and a carriage return before it). */
  private static final class Lines {
    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private int position;
    private int limit;

    Lines(InputStream in) {
      this.in = in;
    }

    /** The next line, or null at the end of the stream. */
    byte[] next() throws IOException {
      java.io.ByteArrayOutputStream line = null;
      while (true) {
        if (position == limit) {
          limit = in.read(buffer);
          position = 0;
          if (limit <= 0) {
            limit = 0;
            return line == null ? null : trimmed(line.toByteArray());
          }
        }
        int start = position;
        while (position < limit && buffer[position] != '\n') {
          position++;
        }
        if (line == null) {
          line = new java.io.ByteArrayOutputStream(Math.max(16, position - start));
        }
        line.write(buffer, start, position - start);
        if (position < limit) { // the line feed
          position++;
          return trimmed(line.toByteArray());
        }
      }
    }

    private static byte[] trimmed(byte[] line) {
      return line.length > 0 && line[line.length - 1] == '\r' ? java.util.Arrays.copyOf(line, line.length - 1) : line;
    }
  }
}
