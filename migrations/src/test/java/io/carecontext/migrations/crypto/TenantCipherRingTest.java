package io.carecontext.migrations.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A key ring of data key versions: the versioned format, and values sealed before any rotation. */
class TenantCipherRingTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] AAD = "resource|t|Observation/42|1".getBytes(StandardCharsets.UTF_8);
  private static final String PHI = "Jane Doe, DOB 1961-04-02, HbA1c 9.1%";
  private static final TenantCipher.Missing NONE = v -> {
    throw new DecryptionException("no version " + v);
  };

  private final DataKey first = DataKey.generate(RANDOM);
  private final DataKey second = DataKey.generate(RANDOM);
  private final TenantCipher before = new TenantCipher(first);
  private final TenantCipher ring = new TenantCipher(new TreeMap<>(Map.of(1, first, 2, second)), 2, NONE);

  @Test
  void aValueSealedBeforeAnyRotationOpensAsVersionOne() {
    byte[] old = before.encryptString(PHI, AAD);
    assertThat(old[0]).isEqualTo((byte) 1);
    assertThat(TenantCipher.keyVersion(old)).isEqualTo(1);
    assertThat(ring.decryptToString(old, AAD)).isEqualTo(PHI);
  }

  @Test
  void newValuesNameTheActiveVersionAndOpenOnlyInARingHoldingIt() {
    byte[] sealed = ring.encryptString(PHI, AAD);
    assertThat(sealed[0]).isEqualTo((byte) 2);
    assertThat(sealed).hasSize(1 + 4 + 12 + PHI.getBytes(StandardCharsets.UTF_8).length + 16);
    assertThat(TenantCipher.keyVersion(sealed)).isEqualTo(2);
    assertThat(ring.decryptToString(sealed, AAD)).isEqualTo(PHI);
    assertThatThrownBy(() -> before.decrypt(sealed, AAD)).isInstanceOf(DecryptionException.class)
        .hasMessageContaining("version 2");
  }

  @Test
  void aVersionedValueWithAnotherVersionOrAssociatedDataFails() {
    byte[] sealed = ring.encryptString(PHI, AAD);
    byte[] relabelled = sealed.clone();
    relabelled[4] = 1; // names version 1: opened under the other key, with another header
    assertThatThrownBy(() -> ring.decrypt(relabelled, AAD)).isInstanceOf(DecryptionException.class)
        .hasMessageContaining("authentication failed");
    byte[] otherAad = "resource|t|Observation/43|1".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> ring.decrypt(sealed, otherAad)).isInstanceOf(DecryptionException.class)
        .hasMessageContaining("authentication failed");
    // the same key named as another version: the header is authenticated, so this fails too
    TenantCipher sameKeyAsThree = new TenantCipher(new TreeMap<>(Map.of(1, first, 3, second)), 3, NONE);
    byte[] asThree = sealed.clone();
    asThree[4] = 3;
    assertThatThrownBy(() -> sameKeyAsThree.decrypt(asThree, AAD)).isInstanceOf(DecryptionException.class);
  }

  @Test
  void aVersionTheRingLacksIsAskedForAndResealMovesAValueToTheActiveVersion() {
    byte[] old = before.encryptString(PHI, AAD);
    byte[] moved = ring.reseal(old, AAD);
    assertThat(TenantCipher.keyVersion(moved)).isEqualTo(2);
    TenantCipher stale = new TenantCipher(new TreeMap<>(Map.of(1, first)), 1, v -> ring);
    assertThat(stale.decryptToString(moved, AAD)).isEqualTo(PHI);
  }

  @Test
  void keyedHashesStayUnderVersionOne() {
    byte[] data = "Observation/42".getBytes(StandardCharsets.UTF_8);
    assertThat(ring.contentHash(data)).isEqualTo(before.contentHash(data));
    assertThat(ring.auditSeal(data)).isEqualTo(before.auditSeal(data));
    assertThat(ring.activeVersion()).isEqualTo(2);
  }

  @Test
  void aRingWithoutVersionOneIsRefused() {
    assertThatThrownBy(() -> new TenantCipher(new TreeMap<>(Map.of(2, second)), 2, NONE))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aVersionedHeaderNamingNoPossibleVersionIsRefusedWithoutAskingForTheRing() {
    java.util.List<Integer> asked = new java.util.ArrayList<>();
    TenantCipher watched = new TenantCipher(new TreeMap<>(Map.of(1, first, 2, second)), 2, v -> {
      asked.add(v); // a read of the key rows, on the caller's thread, in TenantKeys
      throw new DecryptionException("no version " + v);
    });
    byte[] sealed = ring.encryptString(PHI, AAD);
    for (int bad : new int[] {0, -1, Integer.MIN_VALUE}) {
      byte[] named = sealed.clone();
      java.nio.ByteBuffer.wrap(named, 1, 4).putInt(bad);
      assertThatThrownBy(() -> TenantCipher.keyVersion(named)).as("%d", bad).isInstanceOf(DecryptionException.class)
          .hasMessageContaining("malformed").hasMessageNotContaining("Jane");
      assertThatThrownBy(() -> watched.decrypt(named, AAD)).isInstanceOf(DecryptionException.class);
    }
    assertThat(asked).as("a malformed header is no reason to read the key rows").isEmpty();
    // a version above any held is asked for (another process may have rotated), and fails there
    byte[] huge = sealed.clone();
    java.nio.ByteBuffer.wrap(huge, 1, 4).putInt(Integer.MAX_VALUE);
    assertThatThrownBy(() -> watched.decrypt(huge, AAD)).isInstanceOf(DecryptionException.class);
    assertThat(asked).containsExactly(Integer.MAX_VALUE);
    // short, empty, a truncated header, an unknown format byte: refused as such
    for (byte[] b : new byte[][] {new byte[0], new byte[] {2}, java.util.Arrays.copyOf(sealed, 5 + 12 + 15),
        java.util.Arrays.copyOf(before.encryptString(PHI, AAD), 28)}) {
      assertThatThrownBy(() -> watched.decrypt(b, AAD)).as("%d bytes", b.length)
          .isInstanceOf(DecryptionException.class).hasMessageContaining("too short");
    }
    byte[] unknown = sealed.clone();
    unknown[0] = 3;
    assertThatThrownBy(() -> watched.decrypt(unknown, AAD)).isInstanceOf(DecryptionException.class)
        .hasMessageContaining("unsupported sealed format version 3");
  }
}
