package io.carecontext.migrations.crypto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Files that hold a secret (a key, a token's PIN): read only when no one but their owner can read them. */
final class SecretFiles {

  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private SecretFiles() {
  }

  /**
   * The file's bytes, which the caller zeroes after use; refused when group or others may access it.
   * {@code what} names the file in messages ("key-encryption key file").
   *
   * @throws java.nio.file.NoSuchFileException when it does not exist
   */
  static byte[] readOwnerOnly(Path file, String what) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view == null) {
      throw new KeyProviderException("cannot verify permissions of " + what + " " + file
          + ": the file system has no POSIX permissions; keep it on a POSIX file system");
    }
    Set<PosixFilePermission> permissions = view.readAttributes().permissions();
    if (!OWNER_ONLY.containsAll(permissions)) {
      throw new KeyProviderException(what + " " + file + " has mode " + PosixFilePermissions.toString(permissions)
          + ", which lets group or others read it; run: chmod 600 " + file);
    }
    return Files.readAllBytes(file);
  }
}
