package io.carecontext.migrations;

import java.util.regex.Pattern;

/**
 * The rule for a tenant setting's {@code apiKeySecret} (embedding and model endpoints): the name of
 * an environment variable that holds the key, never the key, never one of the platform's own
 * variables, and only one the platform operator has granted to that tenant. The tenant admin who
 * names the variable also names the host it is sent to as a bearer token: without the grant, an
 * admin of one tenant could name another tenant's model key, or any credential in the service's
 * environment, and have it sent to a host of their choosing. The operator key, the database
 * passwords and URLs (CARECONTEXT_*) and the PostgreSQL client's (PG*) are never taken, granted or
 * not.
 *
 * <p>Grants: {@code CARECONTEXT_TENANT_SECRETS} (or the system property
 * {@code carecontext.tenant.secrets}), a comma-separated list of {@code tenant:VARIABLE} pairs, e.g.
 * {@code acme:OPENAI_KEY_ACME,beta:AZURE_KEY_BETA}. Unset, no tenant may name a variable.
 */
public final class SecretNames {

  private static final Pattern NAME = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]{0,127}$");
  private static final Pattern PLATFORM = Pattern.compile("^(?i)(CARECONTEXT_|PG).*");

  /** The variables an error message names as refused. */
  public static final String PLATFORM_VARIABLES = "CARECONTEXT_*, PG*";

  /** The variable in which the operator grants secrets to tenants. */
  public static final String GRANTS_VARIABLE = "CARECONTEXT_TENANT_SECRETS";

  private SecretNames() {}

  /** Whether {@code name} can be an environment variable's name. */
  public static boolean isVariableName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /** Whether {@code name} is a variable of the platform's own configuration. */
  public static boolean isPlatformVariable(String name) {
    return name != null && PLATFORM.matcher(name).matches();
  }

  /** Whether the operator granted the variable {@code name} to {@code tenant} (never a platform variable). */
  public static boolean isGrantedTo(String tenant, String name) {
    return isGrantedTo(tenant, name, grants());
  }

  static boolean isGrantedTo(String tenant, String name, String grants) {
    if (tenant == null || !isVariableName(name) || isPlatformVariable(name) || grants == null) {
      return false;
    }
    return OperatorList.entries(grants).stream().anyMatch(g -> g.tenant().equals(tenant) && g.value().equals(name));
  }

  /**
   * Refuses a variable the operator has not granted to the tenant, in words that say who can fix
   * it (the variable's name is the tenant admin's own input, not a secret, and is not repeated).
   */
  public static void requireGrantedTo(String tenant, String setting, String name) {
    if (isPlatformVariable(name)) {
      // told first: a grant would not help, and the message below sent the operator to add one
      throw new SecretNotGrantedException(setting + ".apiKeySecret names a variable of the platform's own "
          + "configuration (" + PLATFORM_VARIABLES + "), which is never sent to an endpoint, granted or not: give the "
          + "key a variable of its own and have the operator grant that one");
    }
    if (!isGrantedTo(tenant, name)) {
      throw new SecretNotGrantedException(setting + ".apiKeySecret names a variable the platform operator has not "
          + "granted to this tenant: the operator lists it in " + GRANTS_VARIABLE + " as '" + tenant + ":<VARIABLE>'");
    }
  }

  /**
   * The same for an endpoint setting ({@code embedding}, or one of {@code llm.endpoints}): its
   * {@code apiKeySecret}, when it names one, must be granted to the tenant.
   */
  public static void requireGrantedTo(String tenant, String setting, java.util.Map<?, ?> endpoint) {
    if (endpoint.get("apiKeySecret") instanceof String name) {
      requireGrantedTo(tenant, setting, name);
    }
  }

  /**
   * The grants that can never take effect, for a warning at start: pairs that are not
   * {@code tenant:VARIABLE}, and platform variables, which are never granted.
   */
  public static java.util.List<String> ineffectiveGrants() {
    return OperatorList.entries(grants()).stream()
        .filter(g -> g.tenant().isEmpty() || !isVariableName(g.value()) || isPlatformVariable(g.value()))
        .map(OperatorList.Entry::written).toList();
  }

  private static String grants() {
    return OperatorList.read(GRANTS_VARIABLE);
  }
}
