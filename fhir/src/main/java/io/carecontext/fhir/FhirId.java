package io.carecontext.fhir;

import java.util.regex.Pattern;

/**
 * The FHIR R4 {@code id} datatype: 1 to 64 letters, digits, '-' and '.'. Every place that takes an
 * id from outside (a URL, a reference, a key's practitioner, an NDJSON line) checks it here, so
 * that what one path stores another can always name.
 */
public final class FhirId {

  /** The id's characters and length, without anchors, for use inside larger patterns. */
  public static final String REGEX = "[A-Za-z0-9\\-.]{1,64}";

  /** What an error message shows a caller: the rule, never the value. */
  public static final String RULE = "[A-Za-z0-9-.]{1,64}, and not . or ..";

  private static final Pattern ID = Pattern.compile(REGEX);

  private FhirId() {}

  /**
   * Whether {@code id} is a valid FHIR id; {@code null} is not, and neither are {@code .} and
   * {@code ..}: FHIR's pattern allows them, but clients, browsers and proxies remove such dot
   * segments from a URL ({@code PUT /fhir/t/Basic/..} reaches the server as {@code /fhir/t/}), so a
   * resource stored under one could be neither read nor deleted by most callers.
   */
  public static boolean isValid(String id) {
    return id != null && ID.matcher(id).matches() && !id.equals(".") && !id.equals("..");
  }
}
