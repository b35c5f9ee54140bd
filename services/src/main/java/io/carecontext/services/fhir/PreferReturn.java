package io.carecontext.services.fhir;

import io.carecontext.fhir.Preferences;
import java.util.List;
import java.util.Optional;
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
    return asked(preferHeaders).orElse(REPRESENTATION);
  }

  /**
   * What each written entry of a transaction or batch response is answered with (R4 applies the
   * preference to every entry), read as {@link #of} reads it; but without one (or with one FHIR does not
   * define, or two), each entry answers as it always has here: {@code entry.response} without the resource
   * (minimal). R4 leaves the default to the server, and feeds that post large Bundles were never sent
   * every resource back.
   */
  static PreferReturn forEntries(List<String> preferHeaders) {
    return asked(preferHeaders).orElse(MINIMAL);
  }

  private static Optional<PreferReturn> asked(List<String> preferHeaders) {
    Set<Optional<PreferReturn>> asked = Preferences.values(preferHeaders, "return").stream()
        .map(value -> switch (value) {
          case "minimal" -> Optional.of(MINIMAL);
          case "representation" -> Optional.of(REPRESENTATION);
          case "operationoutcome" -> Optional.of(OPERATION_OUTCOME);
          default -> Optional.<PreferReturn>empty(); // a value FHIR does not define
        })
        .collect(Collectors.toSet());
    return asked.size() == 1 ? asked.iterator().next() : Optional.empty();
  }
}
