package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.crypto.DecryptionException;
import io.carecontext.migrations.crypto.KeyProviderException;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.migrations.testing.TestDirectories;
import io.carecontext.migrations.testing.TestPlatform;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rotating the key-encryption key against real PostgreSQL: every tenant's data key rewrapped, what
 * was sealed before read with the new KEK alone, the old KEK useless afterwards, a second run a
 * no-op, and a data key under a third KEK refused before anything is written.
 */
class KekRotationIT {

  static TestPlatform platform;
  static Path dir;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    dir = TestDirectories.create("cc-kek-rotation");
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void everyDataKeyIsRewrappedAndWhatItSealedStaysReadableWithTheNewKeyOnly() throws SQLException {
    TenantId a = platform.tenant("rot_a");
    TenantId b = platform.tenant("rot_b");
    byte[] aadA = Aad.chunk(a, "Observation", "o1", 0);
    byte[] aadB = Aad.chunk(b, "Observation", "o1", 0);
    byte[] sealedA = platform.keys.cipher(a).encryptString("HbA1c 7.9 %", aadA);
    byte[] sealedB = platform.keys.cipher(b).encryptString("LDL 130 mg/dL", aadB);
    // tenant a's data key rotated once: its ring holds two versions, each a row the rotation rewraps
    try (Connection c = platform.db.ownerDataSource().getConnection()) {
      assertThat(platform.keys.rotate(c, a)).isEqualTo(2);
    }
    platform.keys.evict(a);
    byte[] sealedA2 = platform.keys.cipher(a).encryptString("HbA1c 8.2 %", aadA);
    assertThat(io.carecontext.migrations.crypto.TenantCipher.keyVersion(sealedA2)).isEqualTo(2);
    LocalFileKeyProvider old = new LocalFileKeyProvider(platform.kekFile);
    LocalFileKeyProvider next = new LocalFileKeyProvider(dir.resolve("next.key")); // made on first use, mode 600
    List<String> before = kekIds();

    KekRotation.Result done = KekRotation.rewrap(platform.db.ownerDataSource(), old, next);

    assertThat(done.rewrapped()).isEqualTo(before.size()).isGreaterThanOrEqualTo(2);
    assertThat(done.alreadyUnderNew()).isZero();
    assertThat(kekIds()).hasSize(before.size()).containsOnly(next.kekId());
    // a process started with the new KEK reads what was sealed before; one with the old KEK reads nothing
    TenantKeys withNext = new TenantKeys(next, platform.db.appDataSource());
    assertThat(withNext.cipher(a).decryptToString(sealedA, aadA)).isEqualTo("HbA1c 7.9 %");
    assertThat(withNext.cipher(b).decryptToString(sealedB, aadB)).isEqualTo("LDL 130 mg/dL");
    assertThat(withNext.cipher(a).decryptToString(sealedA2, aadA)).isEqualTo("HbA1c 8.2 %");
    assertThat(withNext.cipher(a).versions()).containsExactly(1, 2);
    assertThatThrownBy(() -> new TenantKeys(old, platform.db.appDataSource()).cipher(a))
        .isInstanceOf(TenantKeys.KekNotHeldException.class).hasMessageContaining("wrapped under kek " + next.kekId())
        .hasMessageNotContaining("HbA1c");
    // the old KEK itself opens none of the new wrappings
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT wrapped_key FROM platform.tenant_keys WHERE tenant_id = 'rot_a'")) {
      int versions = 0;
      while (rs.next()) {
        byte[] wrapped = rs.getBytes(1);
        assertThatThrownBy(() -> old.unwrap(wrapped)).isInstanceOf(DecryptionException.class);
        versions++;
      }
      assertThat(versions).isEqualTo(2);
    }

    // again: nothing left to do
    KekRotation.Result again = KekRotation.rewrap(platform.db.ownerDataSource(), old, next);
    assertThat(again.rewrapped()).isZero();
    assertThat(again.alreadyUnderNew()).isEqualTo(before.size());

    // from a KEK that made none of them to a third: refused, and nothing written
    LocalFileKeyProvider third = new LocalFileKeyProvider(dir.resolve("third.key"));
    assertThatThrownBy(() -> KekRotation.rewrap(platform.db.ownerDataSource(), old, third))
        .isInstanceOf(KeyProviderException.class).hasMessageContaining("neither the current one")
        .hasMessageContaining("nothing was changed");
    assertThat(kekIds()).containsOnly(next.kekId());
    assertThatThrownBy(() -> KekRotation.rewrap(platform.db.ownerDataSource(), next, next))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is the current one");
  }

  private static List<String> kekIds() throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT kek_id FROM platform.tenant_keys")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }
}
