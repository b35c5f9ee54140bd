package io.carecontext.migrations.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Scratch directories of tests (homes, key files, certificates), under the module's
 * {@code target/tmp} rather than the machine's temporary directory: a test run leaves no key file
 * behind outside the build tree, and {@code mvn clean} removes them all.
 */
public final class TestDirectories {

  private TestDirectories() {}

  /** A new empty directory whose name starts with {@code prefix}. */
  public static Path create(String prefix) {
    try {
      return Files.createTempDirectory(Files.createDirectories(Path.of("target", "tmp")).toAbsolutePath(), prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
