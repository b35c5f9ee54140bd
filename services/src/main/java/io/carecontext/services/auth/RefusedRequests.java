package io.carecontext.services.auth;

import io.carecontext.fhir.FhirId;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.annotation.Order;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import io.carecontext.services.fhir.FhirPaths;
import io.carecontext.services.http.ApiError;
import io.carecontext.services.http.ApiErrorProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.carecontext.retrieval.RefusalRows;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;

/**
 * A request of a valid key refused before any handler ran — a method the path does not take (405), a
 * type the caller asks for that it does not answer (406), a body over the size limit (413), a body type
 * it does not read (415) — recorded
 * in the tenant's trail with that reason, as every handler records its own refusals. Only the FHIR
 * write path recorded its 415; a key probing the context or admin paths with other methods or types,
 * or on FHIR with other methods, left no row. Recorded only in the key's own tenant, when the path
 * names it (a path of another tenant gets the same answer whether that tenant exists or not, so it
 * tells the key nothing), and for the platform operator's key in the path's tenant when it exists.
 *
 * <p>Whatever answers such a refusal (the framework's error processing, another filter) marks the
 * request with {@link #mark}; the row is written here, after authentication, and if it cannot be
 * written the answer is a 503 instead (fail closed, like every audited path). Only a request with a
 * row due moves to a blocking thread: every other request and response is checked on the thread it
 * arrived on and passes straight on, so the filter costs the served paths no thread hop.
 *
 * <p>It also refuses a JSON body sent without a {@code Content-Type} (415): the context, chat,
 * research and admin paths read their bodies as JSON whatever the header said, so a body of no stated
 * type was taken, while {@code text/plain} was refused. FHIR paths check their own types.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Order(AuthenticationFilter.ORDER + 50)
public class RefusedRequests {

  private static final Logger LOG = LoggerFactory.getLogger(RefusedRequests.class);
  private static final String REFUSED = "carecontext.refusedBeforeHandler";

  /** The audit reason of each status recorded here. */
  static final Map<Integer, String> REASONS = Map.of(405, "method_not_allowed", 406, "not_acceptable",
      413, "payload_too_large", 415, "unsupported_media_type");

  private final AuditLog audit;
  private final TenantDirectory tenants;
  private final ExecutorService blocking;
  /**
   * The rows one key's refusals here may add ({@link RefusalRows}), as for refused keys: a valid key
   * sending wrong methods in a loop would otherwise grow its tenant's trail without limit, and with it
   * every verify and export.
   */
  private final RefusalRows rows = new RefusalRows();

  private final long maxRequestBytes;

  public RefusedRequests(AuditLog audit, TenantDirectory tenants, @Named(TaskExecutors.BLOCKING) ExecutorService blocking,
                         io.micronaut.http.server.HttpServerConfiguration server) {
    this.audit = audit;
    this.tenants = tenants;
    this.blocking = blocking;
    this.maxRequestBytes = server.getMaxRequestSize(); // as the FHIR endpoints read it
  }

  /**
   * A body announced over the size limit by a client that waits for {@code 100 Continue} before it
   * sends it: the 413 now, before the framework asks for the body. The framework sent 100 Continue
   * first, and the client sent its whole body only to be refused after it. The connection is closed
   * after the answer: the client may send the body anyway, which nothing would read.
   */
  @RequestFilter
  public @Nullable CompletionStage<Optional<MutableHttpResponse<?>>> refuseTooLargeBeforeContinue(HttpRequest<?> request) {
    // the path's own limit: FHIR's CARECONTEXT_FHIR_MAX_BYTES, the small one elsewhere
    long limit = io.carecontext.services.http.RequestBodyLimits.limit(request.getPath(), maxRequestBytes);
    if (!expectsContinue(request) || request.getContentLength() <= limit) {
      return null;
    }
    MutableHttpResponse<?> refused = ApiErrorProcessor.answer(HttpResponse.status(HttpStatus.REQUEST_ENTITY_TOO_LARGE)
        .header(HttpHeaders.CONNECTION, "close"), request.getPath(), ApiErrorProcessor.tooLarge(limit, request.getPath()));
    return recordOrUnavailableLater(request, 413, refused);
  }

  static boolean expectsContinue(HttpRequest<?> request) {
    String expect = request.getHeaders().get(HttpHeaders.EXPECT);
    return expect != null && expect.strip().equalsIgnoreCase("100-continue");
  }

  /** Marks {@code request} as refused with {@code status} before any handler ran; recorded when it is 405, 406, 413 or 415. */
  public static void mark(HttpRequest<?> request, int status) {
    if (REASONS.containsKey(status)) {
      request.setAttribute(REFUSED, status);
    }
  }

  /** A JSON path's body without a Content-Type: 415, recorded; every other request goes on. */
  @RequestFilter
  public @Nullable CompletionStage<Optional<MutableHttpResponse<?>>> requireContentType(HttpRequest<?> request) {
    if (!untypedBody(request) || request.getAttribute(Caller.ATTRIBUTE).isEmpty()) {
      return null;
    }
    MutableHttpResponse<?> refused = HttpResponse.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE)
        .body(new ApiError("unsupported_media_type", "the request has a body but no Content-Type: send "
            + "Content-Type: application/json" + ("PATCH".equals(request.getMethodName())
                ? " (or application/merge-patch+json)" : "") + "; nothing was stored or returned"));
    return recordOrUnavailableLater(request, 415, refused);
  }

  /** A request refused before any handler ran (marked with {@link #mark}): recorded, or a 503 when it cannot be. */
  @ResponseFilter
  public @Nullable CompletionStage<Optional<MutableHttpResponse<?>>> recordRefusal(HttpRequest<?> request,
      MutableHttpResponse<?> response) {
    Integer status = request.getAttribute(REFUSED, Integer.class).orElse(null);
    if (status == null || status != response.code()) {
      return null;
    }
    return recordOrUnavailableLater(request, status, response);
  }

  /**
   * The row written on a blocking thread (it waits for the database); {@code answer}, or a 503 when it
   * cannot be. Optional because Micronaut 4.10 hands a stage's result, and the null of a method that
   * returns no stage, to a handler that refuses null unless the result type is Optional.
   */
  private CompletionStage<Optional<MutableHttpResponse<?>>> recordOrUnavailableLater(HttpRequest<?> request,
      int status, MutableHttpResponse<?> answer) {
    return CompletableFuture.supplyAsync(() -> Optional.of(recordOrUnavailable(request, status, answer)), blocking);
  }

  private MutableHttpResponse<?> recordOrUnavailable(HttpRequest<?> request, int status, MutableHttpResponse<?> answer) {
    try {
      record(request, status);
      return answer;
    } catch (RuntimeException e) {
      // the class only, as everywhere in the logs: an exception's message can carry row values
      LOG.warn("a refused request could not be recorded in its tenant's audit trail ({}): answered 503",
          e.getClass().getSimpleName());
      return ApiErrorProcessor.unavailable(request.getPath());
    }
  }

  /** A POST, PUT or PATCH with a body and no Content-Type, on a path that is not FHIR's. */
  static boolean untypedBody(HttpRequest<?> request) {
    String method = request.getMethodName();
    if (!("POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method))
        || FhirPaths.contains(request.getPath()) || request.getHeaders().contains(HttpHeaders.CONTENT_TYPE)) {
      return false;
    }
    String length = request.getHeaders().get(HttpHeaders.CONTENT_LENGTH);
    return request.getHeaders().contains(HttpHeaders.TRANSFER_ENCODING)
        || length != null && !length.strip().equals("0");
  }

  /**
   * Records the refusal of {@code request} with {@code status} (405, 406, 413 or 415), when a valid key made
   * it on a path of its tenant. Throws when the row cannot be written: the caller answers 503, as every
   * audited path does (fail closed).
   */
  void record(HttpRequest<?> request, int status) {
    String reason = REASONS.get(status);
    Caller caller = request.getAttribute(Caller.ATTRIBUTE, Caller.class).orElse(null);
    if (reason == null || caller == null) {
      return;
    }
    String path = request.getPath();
    String budgetKey = caller.budgetKey();
    tenantOf(caller, path).ifPresent(tenant -> {
      AuditEntry entry = AuditEntry.of(caller.principal(), caller.keyId(),
              caller.platformAdmin() ? List.of() : caller.requester().roles(), patientOf(path, tenant),
              null, action(request.getMethodName(), path), AuditEntry.Decision.DENIED, reason)
          .withDetail("route", AuditEntry.jsonString(AuthenticationFilter.routeShape(path)))
          .withDetail("method", AuditEntry.jsonString(method(request.getMethodName())))
          // written on a blocking thread of its own: the request's id and address from the request itself
          .withOrigin(AuthenticationFilter.origin(request));
      rows.record(audit, tenant, budgetKey, entry);
    });
  }

  private Optional<TenantId> tenantOf(Caller caller, String path) {
    String named = AuthenticationFilter.pathTenant(path);
    if ("-".equals(named)) {
      return Optional.empty();
    }
    if (caller.platformAdmin()) {
      return tenants.active(TenantId.of(named)).map(t -> TenantId.of(named));
    }
    return caller.tenant() != null && caller.tenant().value().equals(named) ? Optional.of(caller.tenant())
        : Optional.empty();
  }

  /** The standard methods as sent; any other (a made-up one) is not written into the trail. */
  private static String method(String method) {
    return switch (method) {
      case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT" -> method;
      default -> "(other)";
    };
  }

  /**
   * The action the request would have been recorded under had it been served: the patient paths' and
   * FHIR's whatever the method (a PUT on a patient's context is an attempt on that patient's record),
   * the admin paths' only for the method they take; {@code admin-request} or {@code request} for the rest.
   */
  static String action(String method, String path) {
    String[] s = path.split("/", -1);
    if (s.length > 1 && "fhir".equals(s[1])) {
      return "GET".equals(method) || "HEAD".equals(method) ? "fhir-read" : "fhir-write";
    }
    if (s.length > 5 && "v1".equals(s[1]) && "patients".equals(s[3]) && ("context".equals(s[5]) || "chat".equals(s[5]))) {
      return s[5];
    }
    if (s.length > 3 && "v1".equals(s[1]) && "research".equals(s[3])) {
      return "research";
    }
    if (s.length > 3 && "v1".equals(s[1]) && "audit".equals(s[3])) {
      // a review (/v1/{t}/audit/{auditId}/review) refused before its controller was recorded as a read of the trail
      return s.length > 4 && "verify".equals(s[4]) ? "audit-verify"
          : s.length > 4 && "export".equals(s[4]) ? "audit-export"
          : s.length == 6 && "review".equals(s[5]) ? "break-glass-review" : "audit-read";
    }
    if (s.length == 5 && "admin".equals(s[1]) && "keys".equals(s[4]) && "POST".equals(method)) {
      return "key-create";
    }
    if (s.length == 4 && "admin".equals(s[1]) && "PATCH".equals(method)) {
      return "tenant-settings";
    }
    return "admin".equals(s.length > 1 ? s[1] : "") ? "admin-request" : "request";
  }

  /** The patient a path names: {@code /v1/{t}/patients/{id}/…}, or a FHIR {@code Patient/{id}}; null otherwise. */
  static String patientOf(String path, TenantId tenant) {
    String[] s = path.split("/", -1);
    if (s.length > 4 && "fhir".equals(s[1]) && "Patient".equals(s[3]) && FhirId.isValid(s[4])) {
      return s[4];
    }
    return RefusedKeys.patientOf(path, tenant);
  }
}
