package io.carecontext.migrations.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key-encryption key in a real PKCS#11 token (SoftHSM): the contract, and what is particular to a token. */
class Pkcs11KeyProviderTest extends KeyEncryptionKeyProviderContract {

  private static final AtomicInteger LABELS = new AtomicInteger();
  // each run's keys stay in target/softhsm; a label of their own keeps runs apart
  private static final String RUN = Long.toString(System.nanoTime(), 36);

  @TempDir
  Path dir;

  @Override
  protected KeyEncryptionKeyProvider newProvider() throws Exception {
    return provider(label());
  }

  private static String label() {
    return "kek-" + RUN + "-" + LABELS.incrementAndGet();
  }

  private static Pkcs11KeyProvider provider(String label) throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    return new Pkcs11KeyProvider(token.library(), token.slot(), token.pinFile(), label);
  }

  @Test
  void firstUseMakesTheKeyInTheTokenAndLaterProvidersFindTheSameKey() throws Exception {
    String label = label();
    Pkcs11KeyProvider first = provider(label);
    assertThat(first.holdsKey()).isFalse();
    byte[] dataKey = new byte[32];
    new SecureRandom().nextBytes(dataKey);
    byte[] wrapped = first.wrap(dataKey);

    Pkcs11KeyProvider again = provider(label);
    assertThat(again.holdsKey()).isTrue();
    assertThat(again.kekId()).isEqualTo(first.kekId()).startsWith("pkcs11:");
    assertThat(again.unwrap(wrapped)).isEqualTo(dataKey);
  }

  @Test
  void aPreviousKeyMustExistAndIsNeverMade() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    String label = label();
    Pkcs11KeyProvider previous = Pkcs11KeyProvider.existing(token.library(), token.slot(), token.pinFile(), label);
    assertThatThrownBy(previous::kekId).isInstanceOf(KeyProviderException.class)
        .hasMessageContaining("holds no key labelled " + label);
    assertThat(provider(label).holdsKey()).isFalse();

    String made = provider(label).kekId();
    assertThat(Pkcs11KeyProvider.existing(token.library(), token.slot(), token.pinFile(), label).kekId())
        .isEqualTo(made);
  }

  @Test
  void aWrongPinIsRefusedWithAMessageThatNamesTheFileAndNotThePin() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.tokenNotLoggedIn();
    Path pin = Files.createFile(dir.resolve("pin"), PosixFilePermissions.asFileAttribute(SecretFiles.OWNER_ONLY));
    Files.writeString(pin, "not-the-pin-0815");
    assertThatThrownBy(() -> new Pkcs11KeyProvider(token.library(), token.slot(), pin, label()).kekId())
        .isInstanceOf(KeyProviderException.class)
        .hasMessageContaining(pin.toString())
        .hasMessageNotContaining("not-the-pin-0815");
  }

  @Test
  void aPinFileOthersCanReadIsRefused() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    Path pin = Files.createFile(dir.resolve("pin"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-r--r--")));
    Files.writeString(pin, "whatever");
    assertThatThrownBy(() -> new Pkcs11KeyProvider(token.library(), token.slot(), pin, label()).kekId())
        .isInstanceOf(KeyProviderException.class)
        .hasMessageContaining("chmod 600");
  }

  @Test
  void aSlotWithoutATokenIsNamedInTheMessage() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    assertThatThrownBy(() -> new Pkcs11KeyProvider(token.library(), 999_999L, token.pinFile(), label()).kekId())
        .isInstanceOf(KeyProviderException.class)
        .hasMessageContaining("CARECONTEXT_KEK_PKCS11_SLOT")
        // it said "could not open PKCS#11 slot 999999 of … in PKCS#11 slot 999999 of …"
        .hasMessageStartingWith("could not open PKCS#11 slot 999999 of " + token.library() + " (")
        .message().doesNotContain(" in PKCS#11 slot");
  }

  @Test
  void aMissingLibraryIsNamedInTheMessage() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    assertThatThrownBy(() -> new Pkcs11KeyProvider(dir.resolve("none.so"), token.slot(), token.pinFile(), label())
        .kekId())
        .isInstanceOf(KeyProviderException.class)
        .hasMessageContaining("CARECONTEXT_KEK_PKCS11_LIBRARY");
  }

  @Test
  void labelsWithSpacesOrControlCharactersAreRefused() {
    assertThatThrownBy(() -> new Pkcs11KeyProvider(SoftHsmToken.LIBRARY, 1, dir.resolve("pin"), "a b"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
