package io.carecontext.services.fhir;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * FHIR's {@code fhirVersion} parameter of a body's Content-Type ({@code application/fhir+json; fhirVersion=3.0}),
 * by which a client says which FHIR version its body is. This endpoint reads R4 (4.0) only: a body declared as
 * another version is refused with 415, as FHIR asks of a server that does not support the version. It was read
 * as R4: an STU3 or R5 feed that said what it sent had its resources stored with every element R4 names
 * otherwise skipped, or refused with messages about R4's elements.
 */
final class FhirVersionParameter {

  private FhirVersionParameter() {
  }

  /** Why the request's Content-Type is refused, or empty when it names no fhirVersion or R4's. */
  static Optional<String> refusal(HttpRequest<?> request) {
    return refusal(request.getHeaders().get(HttpHeaders.CONTENT_TYPE));
  }

  /**
   * Why {@code contentType} (the header as sent) is refused, or empty when it names no fhirVersion or only R4's.
   * Read from the header itself: the parsed media type keeps one value a name, the last, so
   * {@code fhirVersion=3.0; fhirVersion=4.0} was read as R4. Every fhirVersion parameter must name R4; its name
   * in any case, spaces around it and its '=', and a quoted value are taken. The value is named back only in a
   * version's form: the header is the sender's text.
   */
  static Optional<String> refusal(String contentType) {
    if (contentType == null) {
      return Optional.empty();
    }
    return otherVersion(contentType, "the fhirVersion the Content-Type names").map(shown -> shown
        + " is not one this endpoint reads: it takes FHIR R4 only (fhirVersion=4.0, or no fhirVersion); send the "
        + "resources as R4 defines them; nothing was stored");
  }

  /**
   * Why an answer in the version the client asks for cannot be given, or empty when it may be R4: FHIR asks a
   * server to answer 406 when it does not support the version an {@code Accept} header or {@code _format}
   * names. Answers were R4 whatever was asked, and an R5 client read R4's elements as its own. {@code accept}
   * may list alternatives (comma-separated, as Accept does): one that names no fhirVersion or R4's is enough,
   * whatever its type (a type this endpoint does not answer is refused elsewhere, by its type); one weighed
   * {@code q=0} is one the client refuses, and counts for nothing.
   */
  static Optional<String> answerRefusal(List<String> accepts) {
    Optional<String> other = Optional.empty();
    for (String accept : accepts) {
      for (String alternative : split(accept, ',')) {
        if (alternative.isBlank() || refused(alternative)) {
          continue;
        }
        Optional<String> version = otherVersion(alternative, "the fhirVersion asked for");
        if (version.isEmpty()) {
          return Optional.empty();
        }
        other = other.or(() -> version);
      }
    }
    return other.map(shown -> "the answer cannot be given in " + shown + ": this endpoint answers FHIR R4 only; "
        + "ask for fhirVersion=4.0, or name no fhirVersion");
  }

  /**
   * The first fhirVersion one media type names that is not R4's, as it may be shown (a value not in a version's
   * form as {@code unshown}), or empty.
   */
  private static Optional<String> otherVersion(String mediaType, String unshown) {
    List<String> parameters = split(mediaType, ';');
    for (String p : parameters.subList(Math.min(1, parameters.size()), parameters.size())) {
      int eq = p.indexOf('=');
      String name = (eq < 0 ? p : p.substring(0, eq)).strip();
      if (!name.equalsIgnoreCase("fhirVersion")) {
        continue;
      }
      String version = eq < 0 ? "" : p.substring(eq + 1).strip();
      if (version.length() >= 2 && version.startsWith("\"") && version.endsWith("\"")) {
        version = version.substring(1, version.length() - 1).strip();
      }
      if (!version.matches("4\\.0(\\.[0-9]{1,3})?")) {
        return Optional.of(version.matches("[0-9]{1,2}(\\.[0-9]{1,3}){0,2}") ? "fhirVersion=" + version
            : version.isEmpty() ? "a fhirVersion without a value" : unshown);
      }
    }
    return Optional.empty();
  }

  /** Whether an Accept alternative is weighed {@code q=0}: "not acceptable" (RFC 9110 12.4.2). */
  private static boolean refused(String alternative) {
    return split(alternative, ';').stream().skip(1).map(p -> p.replace(" ", "").toLowerCase(java.util.Locale.ROOT))
        .anyMatch(p -> p.matches("q=0(\\.0{0,3})?"));
  }

  /** The header split at each {@code separator} outside a quoted string. */
  private static List<String> split(String header, char separator) {
    List<String> parts = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < header.length(); i++) {
      char c = header.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == separator && !quoted) {
        parts.add(part.toString());
        part.setLength(0);
        continue;
      }
      part.append(c);
    }
    parts.add(part.toString());
    return parts;
  }

  /** A body of another FHIR version than R4: answered 415 with the message. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }
}
