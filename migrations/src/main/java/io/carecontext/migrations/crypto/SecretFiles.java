package io.carecontext.migrations.crypto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Files that hold a secret (a key, a token's PIN): read only when no one else can read them. That is a
 * file only its owner may access (mode 600 or 400), or a read-only one that only its owner and this
 * process's own group may read (mode 440, the group one of this process's): what Kubernetes makes of a
 * Secret mounted for a pod that runs as a user other than root ({@code defaultMode: 0440} and the pod's
 * {@code fsGroup}, as the Helm chart mounts the key-encryption key). Others may never read it.
 */
public final class SecretFiles {

  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> READ_ONLY_FOR_OWNER_AND_GROUP =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.GROUP_READ);
  private static final Path PROCESS_STATUS = Path.of("/proc/self/status");

  private SecretFiles() {
  }

  /**
   * The file's bytes, which the caller zeroes after use; refused when anyone but its owner (and, read-only,
   * this process's group) may access it. {@code what} names the file in messages ("key-encryption key file").
   *
   * @throws java.nio.file.NoSuchFileException when it does not exist
   */
  static byte[] readOwnerOnly(Path file, String what) throws IOException {
    if (Files.isDirectory(file)) {
      // a Secret's mount path without the key's name: it was told to "chmod 600" the folder
      throw new KeyProviderException(what + " " + file + " is a folder, not a key file: name the file itself (for a "
          + "mounted Secret, the mount path and the key's name)");
    }
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view == null) {
      throw new KeyProviderException("cannot verify permissions of " + what + " " + file
          + ": the file system has no POSIX permissions; keep it on a POSIX file system");
    }
    Set<PosixFilePermission> permissions = view.readAttributes().permissions();
    if (!keptFromOthers(file, permissions)) {
      throw new KeyProviderException(what + " " + file + " has mode " + PosixFilePermissions.toString(permissions)
          + ", which lets others read it or change it; run: chmod 600 " + file + " (a read-only mount readable by "
          + "this process's own group, mode 440, is accepted too)");
    }
    return Files.readAllBytes(file);
  }

  /**
   * Whether a secret file with these permissions is kept from everyone but its owner (and, read-only, this
   * process's own group): the one judgement of every secret file, whether it is then refused (a key, a PIN)
   * or warned about (the operator key in admin.key).
   */
  public static boolean keptFromOthers(Path file, Set<PosixFilePermission> permissions) {
    return OWNER_ONLY.containsAll(permissions) || readOnlyForOwnGroup(file, permissions);
  }

  /** Mode 440 or 400 (no one may write it, others may not read it), and its group one of this process's. */
  static boolean readOnlyForOwnGroup(Path file, Set<PosixFilePermission> permissions) {
    if (!READ_ONLY_FOR_OWNER_AND_GROUP.containsAll(permissions)) {
      return false;
    }
    try {
      Object gid = Files.getAttribute(file, "unix:gid");
      return gid instanceof Number n && processGroups().contains(n.longValue());
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false; // no way to tell: only owner-only files then
    }
  }

  /** This process's group ids (real, effective, and supplementary), from Linux's /proc; empty elsewhere. */
  static Set<Long> processGroups() throws IOException {
    Set<Long> groups = new HashSet<>();
    if (!Files.isReadable(PROCESS_STATUS)) {
      return groups;
    }
    List<String> lines = Files.readAllLines(PROCESS_STATUS);
    for (String line : lines) {
      if (line.startsWith("Gid:") || line.startsWith("Groups:")) {
        for (String id : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
          if (!id.isEmpty()) {
            groups.add(Long.parseLong(id));
          }
        }
      }
    }
    return groups;
  }
}
