package io.carecontext.services;

import io.carecontext.migrations.crypto.KeyEncryptionKeyProvider;
import io.carecontext.migrations.crypto.Pkcs11KeyProvider;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The key-encryption key held in a PKCS#11 token (an HSM) instead of a file: {@code
 * CARECONTEXT_KEK_PKCS11_LIBRARY}, {@code _SLOT}, {@code _PIN_FILE} and {@code _KEY_LABEL}. When set,
 * it wraps every new data key, and {@code CARECONTEXT_KEK_FILE} is not used; {@code
 * CARECONTEXT_KEK_PREVIOUS_FILE} may name the file key it replaces, until `kek rotate` has moved every
 * data key into the token; {@code CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL} names the token's key it
 * replaces, for a rotation from one key of the token to another.
 */
public record KekToken(Path library, long slot, Path pinFile, String keyLabel, Optional<String> previousKeyLabel) {

  public static final String DEFAULT_KEY_LABEL = "carecontext-kek";

  static final String LIBRARY = "carecontext.kek-pkcs11-library";
  static final String SLOT = "carecontext.kek-pkcs11-slot";
  static final String PIN_FILE = "carecontext.kek-pkcs11-pin-file";
  static final String KEY_LABEL = "carecontext.kek-pkcs11-key-label";
  static final String PREVIOUS_KEY_LABEL = "carecontext.kek-pkcs11-previous-key-label";

  /** The advisory lock under which one process at a time makes the token's key ("ccP11KEY"). */
  static final long KEY_LOCK = 0x63635031314b4559L;

  /**
   * The id of {@code current}, the token's key, made there first if the token holds none yet, under
   * an advisory lock that every process of the installation takes for it. PKCS#11 has no "make it
   * unless it exists": serve and worker (or two API pods) starting together could each make a key under
   * the same label, and wrap data keys under different keys.
   */
  static String makeOnce(javax.sql.DataSource owner, KeyEncryptionKeyProvider current) {
    return InstallationLock.holding(owner, KEY_LOCK, "making the PKCS#11 key", current::kekId);
  }

  /** A provider of this key; the token is opened on its first use. */
  public Pkcs11KeyProvider provider() {
    return new Pkcs11KeyProvider(library, slot, pinFile, keyLabel);
  }

  /** The token's previous key, which must exist: none is made. */
  public Optional<KeyEncryptionKeyProvider> previousProvider() {
    return previousKeyLabel.map(label -> Pkcs11KeyProvider.existing(library, slot, pinFile, label));
  }

  /** Where the messages say this key is configured. */
  public String describe() {
    return "the PKCS#11 key " + keyLabel + " in slot " + slot + " (CARECONTEXT_KEK_PKCS11_*)";
  }

  /** As the service's context properties, which {@link PlatformFactory} reads back. */
  Map<String, Object> properties() {
    Map<String, Object> properties = new HashMap<>();
    properties.put(LIBRARY, library.toString());
    properties.put(SLOT, Long.toString(slot));
    properties.put(PIN_FILE, pinFile.toString());
    properties.put(KEY_LABEL, keyLabel);
    previousKeyLabel.ifPresent(label -> properties.put(PREVIOUS_KEY_LABEL, label));
    return properties;
  }

  /** From the context properties: empty when no library is named. */
  static Optional<KekToken> fromProperties(String library, String slot, String pinFile, String keyLabel,
                                           String previousKeyLabel) {
    if (library.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new KekToken(Path.of(library), Long.parseLong(slot), Path.of(pinFile), keyLabel,
        previousKeyLabel.isEmpty() ? Optional.empty() : Optional.of(previousKeyLabel)));
  }
}
