package io.carecontext.services.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * API key format {@code cck_<keyId>_<secret>}: the key id finds the row, the 256-bit secret is
 * checked against its stored SHA-256 in constant time. Only the hash is ever stored.
 */
public final class ApiKeySecrets {

  private static final Pattern FORMAT = Pattern.compile("^cck_([a-z0-9]{20})_([A-Za-z0-9_-]{43})$");
  private static final char[] ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeySecrets() {}

  public record Parsed(String keyId, String secret) {
    @Override
    public String toString() {
      return "Parsed[keyId=" + keyId + "]";
    }
  }

  public record Issued(String keyId, String token, byte[] secretHash) {
    @Override
    public String toString() {
      return "Issued[keyId=" + keyId + "]";
    }
  }

  public static Issued issue() {
    StringBuilder id = new StringBuilder(20);
    for (int i = 0; i < 20; i++) {
      id.append(ID_CHARS[RANDOM.nextInt(ID_CHARS.length)]);
    }
    byte[] secretBytes = new byte[32];
    RANDOM.nextBytes(secretBytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
    return new Issued(id.toString(), "cck_" + id + "_" + secret, sha256(secret));
  }

  public static Optional<Parsed> parse(String token) {
    if (token == null) {
      return Optional.empty();
    }
    Matcher m = FORMAT.matcher(token);
    return m.matches() ? Optional.of(new Parsed(m.group(1), m.group(2))) : Optional.empty();
  }

  /** The SHA-256 of a secret, hex: what {@code platform.api_keys} stores, as the read transactions present it. */
  public static String secretHashHex(String secret) {
    return HexFormat.of().formatHex(sha256(secret));
  }

  /** Constant-time comparison of two secrets of any length (hashing first hides the length). */
  public static boolean sameSecret(String presented, String expected) {
    return MessageDigest.isEqual(sha256(presented), sha256(expected));
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
