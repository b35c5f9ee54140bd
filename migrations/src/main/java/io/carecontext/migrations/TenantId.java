package io.carecontext.migrations;

import java.util.regex.Pattern;

/**
 * A validated tenant id. Schema and role names are derived only from this type, so no
 * unvalidated text ever reaches DDL.
 */
public record TenantId(String value) {

  private static final Pattern VALID = Pattern.compile("^[a-z][a-z0-9_]{1,30}$");

  public TenantId {
    if (value == null || !VALID.matcher(value).matches()) {
      throw new InvalidTenantIdException();
    }
  }

  public static TenantId of(String value) {
    return new TenantId(value);
  }

  public static boolean isValid(String value) {
    return value != null && VALID.matcher(value).matches();
  }

  /** The tenant's schema, e.g. {@code tenant_acme}. */
  public String schemaName() {
    return "tenant_" + value;
  }

  @Override
  public String toString() {
    return value;
  }

  /** Thrown for a tenant id that does not match the pattern; never echoes the input. */
  public static final class InvalidTenantIdException extends IllegalArgumentException {
    public InvalidTenantIdException() {
      super("tenant id must match ^[a-z][a-z0-9_]{1,30}$ (a lowercase letter, then 1 to 30 lowercase letters, digits or underscores)");
    }
  }
}
