package io.carecontext.services.fhir;

import io.carecontext.services.auth.AuthenticationFilter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.annotation.Order;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * FHIR's {@code _format} parameter, which a client uses in place of Accept (a browser, a link in a
 * report): the endpoint answers JSON only, so a request for XML, Turtle or HTML is a 406 that says
 * so. It was ignored, and {@code ?_format=xml} got JSON with 200, which an XML client then failed to
 * parse with no hint why. A FHIR version other than R4 asked for by {@code _format} or Accept
 * ({@code application/fhir+json; fhirVersion=5.0}) is a 406 too ({@link FhirVersionParameter#answerRefusal}).
 * Runs after authentication (a request without a key is a 401 first).
 */
@ServerFilter("/fhir/**")
@Order(AuthenticationFilter.ORDER + 100)
public class FormatParameter {

  /** The values FHIR defines for JSON (R4 3.1.0.1.10): its short name and the types a body may be sent as. */
  private static final Set<String> JSON = java.util.stream.Stream.concat(java.util.stream.Stream.of("json"),
      FhirResponses.JSON_TYPES.stream()).collect(java.util.stream.Collectors.toUnmodifiableSet());

  @RequestFilter
  @Nullable
  public MutableHttpResponse<String> refuseOtherFormats(HttpRequest<?> request) {
    List<String> formats = request.getParameters().getAll("_format");
    for (String format : formats) {
      if (!isJson(format)) {
        io.carecontext.services.auth.RefusedRequests.mark(request, 406);
        return FhirResponses.outcome(406, "not-supported", "this endpoint answers FHIR JSON only: "
            + "use _format=json (or application/fhir+json), or leave _format out");
      }
    }
    // _format stands in for Accept when given (FHIR R4 3.1.0.1.10), so the version is read from the one that counts
    java.util.Optional<String> otherVersion = FhirVersionParameter.answerRefusal(
        formats.isEmpty() ? request.getHeaders().getAll(io.micronaut.http.HttpHeaders.ACCEPT) : formats);
    if (otherVersion.isPresent()) {
      io.carecontext.services.auth.RefusedRequests.mark(request, 406);
      return FhirResponses.outcome(406, "not-supported", otherVersion.get());
    }
    return null;
  }

  /** {@code application/fhir+json; fhirVersion=4.0} is JSON too: parameters after the type are FHIR's to add. */
  static boolean isJson(String format) {
    int semicolon = format.indexOf(';');
    // an unescaped '+' in a query string arrives as a blank: application/fhir+json sent as it is
    String type = (semicolon < 0 ? format : format.substring(0, semicolon)).strip().replace(' ', '+')
        .toLowerCase(Locale.ROOT);
    return JSON.contains(type);
  }
}
