package io.carecontext.services.http;

import io.micronaut.core.annotation.Order;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Every answer says that no cache may keep it ({@code Cache-Control: no-store}) and that its
 * declared content type is the only one to read it as ({@code X-Content-Type-Options: nosniff}).
 * Answers went without either: a patient's context, chat answer, FHIR resource or audit export, and
 * the answer that shows a new key's secret once, could be kept by a browser's disk cache or a shared
 * proxy, where the next user of the machine or the proxy's operator reads them; and a browser could
 * sniff a JSON error that quotes a caller's field as HTML. Set on every path, not a list of PHI paths:
 * a list misses the next path, and nothing the service answers gains from being cached.
 *
 * <p>First of the service's filters, so its response side runs last and sees every answer, the ones
 * an earlier request filter gives instead of the route's (a 401, a CORS refusal) among them.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Order(NoStoreHeaders.ORDER)
public class NoStoreHeaders {

  /** Before {@link ForeignOrigins} and the framework's CORS filter: its response side runs after theirs. */
  static final int ORDER = ForeignOrigins.ORDER - 1;

  static final String NO_STORE = "no-store";
  static final String NOSNIFF = "nosniff";

  @ResponseFilter
  public void mark(MutableHttpResponse<?> response) {
    response.getHeaders().set(HttpHeaders.CACHE_CONTROL, NO_STORE);
    response.getHeaders().set("X-Content-Type-Options", NOSNIFF);
  }
}
