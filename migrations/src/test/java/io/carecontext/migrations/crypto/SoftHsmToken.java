package io.carecontext.migrations.crypto;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SoftHSM token for tests of {@link Pkcs11KeyProvider}: a real PKCS#11 module (Debian's softhsm2,
 * which {@code scripts/install-prerequisites.sh} installs), its tokens kept in the directory that
 * {@code SOFTHSM2_CONF} names (the build sets it to {@code target/softhsm/softhsm2.conf} for every test
 * fork). SoftHSM reads its tokens when a process first loads it, so the token is made, once, before
 * any provider is used; keys are told apart by their labels.
 */
public final class SoftHsmToken {

  public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
  private static final String LABEL = "carecontext-test";
  // PKCS#11 logs a process in per token, not per session: a wrong PIN is only ever checked on a token
  // this process has not logged in to yet, so that test has a token of its own
  private static final String LOGIN_LABEL = "carecontext-login";
  private static final String PIN = "4711-test";
  private static final Pattern SLOT = Pattern.compile("(?m)^Slot (\\d+)\\s*$");

  private static Token token;
  private static Token loginToken;

  /** The token's library, slot and an owner-only PIN file. */
  public record Token(Path library, long slot, Path pinFile) {
  }

  private SoftHsmToken() {
  }

  public static synchronized Token token() throws IOException, InterruptedException {
    make();
    return token;
  }

  /** A second token, for the one test that logs in to it with a wrong PIN; no other test uses it. */
  public static synchronized Token tokenNotLoggedIn() throws IOException, InterruptedException {
    make();
    return loginToken;
  }

  private static void make() throws IOException, InterruptedException {
    if (token != null) {
      return;
    }
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null || conf.isBlank()) {
      throw new IllegalStateException("SOFTHSM2_CONF is not set: run the tests through Maven (the build sets it), "
          + "or set it to a softhsm2.conf of your own");
    }
    if (!Files.isReadable(LIBRARY)) {
      throw new IllegalStateException(LIBRARY + " is missing: run scripts/install-prerequisites.sh (installs softhsm2)");
    }
    Path confFile = Path.of(conf);
    Path dir = confFile.getParent();
    Path tokens = dir.resolve("tokens");
    Files.createDirectories(tokens);
    try (FileChannel lock = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
         FileLock held = lock.lock()) {
      if (!Files.exists(confFile)) {
        Files.writeString(confFile, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\n"
            + "log.level = ERROR\nslots.removable = false\n");
      }
      Path pinFile = dir.resolve("pin");
      Files.deleteIfExists(pinFile);
      Files.createFile(pinFile, PosixFilePermissions.asFileAttribute(SecretFiles.OWNER_ONLY));
      Files.writeString(pinFile, PIN + "\n");
      token = new Token(LIBRARY, slot(LABEL), pinFile);
      loginToken = new Token(LIBRARY, slot(LOGIN_LABEL), pinFile);
    }
  }

  private static long slot(String label) throws IOException, InterruptedException {
    Long slot = slotOf(run("softhsm2-util", "--show-slots"), label);
    if (slot == null) {
      run("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", PIN + "-so");
      slot = slotOf(run("softhsm2-util", "--show-slots"), label);
    }
    if (slot == null) {
      throw new IllegalStateException("softhsm2-util made no token labelled " + label);
    }
    return slot;
  }

  /** The slot whose token has our label, from {@code softhsm2-util --show-slots}. */
  private static Long slotOf(String slots, String label) {
    for (String block : slots.split("(?m)^(?=Slot )")) {
      Matcher slot = SLOT.matcher(block);
      if (slot.find() && block.matches("(?s).*Label:\\s+" + label + "\\s.*")) {
        return Long.parseLong(slot.group(1));
      }
    }
    return null;
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }
}
