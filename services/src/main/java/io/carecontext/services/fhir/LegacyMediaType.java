package io.carecontext.services.fhir;

import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.util.Locale;

/**
 * Answers a FHIR client that asks only for {@code application/json+fhir}, FHIR JSON's type before
 * R4, in that type, as HAPI's server does: the body is the same JSON, and a client that names one
 * type may take only that one. A client that also names {@code application/fhir+json} gets R4's type.
 */
@ServerFilter("/fhir/**")
public class LegacyMediaType {

  @ResponseFilter
  public void answerInTheTypeAskedFor(HttpRequest<?> request, MutableHttpResponse<?> response) {
    String accept = String.join(",", request.getHeaders().getAll(HttpHeaders.ACCEPT)).toLowerCase(Locale.ROOT);
    boolean fhirJson = response.getContentType().map(m -> (m.getType() + "/" + m.getSubtype())
        .equals(FhirResponses.FHIR_JSON)).orElse(false);
    if (fhirJson && accept.contains(FhirResponses.LEGACY_FHIR_JSON) && !accept.contains(FhirResponses.FHIR_JSON)) {
      response.contentType(FhirResponses.LEGACY_FHIR_JSON);
    }
  }
}
