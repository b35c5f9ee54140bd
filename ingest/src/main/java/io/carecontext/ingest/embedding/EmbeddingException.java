package io.carecontext.ingest.embedding;

import io.carecontext.migrations.ModelFailure;

/**
 * Embedding failed. The message names the model, the batch and the failure type but never the
 * texts, so it is safe to log; causes from third-party code are replaced by redacted copies
 * (type and stack trace kept, message dropped) because HTTP clients echo request bodies.
 * {@link #kind()} says what went wrong in words a tenant admin can act on (connection refused,
 * host not found, HTTP 500…), for answers and the ingest status: every failure was reported as
 * "EmbeddingException", whatever it was.
 */
public final class EmbeddingException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** A failure of the model's answer itself (count or size of the vectors). */
  static final String BAD_ANSWER = "the model's answer could not be used: check settings.embedding.model and dimensions";

  /**
   * Where a failed call points: the tenant's embedding setting, which has no timeout to raise. (The
   * worker's batches fail as one when the endpoint is at fault: {@link #endpointWide()}.)
   */
  private static final ModelFailure.Advice ADVICE = new ModelFailure.Advice("settings.embedding.",
      "timed out: check that settings.embedding.baseUrl answers in time");

  private final String kind;
  private final boolean endpointWide;

  public EmbeddingException(String message) {
    this(message, BAD_ANSWER, null, false);
  }

  EmbeddingException(String message, String kind, Throwable cause, boolean endpointWide) {
    super(message, cause);
    this.kind = kind;
    this.endpointWide = endpointWide;
  }

  /**
   * Wraps {@code original} (a client library's exception): its kind read from it before its
   * messages are withheld.
   */
  static EmbeddingException of(String message, Throwable original) {
    String kind = original instanceof EmbeddingException e ? e.kind() : ModelFailure.describe(original, ADVICE)
        .orElseGet(() -> "the call failed (" + original.getClass().getSimpleName() + ")");
    boolean wide = original instanceof EmbeddingException e ? e.endpointWide() : ModelFailure.endpointWide(original);
    return new EmbeddingException(message + ": " + Redacted.describe(original), kind, Redacted.cause(original), wide);
  }

  /**
   * Whether the endpoint failed whatever it was sent (down, too slow, refusing, rate limiting): the
   * embedding worker then waits before calling it again, instead of retrying each row of the batch
   * alone and parking every row of the backlog within a minute of an outage.
   */
  public boolean endpointWide() {
    return endpointWide;
  }

  /** An endpoint-wide failure of {@code kind}, for tests of what the worker does with one. */
  public static EmbeddingException endpointDown(String message, String kind) {
    return new EmbeddingException(message, kind, null, true);
  }

  /** What went wrong, in words that say what to check; never text the model was sent. */
  public String kind() {
    return kind;
  }
}
