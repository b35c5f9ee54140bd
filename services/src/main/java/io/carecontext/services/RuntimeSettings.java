package io.carecontext.services;

import io.carecontext.ingest.FhirStore;
import io.carecontext.migrations.DatabaseConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Settings read from the environment at start-up (each also as a system property, lower-case with
 * dots: {@code CARECONTEXT_DB_URL} = {@code carecontext.db.url}).
 */
public record RuntimeSettings(
    int port,
    Optional<String> adminKey,
    Optional<String> dbUrl,
    Optional<String> dbUser,
    Optional<String> dbPassword,
    Optional<String> dbAppUser,
    Optional<String> dbAppPassword,
    String rolePrefix,
    Path home,
    Path kekFile,
    Optional<Path> previousKekFile,
    Optional<KekToken> kekToken,
    int dbPoolSize,
    int dbConnectTimeoutSeconds,
    Optional<Path> tlsCertificate,
    Optional<Path> tlsKey,
    long maxRequestBytes,
    int maxBundleEntries,
    int workerThreads,
    int auditSealSeconds,
    int rateLimitShares,
    boolean dbAllowPlaintext,
    Optional<String> metricsToken,
    Optional<String> publicUrl,
    java.util.List<String> corsOrigins,
    int shutdownGraceSeconds,
    int shutdownDelaySeconds,
    Optional<String> trustedProxies) {

  /**
   * How long a stop waits, unless CARECONTEXT_SHUTDOWN_GRACE_SECONDS says otherwise, for the requests in flight
   * before it cuts them off: within the Helm chart's terminationGracePeriodSeconds (30) with room for what the
   * stop does after it (sealing the audit chains, closing the database).
   */
  public static final int DEFAULT_SHUTDOWN_GRACE_SECONDS = 20;

  public static RuntimeSettings fromEnvironment() {
    return from(System.getenv());
  }

  static RuntimeSettings from(Map<String, String> env) {
    Path home = Path.of(get(env, "CARECONTEXT_HOME").orElse(".carecontext")).toAbsolutePath().normalize();
    String ports = "a port number from 1 to 65535 (or -1 for any free port)";
    int port = (int) number(env, "CARECONTEXT_PORT", 8080, -1, 65_535, ports);
    if (port == 0) {
      throw new IllegalArgumentException("CARECONTEXT_PORT must be " + ports);
    }
    return new RuntimeSettings(
        port,
        get(env, "CARECONTEXT_ADMIN_KEY"),
        get(env, "CARECONTEXT_DB_URL"),
        get(env, "CARECONTEXT_DB_USER"),
        get(env, "CARECONTEXT_DB_PASSWORD"),
        get(env, "CARECONTEXT_DB_APP_USER"),
        get(env, "CARECONTEXT_DB_APP_PASSWORD"),
        get(env, "CARECONTEXT_DB_ROLE_PREFIX").orElse("carecontext"),
        home,
        get(env, "CARECONTEXT_KEK_FILE").map(Path::of).orElse(home.resolve("kek.key")),
        get(env, "CARECONTEXT_KEK_PREVIOUS_FILE").map(Path::of),
        kekToken(env),
        (int) number(env, "CARECONTEXT_DB_POOL_SIZE", defaultPoolSize(), 1, 1_000, "a whole number from 1 to 1000"),
        (int) number(env, "CARECONTEXT_DB_CONNECT_TIMEOUT", DatabaseConfig.DEFAULT_CONNECT_TIMEOUT_SECONDS, 1, 60,
            "a number of seconds from 1 to 60"),
        get(env, "CARECONTEXT_TLS_CERT").map(Path::of),
        get(env, "CARECONTEXT_TLS_KEY").map(Path::of),
        number(env, "CARECONTEXT_FHIR_MAX_BYTES", 52_428_800, 1_024, Integer.MAX_VALUE,
            "a number of bytes from 1024 to 2147483647"),
        (int) number(env, "CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES", FhirStore.DEFAULT_MAX_BUNDLE_ENTRIES, 1, 1_000_000,
            "a whole number of entries from 1 to 1000000"),
        (int) number(env, "CARECONTEXT_WORKER_THREADS", 1, 0, 64, "a whole number from 0 to 64"),
        (int) number(env, "CARECONTEXT_AUDIT_SEAL_SECONDS", 60, 1, 3_600, "a number of seconds from 1 to 3600"),
        (int) number(env, "CARECONTEXT_RATE_LIMIT_SHARES", 1, 1, 1_000, "the number of API processes (1 to 1000)"),
        flag(env, "CARECONTEXT_DB_ALLOW_PLAINTEXT"),
        get(env, "CARECONTEXT_METRICS_TOKEN"),
        publicUrl(env),
        corsOrigins(env),
        // the chart's terminationGracePeriodSeconds (30) must cover it and the stop's own work after it
        (int) number(env, "CARECONTEXT_SHUTDOWN_GRACE_SECONDS", DEFAULT_SHUTDOWN_GRACE_SECONDS, 0, 3_600,
            "a number of seconds from 0 to 3600"),
        // 0 here (a local Ctrl-C stops at once); the chart sets it for the API behind a Service
        (int) number(env, "CARECONTEXT_SHUTDOWN_DELAY_SECONDS", 0, 0, 300, "a number of seconds from 0 to 300"),
        trustedProxies(env));
  }

  /**
   * CARECONTEXT_TRUSTED_PROXIES: the proxies (CIDRs or single addresses, comma-separated) whose Forwarded or
   * X-Forwarded-For the audit trail takes the client's address from; unset, none (the socket's peer is the
   * client). Checked here, so that a wrong value stops the start instead of every request's address.
   */
  private static Optional<String> trustedProxies(Map<String, String> env) {
    Optional<String> v = get(env, "CARECONTEXT_TRUSTED_PROXIES");
    v.ifPresent(io.carecontext.services.auth.ClientAddresses::parse);
    return v;
  }

  /**
   * CARECONTEXT_CORS_ORIGINS: the web origins whose pages a browser may let call the API (CORS), each
   * exactly scheme://host[:port], comma-separated; empty when unset (no cross-origin requests, as
   * before). No wildcard: a page of any origin could then use a key it was given, and the framework
   * refuses a wildcard at localhost anyway. Each is kept as a browser sends it in its Origin header
   * (lower-case scheme and host, no default port), since the framework compares them exactly. A value
   * is not quoted back: it is the operator's text, and a URL with user info would carry a password.
   */
  private static java.util.List<String> corsOrigins(Map<String, String> env) {
    Optional<String> v = get(env, "CARECONTEXT_CORS_ORIGINS");
    if (v.isEmpty()) {
      return java.util.List.of();
    }
    java.util.LinkedHashSet<String> origins = new java.util.LinkedHashSet<>();
    for (String part : v.get().split(",", -1)) {
      String origin = origin(part.strip());
      if (origin == null) {
        throw new IllegalArgumentException("CARECONTEXT_CORS_ORIGINS must be a comma-separated list of exact web "
            + "origins, each http(s)://host or http(s)://host:port without path, query or wildcard (*), e.g. "
            + "https://chat.example.org,http://localhost:3000, or unset");
      }
      origins.add(origin);
    }
    return java.util.List.copyOf(origins);
  }

  /** The origin as a browser names it, or null when {@code text} is not exactly one http(s) origin. */
  private static String origin(String text) {
    java.net.URI uri = text.contains("*") ? null : webUrl(text);
    if (uri == null || !(uri.getRawPath() == null || uri.getRawPath().isEmpty())) {
      return null;
    }
    String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    int port = uri.getPort();
    boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    return scheme + "://" + uri.getHost().toLowerCase(java.util.Locale.ROOT) + (defaultPort ? "" : ":" + port);
  }

  /**
   * {@code text} as an absolute http(s) URL with a host and without user info, query or fragment (what
   * an origin and a base URL have in common), or null.
   */
  private static java.net.URI webUrl(String text) {
    java.net.URI uri;
    try {
      uri = new java.net.URI(text);
    } catch (java.net.URISyntaxException e) {
      return null;
    }
    boolean web = uri.getScheme() != null
        && (uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"));
    return web && uri.getHost() != null && uri.getRawUserInfo() == null && uri.getRawQuery() == null
        && uri.getRawFragment() == null ? uri : null;
  }

  /**
   * CARECONTEXT_PUBLIC_URL: the address clients reach the service by, when that is not the one it serves
   * (TLS terminated at an ingress, which reached the pod over http by an internal host). The base of the
   * FHIR CapabilityStatement's implementation.url. An absolute http(s) URL, optionally with a path prefix;
   * no query, fragment or user info (nothing a base URL can carry on), and a trailing slash is dropped.
   * The value is not quoted back: a URL with user info would carry a password.
   */
  private static Optional<String> publicUrl(Map<String, String> env) {
    Optional<String> v = get(env, "CARECONTEXT_PUBLIC_URL");
    if (v.isEmpty()) {
      return Optional.empty();
    }
    java.net.URI uri = webUrl(v.get());
    if (uri == null) {
      throw new IllegalArgumentException("CARECONTEXT_PUBLIC_URL must be the absolute http or https URL clients reach "
          + "the service by, without query or fragment, e.g. https://carecontext.example.org, or unset");
    }
    String url = uri.getScheme().toLowerCase(java.util.Locale.ROOT) + uri.toString().substring(uri.getScheme().length());
    while (url.endsWith("/")) {
      url = url.substring(0, url.length() - 1);
    }
    return Optional.of(url);
  }

  /** Shorter configured admin keys start the service with a warning: the key opens every tenant's admin API. */
  static final int MIN_ADMIN_KEY_LENGTH = 16;

  /** Whether the configured admin key is short enough to guess. */
  public boolean weakAdminKey() {
    return adminKey.isPresent() && adminKey.get().length() < MIN_ADMIN_KEY_LENGTH;
  }

  /** The key-encryption key these settings name: the token's, when one is set, else the file's. */
  public io.carecontext.migrations.crypto.KeyEncryptionKeyProvider currentKek() {
    return kekToken.<io.carecontext.migrations.crypto.KeyEncryptionKeyProvider>map(KekToken::provider)
        .orElseGet(() -> new io.carecontext.migrations.crypto.LocalFileKeyProvider(kekFile));
  }

  /**
   * The key a rotation under way moves the data keys from, which opens those not yet rewrapped and
   * wraps none: CARECONTEXT_KEK_PREVIOUS_FILE's, or the token's CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL.
   */
  public Optional<io.carecontext.migrations.crypto.KeyEncryptionKeyProvider> previousKek() {
    return previousKekFile.<io.carecontext.migrations.crypto.KeyEncryptionKeyProvider>map(
            io.carecontext.migrations.crypto.LocalFileKeyProvider::new)
        .or(() -> kekToken.flatMap(KekToken::previousProvider));
  }

  /** Where the messages say the previous key-encryption key is configured. */
  public String previousKekSetting() {
    return kekToken.flatMap(KekToken::previousKeyLabel).isPresent() && previousKekFile.isEmpty()
        ? "CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL" : "CARECONTEXT_KEK_PREVIOUS_FILE";
  }

  /** Where the messages say the current key-encryption key is configured. */
  public String currentKekSetting() {
    return kekToken.map(KekToken::describe).orElse("CARECONTEXT_KEK_FILE");
  }

  /** CARECONTEXT_KEK_PKCS11_*: the library names the token; slot and PIN file are then required. */
  private static Optional<KekToken> kekToken(Map<String, String> env) {
    Optional<String> library = get(env, "CARECONTEXT_KEK_PKCS11_LIBRARY");
    Optional<String> pinFile = get(env, "CARECONTEXT_KEK_PKCS11_PIN_FILE");
    Optional<String> label = get(env, "CARECONTEXT_KEK_PKCS11_KEY_LABEL");
    Optional<String> previousLabel = get(env, "CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL");
    if (library.isEmpty()) {
      if (pinFile.isPresent() || label.isPresent() || previousLabel.isPresent()
          || get(env, "CARECONTEXT_KEK_PKCS11_SLOT").isPresent()) {
        throw new IllegalArgumentException("CARECONTEXT_KEK_PKCS11_SLOT, _PIN_FILE, _KEY_LABEL and _PREVIOUS_KEY_LABEL "
            + "take effect only with CARECONTEXT_KEK_PKCS11_LIBRARY: set it to the token's PKCS#11 module, or unset them");
      }
      return Optional.empty();
    }
    if (previousLabel.isPresent() && get(env, "CARECONTEXT_KEK_PREVIOUS_FILE").isPresent()) {
      throw new IllegalArgumentException("CARECONTEXT_KEK_PREVIOUS_FILE and CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL both "
          + "name a previous key: a rotation has one; move the file's data keys into the token first, then rotate "
          + "within the token");
    }
    if (previousLabel.isPresent() && previousLabel.equals(Optional.of(label.orElse(KekToken.DEFAULT_KEY_LABEL)))) {
      throw new IllegalArgumentException("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL names the current key's label: give "
          + "the old key's label, or unset it");
    }
    if (get(env, "CARECONTEXT_KEK_PKCS11_SLOT").isEmpty() || pinFile.isEmpty()) {
      throw new IllegalArgumentException("CARECONTEXT_KEK_PKCS11_LIBRARY needs CARECONTEXT_KEK_PKCS11_SLOT (the "
          + "token's slot id) and CARECONTEXT_KEK_PKCS11_PIN_FILE (an owner-only file holding its user PIN)");
    }
    long slot = number(env, "CARECONTEXT_KEK_PKCS11_SLOT", 0, 0, Long.MAX_VALUE, "the token's slot id, a whole "
        + "number from 0");
    KekToken token = new KekToken(Path.of(library.get()), slot, Path.of(pinFile.get()),
        label.orElse(KekToken.DEFAULT_KEY_LABEL), previousLabel);
    token.provider(); // checks the labels; opens nothing
    token.previousProvider();
    return Optional.of(token);
  }

  /** A numeric setting, or a start-up error that names it and what it takes. */
  private static long number(Map<String, String> env, String name, long fallback, long min, long max, String what) {
    Optional<String> v = get(env, name);
    if (v.isEmpty()) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v.get());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be " + what);
  }

  /** A true/false setting (false when unset), or a start-up error that names it. */
  private static boolean flag(Map<String, String> env, String name) {
    Optional<String> v = get(env, name);
    if (v.isEmpty() || v.get().equalsIgnoreCase("false")) {
      return false;
    }
    if (v.get().equalsIgnoreCase("true")) {
      return true;
    }
    throw new IllegalArgumentException(name + " must be true or false");
  }

  private static Optional<String> get(Map<String, String> env, String name) {
    return io.carecontext.migrations.Setting.of(name, env);
  }

  /**
   * Three times the processors, at least 6. Far more connections than cores make PostgreSQL on
   * the same few cores slower (2 cores, 8 concurrent clients: 16 connections 1,434 QPS against
   * 1,650 with 4, first session); far fewer than the concurrent callers make the callers queue
   * for a connection, and the pool's hand-off to a waiting caller costs CPU (the same clients,
   * core run: 4 connections ~615 µs of CPU a request, 6 or 8 ~565 µs, +8 % QPS; the new-question
   * HTTP p99 23 ms with 4, 30 ms with 6; docs/benchmarks.md, seventh session).
   */
  static int defaultPoolSize() {
    return Math.max(6, 3 * Runtime.getRuntime().availableProcessors());
  }
}
