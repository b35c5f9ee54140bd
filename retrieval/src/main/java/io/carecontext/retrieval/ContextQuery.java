package io.carecontext.retrieval;

/** A context request: the query text (PHI, audited encrypted), its embedding, k, purpose and break-glass reason. */
public record ContextQuery(String text, float[] vector, int k, String purposeOfUse, String reason) {
  @Override
  public String toString() {
    return "ContextQuery[k=" + k + ", purpose=" + purposeOfUse + "]";
  }
}
