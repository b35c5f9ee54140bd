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

  /**
   * The longest {@link #retryAfterSeconds} that is honoured: a longer one (a day, a mistaken date) is
   * waited an hour, as the chat gateway caps it, so a bad header does not stop a tenant's ingest for long.
   */
  public static final long MAX_RETRY_AFTER_SECONDS =
      io.carecontext.migrations.ModelHttpClient.MAX_HONOURED_WAIT_SECONDS;

  private final String kind;
  private final boolean endpointWide;
  private final long retryAfterSeconds;

  public EmbeddingException(String message) {
    this(message, BAD_ANSWER, null, false);
  }

  EmbeddingException(String message, String kind, Throwable cause, boolean endpointWide) {
    this(message, kind, cause, endpointWide, -1);
  }

  private EmbeddingException(String message, String kind, Throwable cause, boolean endpointWide,
                             long retryAfterSeconds) {
    super(message, cause);
    this.kind = kind;
    this.endpointWide = endpointWide;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /**
   * Wraps {@code original} (a client library's exception): its kind read from it before its
   * messages are withheld.
   */
  static EmbeddingException of(String message, Throwable original) {
    String kind = original instanceof EmbeddingException e ? e.kind() : ModelFailure.describe(original, ADVICE)
        .orElseGet(() -> "the call failed (" + original.getClass().getSimpleName() + ")");
    boolean wide = original instanceof EmbeddingException e ? e.endpointWide() : ModelFailure.endpointWide(original);
    if (!wide && !(original instanceof EmbeddingException) && refusedWhatItWasSent(original)) {
      // The reason a parked resource shows, and a question's 502: "the endpoint answered HTTP 400" alone
      // said neither what was wrong nor what to do (a walk of the parked list found it).
      kind = kind + REFUSED_INPUT;
    }
    // read before the cause is redacted: the copy keeps types, not the endpoint's Retry-After
    long retryAfter = original instanceof EmbeddingException e ? e.retryAfterSeconds() : retryAfter(original);
    return new EmbeddingException(message + ": " + Redacted.describe(original), kind, Redacted.cause(original), wide,
        retryAfter);
  }

  /** What an endpoint's HTTP 4xx that is not its own failure ({@link ModelFailure#endpointWide}) means, and what to do. */
  static final String REFUSED_INPUT = ": it refused what it was sent (a text longer than the model takes, say): "
      + "check settings.embedding.model and dimensions, and the endpoint's input limit";

  /** Whether {@code failure} is an HTTP 4xx answer, the endpoint refusing what it was sent rather than failing itself. */
  private static boolean refusedWhatItWasSent(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof dev.langchain4j.exception.HttpException h) {
        return h.statusCode() >= 400 && h.statusCode() < 500;
      }
    }
    return false;
  }

  /**
   * The seconds an endpoint that answered 429 or 503 asked to wait ({@code Retry-After}), or -1 (none
   * sent, one that could not be read, or another failure). Only these two statuses: a Retry-After on
   * any other answer says nothing about when the endpoint will take calls again.
   */
  static long retryAfter(Throwable failure) {
    return io.carecontext.migrations.ModelHttpClient.Refused.in(failure)
        .filter(r -> r.statusCode() == 429 || r.statusCode() == 503)
        .map(io.carecontext.migrations.ModelHttpClient.Refused::retryAfterSeconds).orElse(-1L);
  }

  /**
   * The seconds the endpoint asked to wait before it is called again (429 or 503 with {@code Retry-After}),
   * or -1. The embedding worker pauses the tenant at least that long; a question embedded through it is
   * answered 503 with that Retry-After.
   */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /**
   * Whether the endpoint failed whatever it was sent (down, too slow, refusing, rate limiting): the
   * embedding worker then waits before calling it again, instead of retrying each row of the batch
   * alone and parking every row of the backlog within a minute of an outage.
   */
  public boolean endpointWide() {
    return endpointWide;
  }

  /**
   * The model answered vectors of another size than the setting's {@code dimensions}: the setting's fault (a model
   * that ignores the size asked for, or another model than named), so every text would meet it. It was a failure of
   * the rows: a change of model to such an endpoint parked the tenant's whole backlog within a minute (77 resources
   * in 45 s on a walk), each with a reason that did not say which sizes. Now the worker pauses the tenant as for an
   * endpoint that is down, and the reason names both sizes (numbers of the setting, never a text).
   */
  public static EmbeddingException wrongSize(String message, int answered, int configured) {
    return new EmbeddingException(message, "the model answered " + answered + "-dimensional vectors where "
        + "settings.embedding.dimensions is " + configured + ": check settings.embedding.model and dimensions",
        null, true);
  }

  /** An endpoint-wide failure of {@code kind}, for tests of what the worker does with one. */
  public static EmbeddingException endpointDown(String message, String kind) {
    return new EmbeddingException(message, kind, null, true);
  }

  /** An endpoint-wide failure whose endpoint asked to be called again in {@code retryAfterSeconds}, for tests. */
  public static EmbeddingException endpointBusy(String message, String kind, long retryAfterSeconds) {
    return new EmbeddingException(message, kind, null, true, retryAfterSeconds);
  }

  /** What went wrong, in words that say what to check; never text the model was sent. */
  public String kind() {
    return kind;
  }
}
