package io.carecontext.services.http;

import io.carecontext.services.fhir.FhirPaths;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import io.micronaut.serde.exceptions.InvalidPropertyFormatException;
import io.micronaut.serde.exceptions.SerdeException;
import io.micronaut.http.server.netty.NettyHttpRequest;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import jakarta.inject.Singleton;
import java.util.Collection;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Turns the framework's own errors (no route, bad JSON, wrong method, unsupported media type…) into
 * {@code {"error","message"}}. The framework's messages can quote the request body, which may hold
 * PHI, so they are replaced by fixed texts chosen by status; a field of the wrong type is named,
 * with the type it needs, and its value left out.
 */
@Singleton
public class ApiErrorProcessor implements ErrorResponseProcessor<Object> {

  /** The Retry-After of every 503 the service answers: the database or the audit trail was out of reach. */
  public static final String RETRY_AFTER_SECONDS = "5";
  private static final Pattern FIELD = Pattern.compile("^[A-Za-z][A-Za-z0-9_]{0,40}$");
  private static final Pattern UNKNOWN = Pattern.compile("Unknown property \\[(.*?)] encountered", Pattern.DOTALL);

  private final long maxRequestBytes;

  /** The limit as the server enforces it, read as RefusedRequests and the FHIR endpoints read it. */
  @jakarta.inject.Inject
  public ApiErrorProcessor(io.micronaut.http.server.HttpServerConfiguration server) {
    this(server.getMaxRequestSize());
  }

  ApiErrorProcessor(long maxRequestBytes) {
    this.maxRequestBytes = maxRequestBytes;
  }

  @Override
  public MutableHttpResponse<Object> processResponse(ErrorContext context, MutableHttpResponse<?> response) {
    Optional<ApiError> tooLong = context.getRequest() instanceof NettyHttpRequest<?> n
        ? tooLong(n.getNativeRequest().decoderResult().cause()) : Optional.empty();
    if (tooLong.isPresent()) {
      // Netty could not read the request line or headers, so there is no path to tell a FHIR client
      // by (the framework names it /bad-request), and the framework answers 413, as if the body were
      // too large.
      return unread(response.status("uri_too_long".equals(tooLong.get().error()) ? 414 : 431)
          .contentType(MediaType.APPLICATION_JSON_TYPE).body(tooLong.get()));
    }
    if (context.getRequest() instanceof NettyHttpRequest<?> n && n.getNativeRequest().decoderResult().isFailure()) {
      // A header Netty could not parse (a space in its name, a Content-Length that is not a number):
      // "send a JSON body" sent the caller to the wrong part of the request.
      return unread(response.status(HttpStatus.BAD_REQUEST).contentType(MediaType.APPLICATION_JSON_TYPE)
          .body(MALFORMED_HEAD));
    }
    if (response.status() == HttpStatus.INTERNAL_SERVER_ERROR
        && context.getRootCause().filter(ApiErrorProcessor::databaseUnreachable).isPresent()) {
      // Not a fault of the request and not a bug: the caller should retry, and a probe or load
      // balancer should see the service as unavailable rather than broken.
      response.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", RETRY_AFTER_SECONDS);
    }
    boolean keyUnavailable = response.status() == HttpStatus.INTERNAL_SERVER_ERROR
        && context.getRootCause().filter(ApiErrorProcessor::keyUnavailable).isPresent();
    if (keyUnavailable) {
      // the process lacks the key-encryption key the tenant's data key needs (a rotation or a restore
      // under way): another process, or this one restarted with the key, can serve it
      response.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", RETRY_AFTER_SECONDS);
    }
    HttpStatus status = response.status();
    // a valid key's request refused before its handler ran: recorded in its tenant's trail once
    // authentication has run (RefusedRequests), as the handlers record their own refusals
    io.carecontext.services.auth.RefusedRequests.mark(context.getRequest(), status.getCode());
    ApiError body = context.getRootCause().filter(t -> status == HttpStatus.BAD_REQUEST).flatMap(ApiErrorProcessor::badField)
        .orElseGet(() -> status == HttpStatus.REQUEST_ENTITY_TOO_LARGE
            ? tooLarge(RequestBodyLimits.limit(context.getRequest().getPath(), maxRequestBytes), context.getRequest().getPath())
            : keyUnavailable ? KEY_UNAVAILABLE
            : status == HttpStatus.NOT_ACCEPTABLE && AUDIT_EXPORT.matcher(context.getRequest().getPath()).matches()
                ? EXPORT_NOT_ACCEPTABLE : body(status));
    return shaped(response, context.getRequest().getPath(), body);
  }

  /**
   * The 503 for a request the database could not serve, for code that answers before the
   * framework's error handling would (the authentication filter): the same status, header and
   * body as {@link #processResponse} gives.
   */
  public static MutableHttpResponse<Object> unavailable(String path) {
    return shaped(HttpResponse.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", RETRY_AFTER_SECONDS),
        path, body(HttpStatus.SERVICE_UNAVAILABLE));
  }

  /** {@code response} with {@code body}, as the path's clients expect it (an OperationOutcome on FHIR paths). */
  public static MutableHttpResponse<Object> answer(MutableHttpResponse<?> response, String path, ApiError body) {
    return shaped(response, path, body);
  }

  /** The error body as the path's clients expect it: FHIR clients an OperationOutcome, whatever failed. */
  private static MutableHttpResponse<Object> shaped(MutableHttpResponse<?> response, String path, ApiError body) {
    if (FhirPaths.contains(path)) {
      return response.contentType("application/fhir+json").body(io.carecontext.fhir.OperationOutcomes.toJson(
          fhirCode(response.status().getCode()), path.endsWith("/_history") && response.status().getCode() == 404
              ? HISTORY : fhirMessage(response.status(), body.message())));
    }
    return response.contentType(MediaType.APPLICATION_JSON_TYPE).body(body);
  }

  /** A history read ({@code …/{type}/{id}/_history}): no such path, but the client needs to hear why. */
  static final String HISTORY = "the history interaction (…/_history) is not supported: read a version at "
      + "/fhir/{tenant}/{type}/{id}/_history/{vid} (a read's ETag names the current one)";

  /**
   * What a FHIR client needs to hear where the generic text would leave it guessing: a newcomer's
   * search ({@code GET /fhir/acme/Patient?name=…}) or history read met "this path does not accept
   * that method", with nothing to say that the endpoint has none.
   */
  private static String fhirMessage(HttpStatus status, String message) {
    if (!message.equals(body(status).message())) {
      // a message of its own (the worker's "this is an embedding worker…") says more than the generic
      // FHIR text, which told a client that reached a worker to check the resource's path
      return message;
    }
    return switch (status.getCode()) {
      // FHIR paths produce FHIR's own type (application/json too): name that one to a FHIR client
      case 406 -> "the Accept header names no type this path answers: send Accept: application/fhir+json (or none)";
      case 405 -> "this FHIR path does not take that method (the Allow header names those it does): the endpoint "
          + "reads, creates, updates and deletes by type and id and takes Bundles and $import; search, history, "
          + "PATCH and other operations are not supported (GET /fhir/{tenant}/metadata lists what is)";
      case 404 -> "no such FHIR path: resources are at /fhir/{tenant}/{type}/{id}, their versions at "
          + "/fhir/{tenant}/{type}/{id}/_history/{vid} (GET /fhir/{tenant}/metadata lists what is supported)";
      default -> message;
    };
  }

  /** A field of the wrong type, or one the body does not define: named, with its value left out. */
  public static Optional<ApiError> badField(Throwable error) {
    return badField(error, null);
  }

  /** As {@link #badField(Throwable)}, naming the fields a body of {@code type} (a record) takes. */
  public static Optional<ApiError> badField(Throwable error, @io.micronaut.core.annotation.Nullable Class<?> type) {
    return wrongType(error).or(() -> unknownField(error, type));
  }

  /**
   * A field the request record does not define, in a body that refuses them (annotated
   * JsonIgnoreProperties with ignoreUnknown false). Never named: it is the caller's text, and a field
   * named like an MRN or a patient's name ({@code {"Jane Doe 1962":1}}) was quoted back when it looked
   * like a field name. The fields the body takes are listed instead, when the record is known.
   */
  static Optional<ApiError> unknownField(Throwable error, @io.micronaut.core.annotation.Nullable Class<?> type) {
    return causes(error).filter(t -> t instanceof SerdeException && t.getMessage() != null)
        .map(t -> UNKNOWN.matcher(t.getMessage())).filter(Matcher::lookingAt).findFirst()
        .map(m -> new ApiError("bad_request", "an unknown field: this body takes only "
            + (type != null && type.isRecord() ? "the fields " + fieldsOf(type) + " (see /openapi.yml)"
                : "the documented fields (see /openapi.yml)")));
  }

  /** The JSON fields of a request record: its components' names, as the bodies here are written. */
  public static String fieldsOf(Class<?> record) {
    return String.join(", ", java.util.Arrays.stream(record.getRecordComponents())
        .map(java.lang.reflect.RecordComponent::getName).toList());
  }

  /**
   * A JSON field of the wrong type ({@code "k": "many"}): names the field and the type it needs,
   * never the value sent. The name comes from the request record, not from the body.
   */
  static Optional<ApiError> wrongType(Throwable error) {
    return causes(error).filter(t -> t instanceof InvalidPropertyFormatException e && e.getArgument() != null
            && FIELD.matcher(e.getArgument().getName()).matches())
        .map(t -> ((InvalidPropertyFormatException) t).getArgument()).findFirst()
        .map(a -> new ApiError("bad_request", "field '" + a.getName() + "' must be " + kind(a.getType())
            + " (see /openapi.yml)"));
  }

  /**
   * The database could not be reached: a connection refused or lost (SQLSTATE class 08), a server
   * shutting down or starting (57P01–57P03), or no pooled connection within the pool's timeout.
   */
  public static boolean databaseUnreachable(Throwable error) {
    return causes(error).anyMatch(t -> t instanceof java.sql.SQLTransientConnectionException
        || t instanceof java.sql.SQLException e && e.getSQLState() != null
            && (e.getSQLState().startsWith("08") || e.getSQLState().matches("57P0[123]")));
  }

  /**
   * The tenant's data key cannot be opened by this process now: it is wrapped under a key-encryption
   * key this process does not hold, or the key store (a PKCS#11 token) failed to answer.
   */
  public static boolean keyUnavailable(Throwable error) {
    return causes(error).anyMatch(t -> t instanceof io.carecontext.migrations.TenantKeys.KekNotHeldException
        || t instanceof io.carecontext.migrations.crypto.KeyProviderException);
  }

  static final ApiError KEY_UNAVAILABLE = new ApiError("key_unavailable", "this service process cannot open the "
      + "tenant's encryption key now (its key-encryption key is being rotated or restored, or its key store does "
      + "not answer): retry later; if it "
      + "persists, tell the operator, whose log names the key it needs; nothing was stored or returned");

  /**
   * The headers every answer carries (README: X-Request-Id and {@link SecurityHeaders}'s), on an
   * answer to a request whose head could not be read: it reaches no filter, so the 414, 431 and 400 went
   * without them. Its id is a new one, as the caller's header may be the one that could not be read.
   */
  static MutableHttpResponse<Object> unread(MutableHttpResponse<Object> response) {
    SecurityHeaders.set(response.getHeaders(), false);
    response.getHeaders().set("X-Request-Id", java.util.UUID.randomUUID().toString());
    return response;
  }

  /** A request line or header block over Netty's limits (4,096 and 8,192 bytes). */
  static Optional<ApiError> tooLong(Throwable error) {
    return causes(error).filter(t -> t instanceof TooLongHttpLineException || t instanceof TooLongHttpHeaderException)
        .findFirst().map(t -> t instanceof TooLongHttpLineException
            ? new ApiError("uri_too_long", "the request line is over 4,096 bytes: shorten the URL "
                + "(ids are at most 64 characters; questions go in the request body)")
            : new ApiError("headers_too_large", "the request headers are over 8,192 bytes: shorten them"));
  }

  /** A request line or header that is not HTTP/1.1; never quoted back, since it may carry a key or PHI. */
  static final ApiError MALFORMED_HEAD = new ApiError("bad_request", "the request line or a header is malformed "
      + "(a header name with a space or a colon missing, a Content-Length that is not a number, …): check what the "
      + "HTTP client sends; the request was not read");

  /** The error and its causes, outermost first. */
  static Stream<Throwable> causes(Throwable error) {
    return Stream.iterate(error, java.util.Objects::nonNull, Throwable::getCause);
  }

  private static String kind(Class<?> type) {
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "a whole number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "a string";
    }
    if (type == java.time.Instant.class) {
      return "an ISO-8601 instant, e.g. 2030-01-01T00:00:00Z";
    }
    if (Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return Number.class.isAssignableFrom(type) || type.isPrimitive() ? "a number" : "an object";
  }

  static String fhirCode(int status) {
    return switch (status) {
      case 401 -> "login";
      case 403 -> "forbidden";
      case 404 -> "not-found";
      case 413 -> "too-costly";
      case 415, 405, 406 -> "not-supported";
      case 429 -> "throttled";
      case 503 -> "transient";
      default -> status >= 500 ? "exception" : "invalid";
    };
  }

  /**
   * The 413, with the limit: the caller must know how much to cut (it said only "the configured limit").
   * Only a FHIR client is told to split a Bundle; a context, chat or admin body that large is a
   * client sending the wrong thing, and the operator's setting is not the fix for it. {@code $import}'s
   * says to split the NDJSON file.
   */
  public static ApiError tooLarge(long limit, String path) {
    return tooLarge(limit, FhirPaths.contains(path), path.endsWith("/$import"));
  }

  private static ApiError tooLarge(long limit, boolean fhir, boolean ndjson) {
    if (ndjson) {
      return new ApiError("payload_too_large", "the body is over the configured limit (CARECONTEXT_FHIR_MAX_BYTES, "
          + limit + " bytes); nothing was stored: split the NDJSON file");
    }
    return new ApiError("payload_too_large", fhir
        ? "the request body is over the limit of " + limit + " bytes (CARECONTEXT_FHIR_MAX_BYTES); nothing was "
            + "stored: send less in one request (split a Bundle, or load large sets with $import)"
        : "the request body is over the limit of " + limit + " bytes of this path; nothing was stored or returned: "
            + "it takes a small JSON body with the documented fields (see /openapi.yml); check what the client sends");
  }

  /** The audit export's path: the one JSON-side path whose answer is not JSON. */
  private static final Pattern AUDIT_EXPORT = Pattern.compile("^/v1/[^/]+/audit/export/?$");

  /**
   * An export asked for as JSON (a client that sends {@code Accept: application/json} on every call) heard
   * "ask for application/json", which it had, and which is refused again: the export is NDJSON.
   */
  static final ApiError EXPORT_NOT_ACCEPTABLE = new ApiError("not_acceptable", "the audit export is FHIR AuditEvent "
      + "NDJSON: ask for application/fhir+ndjson (or send no Accept header)");

  static ApiError body(HttpStatus status) {
    return switch (status.getCode()) {
      case 400 -> new ApiError("bad_request",
          "the request is malformed: send a JSON body with the documented fields (see /openapi.yml)");
      case 401 -> new ApiError("unauthorized", "missing or invalid API key");
      case 403 -> new ApiError("forbidden", "this key may not do that");
      case 404 -> new ApiError("not_found", "no such resource: check the path");
      case 405 -> new ApiError("method_not_allowed", "this path does not accept that method: the Allow header "
          + "names those it does (/openapi.yml describes each path)");
      case 406 -> new ApiError("not_acceptable",
          "the Accept header names no type this path answers: send Accept: application/json (or none)");
      case 413 -> new ApiError("payload_too_large", "the request body is over the configured limit");
      case 415 -> new ApiError("unsupported_media_type", "send Content-Type: application/json (FHIR paths: application/fhir+json)");
      case 429 -> new ApiError("rate_limited", "too many requests: retry later");
      case 503 -> new ApiError("unavailable", "the service cannot reach its database or is not ready: retry later; "
          + "nothing was stored or returned");
      default -> status.getCode() >= 500
          ? new ApiError("internal_error", "the server failed to handle the request; it was logged without its content")
          : new ApiError(status.name().toLowerCase(java.util.Locale.ROOT), status.getReason());
    };
  }
}
