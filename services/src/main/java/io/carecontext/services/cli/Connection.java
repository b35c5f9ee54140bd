package io.carecontext.services.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where the service is and which key to use: options, else the settings (system property or environment
 * variable, as the service reads them), else local defaults.
 */
final class Connection {

  @Option(names = "--url", description = "service URL (env CARECONTEXT_URL; default http://127.0.0.1:$CARECONTEXT_PORT or :8080)")
  String url;

  // "admin commands fall back to CARECONTEXT_ADMIN_KEY" read as if tenant and key commands tried CARECONTEXT_KEY
  // first; they never send it (a clinician's key set there would be sent to the admin API)
  @Option(names = "--key", description = "API key (default: env CARECONTEXT_KEY; for tenant and key commands "
      + "CARECONTEXT_ADMIN_KEY, else $CARECONTEXT_HOME/admin.key, never CARECONTEXT_KEY)")
  String key;

  ApiClient client(boolean admin) {
    return new ApiClient(url(), key(admin));
  }

  String url() {
    if (url != null) {
      return checked(url, "--url");
    }
    Optional<String> configured = io.carecontext.migrations.Setting.of("CARECONTEXT_URL");
    if (configured.isPresent()) {
      return checked(configured.get(), "CARECONTEXT_URL");
    }
    String port = io.carecontext.migrations.Setting.of("CARECONTEXT_PORT").orElse("8080");
    if (port.equals("-1")) {
      throw new IllegalArgumentException("CARECONTEXT_PORT is -1, so the service took a free port and printed it "
          + "('CareContext listening on port N'): pass --url http://127.0.0.1:N or set CARECONTEXT_URL");
    }
    if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65_535) {
      throw new IllegalArgumentException("CARECONTEXT_PORT is not a port (1 to 65535): set it to the port the "
          + "service listens on, or pass --url");
    }
    boolean tls = io.carecontext.migrations.Setting.of("CARECONTEXT_TLS_CERT").isPresent();
    return (tls ? "https" : "http") + "://127.0.0.1:" + port;
  }

  /**
   * A service URL as the client needs it: {@code --url 127.0.0.1:8080} or {@code --url foo} failed with
   * the HTTP library's own words ("Illegal character in scheme name at index 0", "URI with undefined
   * scheme"), and a port that is not one with "unsupported URI". The value is not repeated: it is the
   * caller's own, and may carry credentials.
   */
  static String checked(String value, String source) {
    String problem;
    try {
      java.net.URI u = new java.net.URI(value.strip());
      problem = !"http".equalsIgnoreCase(u.getScheme()) && !"https".equalsIgnoreCase(u.getScheme())
          ? "it does not start with http:// or https://"
          : u.getHost() == null ? "it names no host (or its port is not a number)"
          : u.getQuery() != null || u.getFragment() != null ? "it has a query or a fragment" : null;
    } catch (java.net.URISyntaxException e) {
      problem = "it is not a URL";
    }
    if (problem != null) {
      throw new IllegalArgumentException(source + " is not a service URL (" + problem + "): give the service's base "
          + "URL, e.g. http://127.0.0.1:8080 or https://carecontext.example.org");
    }
    return value.strip();
  }

  String key(boolean admin) {
    if (key != null) {
      return key;
    }
    if (admin) {
      return defaultAdminKey().orElseThrow(() -> new CliException("no API key: pass --key or set CARECONTEXT_ADMIN_KEY"));
    }
    return io.carecontext.migrations.Setting.of("CARECONTEXT_KEY")
        .orElseThrow(() -> new CliException("no API key: pass --key or set CARECONTEXT_KEY"));
  }

  /** The platform operator key of this machine: CARECONTEXT_ADMIN_KEY, else $CARECONTEXT_HOME/admin.key. */
  static Optional<String> defaultAdminKey() {
    Optional<String> configured = io.carecontext.migrations.Setting.of("CARECONTEXT_ADMIN_KEY");
    if (configured.isPresent()) {
      return configured;
    }
    Path file = Path.of(io.carecontext.migrations.Setting.of("CARECONTEXT_HOME").orElse(".carecontext"), "admin.key");
    try {
      return Files.isReadable(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim()) : Optional.empty();
    } catch (IOException e) {
      throw new CliException("cannot read " + file + ": pass --key or set CARECONTEXT_ADMIN_KEY");
    }
  }
}
