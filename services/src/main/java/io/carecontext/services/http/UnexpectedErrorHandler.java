package io.carecontext.services.http;

import io.carecontext.services.auth.AuthenticationFilter;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every exception no more specific handler takes. Without it the framework logs each one with its
 * whole stack trace, which during a database outage meant some 65 lines for every request to the
 * admin API (the other paths meet the outage in the authentication filter, which answers it
 * itself). A database that does not answer is one warning line, as there; anything else is still
 * logged with its trace, as an unexpected error should be. The answer is the error processor's
 * either way: 503 with {@code Retry-After}, or 500.
 */
@Produces
@Singleton
public class UnexpectedErrorHandler implements ExceptionHandler<RuntimeException, HttpResponse<?>> {

  private static final Logger LOG = LoggerFactory.getLogger(UnexpectedErrorHandler.class);

  private final ApiErrorProcessor errors;

  public UnexpectedErrorHandler(ApiErrorProcessor errors) {
    this.errors = errors;
  }

  @Override
  public HttpResponse<?> handle(HttpRequest request, RuntimeException e) {
    Object id = request.getAttribute(AuthenticationFilter.REQUEST_ID).orElse("-");
    if (ApiErrorProcessor.databaseUnreachable(e)) {
      logOutage(id, e);
    } else {
      LOG.error("request {} failed with an unexpected error", id, e);
    }
    return errors.processResponse(ErrorContext.builder(request).cause(e).build(), HttpResponse.serverError());
  }

  /** The one line a request refused for an unreachable database costs, wherever it is refused. */
  public static void logOutage(Object requestId, Throwable e) {
    LOG.warn("request {} answered 503: the database does not answer ({})", requestId, e.getClass().getSimpleName());
  }
}
