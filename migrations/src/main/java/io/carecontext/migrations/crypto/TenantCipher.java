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
 *
 * <p>A tenant's data key is a ring of versions (platform migration 17), one of them active. New values are sealed
 * under the active one; a value sealed while version 1 was the only one keeps the unversioned format above (so a
 * replica not yet upgraded still reads what an upgraded one writes until the first rotation), a value under a later
 * version names it: {@code 2 | key version (4) | nonce (12) | ciphertext + tag}. Opening picks the key the value
 * names. The keyed hashes (content hashes, identifier lookups, audit seals) stay under version 1 for good: a hash
 * under another key would no longer match those already stored, which idempotent ingest, identifier lookups and the
 * sealed audit chain compare against; so version 1 is never retired.
 */
public final class TenantCipher {

  private static final byte[] CONTENT_HASH_LABEL =
      "carecontext/content-hash".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] AUDIT_SEAL_LABEL =
      "carecontext/audit-seal".getBytes(StandardCharsets.US_ASCII);
  private static final String HMAC = "HmacSHA256";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Where a value under a version this cipher lacks is opened: a cipher read again from the key's rows. */
  @FunctionalInterface
  public interface Missing {
    /** A cipher that holds {@code version}; throws when none does. */
    TenantCipher withVersion(int version);
  }

  private final java.util.SortedMap<Integer, DataKey> ring;
  private final int active;
  private final Missing missing;

  /** A tenant key of one version, 1 (as every key was before rotation). */
  public TenantCipher(DataKey key) {
    this(new java.util.TreeMap<>(java.util.Map.of(1, Objects.requireNonNull(key, "key"))), 1,
        version -> { throw new DecryptionException("the value is sealed under data key version " + version
            + ", which this cipher does not hold"); });
  }

  /**
   * A ring of key versions, {@code active} sealing new values; {@code missing} is asked for a value naming a version
   * the ring lacks (made by another process since this ring was read). Version 1 must be in the ring: the keyed
   * hashes are under it.
   */
  public TenantCipher(java.util.SortedMap<Integer, DataKey> ring, int active, Missing missing) {
    this.ring = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(ring));
    this.active = active;
    this.missing = Objects.requireNonNull(missing, "missing");
    if (!this.ring.containsKey(active) || !this.ring.containsKey(1)) {
      throw new IllegalArgumentException("a key ring holds version 1 and its active version");
    }
  }

  /** The version new values are sealed under. */
  public int activeVersion() {
    return active;
  }

  /** The key versions this cipher holds, oldest first. */
  public java.util.SortedSet<Integer> versions() {
    return java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(ring.keySet()));
  }

  /** The key version {@code sealed} names (1 for the unversioned format). */
  public static int keyVersion(byte[] sealed) {
    return AesGcm.keyVersion(sealed);
  }

  public byte[] encrypt(byte[] plaintext, byte[] aad) {
    DataKey key = ring.get(active);
    return active == 1 ? AesGcm.seal(key.aesKey(), plaintext, aad, RANDOM)
        : AesGcm.sealVersioned(key.aesKey(), active, plaintext, aad, RANDOM);
  }

  /** @throws DecryptionException on a wrong key, wrong {@code aad}, altered bytes or a version no ring holds */
  public byte[] decrypt(byte[] sealed, byte[] aad) {
    int version = AesGcm.keyVersion(sealed);
    DataKey key = ring.get(version);
    if (key == null) {
      return missing.withVersion(version).decrypt(sealed, aad);
    }
    return AesGcm.openVersioned(key.aesKey(), sealed, aad);
  }

  /** {@code sealed} opened and sealed again under the active version (a rotation's re-encryption). */
  public byte[] reseal(byte[] sealed, byte[] aad) {
    byte[] plain = decrypt(sealed, aad);
    try {
      return encrypt(plain, aad);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
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
   * The identifier index's key of a resource identifier (tenant migration 3): {@link #contentHash} of
   * {@code identifier|system|value}, a null system hashed as an empty one (an identifier sent without one). The one
   * formula the FHIR write path stores and matches by (ResourceWriter) and the accounting by MRN looks up by (AuditLog,
   * tenant migration 79): were they two copies, one changed would make every MRN name no patient, with no error.
   */
  public byte[] identifierHash(String system, String value) {
    return contentHash(("identifier|" + (system == null ? "" : system) + "|" + value)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
    byte[] master = ring.get(1).copy(); // never rotated: see the class comment
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
