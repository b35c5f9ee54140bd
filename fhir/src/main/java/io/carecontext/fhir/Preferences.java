package io.carecontext.fhir;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The values a request's {@code Prefer} headers give one preference (RFC 7240, which FHIR's RESTful API
 * adopts for {@code handling} and {@code return}): comma-separated across one or more headers, the name
 * and value case-insensitive, the value possibly quoted, parameters after {@code ;} ignored. Lower case,
 * in the order sent; empty when the preference is not asked for.
 */
public final class Preferences {

  private Preferences() {}

  public static Set<String> values(List<String> preferHeaders, String preference) {
    Set<String> values = new LinkedHashSet<>();
    for (String header : preferHeaders == null ? List.<String>of() : preferHeaders) {
      for (String item : header.split(",")) {
        String token = item.split(";", 2)[0].strip();
        int eq = token.indexOf('=');
        if (eq >= 0 && token.substring(0, eq).strip().equalsIgnoreCase(preference)) {
          values.add(token.substring(eq + 1).strip().replace("\"", "").toLowerCase(Locale.ROOT));
        }
      }
    }
    return values;
  }
}
