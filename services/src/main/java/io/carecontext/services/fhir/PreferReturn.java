package io.carecontext.services.fhir;

import java.util.List;
import java.util.Locale;

/**
 * What a create or update asks to be answered with, by FHIR's {@code Prefer: return=minimal|representation|
 * OperationOutcome} (R4 RESTful API, "Managing Return Content"; RFC 7240's preference): the resource as
 * stored (representation, the default), no body (minimal), or an OperationOutcome about the write.
 */
enum PreferReturn {
  MINIMAL, REPRESENTATION, OPERATION_OUTCOME;

  /**
   * The return the {@code Prefer} headers ask for: representation without one, or with a value FHIR does
   * not define. As {@link io.carecontext.fhir.Handling#of}: case-insensitive, possibly quoted, comma-separated
   * across one or more headers; a request that asks for two different ones is answered as asking for none.
   */
  static PreferReturn of(List<String> preferHeaders) {
    PreferReturn asked = null;
    for (String header : preferHeaders == null ? List.<String>of() : preferHeaders) {
      for (String preference : header.split(",")) {
        String token = preference.split(";", 2)[0].strip();
        int eq = token.indexOf('=');
        if (eq < 0 || !token.substring(0, eq).strip().equalsIgnoreCase("return")) {
          continue;
        }
        PreferReturn value = switch (token.substring(eq + 1).strip().replace("\"", "").toLowerCase(Locale.ROOT)) {
          case "minimal" -> MINIMAL;
          case "representation" -> REPRESENTATION;
          case "operationoutcome" -> OPERATION_OUTCOME;
          default -> REPRESENTATION;
        };
        if (asked != null && asked != value) {
          return REPRESENTATION;
        }
        asked = value;
      }
    }
    return asked == null ? REPRESENTATION : asked;
  }
}
