package io.carecontext.services.fhir;

import io.carecontext.fhir.Preferences;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a create or update asks to be answered with, by FHIR's {@code Prefer: return=minimal|representation|
 * OperationOutcome} (R4 RESTful API, "Managing Return Content"; RFC 7240's preference): the resource as
 * stored (representation, the default), no body (minimal), or an OperationOutcome about the write.
 */
enum PreferReturn {
  MINIMAL, REPRESENTATION, OPERATION_OUTCOME;

  /**
   * The return the {@code Prefer} headers ask for: representation without one, or with a value FHIR does
   * not define. Read by {@link Preferences}: case-insensitive, possibly quoted, comma-separated
   * across one or more headers; a request that asks for two different ones is answered as asking for none.
   */
  static PreferReturn of(List<String> preferHeaders) {
    Set<PreferReturn> asked = Preferences.values(preferHeaders, "return").stream()
        .map(value -> switch (value) {
          case "minimal" -> MINIMAL;
          case "operationoutcome" -> OPERATION_OUTCOME;
          default -> REPRESENTATION; // representation, or a value FHIR does not define
        })
        .collect(Collectors.toSet());
    return asked.size() == 1 ? asked.iterator().next() : REPRESENTATION;
  }
}
