package io.carecontext.services.http;

import io.micronaut.http.HttpStatus;

/**
 * An error answered as {@code {"error": code, "message": message}}. Messages are written for the
 * caller to fix the request and never contain PHI or secrets.
 */
public class ApiException extends RuntimeException {

  private final HttpStatus status;
  private final String code;
  private final long retryAfterSeconds;

  public ApiException(HttpStatus status, String code, String message) {
    this(status, code, message, 0);
  }

  /**
   * A 503 whose {@code Retry-After} is {@code retryAfterSeconds} (a model endpoint's own, say) instead of
   * the service's {@link ApiErrorProcessor#RETRY_AFTER_SECONDS}; 0 or less for that default.
   */
  public ApiException(HttpStatus status, String code, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The seconds its 503 tells the caller to wait, or 0 for the service's default. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public HttpStatus status() {
    return status;
  }

  public String code() {
    return code;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(HttpStatus.BAD_REQUEST, "bad_request", message);
  }

  public static ApiException unauthorized() {
    return new ApiException(HttpStatus.UNAUTHORIZED, "unauthorized",
        "missing, invalid, expired or revoked API key: send Authorization: Bearer <api-key>");
  }

  public static ApiException forbidden(String message) {
    return new ApiException(HttpStatus.FORBIDDEN, "forbidden", message);
  }

  /**
   * Says what to check without telling a tenant's key whether another tenant exists: the same text
   * for both, as API.md requires. It was "no such tenant", which left a caller with a typo, or an
   * operator deleting a tenant a second time, nothing to go on.
   */
  static final String TENANT_NOT_FOUND = "no such tenant: check the tenant id in the path (the platform operator "
      + "lists tenants with GET /admin/tenants, and offboarded ones with GET /admin/offboardings)";

  /** The one answer for a tenant that does not exist and a tenant that is not the caller's. */
  public static ApiException tenantNotFound() {
    return new ApiException(HttpStatus.NOT_FOUND, "tenant_not_found", TENANT_NOT_FOUND);
  }

  public static ApiException notFound(String code, String message) {
    return new ApiException(HttpStatus.NOT_FOUND, code, message);
  }

  public static ApiException conflict(String code, String message) {
    return new ApiException(HttpStatus.CONFLICT, code, message);
  }
}
