package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `kek rotate` refuses, before it touches a database, what would lose data: a current key file that
 * does not exist (the key provider would make a new one there, under which nothing stored opens) and
 * a new file that is the current one. KekRotationIT proves the rotation itself, KeyEncryptionKeyRotationIT the command.
 */
class KeyEncryptionKeyRotationTest {

  @Test
  void aMissingCurrentKeyIsNotMadeAndTheCurrentFileIsNoNewKey(@TempDir Path home) throws Exception {
    RuntimeSettings settings = RuntimeSettings.from(Map.of("CARECONTEXT_HOME", home.toString()));
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings, home.resolve("new.key"), running -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("there is no key-encryption key at")
        .hasMessageContaining("nothing was changed");
    assertThat(home.resolve("kek.key")).doesNotExist();
    assertThat(home.resolve("new.key")).doesNotExist();
    Files.writeString(home.resolve("kek.key"), "not used");
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings, home.resolve("kek.key"), running -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--to names the current");
  }
}
