package io.carecontext.services.fhir;

/** Which request paths are the FHIR endpoint's, whose clients expect every answer, errors too, in FHIR. */
public final class FhirPaths {

  private FhirPaths() {}

  /**
   * {@code /fhir} itself and everything under it. A client that left the tenant out of its base URL
   * ({@code GET /fhir}) got the JSON API's {@code {"error"}} body, which a FHIR client cannot read.
   */
  public static boolean contains(String path) {
    return path.equals("/fhir") || path.startsWith("/fhir/");
  }
}
