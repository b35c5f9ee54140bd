package io.carecontext.services.retrieval;

import io.carecontext.retrieval.AccessDenied;
import io.carecontext.retrieval.ContextService;
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

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DecisionResponses.class);

  /** Re-embedding takes minutes to hours, not the seconds of a database that is back. */
  static final String REEMBEDDING_RETRY_SECONDS = "60";

  static final String REEMBEDDING = "this tenant's embedding model was changed and the stored chunks searched here are "
      + "not all re-embedded with it yet, so they cannot be compared with the question; "
      + "nothing was returned. Retry when the re-embedding is done: a tenant admin follows it at "
      + "GET /admin/tenants/{tenant}/ingest (chunksOfAnotherModel falls to 0; lastError names a model that fails)";

  private DecisionResponses() {}

  /**
   * A search that met chunks of another model than its question's: of another dimension (pgvector's
   * "different vector dimensions", SQLSTATE 22000), or of the same one (the search's own refusal,
   * SQLSTATE {@value ContextService#ANOTHER_MODEL}, tenant migration 52). Read from the failure, never shown.
   */
  static boolean chunksOfAnotherModel(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.sql.SQLException sql && (ContextService.ANOTHER_MODEL.equals(sql.getSQLState())
          || "22000".equals(sql.getSQLState()) && sql.getMessage() != null
          && sql.getMessage().contains("different vector dimensions"))) {
        return true;
      }
    }
    return false;
  }

  /** A denial: its status and code, and {@code Retry-After} when it is the rate limit's. */
  public static HttpResponse<ApiError> denied(AccessDenied d) {
    var response = HttpResponse.<ApiError>status(HttpStatus.valueOf(d.status())).body(new ApiError(d.code(), d.getMessage()));
    if (d.status() == 429) {
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
    if (chunksOfAnotherModel(failure)) {
      // Not a fault: the tenant changed its model and the worker has not yet
      // re-embedded these chunks. It was "retry later" with an error and a stack trace in the log for
      // every request, for as long as the re-embedding took, and nothing to tell the two apart.
      LOG.warn("request {} answered 503 reembedding_in_progress: the tenant's chunks are not all re-embedded with its "
          + "new embedding model yet (GET /admin/tenants/{tenant}/ingest shows what is left)", id);
      return HttpResponse.<ApiError>status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", REEMBEDDING_RETRY_SECONDS)
          .body(new ApiError("reembedding_in_progress", REEMBEDDING));
    }
    UnexpectedErrorHandler.logNotAudited(id, failure);
    return HttpResponse.<ApiError>status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", ApiErrorProcessor.RETRY_AFTER_SECONDS)
        .body(new ApiError("unavailable",
            "the request could not be completed and audited; nothing was returned. Retry later"));
  }
}
