package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime's libraries are written once per version to a directory of this user's, never to one others may write. */
class OnnxNativeLibrariesTest {

  @TempDir
  Path base;

  @Test
  void theLibrariesAreWrittenOnceAndReused() throws IOException {
    Path dir = OnnxNativeLibraries.prepare(base).orElseThrow();
    assertThat(dir.getParent()).isEqualTo(base);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
    Path jni = dir.resolve(System.mapLibraryName("onnxruntime4j_jni"));
    try (InputStream in = getClass().getResourceAsStream("/ai/onnxruntime/native/" + OnnxNativeLibraries.platform()
        + "/" + jni.getFileName())) {
      assertThat(Files.readAllBytes(jni)).isEqualTo(in.readAllBytes());
    }
    Files.setLastModifiedTime(jni, FileTime.fromMillis(0));
    // a second run (another JVM) finds them and writes nothing
    assertThat(OnnxNativeLibraries.prepare(base)).contains(dir);
    assertThat(Files.getLastModifiedTime(jni).toMillis()).isZero();
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(jni.getFileName().toString(),
          System.mapLibraryName("onnxruntime"));
    }
    try (var files = Files.list(base)) {
      assertThat(files).containsExactly(dir); // no probe or partial file left behind
    }
  }

  @Test
  void aCopyCutShortIsWrittenAgain() throws IOException {
    Path dir = OnnxNativeLibraries.prepare(base).orElseThrow();
    Path lib = dir.resolve(System.mapLibraryName("onnxruntime"));
    long size = Files.size(lib);
    Files.write(lib, new byte[] {1, 2, 3});
    OnnxNativeLibraries.prepare(base);
    assertThat(Files.size(lib)).isEqualTo(size);
  }

  @Test
  void aDirectoryOthersMayWriteIsNeverLoadedFrom() throws IOException {
    Path dir = OnnxNativeLibraries.prepare(base).orElseThrow();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThat(OnnxNativeLibraries.prepare(base)).isEqualTo(Optional.empty());
    // nor a link to a directory, whoever owns it
    Path real = Files.createDirectory(base.resolve("real"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    Files.delete(dir.resolve(System.mapLibraryName("onnxruntime")));
    Files.delete(dir.resolve(System.mapLibraryName("onnxruntime4j_jni")));
    Files.delete(dir);
    Files.createSymbolicLink(dir, real);
    assertThat(OnnxNativeLibraries.prepare(base)).isEqualTo(Optional.empty());
  }
}
