package io.carecontext.retrieval.chat;

/** A chat request refused before or at the model: status and code for the caller, no PHI. */
public final class ChatRefused extends RuntimeException {
  private final int status;
  private final String code;
  private final long retryAfter;

  public ChatRefused(int status, String code, String message, long retryAfter) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
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
}
