package io.carecontext.migrations.crypto;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.Destroyable;

/**
 * A tenant's (or patient's) AES-256 data key.
 *
 * <p>The raw bytes never leave this package except through a {@link KeyEncryptionKeyProvider}:
 * {@link #wrapWith} is how a key is persisted. {@link #destroy()} zeroes the bytes so that, once
 * the wrapped copy is deleted too, everything sealed under the key is shredded.
 */
public final class DataKey implements Destroyable {

  // Guarded by "this": destroy() may run (e.g. on cache eviction) while another thread is
  // encrypting; the lock makes "check not destroyed, then copy" atomic, so a half-zeroed key can
  // never seal data that would then be unreadable forever.
  private final byte[] bytes;
  private boolean destroyed;

  private DataKey(byte[] bytes) {
    this.bytes = bytes;
  }

  public static DataKey generate(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] bytes = new byte[AesGcm.KEY_BYTES];
    random.nextBytes(bytes);
    return new DataKey(bytes);
  }

  /** Unwraps a stored key; the intermediate copy returned by the provider is zeroed. */
  public static DataKey unwrap(KeyEncryptionKeyProvider kek, byte[] wrapped) {
    Objects.requireNonNull(kek, "kek");
    byte[] raw = kek.unwrap(wrapped);
    try {
      if (raw == null || raw.length != AesGcm.KEY_BYTES) {
        throw new DecryptionException("unwrapped data key has the wrong length");
      }
      return new DataKey(raw.clone());
    } finally {
      if (raw != null) {
        Arrays.fill(raw, (byte) 0);
      }
    }
  }

  /** Returns this key wrapped under {@code kek}, ready to be stored next to {@code kek.kekId()}. */
  public byte[] wrapWith(KeyEncryptionKeyProvider kek) {
    Objects.requireNonNull(kek, "kek");
    byte[] copy = copy();
    try {
      return kek.wrap(copy);
    } finally {
      Arrays.fill(copy, (byte) 0);
    }
  }

  @Override
  public synchronized void destroy() {
    destroyed = true;
    Arrays.fill(bytes, (byte) 0);
  }

  @Override
  public synchronized boolean isDestroyed() {
    return destroyed;
  }

  /** Package-private on purpose: only the cipher code may see the key. */
  synchronized SecretKeySpec aesKey() {
    requireLive();
    return new SecretKeySpec(bytes, "AES");
  }

  /** Whether {@code other} holds the same key material (compared in constant time). */
  public boolean sameKeyAs(DataKey other) {
    byte[] mine = copy();
    byte[] theirs = other.copy();
    try {
      return java.security.MessageDigest.isEqual(mine, theirs);
    } finally {
      Arrays.fill(mine, (byte) 0);
      Arrays.fill(theirs, (byte) 0);
    }
  }

  /** A copy the caller must zero after use. */
  synchronized byte[] copy() {
    requireLive();
    return bytes.clone();
  }

  private void requireLive() {
    if (destroyed) {
      throw new IllegalStateException("data key has been destroyed");
    }
  }

  @Override
  public synchronized String toString() {
    return destroyed ? "DataKey[destroyed]" : "DataKey[AES-256]";
  }
}
