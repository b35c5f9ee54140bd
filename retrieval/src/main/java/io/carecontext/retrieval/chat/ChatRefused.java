package io.carecontext.retrieval.chat;

/** A chat request refused before or at the model: status and code for the caller, no PHI. */
public final class ChatRefused extends RuntimeException {
  private final int status;
  private final String code;
  private final long retryAfter;
  private final String failure;

  public ChatRefused(int status, String code, String message, long retryAfter) {
    this(status, code, message, retryAfter, null);
  }

  /** {@code failure}: what went wrong at the model endpoint, in words with no PHI, for the audit row. */
  public ChatRefused(int status, String code, String message, long retryAfter, String failure) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.failure = failure;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public long retryAfter() {
    return retryAfter;
  }

  /** What went wrong at the model endpoint (timed out, HTTP 503…), or null when no call was made. */
  public String failure() {
    return failure;
  }
}
