package io.carecontext.fhir;

import java.util.List;
import java.util.Set;

/**
 * What a write asks of elements R4 does not define, by FHIR's {@code Prefer: handling=strict|lenient}
 * (RFC 7240's preference, which FHIR's RESTful API adopts): lenient (the default) skips them and says
 * so where the answer has room; strict refuses the resource.
 */
public enum Handling {
  LENIENT, STRICT;

  /**
   * The handling the {@code Prefer} headers ask for: lenient without one. RFC 7240: the value is
   * case-insensitive and may be quoted, preferences are comma-separated across one or more headers,
   * and a request that asks for both is treated as asking for neither.
   */
  public static Handling of(List<String> preferHeaders) {
    Set<String> asked = Preferences.values(preferHeaders, "handling");
    return asked.contains("strict") && !asked.contains("lenient") ? STRICT : LENIENT;
  }
}
