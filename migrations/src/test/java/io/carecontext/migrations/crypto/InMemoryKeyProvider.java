package io.carecontext.migrations.crypto;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * A KEK held only in memory, wrapping with AES Key Wrap (RFC 3394) rather than GCM, so the
 * contract is exercised by a second, independent construction. For tests.
 */
public final class InMemoryKeyProvider implements KeyEncryptionKeyProvider {

  private final SecretKeySpec kek;
  private final String kekId;

  public InMemoryKeyProvider(SecureRandom random) {
    byte[] key = new byte[32];
    random.nextBytes(key);
    this.kek = new SecretKeySpec(key, "AES");
    byte[] id = new byte[8];
    random.nextBytes(id);
    this.kekId = "memory:" + HexFormat.of().formatHex(id);
  }

  @Override
  public String kekId() {
    return kekId;
  }

  @Override
  public byte[] wrap(byte[] dataKey) {
    try {
      Cipher cipher = Cipher.getInstance("AESWrap");
      cipher.init(Cipher.WRAP_MODE, kek);
      return cipher.wrap(new SecretKeySpec(dataKey, "AES"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES key wrap is unavailable", e);
    }
  }

  @Override
  public byte[] unwrap(byte[] wrapped) {
    if (wrapped.length < 24 || wrapped.length % 8 != 0) {
      throw new DecryptionException("wrapped key has an invalid length");
    }
    try {
      Cipher cipher = Cipher.getInstance("AESWrap");
      cipher.init(Cipher.UNWRAP_MODE, kek);
      return cipher.unwrap(wrapped, "AES", Cipher.SECRET_KEY).getEncoded();
    } catch (InvalidKeyException e) {
      // RFC 3394's integrity check failed: another KEK, or altered bytes.
      throw new DecryptionException("data key could not be unwrapped with key-encryption key " + kekId);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES key wrap is unavailable", e);
    }
  }
}
