package io.carecontext.ingest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The one form of conditional-create criteria the store matches: {@code identifier=system|value}
 * (or {@code identifier=|value} for an identifier without a system), URL-encoded, as in a Bundle
 * entry's {@code request.ifNoneExist} and the {@code If-None-Exist} header of a create. Matched
 * through the hashed identifier index, which holds each identifier as system and value together.
 *
 * <p>The token is read with FHIR's search escapes ("Escaping Search Parameters"): {@code \|},
 * {@code \,} and {@code \$} stand for the character, {@code \\} for a backslash. They were taken
 * literally: {@code identifier=urn:mrn|A\|B} looked for the value {@code A\|B}, which no resource
 * carries, and a conditional create made a duplicate of the patient whose MRN is {@code A|B}.
 */
record IdentifierCriteria(String system, String value) {

  /**
   * Empty when the criteria are not of that form, which includes a second parameter
   * ({@code identifier=…&birthdate=…}: a '&' in a value is sent as %26) and an empty value. Both
   * were taken as one identifier's value, one that no resource carries: a conditional create
   * with them created a resource every time, where the caller expected it to match.
   * {@link #problem} says what was wrong.
   */
  static Optional<IdentifierCriteria> parse(String criteria) {
    return Optional.ofNullable(read(criteria).criteria());
  }

  /**
   * What a refusal of {@code criteria} adds to its message: what was wrong with them where that is
   * more than their form ({@link #ENCODED} otherwise). Never quotes them: criteria may carry an MRN.
   */
  static String problem(String criteria) {
    String p = read(criteria).problem();
    return p == null ? ENCODED : p;
  }

  /** What every refusal of criteria adds: they are URL-encoded, so a '%' of a value must be too. */
  static final String ENCODED = "; criteria are URL-encoded: send a % in a system or value as %25";

  static final String OR_LIST = "; a ',' lists identifiers of which any may match, which conditional matching "
      + "does not take: name one identifier, and send a ',' within a system or value as \\,";
  static final String SECOND_BAR = "; the first '|' separates system and value, so a '|' within the value is "
      + "sent as \\| (FHIR search escaping)";
  static final String BAD_ESCAPE = "; a backslash starts an escape: \\| \\, \\$, or \\\\ for a backslash itself "
      + "(FHIR search escaping)";
  static final String SYSTEM_BAR = "; an identifier's system is a URI, which cannot contain '|'";

  private record Reading(IdentifierCriteria criteria, String problem) {
    static Reading refused(String problem) {
      return new Reading(null, problem);
    }
  }

  private static Reading read(String criteria) {
    if (criteria == null || !criteria.startsWith("identifier=") || criteria.indexOf('&') >= 0) {
      return Reading.refused(null);
    }
    String token;
    try {
      token = URLDecoder.decode(criteria.substring("identifier=".length()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException brokenEscape) {
      // a '%' that starts no escape (an MRN "12%A" sent as it is): the decoder's exception, which
      // quotes the value, reached no handler and answered 500
      return Reading.refused(null);
    }
    String system = null;
    StringBuilder part = new StringBuilder();
    for (int i = 0; i < token.length(); i++) {
      char ch = token.charAt(i);
      if (ch == '\\') {
        char next = i + 1 < token.length() ? token.charAt(i + 1) : 0;
        if (next != '|' && next != ',' && next != '$' && next != '\\') {
          return Reading.refused(BAD_ESCAPE);
        }
        part.append(next);
        i++;
      } else if (ch == '|') {
        if (system != null) {
          // taken as part of the value, while FHIR reads it as a separator: refused, not guessed
          return Reading.refused(SECOND_BAR);
        }
        system = part.toString();
        part.setLength(0);
      } else if (ch == ',') {
        // FHIR's OR list, which was taken as one value (that no resource carries, or, in part, another's)
        return Reading.refused(OR_LIST);
      } else {
        part.append(ch);
      }
    }
    if (system == null) {
      // FHIR reads identifier=value as that value in any system; the index holds system and value
      // together, so it was matched as "no system" instead, and a create whose patient's MRN has a
      // system made a duplicate patient. Refused, so the caller names the system.
      return Reading.refused(null);
    }
    if (system.indexOf('|') >= 0) {
      // no resource may carry such a system (ResourceValidator), and the index's hash of system and
      // value together could not tell it from a '|' in the value
      return Reading.refused(SYSTEM_BAR);
    }
    String value = part.toString();
    return value.isEmpty() ? Reading.refused(null)
        : new Reading(new IdentifierCriteria(system.isEmpty() ? null : system, value), null);
  }

  /** Names no value: criteria may carry an MRN. */
  @Override
  public String toString() {
    return "IdentifierCriteria[identifier=…]";
  }
}
