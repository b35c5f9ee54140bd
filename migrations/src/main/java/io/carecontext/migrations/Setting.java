package io.carecontext.migrations;

import java.util.Locale;
import java.util.Optional;

/**
 * One {@code CARECONTEXT_*} setting as the README says every one is read: the Java system property of the
 * same name in lower case with dots ({@code CARECONTEXT_DB_URL} = {@code -Dcarecontext.db.url=…}, given
 * through {@code CARECONTEXT_JAVA_OPTS}), which wins, else the environment variable; blank is unset. The
 * service's settings were read so, but the client commands' (URL, port, keys, home), the embedded
 * cluster's (binaries, shared buffers) and the worker's thread default read the environment alone.
 */
public final class Setting {

  private Setting() {}

  public static Optional<String> of(String variable) {
    return of(variable, System.getenv());
  }

  /** As {@link #of(String)}, with {@code env} for the environment (a start's settings as given, in tests). */
  public static Optional<String> of(String variable, java.util.Map<String, String> env) {
    String v = System.getProperty(variable.toLowerCase(Locale.ROOT).replace('_', '.'));
    if (v == null) {
      v = env.get(variable);
    }
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }
}
