package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `kek rotate` refuses, before it touches a database, what would lose data: a current key file that
 * does not exist (the key provider would make a new one there, under which nothing stored opens) and
 * a new file that is the current one; without --to (the rotation while the services run), a missing
 * previous key, a missing new key, both ways asked at once, and one file named as both keys.
 * KekRotationIT proves the rotation itself, KeyEncryptionKeyRotationIT the command.
 */
class KeyEncryptionKeyRotationTest {

  @Test
  void aMissingCurrentKeyIsNotMadeAndTheCurrentFileIsNoNewKey(@TempDir Path home) throws Exception {
    RuntimeSettings settings = RuntimeSettings.from(Map.of("CARECONTEXT_HOME", home.toString()));
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings, Optional.of(home.resolve("new.key")), running -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("there is no key-encryption key at")
        .hasMessageContaining("nothing was changed");
    assertThat(home.resolve("kek.key")).doesNotExist();
    assertThat(home.resolve("new.key")).doesNotExist();
    Files.writeString(home.resolve("kek.key"), "not used");
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings, Optional.of(home.resolve("kek.key")), running -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--to names the current");
  }

  @Test
  void withoutToThePreviousAndTheNewKeyMustBothExistAndDiffer(@TempDir Path home) throws Exception {
    Path old = home.resolve("old.key");
    Path next = home.resolve("new.key");
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings(home, Map.of()), Optional.empty(), running -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--to NEW_FILE")
        .hasMessageContaining("CARECONTEXT_KEK_PREVIOUS_FILE=the old key").hasMessageContaining("nothing was changed");
    RuntimeSettings online = settings(home, Map.of("CARECONTEXT_KEK_FILE", next.toString(),
        "CARECONTEXT_KEK_PREVIOUS_FILE", old.toString()));
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(online, Optional.empty(), running -> { }))
        .hasMessageContaining("no key-encryption key at " + old).hasMessageContaining("(CARECONTEXT_KEK_PREVIOUS_FILE)");
    Files.writeString(old, "not used");
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(online, Optional.empty(), running -> { }))
        .hasMessageContaining("no key-encryption key at " + next).hasMessageContaining("(CARECONTEXT_KEK_FILE)");
    assertThat(next).doesNotExist(); // not made: the services run with a key of their own there
    Files.writeString(next, "not used");
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(online, Optional.of(home.resolve("third.key")), running -> { }))
        .hasMessageContaining("--to and CARECONTEXT_KEK_PREVIOUS_FILE both name a rotation");
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings(home, Map.of("CARECONTEXT_KEK_FILE", old.toString(),
        "CARECONTEXT_KEK_PREVIOUS_FILE", old.toString())), Optional.empty(), running -> { }))
        .hasMessageContaining("names the same file as CARECONTEXT_KEK_FILE");
    assertThat(home.resolve("third.key")).doesNotExist();
  }

  @Test
  void aServiceRefusesAPreviousKeyThatIsNoFileOrTheCurrentOne(@TempDir Path home) throws Exception {
    Path old = home.resolve("old.key");
    assertThatThrownBy(() -> CareContextServer.kekProperties(settings(home, Map.of(
        "CARECONTEXT_KEK_PREVIOUS_FILE", old.toString()))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CARECONTEXT_KEK_PREVIOUS_FILE (" + old
            + ") names no file");
    Files.writeString(old, "not used");
    assertThatThrownBy(() -> CareContextServer.kekProperties(settings(home, Map.of("CARECONTEXT_KEK_FILE",
        old.toString(), "CARECONTEXT_KEK_PREVIOUS_FILE", old.toString()))))
        .hasMessageContaining("names the same file as CARECONTEXT_KEK_FILE");
    assertThat(CareContextServer.kekProperties(settings(home, Map.of()))).containsOnlyKeys("carecontext.kek-file");
  }

  private static RuntimeSettings settings(Path home, Map<String, String> env) {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("CARECONTEXT_HOME", home.toString());
    return RuntimeSettings.from(all);
  }
}
