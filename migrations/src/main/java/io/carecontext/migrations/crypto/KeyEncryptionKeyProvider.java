package io.carecontext.migrations.crypto;

/**
 * Wraps and unwraps tenant data keys under a key-encryption key (KEK).
 *
 * <p>This is the seam for key management: the default is {@link LocalFileKeyProvider}; cloud KMS
 * adapters implement the same three methods. Every implementation must pass
 * {@code KeyEncryptionKeyProviderContract} (shipped in this module's test-jar).
 *
 * <p>Implementations must be thread-safe, must never log or put key bytes in exception messages,
 * and must fail {@link #unwrap} with {@link DecryptionException} when the wrapped bytes were not
 * produced under this KEK or were altered — never return garbage.
 */
public interface KeyEncryptionKeyProvider {

  /** A stable, non-secret identifier of the KEK, stored next to each wrapped data key. */
  String kekId();

  /** Returns the data key encrypted under the KEK; the argument is neither kept nor modified. */
  byte[] wrap(byte[] dataKey);

  /** Returns the data key; the caller owns (and should zero) the returned array. */
  byte[] unwrap(byte[] wrapped);
}
