package io.carecontext.retrieval;

import java.util.UUID;

/**
 * A denied request. {@code status} and {@code code} are what the caller sees (404 for every
 * patient-level denial, so they cannot be told apart); {@code reason} is the true reason, which
 * only the audit trail records.
 */
public final class AccessDenied extends RuntimeException {

  private final int status;
  private final String code;
  private final String reason;
  private final UUID auditId;
  private final long retryAfterSeconds;

  public AccessDenied(int status, String code, String publicMessage, String reason, UUID auditId, long retryAfter) {
    super(publicMessage, null, false, false);
    this.status = status;
    this.code = code;
    this.reason = reason;
    this.auditId = auditId;
    this.retryAfterSeconds = retryAfter;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String reason() {
    return reason;
  }

  public UUID auditId() {
    return auditId;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
