package io.carecontext.retrieval;

/**
 * Checks for tenant settings as an admin sends them (role policies, the model allowlist). Each
 * throws {@link IllegalArgumentException} with a message that names the setting and what it takes,
 * never the value sent.
 */
public final class SettingChecks {

  private SettingChecks() {}

  /**
   * Compared as the number it is: a value beyond a long is read as a BigInteger, whose longValue() keeps its low
   * 64 bits, so 2^64 + 50 passed as 50 (a kMax or a token budget out of range, stored as sent).
   */
  public static void wholeNumber(String at, Object v, long min, long max) {
    java.math.BigDecimal exact = v instanceof Number n && Double.isFinite(n.doubleValue())
        && n.doubleValue() == Math.floor(n.doubleValue()) ? new java.math.BigDecimal(n.toString()) : null;
    if (exact == null || exact.compareTo(java.math.BigDecimal.valueOf(min)) < 0
        || exact.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
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
