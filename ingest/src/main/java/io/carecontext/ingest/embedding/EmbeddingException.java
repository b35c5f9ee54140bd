package io.carecontext.ingest.embedding;

/**
 * Embedding failed. The message names the model, the batch and the failure type but never the
 * texts, so it is safe to log; causes from third-party code are replaced by redacted copies
 * (type and stack trace kept, message dropped) because HTTP clients echo request bodies.
 */
public final class EmbeddingException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public EmbeddingException(String message) {
    super(message);
  }

  EmbeddingException(String message, Throwable cause) {
    super(message, cause);
  }
}
