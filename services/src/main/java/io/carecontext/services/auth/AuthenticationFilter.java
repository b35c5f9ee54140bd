package io.carecontext.services.auth;

import io.carecontext.migrations.TenantId;
import io.carecontext.services.fhir.FhirPaths;
import io.carecontext.services.http.ApiError;
import io.carecontext.services.http.ApiErrorProcessor;
import io.carecontext.services.http.UnexpectedErrorHandler;
import io.carecontext.services.platform.ApiKeyRecord;
import io.carecontext.services.platform.ActiveKeys;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.annotation.Order;
import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.core.propagation.ThreadPropagatedContextElement;
import io.carecontext.retrieval.audit.AuditOrigin;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates every request except health and API docs, and writes one access-log line per
 * request with request id, tenant and principal — never bodies, query text or key material.
 * An OPTIONS request needs a key like any other; a CORS preflight from an origin of
 * CARECONTEXT_CORS_ORIGINS never gets here: the framework's CORS filter answers it before routing,
 * before this filter (so it needs no key, reaches no controller and writes no audit row).
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
// Named, so that filters that must see an authenticated request can come after it: a filter without
// an order runs last of all, and one with any order ran before this one.
@Order(AuthenticationFilter.ORDER)
public class AuthenticationFilter {

  /** Micronaut's phase for authentication ({@code ServerFilterPhase.SECURITY}); a higher order runs after it. */
  public static final int ORDER = 39000;

  private static final Logger ACCESS = LoggerFactory.getLogger("carecontext.access");
  private static final String STARTED = "carecontext.started";
  /** The request attribute holding the request id that every log line of the request carries. */
  public static final String REQUEST_ID = "carecontext.requestId";

  /** The property that makes a process a worker: {@code /health} and {@code /metrics} only. */
  public static final String WORKER_ONLY = "carecontext.worker-only";

  private final ActiveKeys keys;
  private final RefusedKeys refused;
  private final String adminKey;
  private final String metricsToken;
  private final boolean workerOnly;
  private final ClientAddresses clientAddresses;

  /** The request attribute holding its {@link AuditOrigin}, for rows written on a thread the request does not reach. */
  public static final String AUDIT_ORIGIN = "carecontext.auditOrigin";

  /** The origin of {@code request} as this filter set it, or none (a request this filter never saw). */
  public static AuditOrigin origin(HttpRequest<?> request) {
    return request.getAttribute(AUDIT_ORIGIN, AuditOrigin.class).orElse(AuditOrigin.NONE);
  }

  /** The property holding the trusted proxies ({@code CARECONTEXT_TRUSTED_PROXIES}, CIDRs; {@link ClientAddresses}). */
  public static final String TRUSTED_PROXIES = "carecontext.trusted-proxies";

  /** The property holding the scrape token of {@code /metrics} ({@code CARECONTEXT_METRICS_TOKEN}). */
  public static final String METRICS_TOKEN = "carecontext.metrics-token";

  static final String METRICS_UNAUTHORIZED = "/metrics needs a credential: send Authorization: Bearer with the scrape "
      + "token the service was started with (CARECONTEXT_METRICS_TOKEN), or the platform operator key; its counters "
      + "name every tenant";

  public AuthenticationFilter(ActiveKeys keys, RefusedKeys refused,
                              @Nullable @Value("${carecontext.admin-key:}") String adminKey,
                              @Nullable @Value("${" + METRICS_TOKEN + ":}") String metricsToken,
                              @Value("${" + WORKER_ONLY + ":false}") boolean workerOnly,
                              @Nullable @Value("${" + TRUSTED_PROXIES + ":}") String trustedProxies) {
    this.keys = keys;
    this.refused = refused;
    this.adminKey = adminKey == null ? "" : adminKey;
    this.metricsToken = metricsToken == null ? "" : metricsToken;
    this.workerOnly = workerOnly;
    this.clientAddresses = ClientAddresses.parse(trustedProxies);
  }

  /**
   * The request's origin (its id and client address) for the audit rows written while it is served, on whichever
   * thread serves it: the framework carries this element to the handler's thread and binds it there.
   */
  record OriginElement(AuditOrigin origin) implements ThreadPropagatedContextElement<AuditOrigin> {
    @Override
    public AuditOrigin updateThreadContext() {
      return AuditOrigin.bind(origin);
    }

    @Override
    public void restoreThreadContext(AuditOrigin before) {
      AuditOrigin.restore(before);
    }
  }

  /** The client address of a request, as its audit rows record it ({@link ClientAddresses}). */
  String clientAddress(HttpRequest<?> request) {
    return clientAddresses.resolve(request.getRemoteAddress(), request.getHeaders().getAll("Forwarded"),
        request.getHeaders().getAll("X-Forwarded-For"));
  }

  /** What a worker serves: its probes and its metrics, nothing a key opens. */
  static boolean servedByWorker(String path) {
    return path.equals("/health") || path.startsWith("/health/") || isMetrics(path);
  }

  /**
   * Whether the router serves {@code path} as {@code /metrics}: it takes a trailing slash too, and the
   * filter guarded only the exact path, so {@code /metrics/} went through as an API call and answered any
   * live tenant key with every tenant's counters.
   */
  static boolean isMetrics(String path) {
    int end = path.length();
    while (end > 1 && path.charAt(end - 1) == '/') {
      end--;
    }
    return path.regionMatches(0, "/metrics", 0, end) && end == "/metrics".length();
  }

  /** Whether a raw request target has a '%' without two hex digits after it. */
  static final String UNREADABLE = "the request could not be read: check that the path is percent-encoded (a '%' "
      + "is followed by two hex digits; a '%' itself is %25) and that the request has a Host header";

  static boolean isPublic(String path) {
    return path.equals("/health") || path.startsWith("/health/")
        || path.equals("/openapi.yml") || path.equals("/openapi") || path.equals("/swagger-ui")
        || path.startsWith("/swagger-ui/")
        || path.startsWith("/swagger/")
        || path.equals("/favicon.ico") || FhirPaths.isCapabilities(path);
  }

  @RequestFilter
  @ExecuteOn(TaskExecutors.BLOCKING)
  public @Nullable HttpResponse<?> authenticate(HttpRequest<?> request, MutablePropagatedContext context) {
    request.setAttribute(STARTED, System.nanoTime());
    String requestId = request.getHeaders().get("X-Request-Id");
    // A caller's X-Request-Id is kept (logged with every line of the request, echoed, in its audit rows) only in the
    // forms the service issues (AuditOrigin.ISSUED_REQUEST_ID: a UUID, a ULID or 16 to 64 hex digits): a feed that
    // built its ids from a name or an MRN ("Zebulon_Quixotefield_1947-03-19") wrote them into the application log
    if (requestId == null || !AuditOrigin.ISSUED_REQUEST_ID.matcher(requestId).matches()) {
      requestId = UUID.randomUUID().toString();
    }
    request.setAttribute(REQUEST_ID, requestId);
    // Which request and from where, for every audit row written while it is served (tenant migration 75): the id
    // its answer carries, and the client's address (the peer, or what a trusted proxy forwarded)
    AuditOrigin origin = new AuditOrigin(requestId, clientAddress(request));
    request.setAttribute(AUDIT_ORIGIN, origin);
    context.add(new OriginElement(origin));
    AuditOrigin before = AuditOrigin.bind(origin); // the refusals this filter records itself
    try {
      return authenticate(request, requestId);
    } finally {
      AuditOrigin.restore(before);
    }
  }

  private @Nullable HttpResponse<?> authenticate(HttpRequest<?> request, String requestId) {
    if (request.getHeaders().names().isEmpty()) {
      // The framework could not read the request (a path with a '%' not followed by two hex digits,
      // say) and hands on a stand-in without the path or any header, which this filter answered
      // 401 "invalid API key" whatever key was sent. A real request always has a Host header.
      return logged(request, HttpResponse.badRequest().body(new ApiError("bad_request", UNREADABLE)));
    }
    String encoding = request.getHeaders().get(io.micronaut.http.HttpHeaders.CONTENT_ENCODING);
    if (encoding != null && !KNOWN_ENCODINGS.contains(encoding.strip().toLowerCase(java.util.Locale.ROOT))) {
      // br, zstd and the like reach the handlers undecoded, whose answer was "not valid UTF-8"
      return logged(request, ApiErrorProcessor.answer(HttpResponse.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE),
          request.getPath(), new ApiError("unsupported_media_type", "this Content-Encoding is not supported: send the "
              + "body with gzip or deflate, or uncompressed; nothing was stored")));
    }
    if (workerOnly && !servedByWorker(request.getPath())) {
      // The worker process served the whole API (admin, FHIR, context) with any valid key, on a port
      // the chart opens to metrics scrapers; it is there for embedding, probes and scraping.
      return logged(request, ApiErrorProcessor.answer(HttpResponse.notFound(), request.getPath(),
          new ApiError("not_found", "this is an embedding worker: it serves /health and /metrics only; send API "
              + "requests to the service (./carecontext serve, the chart's API Service)")));
    }
    if (isMetrics(request.getPath())) {
      // Its counters name every tenant and how each one's requests were decided: for the scraper's own
      // token (least privilege: it opens nothing else) or the operator, and for no one else.
      return scrapes(bearer(request).orElse("")) ? null : logged(request, HttpResponse.status(HttpStatus.UNAUTHORIZED)
          .header("WWW-Authenticate", "Bearer").body(new ApiError("unauthorized", METRICS_UNAUTHORIZED)));
    }
    if (request.getPath().startsWith("/health/") && !HEALTH_PATHS.contains(withoutTrailingSlash(request.getPath()))) {
      // the health endpoint read the rest of the path as a selector it could not convert, and answered
      // 400 "the request is malformed: send a JSON body …" to a probe pointed at /health/live
      return logged(request, HttpResponse.notFound().body(new ApiError("not_found", "no such health path: "
          + "/health and /health/readiness answer whether the service can serve (its database answers), "
          + "/health/liveness whether the process runs")));
    }
    if (isPublic(request.getPath()) && !(FhirPaths.isCapabilities(request.getPath())
        && request.getMethod() != io.micronaut.http.HttpMethod.GET && request.getMethod() != io.micronaut.http.HttpMethod.HEAD)) {
      // the CapabilityStatement is public for reading only: a POST to it passed as public, met the create
      // route without a caller and answered 400 "the request is malformed: send a JSON body with the
      // documented fields"; any other method now needs a key, and is a 405 (FhirController)
      return null;
    }
    Optional<Caller> caller;
    try {
      caller = bearer(request).flatMap(this::resolve);
    } catch (RuntimeException e) {
      if (!ApiErrorProcessor.databaseUnreachable(e)) {
        throw e;
      }
      // Answered here rather than thrown: during an outage the framework would log a stack trace
      // for every request.
      UnexpectedErrorHandler.logOutage(requestId, e);
      return logged(request, ApiErrorProcessor.unavailable(request.getPath()));
    }
    if (caller.isEmpty()) {
      bearer(request).ifPresent(token -> refused.record(token, request.getMethodName(), request.getPath()));
      String message = request.getHeaders().getAll(io.micronaut.http.HttpHeaders.AUTHORIZATION).size() > 1
          // a valid key sent twice is not "missing, invalid, expired or revoked": the caller must learn
          // that the second header is the fault
          ? "the request has more than one Authorization header: send exactly one Authorization header, "
              + "Authorization: Bearer <api-key>"
          : "missing, invalid, expired or revoked API key: send Authorization: Bearer <api-key>";
      if (FhirPaths.contains(request.getPath())) {
        return logged(request, HttpResponse.status(HttpStatus.UNAUTHORIZED).header("WWW-Authenticate", "Bearer")
            .contentType("application/fhir+json")
            .body(io.carecontext.fhir.OperationOutcomes.toJson("login", message)));
      }
      return logged(request, HttpResponse.status(HttpStatus.UNAUTHORIZED)
          .header("WWW-Authenticate", "Bearer")
          .body(new ApiError("unauthorized", message)));
    }
    request.setAttribute(Caller.ATTRIBUTE, caller.get());
    // an admin path's query parameters are refused by its controller once the key is admitted (AdminAttempts),
    // so that the refusal is recorded in the tenant's trail with its reason
    return null;
  }

  /**
   * A response this filter gives instead of the route's, logged here: the response filter below
   * does not run for it, so refused keys and outages would be missing from the access log.
   */
  private MutableHttpResponse<?> logged(HttpRequest<?> request, MutableHttpResponse<?> response) {
    log(request, response);
    return response;
  }

  @ResponseFilter
  public void log(HttpRequest<?> request, MutableHttpResponse<?> response) {
    Object id = request.getAttribute(REQUEST_ID).orElse("-");
    response.header("X-Request-Id", String.valueOf(id));
    long started = request.getAttribute(STARTED, Long.class).orElse(System.nanoTime());
    Caller c = request.getAttribute(Caller.ATTRIBUTE, Caller.class).orElse(null);
    // The path may carry a patient id (a direct identifier in many EHRs): log the route shape only.
    ACCESS.info("request_id={} method={} route={} status={} tenant={} principal={} ms={}",
        id, request.getMethodName(), routeShape(request.getPath()), response.code(),
        c == null ? "-" : c.tenant() != null ? c.tenant() : c.platformAdmin() ? pathTenant(request.getPath()) : "-",
        c == null ? "-" : c.principal(), (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * The tenant a path names ({@code /admin/tenants/{t}…}, {@code /v1/{t}…}, {@code /fhir/{t}…}), for
   * the operator's key, which belongs to none: its lines said {@code tenant=-} for work on a tenant,
   * so a search of the log by tenant missed them. {@code -} when the path names none or no valid id.
   */
  static String pathTenant(String path) {
    String[] s = path.split("/", 5);
    String t = s.length > 3 && "admin".equals(s[1]) && "tenants".equals(s[2]) ? s[3]
        : s.length > 2 && ("v1".equals(s[1]) || "fhir".equals(s[1])) ? s[2] : null;
    return t != null && TenantId.isValid(t) ? t : "-";
  }

  /** R4's resource type names, read once (on the first FHIR path logged). */
  private static final class FhirTypes {
    static final Set<String> ALL = Set.copyOf(io.carecontext.fhir.Fhir.supportedTypes());
  }

  private static final Set<String> PUBLIC_HEALTH = Set.of("/health/liveness", "/health/readiness");
  /** The health endpoint's paths; any other under /health/ is a 404. */
  private static final Set<String> HEALTH_PATHS = Set.of("/health", "/health/liveness", "/health/readiness");

  private static String withoutTrailingSlash(String path) {
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  /** The fixed words of the API's paths; any other segment of a logged path is shown as a placeholder. */
  private static final Set<String> ROUTE_WORDS = Set.of("v1", "fhir", "admin", "tenants", "patients", "context", "chat",
      "audit", "verify", "export", "research", "search", "ingest", "parked", "retry", "keys", "metadata", "$import",
      "_history", "openapi", "metrics", "offboardings", "erase", "review");

  /**
   * The route's shape, for the access log: {@code /v1/acme/patients/123/context} →
   * {@code /v1/acme/patients/{id}/context}. Only the API's own words, tenant ids and FHIR resource
   * types are kept; every other segment becomes {@code {id}} ({@code {keyId}} after {@code keys}),
   * so that a mistyped path ({@code /v1/acme/Patients/<MRN>/context}) does not write an identifier
   * into the log either. Public paths are logged as sent when they are the fixed ones (health,
   * metrics, the API description and its static files); anything else under {@code /health/},
   * {@code /swagger/} or {@code /swagger-ui/} is not: those prefixes answer any path, with a 404,
   * and a client with a wrong base URL sends its patient ids there too.
   */
  public static String routeShape(String path) {
    if (path.startsWith("/health/")) {
      return PUBLIC_HEALTH.contains(path) ? path : "/health/{id}";
    }
    for (String[] files : STATIC_FILES) {
      if (path.startsWith(files[0])) {
        return staticFile(files[1], path.substring(files[0].length())) ? path : files[0] + "{file}";
      }
    }
    if (isPublic(path)) {
      return path;
    }
    String[] segments = path.split("/", -1);
    StringBuilder shape = new StringBuilder(path.length());
    for (int i = 1; i < segments.length; i++) {
      String s = segments[i];
      boolean tenant = (i == 2 && ("v1".equals(segments[1]) || "fhir".equals(segments[1])))
          || (i == 3 && "admin".equals(segments[1]) && "tenants".equals(segments[2]));
      boolean keep = s.isEmpty() || ROUTE_WORDS.contains(s) || (tenant && TenantId.isValid(s))
          || (i == 3 && "fhir".equals(segments[1]) && FhirTypes.ALL.contains(s));
      shape.append('/').append(keep ? s : "keys".equals(segments[i - 1]) ? "{keyId}" : "{id}");
    }
    return shape.toString();
  }

  /** The static-file prefixes (application.yml's static resources) and the classpath folder each serves. */
  private static final String[][] STATIC_FILES = {{"/swagger-ui/", "META-INF/swagger/views/swagger-ui/"},
      {"/swagger/", "META-INF/swagger/"}};
  private static final java.util.regex.Pattern FILE_PATH =
      java.util.regex.Pattern.compile("^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$");

  /** Whether {@code file} names a file the service serves under {@code folder} (no {@code ..}, no empty segment). */
  private static boolean staticFile(String folder, String file) {
    return FILE_PATH.matcher(file).matches() && !file.contains("..")
        && AuthenticationFilter.class.getClassLoader().getResource(folder + file) != null;
  }

  /** The body encodings the server decodes (Netty's decompressor), and none. */
  private static final java.util.Set<String> KNOWN_ENCODINGS = java.util.Set.of("gzip", "x-gzip", "deflate", "identity", "");

  private static Optional<String> bearer(HttpRequest<?> request) {
    if (request.getHeaders().getAll(io.micronaut.http.HttpHeaders.AUTHORIZATION).size() > 1) {
      // two credentials, of which the first was taken: which one a proxy or the service reads is not
      // for the sender to leave open, so neither is (401)
      return Optional.empty();
    }
    String header = request.getHeaders().getAuthorization().orElse(null);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    return Optional.of(header.substring(7).trim());
  }

  /** Whether {@code token} may read {@code /metrics}: the scrape token, or the platform operator key. */
  private boolean scrapes(String token) {
    return !token.isEmpty() && (!metricsToken.isEmpty() && ApiKeySecrets.sameSecret(token, metricsToken)
        || !adminKey.isEmpty() && ApiKeySecrets.sameSecret(token, adminKey));
  }

  private Optional<Caller> resolve(String token) {
    if (!adminKey.isEmpty() && ApiKeySecrets.sameSecret(token, adminKey)) {
      return Optional.of(Caller.platformOperator());
    }
    return ApiKeySecrets.parse(token).flatMap(parsed -> {
      // The database compares the hash (platform migration 3); after a match it is the stored one.
      byte[] secretHash = ApiKeySecrets.sha256(parsed.secret());
      return keys.find(parsed.keyId(), secretHash)
          .filter(a -> a.key().usableAt(Instant.now()))
          .map(a -> toCaller(a.key(), a.tenantSettings(), secretHash));
    });
  }

  private static Caller toCaller(ApiKeyRecord k, String tenantSettings, byte[] secretHash) {
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (String code : k.roleCodes()) {
      Role.fromCode(code).ifPresent(roles::add);
    }
    return new Caller(TenantId.of(k.tenantId()), k.principal(), k.keyId(), roles, k.practitionerId(), false,
        tenantSettings, HexFormat.of().formatHex(secretHash));
  }
}
