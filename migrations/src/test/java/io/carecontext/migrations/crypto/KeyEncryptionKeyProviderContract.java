package io.carecontext.migrations.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link KeyEncryptionKeyProvider} must have. Adapters (local file, cloud KMS)
 * extend this class and supply fresh providers; published in the migrations test-jar.
 */
public abstract class KeyEncryptionKeyProviderContract {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A provider with its own KEK, distinct from every other provider this method returns. */
  protected abstract KeyEncryptionKeyProvider newProvider() throws Exception;

  @Test
  void kekIdIsStableAndNotBlank() throws Exception {
    KeyEncryptionKeyProvider provider = newProvider();
    assertThat(provider.kekId()).isNotBlank();
    assertThat(provider.kekId()).isEqualTo(provider.kekId());
  }

  @Test
  void distinctKeksHaveDistinctIds() throws Exception {
    assertThat(newProvider().kekId()).isNotEqualTo(newProvider().kekId());
  }

  @Test
  void wrapThenUnwrapReturnsTheDataKey() throws Exception {
    KeyEncryptionKeyProvider provider = newProvider();
    byte[] dataKey = randomKey();
    byte[] original = dataKey.clone();

    byte[] wrapped = provider.wrap(dataKey);

    assertThat(dataKey).as("wrap must not modify its argument").isEqualTo(original);
    assertThat(provider.unwrap(wrapped)).isEqualTo(original);
  }

  @Test
  void wrappedBytesDoNotContainTheDataKey() throws Exception {
    byte[] dataKey = randomKey();
    byte[] wrapped = newProvider().wrap(dataKey);
    String hex = HexFormat.of().formatHex(wrapped);
    assertThat(hex).doesNotContain(HexFormat.of().formatHex(dataKey));
  }

  @Test
  void unwrapUnderAnotherKekFails() throws Exception {
    byte[] wrapped = newProvider().wrap(randomKey());
    KeyEncryptionKeyProvider other = newProvider();
    assertThatThrownBy(() -> other.unwrap(wrapped)).isInstanceOf(DecryptionException.class);
  }

  @Test
  void unwrapOfAlteredBytesFails() throws Exception {
    KeyEncryptionKeyProvider provider = newProvider();
    byte[] wrapped = provider.wrap(randomKey());
    for (int i = 0; i < wrapped.length; i++) {
      byte[] altered = wrapped.clone();
      altered[i] ^= 0x01;
      assertThatThrownBy(() -> provider.unwrap(altered))
          .as("flipping a bit at offset %d", i)
          .isInstanceOf(DecryptionException.class);
    }
  }

  @Test
  void unwrapOfTruncatedOrEmptyBytesFails() throws Exception {
    KeyEncryptionKeyProvider provider = newProvider();
    byte[] wrapped = provider.wrap(randomKey());
    assertThatThrownBy(() -> provider.unwrap(Arrays.copyOf(wrapped, wrapped.length - 1)))
        .isInstanceOf(DecryptionException.class);
    assertThatThrownBy(() -> provider.unwrap(new byte[0])).isInstanceOf(DecryptionException.class);
  }

  @Test
  void wrappedDataKeyOpensTenantData() throws Exception {
    KeyEncryptionKeyProvider provider = newProvider();
    DataKey key = DataKey.generate(RANDOM);
    byte[] aad = "tenant-a/chunk/1".getBytes(StandardCharsets.UTF_8);
    byte[] sealed = new TenantCipher(key).encryptString("BP 120/80", aad);
    byte[] wrapped = key.wrapWith(provider);
    key.destroy();

    DataKey restored = DataKey.unwrap(provider, wrapped);

    assertThat(new TenantCipher(restored).decryptToString(sealed, aad)).isEqualTo("BP 120/80");
  }

  private static byte[] randomKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }
}
