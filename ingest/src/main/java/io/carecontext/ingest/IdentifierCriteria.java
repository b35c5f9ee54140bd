package io.carecontext.ingest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The one form of conditional-create criteria the store matches: {@code identifier=system|value}
 * (or {@code identifier=|value} for an identifier without a system), URL-encoded, as in a Bundle
 * entry's {@code request.ifNoneExist} and the {@code If-None-Exist} header of a create. Matched
 * through the hashed identifier index, which holds each identifier as system and value together.
 */
record IdentifierCriteria(String system, String value) {

  /**
   * Empty when the criteria are not of that form, which includes a second parameter
   * ({@code identifier=…&birthdate=…}: a '&' in a value is sent as %26) and an empty value. Both
   * were taken as one identifier's value, one that no resource carries: a conditional create
   * with them created a resource every time, where the caller expected it to match.
   */
  static Optional<IdentifierCriteria> parse(String criteria) {
    if (criteria == null || !criteria.startsWith("identifier=") || criteria.indexOf('&') >= 0) {
      return Optional.empty();
    }
    String token;
    try {
      token = URLDecoder.decode(criteria.substring("identifier=".length()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException brokenEscape) {
      // a '%' that starts no escape (an MRN "12%A" sent as it is): the decoder's exception, which
      // quotes the value, reached no handler and answered 500
      return Optional.empty();
    }
    int bar = token.indexOf('|');
    if (bar < 0) {
      // FHIR reads identifier=value as that value in any system; the index holds system and value
      // together, so it was matched as "no system" instead, and a create whose patient's MRN has a
      // system made a duplicate patient. Refused, so the caller names the system.
      return Optional.empty();
    }
    IdentifierCriteria c = new IdentifierCriteria(bar == 0 ? null : token.substring(0, bar), token.substring(bar + 1));
    return c.value().isEmpty() ? Optional.empty() : Optional.of(c);
  }

  /** What every refusal of criteria adds: they are URL-encoded, so a '%' of a value must be too. */
  static final String ENCODED = "; criteria are URL-encoded: send a % in a system or value as %25";

  /** Names no value: criteria may carry an MRN. */
  @Override
  public String toString() {
    return "IdentifierCriteria[identifier=…]";
  }
}
