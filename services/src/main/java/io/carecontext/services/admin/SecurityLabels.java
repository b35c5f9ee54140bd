package io.carecontext.services.admin;

import io.carecontext.services.http.ApiException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The security label codes a role policy may name: HL7 v3 confidentiality codes and the v3 ActCode
 * information sensitivity codes. A chunk is read only by a role whose {@code labels} (or, with the
 * patient's consent, {@code labelsWithConsent}) hold every code of its resource's {@code meta.security}
 * (tenant migrations 16 and 17): a misspelt code ("PSY " or "psy") granted nothing and went unseen, and
 * any text at all was stored. Codes are compared as written, so case counts.
 */
final class SecurityLabels {

  /** v3 Confidentiality: unrestricted, low, moderate, normal, restricted, very restricted. */
  static final List<String> CONFIDENTIALITY = List.of("U", "L", "M", "N", "R", "V");

  /** v3 ActCode information sensitivity policies (act, entity and role sensitivity, compartments). */
  static final List<String> SENSITIVITY = List.of(
      "ETH", "GDIS", "HIV", "MST", "SCA", "SDV", "SEX", "SPI", "BH", "COGN", "DVD", "EMOTDIS", "MH", "PSY",
      "PSYTHPN", "SUD", "OPIOIDUD", "SICKLE", "STD", "TBOO",
      "DEMO", "DOB", "GENDER", "LIVARG", "MARST", "PATLOC", "RACE", "REL",
      "B", "EMPL", "LOCIS", "SSP", "ADOL", "CEL", "DIA", "DRGIS", "EMP", "PDS", "PHY", "PRS",
      "COMPT", "ACOCOMPT", "HRCOMPT", "RESCOMPT", "RMGTCOMPT");

  private static final Set<String> KNOWN = Set.copyOf(
      java.util.stream.Stream.concat(CONFIDENTIALITY.stream(), SENSITIVITY.stream()).toList());

  private SecurityLabels() {}

  /**
   * Checks the label lists of a rolePolicies value that passed its shape check (roles known, lists of
   * strings). The message names the role, the list and the position, never the code sent.
   */
  static void check(Object rolePolicies) {
    if (!(rolePolicies instanceof Map<?, ?> policies)) {
      return;
    }
    policies.forEach((role, policy) -> {
      if (policy instanceof Map<?, ?> p) {
        for (String field : List.of("labels", "labelsWithConsent")) {
          if (p.get(field) instanceof List<?> codes) {
            for (int i = 0; i < codes.size(); i++) {
              if (!KNOWN.contains(codes.get(i))) {
                throw ApiException.badRequest("settings.rolePolicies." + role + "." + field + "[" + i + "] is not a "
                    + "security label code the platform knows: use an HL7 v3 confidentiality code ("
                    + String.join(", ", CONFIDENTIALITY) + ") or a v3 sensitivity code (e.g. "
                    + String.join(", ", SENSITIVITY.subList(0, 20)) + "), as written, in capitals");
              }
            }
          }
        }
      }
    });
  }
}
