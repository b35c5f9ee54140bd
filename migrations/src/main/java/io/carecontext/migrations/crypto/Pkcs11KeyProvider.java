package io.carecontext.migrations.crypto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 256-bit key-encryption key held in a PKCS#11 token (a hardware security module, a cloud HSM's
 * PKCS#11 library, or SoftHSM), reached through the JDK's SunPKCS11 provider. The key never leaves
 * the token: data keys are wrapped and unwrapped by the token itself.
 *
 * <p>The key is the token's secret key labelled {@code keyLabel}. If the token has none, first use
 * makes one there, sensitive and not extractable. PKCS#11 cannot make a key only if none exists: two
 * processes making one at once leave two keys under the label, and the JDK's key store then refuses
 * the token altogether, so callers that may race serialize the first use (the service does, under a
 * database advisory lock); the service refuses to start when tenants' data
 * keys exist and this key does not (see {@link #holdsKey()}), as it does for a missing key file. A key
 * that the token would let out (extractable, or not sensitive) is refused: anyone who can read it
 * can unwrap every tenant's data key.
 *
 * <p>Wrapping is AES-256-GCM in the same sealed format as {@link LocalFileKeyProvider}'s, with the KEK
 * id as associated data. The id is a hash of the label and of the key's check value (the encryption
 * of a zero block under it), so it names this key and no other, and reveals nothing usable about it.
 * The token's user PIN is read from an owner-only file, on first use, not in the constructor.
 */
public final class Pkcs11KeyProvider implements KeyEncryptionKeyProvider {

  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11KeyProvider.class);
  private static final String GCM = "AES/GCM/NoPadding";
  private static final byte[] KEK_ID_LABEL = "carecontext/kek-id/pkcs11".getBytes(StandardCharsets.US_ASCII);

  private final Path library;
  private final long slot;
  private final Path pinFile;
  private final String keyLabel;
  private final boolean makeIfMissing;
  private final SecureRandom random;
  // Lazily loaded; guarded by "this".
  private Loaded loaded;

  private record Loaded(Provider provider, Key key, String kekId, byte[] aad) {
  }

  /**
   * @param library  the token's PKCS#11 library ({@code .so})
   * @param slot     the token's slot id, as the library numbers it
   * @param pinFile  an owner-only file holding the token's user PIN
   * @param keyLabel the label of the key in the token
   */
  public Pkcs11KeyProvider(Path library, long slot, Path pinFile, String keyLabel, boolean makeIfMissing,
                           SecureRandom random) {
    this.library = Objects.requireNonNull(library, "library").toAbsolutePath();
    this.slot = slot;
    this.pinFile = Objects.requireNonNull(pinFile, "pinFile").toAbsolutePath();
    this.keyLabel = requireLabel(Objects.requireNonNull(keyLabel, "keyLabel"));
    this.makeIfMissing = makeIfMissing;
    this.random = Objects.requireNonNull(random, "random");
  }

  /** The key labelled {@code keyLabel}, made in the token on first use if it holds none. */
  public Pkcs11KeyProvider(Path library, long slot, Path pinFile, String keyLabel) {
    this(library, slot, pinFile, keyLabel, true, new SecureRandom());
  }

  /** A key the token must already hold (a rotation's previous key): none is made. */
  public static Pkcs11KeyProvider existing(Path library, long slot, Path pinFile, String keyLabel) {
    return new Pkcs11KeyProvider(library, slot, pinFile, keyLabel, false, new SecureRandom());
  }

  @Override
  public String kekId() {
    return loaded().kekId();
  }

  @Override
  public byte[] wrap(byte[] dataKey) {
    Objects.requireNonNull(dataKey, "dataKey");
    Loaded kek = loaded();
    try {
      return AesGcm.seal(Cipher.getInstance(GCM, kek.provider()), kek.key(), dataKey, kek.aad(), random);
    } catch (GeneralSecurityException | ProviderException e) {
      throw tokenFailed("wrap a data key in", e);
    }
  }

  @Override
  public byte[] unwrap(byte[] wrapped) {
    Objects.requireNonNull(wrapped, "wrapped");
    Loaded kek = loaded();
    try {
      return AesGcm.open(Cipher.getInstance(GCM, kek.provider()), kek.key(), wrapped, kek.aad());
    } catch (DecryptionException e) {
      throw new DecryptionException("data key could not be unwrapped with key-encryption key "
          + kek.kekId() + ": it was wrapped under another key, or altered");
    } catch (GeneralSecurityException | ProviderException e) {
      throw tokenFailed("unwrap a data key in", e);
    }
  }

  /**
   * Whether the token already holds the key, without making one: the start-up check that refuses to
   * run when tenants' data keys exist and their key-encryption key does not.
   */
  public boolean holdsKey() {
    synchronized (this) {
      if (loaded != null) {
        return true;
      }
    }
    try {
      return keyStore(provider()).containsAlias(keyLabel);
    } catch (GeneralSecurityException | ProviderException e) {
      throw tokenFailed("look up key " + keyLabel + " in", e);
    }
  }

  private synchronized Loaded loaded() {
    if (loaded == null) {
      Provider provider = provider();
      try {
        KeyStore store = keyStore(provider);
        Key key = store.getKey(keyLabel, null);
        if (key == null && !makeIfMissing) {
          throw new KeyProviderException("PKCS#11 slot " + slot + " holds no key labelled " + keyLabel
              + ": give the label of the key the data keys were wrapped under");
        }
        if (key == null) {
          key = create(provider, store);
        }
        if (key.getEncoded() != null || !"AES".equalsIgnoreCase(key.getAlgorithm())) {
          throw new KeyProviderException("key " + keyLabel + " in PKCS#11 slot " + slot + " is "
              + (key.getEncoded() != null ? "extractable: the token would let it out" : "not an AES key")
              + "; give CARECONTEXT_KEK_PKCS11_KEY_LABEL a label the token holds no key under, and the service "
              + "makes a sensitive, non-extractable AES-256 key there (or make one yourself)");
        }
        String id = kekIdOf(checkValue(provider, key));
        loaded = new Loaded(provider, key, id, id.getBytes(StandardCharsets.US_ASCII));
      } catch (GeneralSecurityException | ProviderException e) {
        throw tokenFailed("load key " + keyLabel + " in", e);
      }
    }
    return loaded;
  }

  private Key create(Provider provider, KeyStore store) throws GeneralSecurityException {
    KeyGenerator generator = KeyGenerator.getInstance("AES", provider);
    generator.init(AesGcm.KEY_BYTES * 8, random);
    SecretKey session = generator.generateKey();
    store.setEntry(keyLabel, new KeyStore.SecretKeyEntry(session), null);
    Key key = store.getKey(keyLabel, null);
    LOG.info("created key-encryption key {} in PKCS#11 slot {}: AES-256, sensitive, not extractable (kek {})",
        keyLabel, slot, kekIdOf(checkValue(provider, key)));
    return key;
  }

  /**
   * The SunPKCS11 provider for this slot. Its configuration makes every AES key the service generates
   * or stores there sensitive and not extractable.
   */
  private Provider provider() {
    if (library.toString().contains("\"") || library.toString().contains("\n")) {
      throw new KeyProviderException("the PKCS#11 library path (CARECONTEXT_KEK_PKCS11_LIBRARY) holds a quote or a line "
          + "break, which the JDK's PKCS#11 configuration cannot take: move or link the library to a plain path");
    }
    if (!Files.isReadable(library)) {
      throw new KeyProviderException("PKCS#11 library " + library + " (CARECONTEXT_KEK_PKCS11_LIBRARY) is missing "
          + "or unreadable: give the path of the token's PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so");
    }
    String config = """
        --name = CareContextKek
        library = "%s"
        slot = %d
        attributes(*, CKO_SECRET_KEY, CKK_AES) = {
          CKA_SENSITIVE = true
          CKA_EXTRACTABLE = false
        }
        """.formatted(library, slot);
    Provider base = Security.getProvider("SunPKCS11");
    if (base == null) {
      throw new KeyProviderException("this JRE has no SunPKCS11 provider (module jdk.crypto.cryptoki): run the "
          + "service on a full JDK or JRE 17");
    }
    try {
      return base.configure(config);
    } catch (ProviderException | java.security.InvalidParameterException e) {
      throw tokenFailed("open", e);
    }
  }

  private KeyStore keyStore(Provider provider) throws GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS11", provider);
    char[] pin = pin();
    try {
      store.load(null, pin);
    } catch (IOException e) {
      throw new KeyProviderException("PKCS#11 slot " + slot + " refused the PIN in " + pinFile
          + " (CARECONTEXT_KEK_PKCS11_PIN_FILE): check that it holds the token's user PIN", e);
    } finally {
      Arrays.fill(pin, '\0');
    }
    return store;
  }

  private char[] pin() {
    byte[] bytes;
    try {
      bytes = SecretFiles.readOwnerOnly(pinFile, "PKCS#11 PIN file");
    } catch (IOException e) {
      throw new KeyProviderException("cannot read the PKCS#11 PIN file " + pinFile + " (CARECONTEXT_KEK_PKCS11_PIN_FILE, "
          + e.getClass().getSimpleName() + "): put the token's user PIN in it, readable by this user only", e);
    }
    try {
      CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes));
      int end = chars.limit();
      while (end > 0 && Character.isWhitespace(chars.get(end - 1))) {
        end--;
      }
      char[] pin = new char[end];
      chars.get(pin);
      Arrays.fill(chars.array(), '\0');
      if (pin.length == 0) {
        throw new KeyProviderException("the PKCS#11 PIN file " + pinFile + " is empty: put the token's user PIN in it");
      }
      return pin;
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** The encryption of a zero block under the key: the usual key check value, computed in the token. */
  private static byte[] checkValue(Provider provider, Key key) throws GeneralSecurityException {
    Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding", provider);
    ecb.init(Cipher.ENCRYPT_MODE, key);
    return ecb.doFinal(new byte[16]);
  }

  static String kekIdOf(byte[] checkValue) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(KEK_ID_LABEL);
      return "pkcs11:" + HexFormat.of().formatHex(sha256.digest(checkValue), 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is unavailable in this JRE", e);
    }
  }

  /** {@code what} ends where the slot is named: "open", "wrap a data key in". */
  private KeyProviderException tokenFailed(String what, Exception e) {
    // The token's messages name return codes (CKR_...), never key material.
    return new KeyProviderException("could not " + what + " PKCS#11 slot " + slot + " of " + library + " ("
        + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
        + "); check that the token is present and the slot id (CARECONTEXT_KEK_PKCS11_SLOT) is right", e);
  }

  private static String requireLabel(String label) {
    if (label.isBlank() || label.length() > 64 || !label.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("the PKCS#11 key label must be 1 to 64 printable ASCII characters "
          + "without spaces (CARECONTEXT_KEK_PKCS11_KEY_LABEL)");
    }
    return label;
  }

  @Override
  public String toString() {
    return "Pkcs11KeyProvider[slot " + slot + ", key " + keyLabel + "]";
  }
}
