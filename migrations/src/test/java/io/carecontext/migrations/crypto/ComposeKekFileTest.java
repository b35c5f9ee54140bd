package io.carecontext.migrations.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first-run commands at the head of docker-compose.yml make a key-encryption key file the service
 * accepts. Compose bind-mounts a file secret as it is on the host (owner and mode; the secret's uid,
 * gid and mode are not applied to a file source), and the head said {@code chmod 0644}: a file others
 * may read, which the service refuses at its first start ("has mode rw-r--r--"), so `docker compose up`
 * never served. The mode it gives must be one this check accepts for the file's owner.
 */
class ComposeKekFileTest {

  private static final Pattern CHMOD = Pattern.compile("chmod\\s+(0?[0-7]{3})\\s+\\.secrets/kek");

  @Test
  void theModeTheComposeFileGivesTheKeyIsOneTheServiceAccepts(@TempDir Path dir) throws Exception {
    String compose = Files.readString(composeFile());
    Matcher m = CHMOD.matcher(compose);
    assertThat(m.find()).as("docker-compose.yml says how to set the mode of .secrets/kek").isTrue();

    Path kek = dir.resolve("kek");
    Files.writeString(kek, Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    Files.setPosixFilePermissions(kek, permissions(Integer.parseInt(m.group(1), 8)));
    // owned by this process's user, as the file is by uid 10001 in the container after the chown
    assertThat(new LocalFileKeyProvider(kek).kekId()).startsWith("local:");
    assertThat(compose).as("and that the file must belong to the container's user").contains("chown 10001");
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
        PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE};
    for (int i = 0; i < 9; i++) {
      if ((mode & (1 << (8 - i))) != 0) {
        out.add(order[i]);
      }
    }
    return out;
  }

  private static Path composeFile() {
    String basedir = System.getProperty("basedir");
    for (Path candidate : new Path[] {
        basedir == null ? null : Paths.get(basedir, "..", "docker-compose.yml"),
        Paths.get("..", "docker-compose.yml"), Paths.get("docker-compose.yml")}) {
      if (candidate != null && Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("docker-compose.yml not found from " + Paths.get("").toAbsolutePath());
  }
}
