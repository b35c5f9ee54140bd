package io.carecontext.migrations;

import java.util.regex.Pattern;

/** The one place where a SQL identifier is quoted. Only allowlisted names pass. */
public final class Identifiers {

  private static final Pattern SAFE = Pattern.compile("^[a-z][a-z0-9_]{0,62}$");

  private Identifiers() {}

  public static String quote(String identifier) {
    if (identifier == null || !SAFE.matcher(identifier).matches()) {
      throw new IllegalArgumentException("not a safe SQL identifier (lowercase letters, digits, underscores; at most 63)");
    }
    return '"' + identifier + '"';
  }

  /** A SQL string literal for the few DDL places that cannot take a bind parameter (passwords). */
  public static String literal(String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("value contains a NUL character");
    }
    return "'" + value.replace("'", "''") + "'";
  }
}
