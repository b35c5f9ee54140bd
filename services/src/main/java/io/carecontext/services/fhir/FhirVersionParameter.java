package io.carecontext.services.fhir;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import java.util.Map;
import java.util.Optional;

/**
 * FHIR's {@code fhirVersion} parameter of a body's Content-Type ({@code application/fhir+json; fhirVersion=3.0}),
 * by which a client says which FHIR version its body is. This endpoint reads R4 (4.0) only: a body declared as
 * another version is refused with 415, as FHIR asks of a server that does not support the version. It was read
 * as R4: an STU3 or R5 feed that said what it sent had its resources stored with every element R4 names
 * otherwise skipped, or refused with messages about R4's elements.
 */
final class FhirVersionParameter {

  private FhirVersionParameter() {
  }

  /** Why the request's Content-Type is refused, or empty when it names no fhirVersion or R4's. */
  static Optional<String> refusal(HttpRequest<?> request) {
    Map<CharSequence, String> parameters = request.getContentType().map(MediaType::getParametersMap).orElse(Map.of());
    for (Map.Entry<CharSequence, String> p : parameters.entrySet()) {
      if (p.getKey().toString().strip().equalsIgnoreCase("fhirVersion")) {
        String version = p.getValue() == null ? "" : p.getValue().strip().replaceAll("^\"|\"$", "");
        if (!version.matches("4\\.0(\\.[0-9]{1,3})?")) {
          String shown = version.matches("[0-9]{1,2}(\\.[0-9]{1,3}){0,2}") ? "fhirVersion=" + version
              : "the fhirVersion the Content-Type names";
          return Optional.of(shown + " is not one this endpoint reads: it takes FHIR R4 only (fhirVersion=4.0, "
              + "or no fhirVersion); send the resources as R4 defines them; nothing was stored");
        }
      }
    }
    return Optional.empty();
  }

  /** A body of another FHIR version than R4: answered 415 with the message. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }
}
