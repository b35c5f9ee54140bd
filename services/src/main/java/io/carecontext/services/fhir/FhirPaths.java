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

  /**
   * {@code /fhir/{tenant}/metadata}, the CapabilityStatement, which FHIR clients read before they
   * authenticate (SMART discovery; HAPI's client checks the server's version with it). It is the same
   * for every tenant id but its base URL, so answering it without a key says nothing about which
   * tenants exist.
   */
  public static boolean isCapabilities(String path) {
    String[] s = path.split("/", -1);
    return s.length == 4 && s[0].isEmpty() && "fhir".equals(s[1]) && io.carecontext.migrations.TenantId.isValid(s[2])
        && "metadata".equals(s[3]);
  }
}
