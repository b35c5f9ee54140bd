package io.carecontext.retrieval;

import io.carecontext.fhir.ClinicalDate;
import java.time.LocalDate;
import java.util.List;

/**
 * One retrieved chunk: decrypted text (PHI), its resource, score and metadata. The date is at the
 * precision its resource wrote it with ({@link ClinicalDate#asWritten()}: 2019, 2019-03 or 2019-03-04).
 * {@code embedding} is the chunk's stored vector (null when not read), with which chat measures the
 * chunk against each topic of a question that asks about several; it never leaves the platform.
 */
public record ContextChunk(long chunkId, String text, String resource, double score, String category,
                           List<String> securityLabels, ClinicalDate effectiveDate, float[] embedding) {

  public ContextChunk(long chunkId, String text, String resource, double score, String category,
                      List<String> securityLabels, ClinicalDate effectiveDate) {
    this(chunkId, text, resource, score, category, securityLabels, effectiveDate, null);
  }

  /** A chunk dated to the day (or not dated). */
  public ContextChunk(long chunkId, String text, String resource, double score, String category,
                      List<String> securityLabels, LocalDate effectiveDay) {
    this(chunkId, text, resource, score, category, securityLabels, ClinicalDate.ofDay(effectiveDay), null);
  }

  @Override
  public String toString() {
    // The type only: a resource id may be an MRN.
    return "ContextChunk[" + resource.substring(0, Math.max(0, resource.indexOf('/'))) + ", score=" + score + "]";
  }
}
