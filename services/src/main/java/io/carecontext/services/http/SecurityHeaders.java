package io.carecontext.services.http;

import io.micronaut.core.annotation.Order;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpHeaders;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The headers every answer carries, whatever its path, so that no browser or proxy does with an answer more than
 * its caller asked for.
 *
 * <ul>
 *   <li>{@code Cache-Control: no-store}: answers went without it, and a patient's context, chat answer, FHIR
 *       resource or audit export, and the answer that shows a new key's secret once, could be kept by a browser's
 *       disk cache or a shared proxy, where the next user of the machine or the proxy's operator reads them.
 *   <li>{@code X-Content-Type-Options: nosniff}: a browser could sniff a JSON error that quotes a caller's field as
 *       HTML.
 *   <li>{@code Content-Security-Policy} and {@code X-Frame-Options: DENY}: no page of the service may be framed by
 *       another site (the Swagger UI, where a user pastes an API key and sends requests with it, was open to
 *       clickjacking), and an answer that is no HTML page may load nothing at all: should a browser ever render
 *       one (an old browser, a download opened), it runs no script and fetches nothing. The Swagger UI page may
 *       load only the service's own scripts, styles and images, and run only its one inline script, named by its
 *       SHA-256 (read from the page the service serves, so an upgrade of the UI cannot leave the hash behind); its
 *       requests go only to the service itself.
 * </ul>
 *
 * <p>Set on every path, not a list of PHI paths: a list misses the next path, and nothing the service answers
 * gains from being cached or framed.
 *
 * <p>Over HTTPS (the service terminating TLS itself, CARECONTEXT_TLS_CERT) every answer also says that the host is
 * to be reached over HTTPS only for a year ({@code Strict-Transport-Security}). It said nothing, so a browser that
 * was once sent to {@code http://} (a typed address, a link, an attacker on the network) tried plain HTTP first
 * every time, where a network attacker answers in the service's place. Over plain HTTP the header is not sent: a
 * browser ignores it there (RFC 6797, 8.1), and behind an ingress that terminates TLS the ingress is the one that
 * speaks for the host. No {@code includeSubDomains}: the service does not own its parent domain's other hosts.
 *
 * <p>First of the service's filters, so its response side runs last and sees every answer, the ones an earlier
 * request filter gives instead of the route's (a 401, a CORS refusal) among them; answers to requests whose head
 * could not be read reach no filter and get the same headers from {@link ApiErrorProcessor}.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Order(SecurityHeaders.ORDER)
public class SecurityHeaders {

  /** Before {@link ForeignOrigins} and the framework's CORS filter: its response side runs after theirs. */
  static final int ORDER = ForeignOrigins.ORDER - 1;

  static final String NO_STORE = "no-store";
  static final String NOSNIFF = "nosniff";
  /** A year, the usual minimum; what the header says for every HTTPS answer. */
  static final String HSTS = "max-age=31536000";

  /** What every answer but an HTML page may do: nothing, in no frame. */
  static final String NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  /** An inline script: one without attributes (the Swagger UI page's only kind); read before {@link #PAGE}. */
  private static final Pattern INLINE_SCRIPT = Pattern.compile("<script>(.*?)</script>", Pattern.DOTALL);

  /** The Swagger UI page the service serves (application.yml's swagger-ui paths). */
  static final String SWAGGER_UI_PAGE = "META-INF/swagger/views/swagger-ui/index.html";

  /**
   * What an HTML page (the Swagger UI's) may do: the service's own scripts and its one inline script, its own
   * styles (and the inline styles the UI sets on its elements), its own images and the data: ones the UI's CSS
   * embeds, requests to the service only, in no frame.
   */
  static final String PAGE = "default-src 'none'; script-src 'self' " + inlineScriptHash(SWAGGER_UI_PAGE)
      + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
      + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  @ResponseFilter
  public void mark(HttpRequest<?> request, MutableHttpResponse<?> response) {
    set(response.getHeaders(), isPage(request.getPath()));
    if (request.isSecure()) {
      response.getHeaders().set("Strict-Transport-Security", HSTS);
    }
  }

  /**
   * Whether {@code path} names an HTML page: a static file's content type is set after the filters run, so the
   * answer cannot say; the Swagger UI's {@code index.html} (at both paths application.yml maps) is the only page.
   * Not any path ending so: a FHIR id may end in {@code .html}.
   */
  static boolean isPage(String path) {
    return path.startsWith("/swagger") && path.endsWith(".html");
  }

  /** Sets the headers every answer carries; {@code page} for an HTML page ({@link #isPage}). */
  static void set(MutableHttpHeaders headers, boolean page) {
    headers.set(HttpHeaders.CACHE_CONTROL, NO_STORE);
    headers.set("X-Content-Type-Options", NOSNIFF);
    headers.set("Content-Security-Policy", page ? PAGE : NOTHING);
    headers.set("X-Frame-Options", "DENY");
  }

  /** The CSP sources naming the inline scripts of the page at {@code resource}: see {@link #inlineScripts}. */
  static String inlineScriptHash(String resource) {
    try (InputStream in = SecurityHeaders.class.getClassLoader().getResourceAsStream(resource)) {
      return in == null ? "'none'" : inlineScripts(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The CSP sources naming each inline script ({@code <script>…</script>}, no attributes) of {@code html} by its
   * SHA-256, or {@code 'none'} when it has none (then the page runs no inline script).
   */
  static String inlineScripts(String html) {
    Matcher m = INLINE_SCRIPT.matcher(html);
    StringBuilder sources = new StringBuilder();
    while (m.find()) {
      sources.append(sources.isEmpty() ? "" : " ").append("'sha256-").append(Base64.getEncoder().encodeToString(
          sha256(m.group(1).getBytes(StandardCharsets.UTF_8)))).append('\'');
    }
    return sources.isEmpty() ? "'none'" : sources.toString();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
