package io.carecontext.fhir;

import java.util.regex.Pattern;

/**
 * The version a conditional update or delete was made from: {@code W/"3"} (the ETag a read gives)
 * or {@code "3"}, and {@code *} for whatever version is current. The same rule for the
 * {@code If-Match} header and a Bundle entry's {@code request.ifMatch}, which was ignored: an entry
 * made from an old version overwrote a newer one.
 */
public final class IfMatch {

  private static final Pattern ETAG = Pattern.compile("^(?:W/)?\"([1-9][0-9]{0,17})\"$");

  private IfMatch() {}

  /**
   * The version {@code value} names, 0 for {@code *}, null for no value; a malformed one is a 400
   * at {@code path} (entry {@code index}, or null outside a Bundle) that gives the rule, never the value.
   */
  public static Long version(String value, Integer index, String path) {
    if (value == null) {
      return null;
    }
    String v = value.strip();
    if ("*".equals(v)) {
      return 0L;
    }
    var m = ETAG.matcher(v);
    if (!m.matches()) {
      throw FhirInputException.of(FhirIssue.error("invalid", index, path, (index == null ? "" : "bundle entry " + index
          + ": ") + "If-Match takes the ETag of the version the change was made from, as a read gives it: "
          + "W/\"<versionId>\", or * for any current version"));
    }
    return Long.parseLong(m.group(1));
  }
}
