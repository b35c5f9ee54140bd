package io.carecontext.migrations;

import java.util.regex.Pattern;

/**
 * The rule for a tenant setting's {@code apiKeySecret} (embedding and model endpoints): the name of
 * an environment variable that holds the key, never the key, and never one of the platform's own
 * variables. The tenant admin who names the variable also names the host it is sent to as a bearer
 * token, so the operator key, the database passwords and URLs (CARECONTEXT_*) and the PostgreSQL
 * client's (PG*) are never taken.
 */
public final class SecretNames {

  private static final Pattern NAME = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]{0,127}$");
  private static final Pattern PLATFORM = Pattern.compile("^(?i)(CARECONTEXT_|PG).*");

  /** The variables an error message names as refused. */
  public static final String PLATFORM_VARIABLES = "CARECONTEXT_*, PG*";

  private SecretNames() {}

  /** Whether {@code name} can be an environment variable's name. */
  public static boolean isVariableName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /** Whether {@code name} is a variable of the platform's own configuration. */
  public static boolean isPlatformVariable(String name) {
    return name != null && PLATFORM.matcher(name).matches();
  }
}
