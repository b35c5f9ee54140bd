package io.carecontext.fhir;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The values a request's {@code Prefer} headers give one preference (RFC 7240, which FHIR's RESTful API
 * adopts for {@code handling} and {@code return}): comma-separated across one or more headers, the name
 * and value case-insensitive, the value possibly a quoted string (whose commas, semicolons and
 * backslash-escaped quotes belong to it), parameters after {@code ;} ignored. Lower case, in the order
 * sent; empty when the preference is not asked for.
 */
public final class Preferences {

  private Preferences() {}

  public static Set<String> values(List<String> preferHeaders, String preference) {
    Set<String> values = new LinkedHashSet<>();
    for (String header : preferHeaders == null ? List.<String>of() : preferHeaders) {
      for (String item : outsideQuotes(header, ',')) {
        String token = outsideQuotes(item, ';').get(0).strip();
        int eq = token.indexOf('=');
        if (eq >= 0 && token.substring(0, eq).strip().equalsIgnoreCase(preference)) {
          values.add(unquoted(token.substring(eq + 1).strip()).toLowerCase(Locale.ROOT));
        }
      }
    }
    return values;
  }

  /** {@code text} split at each {@code separator} that is not inside a quoted string; never empty. */
  private static List<String> outsideQuotes(String text, char separator) {
    List<String> parts = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted && c == '\\') {
        i++; // a quoted-pair: the next character is the string's own
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == separator) {
        parts.add(text.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(text.substring(start));
    return parts;
  }

  /** A quoted string's content, its quoted-pairs undone; any other value as it is, less stray quotes. */
  private static String unquoted(String value) {
    if (value.length() < 2 || value.charAt(0) != '"' || value.charAt(value.length() - 1) != '"') {
      return value.replace("\"", "");
    }
    StringBuilder content = new StringBuilder();
    for (int i = 1; i < value.length() - 1; i++) {
      char c = value.charAt(i);
      if (c == '\\' && i + 1 < value.length() - 1) {
        c = value.charAt(++i);
      }
      content.append(c);
    }
    return content.toString();
  }
}
