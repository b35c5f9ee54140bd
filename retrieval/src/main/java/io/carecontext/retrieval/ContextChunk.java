package io.carecontext.retrieval;

import java.time.LocalDate;
import java.util.List;

/** One retrieved chunk: decrypted text (PHI), its resource, score and metadata. */
public record ContextChunk(long chunkId, String text, String resource, double score, String category,
                           List<String> securityLabels, LocalDate effectiveDate) {
  @Override
  public String toString() {
    // The type only: a resource id may be an MRN.
    return "ContextChunk[" + resource.substring(0, Math.max(0, resource.indexOf('/'))) + ", score=" + score + "]";
  }
}
