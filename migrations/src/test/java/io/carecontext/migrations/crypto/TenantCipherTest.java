package io.carecontext.migrations.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class TenantCipherTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] AAD = "tenant-a/fhir_resource/Observation/42".getBytes(StandardCharsets.UTF_8);
  private static final String PHI = "Jane Doe, DOB 1961-04-02, HbA1c 9.1%";

  private final TenantCipher cipher = new TenantCipher(DataKey.generate(RANDOM));

  @Test
  void roundTripsBytesAndStrings() {
    byte[] plaintext = PHI.getBytes(StandardCharsets.UTF_8);
    assertThat(cipher.decrypt(cipher.encrypt(plaintext, AAD), AAD)).isEqualTo(plaintext);
    assertThat(cipher.decryptToString(cipher.encryptString(PHI, AAD), AAD)).isEqualTo(PHI);
    assertThat(cipher.decrypt(cipher.encrypt(new byte[0], new byte[0]), new byte[0])).isEmpty();
  }

  @Test
  void usesTheDocumentedFormat() {
    byte[] plaintext = PHI.getBytes(StandardCharsets.UTF_8);
    byte[] sealed = cipher.encrypt(plaintext, AAD);
    assertThat(sealed[0]).isEqualTo((byte) 1);
    assertThat(sealed).hasSize(1 + 12 + plaintext.length + 16);
    assertThat(HexFormat.of().formatHex(sealed)).doesNotContain(HexFormat.of().formatHex(plaintext));
  }

  @Test
  void ciphertextIsBoundToItsAssociatedData() {
    byte[] sealed = cipher.encryptString(PHI, AAD);
    byte[] otherRow = "tenant-a/fhir_resource/Observation/43".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> cipher.decrypt(sealed, otherRow)).isInstanceOf(DecryptionException.class);
    assertThatThrownBy(() -> cipher.decrypt(sealed, new byte[0])).isInstanceOf(DecryptionException.class);
  }

  @Test
  void everyAlteredByteIsDetected() {
    byte[] sealed = cipher.encryptString(PHI, AAD);
    for (int i = 0; i < sealed.length; i++) {
      byte[] altered = sealed.clone();
      altered[i] ^= (byte) 0x80;
      assertThatThrownBy(() -> cipher.decrypt(altered, AAD))
          .as("offset %d", i)
          .isInstanceOf(DecryptionException.class)
          .message().doesNotContain(PHI);
    }
    assertThatThrownBy(() -> cipher.decrypt(Arrays.copyOf(sealed, sealed.length - 1), AAD))
        .isInstanceOf(DecryptionException.class);
    assertThatThrownBy(() -> cipher.decrypt(new byte[5], AAD))
        .isInstanceOf(DecryptionException.class)
        .hasMessageContaining("too short");
    // The thread's cipher is reused: a failed call leaves nothing behind for the next one.
    assertThat(cipher.decryptToString(sealed, AAD)).isEqualTo(PHI);
    TenantCipher other = new TenantCipher(DataKey.generate(RANDOM));
    assertThat(other.decryptToString(other.encryptString(PHI, AAD), AAD)).isEqualTo(PHI);
    assertThat(cipher.decryptToString(sealed, AAD)).isEqualTo(PHI);
  }

  @Test
  void noncesAreUniqueAcrossManyEncryptions() {
    Set<String> nonces = new HashSet<>();
    byte[] plaintext = PHI.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 50_000; i++) {
      byte[] sealed = cipher.encrypt(plaintext, AAD);
      nonces.add(HexFormat.of().formatHex(sealed, 1, 13));
    }
    assertThat(nonces).hasSize(50_000);
  }

  @Test
  void anotherKeyCannotDecrypt() {
    byte[] sealed = cipher.encryptString(PHI, AAD);
    TenantCipher other = new TenantCipher(DataKey.generate(RANDOM));
    assertThatThrownBy(() -> other.decrypt(sealed, AAD))
        .isInstanceOf(DecryptionException.class)
        .hasMessageContaining("wrong key");
  }

  @Test
  void destroyedKeyCannotDecryptOrEncrypt() {
    DataKey key = DataKey.generate(RANDOM);
    TenantCipher shredded = new TenantCipher(key);
    byte[] sealed = shredded.encryptString(PHI, AAD);

    key.destroy();

    assertThat(key.isDestroyed()).isTrue();
    assertThatThrownBy(() -> shredded.decrypt(sealed, AAD)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> shredded.encryptString(PHI, AAD)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> shredded.contentHash(new byte[1])).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void destroyingDuringEncryptionNeverSealsUnderAHalfZeroedKey() throws Exception {
    InMemoryKeyProvider kek = new InMemoryKeyProvider(RANDOM);
    for (int round = 0; round < 20; round++) {
      DataKey key = DataKey.generate(RANDOM);
      byte[] wrapped = key.wrapWith(kek);
      TenantCipher racing = new TenantCipher(key);
      java.util.Queue<byte[]> sealed = new java.util.concurrent.ConcurrentLinkedQueue<>();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        for (int t = 0; t < 4; t++) {
          pool.submit(() -> {
            try {
              while (true) {
                sealed.add(racing.encryptString(PHI, AAD));
              }
            } catch (IllegalStateException destroyed) {
              return null;
            }
          });
        }
        Thread.sleep(2);
        key.destroy();
      } finally {
        pool.shutdown();
        pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
      }
      TenantCipher original = new TenantCipher(DataKey.unwrap(kek, wrapped));
      for (byte[] s : sealed) {
        assertThat(original.decryptToString(s, AAD)).isEqualTo(PHI);
      }
    }
  }

  @Test
  void isSafeToShareAcrossThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      var futures = new java.util.ArrayList<Future<String>>();
      for (int i = 0; i < 2_000; i++) {
        String text = PHI + " #" + i;
        futures.add(pool.submit(() -> cipher.decryptToString(cipher.encryptString(text, AAD), AAD)));
      }
      for (int i = 0; i < futures.size(); i++) {
        assertThat(futures.get(i).get()).isEqualTo(PHI + " #" + i);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The identifier index's key, as the write path stored it since tenant migration 3 and the accounting by MRN looks
   * it up (tenant migration 79): one formula for both, pinned here, since a change would orphan every stored key.
   */
  @Test
  void anIdentifiersKeyIsTheContentHashOfIdentifierSystemValue() {
    byte[] key = cipher.identifierHash("urn:mrn", "MRN-4471");
    assertThat(key).isEqualTo(cipher.contentHash("identifier|urn:mrn|MRN-4471".getBytes(StandardCharsets.UTF_8)));
    // an identifier sent without a system is keyed as one with an empty system
    assertThat(cipher.identifierHash(null, "LOCAL-7")).isEqualTo(cipher.identifierHash("", "LOCAL-7"))
        .isEqualTo(cipher.contentHash("identifier||LOCAL-7".getBytes(StandardCharsets.UTF_8)));
    // the system, its case and the value's whitespace are part of the key, exactly as sent
    assertThat(cipher.identifierHash("urn:MRN", "MRN-4471")).isNotEqualTo(key);
    assertThat(cipher.identifierHash("urn:mrn", "MRN-4471 ")).isNotEqualTo(key);
    assertThat(new TenantCipher(DataKey.generate(RANDOM)).identifierHash("urn:mrn", "MRN-4471")).isNotEqualTo(key);
  }

  @Test
  void contentHashIsDeterministicPerKeyAndNotAPlainHash() throws Exception {
    byte[] data = PHI.getBytes(StandardCharsets.UTF_8);
    byte[] hash = cipher.contentHash(data);

    assertThat(hash).hasSize(32);
    assertThat(cipher.contentHash(data)).isEqualTo(hash);
    assertThat(cipher.contentHash((PHI + ".").getBytes(StandardCharsets.UTF_8))).isNotEqualTo(hash);
    assertThat(new TenantCipher(DataKey.generate(RANDOM)).contentHash(data)).isNotEqualTo(hash);
    assertThat(hash).isNotEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(data));
  }

  @Test
  void auditSealsAreKeyedPerTenantAndApartFromContentHashes() {
    byte[] head = "shard 3, seq 41, head 9f2c".getBytes(StandardCharsets.UTF_8);
    byte[] seal = cipher.auditSeal(head);

    assertThat(seal).hasSize(32);
    assertThat(cipher.auditSeal(head)).isEqualTo(seal);
    assertThat(cipher.auditSeal("shard 3, seq 42, head 9f2c".getBytes(StandardCharsets.UTF_8))).isNotEqualTo(seal);
    assertThat(new TenantCipher(DataKey.generate(RANDOM)).auditSeal(head)).isNotEqualTo(seal);
    // a subkey of its own: a content hash (stored beside chunks) is never a valid seal
    assertThat(cipher.contentHash(head)).isNotEqualTo(seal);
  }

  @Test
  void nothingSecretInToString() {
    DataKey key = DataKey.generate(RANDOM);
    assertThat(key.toString()).isEqualTo("DataKey[AES-256]");
    assertThat(new TenantCipher(key).toString()).isEqualTo("TenantCipher[AES-256-GCM]");
    key.destroy();
    assertThat(key.toString()).isEqualTo("DataKey[destroyed]");
  }

  @Test
  void unsupportedVersionIsReportedAsSuch() {
    byte[] sealed = cipher.encryptString(PHI, AAD);
    sealed[0] = 9;
    assertThatThrownBy(() -> cipher.decrypt(sealed, AAD))
        .isInstanceOf(DecryptionException.class)
        .hasMessageContaining("version 9");
  }
}
