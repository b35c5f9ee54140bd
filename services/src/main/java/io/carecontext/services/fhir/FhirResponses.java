package io.carecontext.services.fhir;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.fhir.OperationOutcomes;
import io.carecontext.services.http.ApiException;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** FHIR answers: resources and OperationOutcomes as {@code application/fhir+json}. */
final class FhirResponses {

  static final String FHIR_JSON = "application/fhir+json";
  /** FHIR JSON's type before R4 (DSTU2), still sent by HAPI clients and many EHR interfaces. */
  static final String LEGACY_FHIR_JSON = "application/json+fhir";
  /** The media types a FHIR JSON body may be sent as, and a client may ask for. */
  static final java.util.Set<String> JSON_TYPES = java.util.Set.of(FHIR_JSON, LEGACY_FHIR_JSON, "application/json");

  private FhirResponses() {}

  /**
   * HTTP's date form (RFC 9110's IMF-fixdate: {@code Mon, 07 Dec 2026 15:40:30 GMT}), for Last-Modified. Java's
   * RFC_1123_DATE_TIME writes the first nine days of a month with one digit ({@code Mon, 7 Dec 2026}), which
   * IMF-fixdate does not allow and a strict client's parser refuses.
   */
  private static final java.time.format.DateTimeFormatter HTTP_DATE = java.time.format.DateTimeFormatter
      .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.ENGLISH).withZone(java.time.ZoneOffset.UTC);

  /** {@code time} as an HTTP date: to the second, in GMT, as Last-Modified and If-Modified-Since carry it. */
  static String httpDate(java.time.Instant time) {
    return HTTP_DATE.format(time);
  }

  static MutableHttpResponse<String> ok(HttpStatus status, IBaseResource resource) {
    return HttpResponse.<String>status(status).contentType(FHIR_JSON).body(Fhir.toJson(resource));
  }

  static MutableHttpResponse<String> outcome(int status, String code, String message) {
    return HttpResponse.<String>status(HttpStatus.valueOf(status)).contentType(FHIR_JSON)
        .body(OperationOutcomes.toJson(code, message));
  }

  static MutableHttpResponse<String> of(FhirInputException e) {
    return HttpResponse.<String>status(HttpStatus.valueOf(e.httpStatus())).contentType(FHIR_JSON)
        .body(OperationOutcomes.toJson(e.issues()));
  }

  /** Authentication, authorization and tenant errors keep their status and text, as an OperationOutcome. */
  static MutableHttpResponse<String> of(ApiException e) {
    String code = switch (e.status().getCode()) {
      case 401 -> "login";
      case 403 -> "forbidden";
      case 404 -> "not-found";
      case 429 -> "throttled";
      default -> "processing";
    };
    return outcome(e.status().getCode(), code, e.getMessage());
  }
}
