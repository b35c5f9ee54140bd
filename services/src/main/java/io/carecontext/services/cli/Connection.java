package io.carecontext.services.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the service is and which key to use: options, else environment, else local defaults. */
final class Connection {

  @Option(names = "--url", description = "service URL (env CARECONTEXT_URL; default http://127.0.0.1:$CARECONTEXT_PORT or :8080)")
  String url;

  @Option(names = "--key", description = "API key (env CARECONTEXT_KEY; admin commands fall back to CARECONTEXT_ADMIN_KEY "
      + "or $CARECONTEXT_HOME/admin.key)")
  String key;

  ApiClient client(boolean admin) {
    return new ApiClient(url(), key(admin));
  }

  String url() {
    if (url != null) {
      return url;
    }
    String env = System.getenv("CARECONTEXT_URL");
    if (env != null && !env.isBlank()) {
      return env;
    }
    String port = System.getenv().getOrDefault("CARECONTEXT_PORT", "8080");
    boolean tls = System.getenv("CARECONTEXT_TLS_CERT") != null;
    return (tls ? "https" : "http") + "://127.0.0.1:" + port;
  }

  String key(boolean admin) {
    if (key != null) {
      return key;
    }
    if (admin) {
      return defaultAdminKey().orElseThrow(() -> new CliException("no API key: pass --key or set CARECONTEXT_ADMIN_KEY"));
    }
    String env = System.getenv("CARECONTEXT_KEY");
    if (env != null && !env.isBlank()) {
      return env;
    }
    throw new CliException("no API key: pass --key or set CARECONTEXT_KEY");
  }

  /** The platform operator key of this machine: CARECONTEXT_ADMIN_KEY, else $CARECONTEXT_HOME/admin.key. */
  static Optional<String> defaultAdminKey() {
    String env = System.getenv("CARECONTEXT_ADMIN_KEY");
    if (env != null && !env.isBlank()) {
      return Optional.of(env);
    }
    Path file = Path.of(System.getenv().getOrDefault("CARECONTEXT_HOME", ".carecontext"), "admin.key");
    try {
      return Files.isReadable(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim()) : Optional.empty();
    } catch (IOException e) {
      throw new CliException("cannot read " + file + ": pass --key or set CARECONTEXT_ADMIN_KEY");
    }
  }
}
