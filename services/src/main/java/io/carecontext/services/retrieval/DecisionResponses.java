package io.carecontext.services.retrieval;

import io.carecontext.retrieval.AccessDenied;
import io.carecontext.services.http.ApiError;
import io.carecontext.services.auth.AuthenticationFilter;
import io.carecontext.services.http.ApiErrorProcessor;
import io.carecontext.services.http.UnexpectedErrorHandler;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;

/**
 * The answers that context, chat and research search share once their decision is made: a denial
 * as its status and code say, and the 503 of a request whose audit row could not be written.
 */
public final class DecisionResponses {

  private DecisionResponses() {}

  /**
   * A denial: its status and code, and {@code Retry-After} when it is the rate limit's or says when to
   * come back (a search during a re-embedding).
   */
  public static HttpResponse<ApiError> denied(AccessDenied d) {
    var response = HttpResponse.<ApiError>status(HttpStatus.valueOf(d.status())).body(new ApiError(d.code(), d.getMessage()));
    if (d.status() == 429 || d.retryAfterSeconds() > 0) {
      response.header("Retry-After", Long.toString(d.retryAfterSeconds()));
    }
    return response;
  }

  /**
   * A request that could not be completed and audited (the audit row, or the database, failed):
   * nothing of it was returned, and the caller may retry, after the same wait as for an unreachable
   * database. The failure is logged with the request's id (see {@link UnexpectedErrorHandler#logNotAudited}).
   */
  public static HttpResponse<ApiError> notAudited(Throwable failure) {
    Object id = io.micronaut.http.context.ServerRequestContext.currentRequest()
        .flatMap(r -> r.getAttribute(AuthenticationFilter.REQUEST_ID)).orElse("-");
    UnexpectedErrorHandler.logNotAudited(id, failure);
    return HttpResponse.<ApiError>status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", ApiErrorProcessor.RETRY_AFTER_SECONDS)
        .body(new ApiError("unavailable",
            "the request could not be completed and audited; nothing was returned. Retry later"));
  }
}
