package io.carecontext.ingest.embedding;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime's native libraries, copied once per version into a directory of this user's and
 * loaded from there ({@code onnxruntime.native.path}).
 *
 * <p>Left to itself, ONNX Runtime 1.20 copies its 16 MB of libraries into a new temporary directory
 * each time a JVM loads it and deletes them only when that JVM exits normally. Every JVM that was
 * killed (a pod evicted, a test fork or a service stopped with SIGKILL) left its copy behind: one
 * machine had 251 of them, 4 GB of {@code /tmp}. The directory here is named by the libraries' own
 * hash, so each version is written once and reused, and a process that dies leaves nothing new.
 *
 * <p>The directory must be this user's own, not a link, and closed to everyone else: a library in
 * it is loaded into the process, so a directory another user could write is never used. Whatever
 * fails here (no POSIX permissions, a read-only temporary directory, the platform's libraries
 * missing from the jar) leaves ONNX Runtime to load the libraries its own way.
 */
final class OnnxNativeLibraries {

  static final String PROPERTY = "onnxruntime.native.path";
  private static final Logger LOG = LoggerFactory.getLogger(OnnxNativeLibraries.class);
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  private static boolean attempted;

  private OnnxNativeLibraries() {}

  /** Points ONNX Runtime at the shared copy, unless the property is set already; before ONNX Runtime first loads. */
  static synchronized void install() {
    if (attempted || System.getProperty(PROPERTY) != null) {
      return;
    }
    attempted = true;
    try {
      prepare(Path.of(System.getProperty("java.io.tmpdir"))).ifPresent(dir -> System.setProperty(PROPERTY, dir.toString()));
    } catch (IOException | UncheckedIOException | SecurityException | UnsupportedOperationException e) {
      LOG.debug("ONNX Runtime will extract its own libraries: {}", e.toString());
    }
  }

  /**
   * The directory under {@code base} holding this platform's libraries, written if missing; empty
   * when the jar has none for this platform or the directory is not safe to load from.
   */
  static Optional<Path> prepare(Path base) throws IOException {
    Map<String, byte[]> libraries = new LinkedHashMap<>();
    for (String name : new String[] {"onnxruntime", "onnxruntime4j_jni"}) {
      String file = System.mapLibraryName(name);
      try (InputStream in = OnnxNativeLibraries.class.getResourceAsStream(
          "/ai/onnxruntime/native/" + platform() + "/" + file)) {
        if (in == null) {
          return Optional.empty();
        }
        libraries.put(file, in.readAllBytes());
      }
    }
    Path dir = base.resolve("carecontext-onnxruntime-" + hash(libraries) + "-"
        + System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_"));
    // (the user's name only keeps users apart; whose the directory is, is checked below)
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (FileAlreadyExistsException e) {
      // made by an earlier run, or by someone else: checked below
    }
    if (!ownedAndClosed(dir)) {
      LOG.warn("ONNX Runtime's libraries are not loaded from {}: it is not a directory of this user's closed to "
          + "others; they are extracted to a new temporary directory instead", dir);
      return Optional.empty();
    }
    for (Map.Entry<String, byte[]> library : libraries.entrySet()) {
      Path target = dir.resolve(library.getKey());
      if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && Files.size(target) == library.getValue().length) {
        continue; // written whole by an earlier run: files only appear here by an atomic move
      }
      Path partial = Files.createTempFile(dir, library.getKey(), ".partial");
      try {
        Files.write(partial, library.getValue());
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(partial);
      }
    }
    return Optional.of(dir);
  }

  /** A directory, not a link, open to its owner only, and that owner is the one of a file this process makes. */
  private static boolean ownedAndClosed(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
        || !Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
      return false;
    }
    // not user.name: a container's arbitrary uid has no name, and the file system's owner is a number
    Path probe = Files.createTempFile(dir.getParent(), "carecontext-owner", ".probe");
    try {
      return Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).equals(Files.getOwner(probe));
    } finally {
      Files.deleteIfExists(probe);
    }
  }

  /** The resource folder ONNX Runtime's jar keeps this platform's libraries in ({@code linux-x64}…). */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o = os.contains("mac") || os.contains("darwin") ? "osx" : os.contains("win") ? "win" : "linux";
    String a = arch.startsWith("amd64") || arch.startsWith("x86_64") ? "x64"
        : arch.startsWith("aarch64") || arch.startsWith("arm64") ? "aarch64" : arch;
    return o + "-" + a;
  }

  private static String hash(Map<String, byte[]> libraries) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      libraries.values().forEach(sha::update);
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
