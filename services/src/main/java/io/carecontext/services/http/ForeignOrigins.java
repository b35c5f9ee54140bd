package io.carecontext.services.http;

import io.micronaut.core.annotation.Order;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * The framework refuses a request that names a web page of another origin ({@code Origin}) when the
 * service is reached as localhost or 127.0.0.1, so a page in a browser on the same machine cannot call
 * it (a drive-by localhost attack). Its 403 had no body, which left the caller guessing; this gives
 * it the API's error body, saying why and what to do. The refusal itself is the framework's and is
 * kept; with CARECONTEXT_CORS_ORIGINS set, the origins listed there are let through by the framework. Runs before the framework's CORS filter, so that it sees that filter's answer.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Order(ForeignOrigins.ORDER)
public class ForeignOrigins {

  /**
   * Before the framework's CORS filter ({@code ServerFilterPhase.METRICS.after()}, 9250): {@code
   * ServerFilterPhase.METRICS.before()}, which an annotation cannot name.
   */
  static final int ORDER = 8751;

  static final ApiError REFUSED = new ApiError("origin_refused", "the request names a web page of another origin "
      + "(its Origin header) than localhost, and the service, reached as localhost or 127.0.0.1, refuses those so "
      + "that web pages cannot call it through a browser on this machine; cross-origin (CORS) requests are "
      + "allowed only from the origins the service was started with in CARECONTEXT_CORS_ORIGINS (exact "
      + "scheme://host:port): add the page's origin there, or call the API from a server, a script or the command "
      + "line, which send no Origin header, or through a back end of your own; nothing was stored or returned");

  /**
   * A 403 with no body on a request with an Origin header: the framework's refusal (every 403 of the
   * service's own has a body), given the API's body.
   */
  @ResponseFilter
  public void explain(HttpRequest<?> request, MutableHttpResponse<?> response) {
    if (response.status() == HttpStatus.FORBIDDEN && response.getBody().isEmpty()
        && request.getHeaders().contains(HttpHeaders.ORIGIN)) {
      ApiErrorProcessor.answer(response, request.getPath(), REFUSED);
    }
  }
}
