package io.carecontext.retrieval;

/**
 * Checks for tenant settings as an admin sends them (role policies, the model allowlist). Each
 * throws {@link IllegalArgumentException} with a message that names the setting and what it takes,
 * never the value sent.
 */
public final class SettingChecks {

  private SettingChecks() {}

  public static void wholeNumber(String at, Object v, long min, long max) {
    if (!(v instanceof Number n) || n.doubleValue() != Math.floor(n.doubleValue()) || n.longValue() < min
        || n.longValue() > max) {
      throw new IllegalArgumentException(at + " must be a whole number from " + min
          + (max == Long.MAX_VALUE ? " up" : " to " + max));
    }
  }

  public static void bool(String at, Object v) {
    if (!(v instanceof Boolean)) {
      throw new IllegalArgumentException(at + " must be true or false");
    }
  }

}
