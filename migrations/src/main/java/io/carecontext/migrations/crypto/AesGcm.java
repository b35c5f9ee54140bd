package io.carecontext.migrations.crypto;

import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The one sealed format used for data and for wrapped keys:
 * {@code version (1 byte) | nonce (12 bytes) | ciphertext + tag (16 bytes)}.
 *
 * <p>Each thread reuses one {@link Cipher}, initialised afresh for every call: Cipher objects are
 * stateful and not thread-safe, and looking one up ({@code Cipher.getInstance}) took 15 % of a
 * context request's Java time when it was done per call (10 chunk decryptions and one encryption
 * a request). The JDK keeps the last key's AES schedule in the cipher, so consecutive calls with
 * one tenant's key skip the key expansion too; that schedule stays in the thread until the
 * thread's next call with another key. Nonces are random: with 96-bit nonces the NIST bound is
 * 2^32 encryptions per key, far above what one tenant data key seals, and the JDK refuses to
 * encrypt twice with one key and nonce.
 */
final class AesGcm {

  static final byte VERSION = 1;
  static final int KEY_BYTES = 32;
  static final int NONCE_BYTES = 12;
  static final int TAG_BYTES = 16;
  static final int OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;
  /**
   * A tenant value sealed under one version of a key ring: {@code 2 | key version (4 bytes, big-endian) | nonce |
   * ciphertext + tag}. The five header bytes are authenticated too (they precede the caller's associated data), so
   * a value whose version byte is altered fails instead of being opened under another key.
   */
  static final byte VERSIONED = 2;
  static final int VERSIONED_HEADER = 1 + Integer.BYTES;

  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
    try {
      return Cipher.getInstance(TRANSFORMATION);
    } catch (GeneralSecurityException e) {
      // Only reachable if the JRE lacks AES-GCM: a deployment fault, not a data fault.
      throw new IllegalStateException("AES-GCM is unavailable in this JRE", e);
    }
  });

  private AesGcm() {
  }

  static byte[] seal(SecretKeySpec key, byte[] plaintext, byte[] aad, SecureRandom random) {
    return seal(CIPHER.get(), key, plaintext, aad, random);
  }

  /** The same format with a cipher of another provider (a PKCS#11 token's key never leaves the token). */
  static byte[] seal(Cipher cipher, Key key, byte[] plaintext, byte[] aad, SecureRandom random) {
    Objects.requireNonNull(plaintext, "plaintext");
    Objects.requireNonNull(aad, "aad");
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key,
          new GCMParameterSpec(TAG_BYTES * 8, nonce));
      cipher.updateAAD(aad);
      byte[] out = new byte[1 + NONCE_BYTES + cipher.getOutputSize(plaintext.length)];
      out[0] = VERSION;
      System.arraycopy(nonce, 0, out, 1, NONCE_BYTES);
      cipher.doFinal(plaintext, 0, plaintext.length, out, 1 + NONCE_BYTES);
      return out;
    } catch (GeneralSecurityException e) {
      // Only reachable if the provider lacks AES-GCM: a deployment fault, not a data fault.
      throw new IllegalStateException("AES-GCM encryption is unavailable from " + cipher.getProvider().getName(), e);
    }
  }

  static byte[] open(SecretKeySpec key, byte[] sealed, byte[] aad) {
    return open(CIPHER.get(), key, sealed, aad);
  }

  /** {@link #seal} in the versioned format, naming {@code keyVersion} (see {@link #VERSIONED}). */
  static byte[] sealVersioned(SecretKeySpec key, int keyVersion, byte[] plaintext, byte[] aad, SecureRandom random) {
    Objects.requireNonNull(aad, "aad");
    byte[] header = header(keyVersion);
    byte[] inner = seal(CIPHER.get(), key, plaintext, concat(header, aad), random);
    // inner is 1 | nonce | ct+tag: its format byte gives way to the header
    byte[] out = new byte[VERSIONED_HEADER + inner.length - 1];
    System.arraycopy(header, 0, out, 0, VERSIONED_HEADER);
    System.arraycopy(inner, 1, out, VERSIONED_HEADER, inner.length - 1);
    return out;
  }

  /** The key version a sealed tenant value names: 1 for the unversioned format, which predates key rotation. */
  static int keyVersion(byte[] sealed) {
    Objects.requireNonNull(sealed, "sealed");
    if (sealed.length < OVERHEAD || sealed[0] == VERSIONED && sealed.length < OVERHEAD + Integer.BYTES) {
      throw new DecryptionException("sealed value is too short (" + sealed.length + " bytes)");
    }
    if (sealed[0] == VERSION) {
      return 1;
    }
    if (sealed[0] != VERSIONED) {
      throw new DecryptionException("unsupported sealed format version " + (sealed[0] & 0xff));
    }
    int version = java.nio.ByteBuffer.wrap(sealed, 1, Integer.BYTES).getInt();
    if (version < 1) {
      // no ring holds it (versions start at 1): a damaged value, not a rotation this process has not seen, so no
      // reason to read the key rows again on the caller's thread for it
      throw new DecryptionException("malformed sealed value: it names data key version " + version);
    }
    return version;
  }

  /** Opens either format with the key of the version it names ({@link #keyVersion}); the caller picks that key. */
  static byte[] openVersioned(SecretKeySpec key, byte[] sealed, byte[] aad) {
    Objects.requireNonNull(aad, "aad");
    if (keyVersion(sealed) == 1 && sealed[0] == VERSION) {
      return open(key, sealed, aad);
    }
    byte[] inner = new byte[sealed.length - VERSIONED_HEADER + 1];
    inner[0] = VERSION;
    System.arraycopy(sealed, VERSIONED_HEADER, inner, 1, inner.length - 1);
    return open(key, inner, concat(Arrays.copyOf(sealed, VERSIONED_HEADER), aad));
  }

  private static byte[] header(int keyVersion) {
    if (keyVersion < 1) {
      throw new IllegalArgumentException("key versions start at 1");
    }
    return java.nio.ByteBuffer.allocate(VERSIONED_HEADER).put(VERSIONED).putInt(keyVersion).array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static byte[] open(Cipher cipher, Key key, byte[] sealed, byte[] aad) {
    Objects.requireNonNull(sealed, "sealed");
    Objects.requireNonNull(aad, "aad");
    if (sealed.length < OVERHEAD) {
      throw new DecryptionException("sealed value is too short (" + sealed.length + " bytes)");
    }
    if (sealed[0] != VERSION) {
      throw new DecryptionException("unsupported sealed format version " + (sealed[0] & 0xff));
    }
    try {
      cipher.init(Cipher.DECRYPT_MODE, key,
          new GCMParameterSpec(TAG_BYTES * 8, Arrays.copyOfRange(sealed, 1, 1 + NONCE_BYTES)));
      cipher.updateAAD(aad);
      return cipher.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      // No cause attached: nothing in it helps the operator and it must not tempt anyone to log data.
      throw new DecryptionException(
          "authentication failed: wrong key, wrong associated data, or altered ciphertext");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM decryption is unavailable from " + cipher.getProvider().getName(), e);
    }
  }
}
