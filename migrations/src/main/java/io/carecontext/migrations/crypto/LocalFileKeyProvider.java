package io.carecontext.migrations.crypto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 256-bit key-encryption key kept in a local file (base64 of 32 random bytes), the default
 * when no cloud KMS is configured.
 *
 * <p>The file is read, or created with mode 0600, on first use rather than in the constructor,
 * so wiring the application does no I/O. A file that group or others can access is refused:
 * anyone who reads it can unwrap every tenant's data key.
 *
 * <p>Wrapping is AES-256-GCM in the same sealed format as data, with the KEK id as associated
 * data, so a wrapped key presented to a different KEK fails authentication.
 */
public final class LocalFileKeyProvider implements KeyEncryptionKeyProvider {

  private static final Logger LOG = LoggerFactory.getLogger(LocalFileKeyProvider.class);
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  private static final byte[] KEK_ID_LABEL = "carecontext/kek-id".getBytes(StandardCharsets.US_ASCII);

  private final Path keyFile;
  private final SecureRandom random;
  // Lazily loaded; guarded by "this". A record would hold the key and its id together.
  private Loaded loaded;

  private record Loaded(SecretKeySpec key, String kekId, byte[] aad) {
  }

  public LocalFileKeyProvider(Path keyFile, SecureRandom random) {
    this.keyFile = Objects.requireNonNull(keyFile, "keyFile").toAbsolutePath();
    this.random = Objects.requireNonNull(random, "random");
  }

  public LocalFileKeyProvider(Path keyFile) {
    this(keyFile, new SecureRandom());
  }

  @Override
  public String kekId() {
    return loaded().kekId();
  }

  @Override
  public byte[] wrap(byte[] dataKey) {
    Objects.requireNonNull(dataKey, "dataKey");
    Loaded kek = loaded();
    return AesGcm.seal(kek.key(), dataKey, kek.aad(), random);
  }

  @Override
  public byte[] unwrap(byte[] wrapped) {
    Objects.requireNonNull(wrapped, "wrapped");
    Loaded kek = loaded();
    try {
      return AesGcm.open(kek.key(), wrapped, kek.aad());
    } catch (DecryptionException e) {
      throw new DecryptionException("data key could not be unwrapped with key-encryption key "
          + kek.kekId() + ": it was wrapped under another key, or altered");
    }
  }

  private synchronized Loaded loaded() {
    if (loaded == null) {
      byte[] key = readOrCreate();
      try {
        String id = kekIdOf(key);
        loaded = new Loaded(new SecretKeySpec(key, "AES"), id, id.getBytes(StandardCharsets.US_ASCII));
      } finally {
        Arrays.fill(key, (byte) 0); // SecretKeySpec holds its own copy
      }
    }
    return loaded;
  }

  private byte[] readOrCreate() {
    try {
      return read();
    } catch (NoSuchFileException e) {
      return create();
    } catch (IOException e) {
      throw new KeyProviderException("cannot read key-encryption key file " + keyFile
          + " (" + e.getClass().getSimpleName() + "); check that it exists and is readable", e);
    }
  }

  private byte[] read() throws IOException {
    byte[] encoded = SecretFiles.readOwnerOnly(keyFile, "key-encryption key file");
    try {
      return decode(encoded);
    } finally {
      Arrays.fill(encoded, (byte) 0);
    }
  }

  private byte[] decode(byte[] encoded) {
    byte[] key;
    byte[] trimmed = trim(encoded);
    try {
      key = Base64.getDecoder().decode(trimmed);
    } catch (IllegalArgumentException e) {
      throw new KeyProviderException("key-encryption key file " + keyFile
          + " is not valid base64; it must hold base64 of 32 random bytes");
    } finally {
      Arrays.fill(trimmed, (byte) 0);
    }
    if (key.length != AesGcm.KEY_BYTES) {
      Arrays.fill(key, (byte) 0);
      throw new KeyProviderException("key-encryption key file " + keyFile + " holds " + key.length
          + " bytes; it must hold base64 of exactly 32 random bytes");
    }
    return key;
  }

  /**
   * Writes a fresh key to a private temporary file, then hard-links it into place. The link
   * fails if the key file appeared meanwhile (another process won the race), so a key that may
   * already have wrapped data keys is never overwritten; we then read the winner's key.
   */
  private byte[] create() {
    byte[] key = new byte[AesGcm.KEY_BYTES];
    random.nextBytes(key);
    Path temp = null;
    try {
      Path dir = keyFile.getParent();
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
      }
      temp = Files.createTempFile(dir, ".kek-", ".tmp", PosixFilePermissions.asFileAttribute(SecretFiles.OWNER_ONLY));
      writeDurably(temp, Base64.getEncoder().encode(key));
      try {
        Files.createLink(keyFile, temp);
      } catch (FileAlreadyExistsException raced) {
        Arrays.fill(key, (byte) 0);
        return read();
      }
      LOG.info("created key-encryption key file {} with mode 600 (kek {})", keyFile, kekIdOf(key));
      return key;
    } catch (UnsupportedOperationException | IOException e) {
      Arrays.fill(key, (byte) 0);
      throw new KeyProviderException("cannot create key-encryption key file " + keyFile + " ("
          + e.getClass().getSimpleName() + "); check that its directory exists, is writable, "
          + "is on a POSIX file system, or create the file yourself: "
          + "head -c 32 /dev/urandom | base64 > FILE && chmod 600 FILE", e);
    } finally {
      deleteQuietly(temp);
    }
  }

  private static void writeDurably(Path file, byte[] content) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(content));
      channel.force(true);
    } finally {
      Arrays.fill(content, (byte) 0);
    }
  }

  private static void deleteQuietly(Path temp) {
    if (temp == null) {
      return;
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      LOG.warn("could not delete temporary key file {} ({}); delete it by hand",
          temp, e.getClass().getSimpleName());
    }
  }

  private static byte[] trim(byte[] bytes) {
    int start = 0;
    int end = bytes.length;
    while (start < end && Character.isWhitespace(bytes[start])) {
      start++;
    }
    while (end > start && Character.isWhitespace(bytes[end - 1])) {
      end--;
    }
    return Arrays.copyOfRange(bytes, start, end);
  }

  /** A label-separated hash prefix: identifies the key without revealing anything usable about it. */
  static String kekIdOf(byte[] key) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(KEK_ID_LABEL);
      byte[] digest = sha256.digest(key);
      return "local:" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable in this JRE", e);
    }
  }

  @Override
  public String toString() {
    return "LocalFileKeyProvider[" + keyFile + "]";
  }
}
