package io.carecontext.migrations.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals PHI columns under one tenant's {@link DataKey} with AES-256-GCM.
 *
 * <p>Sealed format: {@code version (1) | nonce (12) | ciphertext + 16-byte tag}. The associated
 * data is required (not optional) so every caller binds a ciphertext to its row, e.g. tenant,
 * table and resource id: a value copied into another row then fails to decrypt instead of
 * silently moving PHI. Thread-safe; the key is read from the {@link DataKey} on every call so a
 * destroyed key stops working immediately (calls then fail with IllegalStateException).
 */
public final class TenantCipher {

  private static final byte[] CONTENT_HASH_LABEL =
      "carecontext/content-hash".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] AUDIT_SEAL_LABEL =
      "carecontext/audit-seal".getBytes(StandardCharsets.US_ASCII);
  private static final String HMAC = "HmacSHA256";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final DataKey key;

  public TenantCipher(DataKey key) {
    this.key = Objects.requireNonNull(key, "key");
  }

  public byte[] encrypt(byte[] plaintext, byte[] aad) {
    return AesGcm.seal(key.aesKey(), plaintext, aad, RANDOM);
  }

  /** @throws DecryptionException on a wrong key, wrong {@code aad} or altered bytes */
  public byte[] decrypt(byte[] sealed, byte[] aad) {
    return AesGcm.open(key.aesKey(), sealed, aad);
  }

  public byte[] encryptString(String plaintext, byte[] aad) {
    Objects.requireNonNull(plaintext, "plaintext");
    return encrypt(plaintext.getBytes(StandardCharsets.UTF_8), aad);
  }

  public String decryptToString(byte[] sealed, byte[] aad) {
    return new String(decrypt(sealed, aad), StandardCharsets.UTF_8);
  }

  /**
   * HMAC-SHA256 of {@code data} under a subkey derived from the data key (HKDF-SHA256, info
   * {@code "carecontext/content-hash"}). Lets us detect unchanged content (idempotent ingest,
   * embedding cache) without storing a plain hash, which would confirm guesses of PHI; and it
   * dies with the data key like everything else.
   */
  public byte[] contentHash(byte[] data) {
    return keyedHash(CONTENT_HASH_LABEL, data);
  }

  /**
   * HMAC-SHA256 of {@code data} under a subkey of its own (HKDF-SHA256, info
   * {@code "carecontext/audit-seal"}): the MAC of an audit chain's seal. The database holds only the
   * wrapped data key, so no one with the database alone can make a seal verify.
   */
  public byte[] auditSeal(byte[] data) {
    return keyedHash(AUDIT_SEAL_LABEL, data);
  }

  private byte[] keyedHash(byte[] label, byte[] data) {
    Objects.requireNonNull(data, "data");
    byte[] master = key.copy();
    byte[] subkey = hkdf(master, label);
    try {
      return hmac(subkey, data);
    } finally {
      Arrays.fill(master, (byte) 0);
      Arrays.fill(subkey, (byte) 0);
    }
  }

  /** RFC 5869 with an all-zero salt and one output block (32 bytes). */
  private static byte[] hkdf(byte[] inputKey, byte[] info) {
    byte[] prk = hmac(new byte[32], inputKey);
    try {
      byte[] block = Arrays.copyOf(info, info.length + 1);
      block[info.length] = 1;
      return hmac(prk, block);
    } finally {
      Arrays.fill(prk, (byte) 0);
    }
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable in this JRE", e);
    }
  }

  @Override
  public String toString() {
    return "TenantCipher[AES-256-GCM]";
  }
}
