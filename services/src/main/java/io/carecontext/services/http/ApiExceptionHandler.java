package io.carecontext.services.http;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

@Produces
@Singleton
@Requires(classes = {ApiException.class, ExceptionHandler.class})
public class ApiExceptionHandler implements ExceptionHandler<ApiException, HttpResponse<ApiError>> {

  @Override
  public HttpResponse<ApiError> handle(HttpRequest request, ApiException e) {
    var response = HttpResponse.<ApiError>status(e.status()).body(new ApiError(e.code(), e.getMessage()));
    if (e.status().getCode() == 401) {
      response.header("WWW-Authenticate", "Bearer");
    }
    if (e.status().getCode() == 503) {
      // a 503 of the request's own (key_creation_busy: another creation holds the tenant's turn) is as
      // passing as one of the database: say when to come back, as every other 503 of the service does
      response.header("Retry-After", e.retryAfterSeconds() > 0 ? Long.toString(e.retryAfterSeconds())
          : ApiErrorProcessor.RETRY_AFTER_SECONDS);
    }
    return response;
  }
}
