package io.carecontext.services.http;

import io.micronaut.core.annotation.Order;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
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
 * <p>Over HTTPS (the service terminating TLS itself, CARECONTEXT_TLS_CERT) every answer also says that the
 * host is to be reached over HTTPS only for a year ({@code Strict-Transport-Security}). It said nothing, so a
 * browser that was once sent to {@code http://} (a typed address, a link, an attacker on the network) tried
 * plain HTTP first every time, where a network attacker answers in the service's place. Over plain HTTP the
 * header is not sent: a browser ignores it there (RFC 6797, 8.1), and behind an ingress that terminates TLS the
 * ingress is the one that speaks for the host. No {@code includeSubDomains}: the service does not own its
 * parent domain's other hosts.
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
  /** A year, the usual minimum; what the header says for every HTTPS answer. */
  static final String HSTS = "max-age=31536000";

  @ResponseFilter
  public void mark(HttpRequest<?> request, MutableHttpResponse<?> response) {
    response.getHeaders().set(HttpHeaders.CACHE_CONTROL, NO_STORE);
    response.getHeaders().set("X-Content-Type-Options", NOSNIFF);
    if (request.isSecure()) {
      response.getHeaders().set("Strict-Transport-Security", HSTS);
    }
  }
}
