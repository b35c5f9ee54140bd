package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import org.junit.jupiter.api.Test;

class ApiExceptionHandlerTest {

  private final ApiExceptionHandler handler = new ApiExceptionHandler();

  /**
   * A key creation that waited over 10 s for its tenant's turn answered 503 key_creation_busy without
   * Retry-After, while every other 503 of the service (database unreachable, audit row not written, data
   * key unavailable, re-embedding) carries one.
   */
  @Test
  void a503SaysWhenToRetry() {
    HttpResponse<ApiError> r = handler.handle(null, new ApiException(HttpStatus.SERVICE_UNAVAILABLE,
        "key_creation_busy", "another key of this tenant is being created: try again in a few seconds"));
    assertThat(r.getStatus().getCode()).isEqualTo(503);
    assertThat(r.getHeaders().get("Retry-After")).isEqualTo(ApiErrorProcessor.RETRY_AFTER_SECONDS);
    assertThat(r.body().error()).isEqualTo("key_creation_busy");
  }

  /** A 503 that passes on a model endpoint's Retry-After says that wait, not the service's default. */
  @Test
  void a503WithItsOwnWaitSaysThatWait() {
    HttpResponse<ApiError> r = handler.handle(null, new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "model_busy",
        "the tenant's embedding model endpoint is busy", 120));
    assertThat(r.getStatus().getCode()).isEqualTo(503);
    assertThat(r.getHeaders().get("Retry-After")).isEqualTo("120");
    assertThat(r.body().error()).isEqualTo("model_busy");
  }

  @Test
  void otherErrorsCarryNoRetryAfter() {
    HttpResponse<ApiError> bad = handler.handle(null, ApiException.badRequest("k must be 1 to 100"));
    assertThat(bad.getHeaders().get("Retry-After")).isNull();
    HttpResponse<ApiError> unauthorized = handler.handle(null, ApiException.unauthorized());
    assertThat(unauthorized.getHeaders().get("Retry-After")).isNull();
    assertThat(unauthorized.getHeaders().get("WWW-Authenticate")).isEqualTo("Bearer");
  }
}
