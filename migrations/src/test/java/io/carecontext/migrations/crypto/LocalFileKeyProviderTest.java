package io.carecontext.migrations.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileKeyProviderTest extends KeyEncryptionKeyProviderContract {

  private static final AtomicInteger FILES = new AtomicInteger();

  @TempDir
  Path dir;

  @Override
  protected KeyEncryptionKeyProvider newProvider() {
    return new LocalFileKeyProvider(dir.resolve("kek-" + FILES.incrementAndGet() + ".key"));
  }

  @Test
  void constructorDoesNoIo() {
    Path file = dir.resolve("lazy.key");
    new LocalFileKeyProvider(file);
    assertThat(file).doesNotExist();
  }

  @Test
  void firstUseCreatesAnOwnerOnlyFileHoldingBase64Of32Bytes() throws Exception {
    Path file = dir.resolve("sub/dir/kek.key");
    new LocalFileKeyProvider(file).kekId();

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    String content = Files.readString(file, StandardCharsets.US_ASCII).trim();
    assertThat(Base64.getDecoder().decode(content)).hasSize(32);
    try (var leftovers = Files.list(file.getParent())) {
      assertThat(leftovers).as("no temporary files left behind").containsExactly(file);
    }
  }

  @Test
  void kekIdIsDerivedFromTheKeyButDoesNotRevealIt() throws Exception {
    Path file = dir.resolve("kek.key");
    String id = new LocalFileKeyProvider(file).kekId();
    String content = Files.readString(file).trim();
    String keyHex = java.util.HexFormat.of().formatHex(Base64.getDecoder().decode(content));

    assertThat(id).matches("local:[0-9a-f]{16}");
    assertThat(keyHex).doesNotContain(id.substring("local:".length()));
    // derived from the key: the same key in another file has the same id, another key another id
    Path copy = dir.resolve("copy-of-kek.key");
    Files.writeString(copy, content + "\n", StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-------"));
    assertThat(new LocalFileKeyProvider(copy).kekId()).isEqualTo(id);
    Path other = dir.resolve("other-kek.key");
    byte[] otherKey = Base64.getDecoder().decode(content);
    otherKey[0] ^= 0x01;
    Files.writeString(other, Base64.getEncoder().encodeToString(otherKey) + "\n", StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rw-------"));
    assertThat(new LocalFileKeyProvider(other).kekId()).matches("local:[0-9a-f]{16}").isNotEqualTo(id);
  }

  @Test
  void reopeningTheSameFileGivesTheSameKek() {
    Path file = dir.resolve("kek.key");
    LocalFileKeyProvider first = new LocalFileKeyProvider(file);
    byte[] dataKey = new byte[32];
    new SecureRandom().nextBytes(dataKey);
    byte[] wrapped = first.wrap(dataKey);

    LocalFileKeyProvider second = new LocalFileKeyProvider(file);

    assertThat(second.kekId()).isEqualTo(first.kekId());
    assertThat(second.unwrap(wrapped)).isEqualTo(dataKey);
  }

  @Test
  void acceptsAnOperatorProvidedReadOnlyFileWithTrailingNewline() throws Exception {
    Path file = dir.resolve("kek.key");
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));

    assertThat(new LocalFileKeyProvider(file).kekId()).isEqualTo(LocalFileKeyProvider.kekIdOf(key));
  }

  @Test
  void refusesAFileReadableByGroupOrOthers() throws Exception {
    Path file = dir.resolve("kek.key");
    new LocalFileKeyProvider(file).kekId();
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    String content = Files.readString(file).trim();

    assertThatThrownBy(() -> new LocalFileKeyProvider(file).kekId())
        .isInstanceOf(KeyProviderException.class)
        .hasMessageContaining("chmod 600 " + file)
        .hasMessageContaining("rw-r--r--")
        .message().doesNotContain(content);
  }

  /**
   * CARECONTEXT_KEK_FILE (or `kek rotate --to`) naming a folder, such as a Secret's mount path without the
   * key's name: it was told to "chmod 600" the folder, after which it failed to read it.
   */
  @Test
  void aFolderIsNamedAsOneAndNotToldToChangeItsMode() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("kek-mount"));
    for (String mode : new String[] {"rwxr-xr-x", "rwx------"}) {
      Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString(mode));
      assertThatThrownBy(() -> new LocalFileKeyProvider(folder).kekId())
          .as(mode).isInstanceOf(KeyProviderException.class)
          .hasMessageContaining(folder + " is a folder, not a key file")
          .message().doesNotContain("chmod");
    }
  }

  /**
   * A Kubernetes Secret mounted for a pod that runs as a user other than root: owned by root, mode 440,
   * its group the pod's fsGroup, which the process has. The Helm chart mounts the key so; a check for
   * owner-only files refused it, and the service could not start in the cluster.
   */
  @Test
  void acceptsAReadOnlyFileOfItsOwnGroupAndRefusesOneOthersMayReadOrAnyoneWrite() throws Exception {
    Path file = dir.resolve("kek.key");
    String id = new LocalFileKeyProvider(file).kekId();
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r-----"));
    assertThat(SecretFiles.processGroups()).contains(((Number) Files.getAttribute(file, "unix:gid")).longValue());
    assertThat(new LocalFileKeyProvider(file).kekId()).isEqualTo(id);

    for (String mode : List.of("r--r--r--", "rw-r-----", "r--rw----", "r--r----x")) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
      assertThatThrownBy(() -> new LocalFileKeyProvider(file).kekId()).as(mode)
          .isInstanceOf(KeyProviderException.class).hasMessageContaining(mode);
    }
  }

  @Test
  void refusesMalformedContentWithoutEchoingIt() throws Exception {
    Path file = dir.resolve("kek.key");
    Files.writeString(file, "c2hvcnQ=");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

    assertThatThrownBy(() -> new LocalFileKeyProvider(file).kekId())
        .isInstanceOf(KeyProviderException.class)
        .hasMessageContaining("exactly 32 random bytes")
        .message().doesNotContain("c2hvcnQ=");
  }

  @Test
  void concurrentFirstUseByIndependentInstancesAgreesOnOneKey() throws Exception {
    Path file = dir.resolve("raced.key");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<String>> tasks = new java.util.ArrayList<>();
      for (int i = 0; i < 16; i++) {
        tasks.add(() -> new LocalFileKeyProvider(file).kekId());
      }
      Set<String> ids = new HashSet<>();
      for (Future<String> f : pool.invokeAll(tasks)) {
        ids.add(f.get());
      }
      assertThat(ids).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void toStringNamesTheFileOnly() {
    Path file = dir.resolve("kek.key");
    LocalFileKeyProvider provider = new LocalFileKeyProvider(file);
    provider.kekId();
    assertThat(provider.toString()).isEqualTo("LocalFileKeyProvider[" + file.toAbsolutePath() + "]");
  }
}
