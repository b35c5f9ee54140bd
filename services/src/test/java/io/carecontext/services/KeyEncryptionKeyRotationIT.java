package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.carecontext.migrations.KekRotation;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.migrations.crypto.SoftHsmToken;
import io.carecontext.migrations.testing.TestPostgres;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `kek rotate` as the command runs it, against the service's own database: each tenant whose data key
 * it rewraps gets one row in its trail (action kek-rotate, the two KEKs' ids), which its auditor reads,
 * the chain still verifies, and a second run rewraps nothing and writes no row. And the rotation without
 * downtime: a process restarted on the new key with the old one as CARECONTEXT_KEK_PREVIOUS_FILE reads
 * what was stored before, wraps new tenants' keys under the new one, and keeps serving while `kek
 * rotate` (no --to) rewraps the rest; afterwards a process with the new key alone reads everything.
 */
class KeyEncryptionKeyRotationIT {

  static final String FHIR = "application/fhir+json";
  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The command's settings for {@code server}'s installation, with {@code env} on top. */
  static RuntimeSettings settingsOf(TestServer server, Map<String, String> env) {
    Map<String, String> all = environmentOf(server);
    all.putAll(env);
    return RuntimeSettings.from(all);
  }

  /** The CARECONTEXT_* variables a command run beside {@code server} is given: its home, database and roles. */
  static Map<String, String> environmentOf(TestServer server) {
    return new HashMap<>(Map.of(
        "CARECONTEXT_HOME", server.home.toString(),
        "CARECONTEXT_DB_URL", server.database.jdbcUrl(),
        "CARECONTEXT_DB_USER", server.database.ownerUser(),
        "CARECONTEXT_DB_PASSWORD", server.database.ownerPassword(),
        "CARECONTEXT_DB_APP_USER", server.database.appUser(),
        "CARECONTEXT_DB_APP_PASSWORD", server.database.appPassword(),
        "CARECONTEXT_DB_ROLE_PREFIX", server.database.rolePrefix(),
        "CARECONTEXT_DB_ALLOW_PLAINTEXT", "true"));
  }

  @Test
  void eachRewrappedTenantsTrailSaysSoAndStillVerifies() {
    String auditor = app.tenantWithKey("kekrot", "aud-k", "[\"auditor\"]", null);
    RuntimeSettings settings = settingsOf(app, Map.of());
    Optional<Path> next = Optional.of(app.home.resolve("kek-next.key"));

    KekRotation.Result done = KeyEncryptionKeyRotation.run(settings, next, running -> { });

    assertThat(done.rewrappedTenants()).extracting(t -> t.value()).contains("kekrot");
    HttpResponse<String> rows = app.call("GET", "/v1/kekrot/audit?action=kek-rotate", auditor, null);
    assertThat(rows.statusCode()).as(rows.body()).isEqualTo(200);
    assertThat(rows.body()).contains("\"count\":1").contains("\"reason\":\"kek_rotated\"")
        .contains("\"fromKek\":\"" + done.fromKekId() + "\"").contains("\"toKek\":\"" + done.toKekId() + "\"");
    assertThat(app.call("GET", "/v1/kekrot/audit/verify", auditor, null).body()).contains("\"valid\":true");
    assertThat(app.call("GET", "/v1/kekrot/audit/export", auditor, null).body())
        .contains("\"code\":\"110113\"").contains("\"code\":\"kek-rotate\"");

    KekRotation.Result again = KeyEncryptionKeyRotation.run(settings, next, running -> { });
    assertThat(again.rewrapped()).isZero();
    assertThat(app.call("GET", "/v1/kekrot/audit?action=kek-rotate", auditor, null).body()).contains("\"count\":1");
  }

  /**
   * `kek rotate --to NEW_FILE` makes the new key in NEW_FILE; a rotation refused after that (the current
   * key is not the one the data keys are under) said "nothing was changed" and left the freshly made key
   * behind, a key that wraps nothing, for the operator to mistake for the one to run with. A file that
   * existed before is the operator's and stays.
   */
  @Test
  void aRefusedRotationRemovesTheKeyItMadeAndKeepsOneThatExisted() throws Exception {
    app.tenantWithKey("kekwrong", "aud-w", "[\"auditor\"]", null);
    Path wrongCurrent = app.home.resolve("kek-wrong-current.key");
    java.nio.file.Files.writeString(wrongCurrent, java.util.Base64.getEncoder().encodeToString(randomBytes(32)));
    java.nio.file.Files.setPosixFilePermissions(wrongCurrent, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    RuntimeSettings settings = settingsOf(app, Map.of("CARECONTEXT_KEK_FILE", wrongCurrent.toString()));
    Path made = app.home.resolve("kek-made-by-a-refused-run.key");

    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings, Optional.of(made), running -> { }))
        .hasMessageContaining("neither the current one").hasMessageContaining("nothing was changed");
    assertThat(made).doesNotExist();

    Path existing = app.home.resolve("kek-of-the-operator.key");
    java.nio.file.Files.writeString(existing, java.util.Base64.getEncoder().encodeToString(new byte[32]));
    java.nio.file.Files.setPosixFilePermissions(existing, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> KeyEncryptionKeyRotation.run(settings, Optional.of(existing), running -> { }))
        .hasMessageContaining("neither the current one");
    assertThat(existing).exists();
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new java.security.SecureRandom().nextBytes(b);
    return b;
  }

  /**
   * What `kek rotate --to` warns about on the embedded default: connections of the application role,
   * which serve and worker hold while they run and not once they stopped (the cluster may run on, after
   * `db start` or under a serve that found it running: the warning used to follow the cluster).
   */
  @Test
  void theApplicationRolesConnectionsTellWhetherAServiceStillRuns() {
    TestServer other = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    try {
      other.tenantWithKey("kekstop", "aud-s", "[\"auditor\"]", null);
      assertThat(KeyEncryptionKeyRotation.applicationSessions(other.database)).isPositive();
    } finally {
      other.close();
    }
    assertThat(KeyEncryptionKeyRotation.applicationSessions(other.database)).isZero();
  }

  @Test
  void aRotationWithoutDowntimeKeepsEveryTenantReadableThroughout() throws SQLException {
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        CareContextServer.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    log.addAppender(logged);
    try (TestServer before = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"))) {
      String feedA = before.tenantWithKey("online_a", "feed-a", "[\"ehr-integration\"]", null);
      assertThat(put(before, "online_a", feedA).statusCode()).isIn(200, 201);
      Path old = before.home.resolve("kek.key");
      Path next = before.home.resolve("kek-online.key");
      Map<String, String> bothKeys = Map.of("CARECONTEXT_WORKER_THREADS", "0",
          "CARECONTEXT_KEK_FILE", next.toString(), "CARECONTEXT_KEK_PREVIOUS_FILE", old.toString());
      String feedB;
      String nextId = new LocalFileKeyProvider(next).kekId(); // makes the new key, as README's step 1 does
      // the rolling restart: a process on the new key with the old one as the previous
      try (TestServer rolled = new TestServer(before, bothKeys)) {
        assertThat(messages(logged)).anyMatch(m -> m.contains("1 tenant data key(s) are still wrapped under the "
            + "previous kek " + new LocalFileKeyProvider(old).kekId()));
        assertThat(read(rolled, "online_a", feedA).statusCode()).isEqualTo(200);
        feedB = rolled.tenantWithKey("online_b", "feed-b", "[\"ehr-integration\"]", null);
        assertThat(put(rolled, "online_b", feedB).statusCode()).isIn(200, 201);
        assertThat(kekOf(before, "online_b")).isEqualTo(nextId); // a new tenant's key: under the new KEK only
        assertThat(kekOf(before, "online_a")).isEqualTo(new LocalFileKeyProvider(old).kekId());

        KekRotation.Result done = KeyEncryptionKeyRotation.run(settingsOf(before, bothKeys), Optional.empty(),
            running -> { throw new AssertionError("no warning: the services are meant to run"); });

        assertThat(done.rewrappedTenants()).extracting(t -> t.value()).contains("online_a").doesNotContain("online_b");
        assertThat(done.alreadyUnderNew()).isPositive();
        assertThat(kekOf(before, "online_a")).isEqualTo(nextId);
        assertThat(read(rolled, "online_a", feedA).statusCode()).isEqualTo(200);
        assertThat(read(rolled, "online_b", feedB).statusCode()).isEqualTo(200);
      }
      logged.list.clear();
      try (TestServer stillBoth = new TestServer(before, bothKeys)) {
        assertThat(messages(logged)).anyMatch(m -> m.contains("CARECONTEXT_KEK_PREVIOUS_FILE is no longer needed"))
            .noneMatch(m -> m.contains("are still wrapped under"));
      }
      // the previous key unset: a process on the new key alone opens both tenants' data keys afresh
      try (TestServer after = new TestServer(before, Map.of("CARECONTEXT_WORKER_THREADS", "0",
          "CARECONTEXT_KEK_FILE", next.toString()))) {
        assertThat(read(after, "online_a", feedA).body()).contains("\"gender\":\"female\"");
        assertThat(read(after, "online_b", feedB).body()).contains("\"gender\":\"female\"");
        assertThat(after.call("GET", "/health/readiness", null, null).statusCode()).isEqualTo(200);
      }
      // a process on the old key alone (the rotation forgotten) names what it cannot open, once, at its start
      logged.list.clear();
      try (TestServer stale = new TestServer(before, Map.of("CARECONTEXT_WORKER_THREADS", "0"))) {
        assertThat(messages(logged)).anyMatch(m -> m.contains("tenant data key(s) are wrapped under kek "
            + new LocalFileKeyProvider(next).kekId() + ", which neither CARECONTEXT_KEK_FILE"));
        // and answers those tenants' requests 503 (another process, or this one given the key, serves them)
        HttpResponse<String> r = read(stale, "online_a", feedA);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).isPresent();
        assertThat(r.body()).contains("OperationOutcome").contains("cannot open the tenant's encryption key");
        // it opens none of them, so it is not ready: a load balancer sends it nothing it could only refuse
        HttpResponse<String> ready = stale.call("GET", "/health/readiness", null, null);
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).isEqualTo("{\"status\":\"DOWN\",\"details\":{\"down\":[\"keys\"]}}");
      }
      // nor does it start without a key file: one made there would open none of the stored data keys
      Path missing = before.home.resolve("missing.key");
      assertThatThrownBy(() -> new TestServer(before, Map.of("CARECONTEXT_WORKER_THREADS", "0",
          "CARECONTEXT_KEK_FILE", missing.toString()))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("there is no key-encryption key at " + missing)
          .hasMessageContaining("kek " + new LocalFileKeyProvider(next).kekId());
      assertThat(missing).doesNotExist();
    } finally {
      log.detachAppender(logged);
    }
  }

  /**
   * The key-encryption key moved out of a file into a PKCS#11 token (SoftHSM here), without downtime:
   * a process restarted with the token's settings and the file as CARECONTEXT_KEK_PREVIOUS_FILE keeps
   * reading, `kek rotate` moves every data key under the token's key, and afterwards the file is not
   * needed; a rotation from one key of the token to the next works the same way. A label the token
   * holds no key under stops the start instead of making a key that opens nothing.
   */
  @Test
  void theDataKeysMoveIntoAPkcs11TokenAndTheKeyFileIsThenNotNeeded() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    String label = "kek-it-" + Long.toString(System.nanoTime(), 36);
    Map<String, String> inToken = Map.of("CARECONTEXT_WORKER_THREADS", "0",
        "CARECONTEXT_KEK_PKCS11_LIBRARY", token.library().toString(),
        "CARECONTEXT_KEK_PKCS11_SLOT", Long.toString(token.slot()),
        "CARECONTEXT_KEK_PKCS11_PIN_FILE", token.pinFile().toString(),
        "CARECONTEXT_KEK_PKCS11_KEY_LABEL", label);
    try (TestServer before = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"))) {
      String feed = before.tenantWithKey("hsm_a", "feed-h", "[\"ehr-integration\"]", null);
      assertThat(put(before, "hsm_a", feed).statusCode()).isIn(200, 201);
      Path file = before.home.resolve("kek.key");
      String fileKek = new LocalFileKeyProvider(file).kekId();
      Map<String, String> both = new HashMap<>(inToken);
      both.put("CARECONTEXT_KEK_PREVIOUS_FILE", file.toString());

      try (TestServer rolled = new TestServer(before, both)) {
        assertThat(read(rolled, "hsm_a", feed).statusCode()).isEqualTo(200);
        KekRotation.Result done = KeyEncryptionKeyRotation.run(settingsOf(before, both), Optional.empty(),
            running -> { throw new AssertionError("no warning: the services are meant to run"); });
        assertThat(done.fromKekId()).isEqualTo(fileKek);
        assertThat(done.toKekId()).startsWith("pkcs11:");
        assertThat(done.rewrappedTenants()).extracting(t -> t.value()).contains("hsm_a");
        assertThat(kekOf(before, "hsm_a")).isEqualTo(done.toKekId());
        assertThat(read(rolled, "hsm_a", feed).statusCode()).isEqualTo(200);
      }

      java.nio.file.Files.move(file, file.resolveSibling("kek.key.kept-apart"));
      try (TestServer tokenOnly = new TestServer(before, inToken)) {
        assertThat(read(tokenOnly, "hsm_a", feed).body()).contains("\"gender\":\"female\"");
        String feedB = tokenOnly.tenantWithKey("hsm_b", "feed-hb", "[\"ehr-integration\"]", null);
        assertThat(put(tokenOnly, "hsm_b", feedB).statusCode()).isIn(200, 201);
        assertThat(kekOf(before, "hsm_b")).isEqualTo(kekOf(before, "hsm_a"));
      }
      assertThat(file).doesNotExist();

      // a rotation within the token, from one label to the next, while the services run
      Map<String, String> nextLabel = new HashMap<>(inToken);
      nextLabel.put("CARECONTEXT_KEK_PKCS11_KEY_LABEL", label + "-next");
      nextLabel.put("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL", label);
      String inTokenKek = kekOf(before, "hsm_a");
      try (TestServer rolled = new TestServer(before, nextLabel)) {
        KekRotation.Result done = KeyEncryptionKeyRotation.run(settingsOf(before, nextLabel), Optional.empty(),
            running -> { throw new AssertionError("no warning: the services are meant to run"); });
        assertThat(done.fromKekId()).isEqualTo(inTokenKek);
        assertThat(done.toKekId()).startsWith("pkcs11:").isNotEqualTo(inTokenKek);
        assertThat(done.rewrappedTenants()).extracting(t -> t.value()).contains("hsm_a", "hsm_b");
        assertThat(read(rolled, "hsm_a", feed).statusCode()).isEqualTo(200);
      }
      Map<String, String> nextOnly = new HashMap<>(inToken);
      nextOnly.put("CARECONTEXT_KEK_PKCS11_KEY_LABEL", label + "-next");
      try (TestServer after = new TestServer(before, nextOnly)) {
        assertThat(read(after, "hsm_a", feed).body()).contains("\"gender\":\"female\"");
      }

      Map<String, String> otherLabel = new HashMap<>(inToken);
      otherLabel.put("CARECONTEXT_KEK_PKCS11_KEY_LABEL", label + "-x");
      assertThatThrownBy(() -> new TestServer(before, otherLabel)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("holds no key labelled " + label + "-x");
      assertThat(new io.carecontext.migrations.crypto.Pkcs11KeyProvider(token.library(), token.slot(),
          token.pinFile(), label + "-x").holdsKey()).as("nothing made in the token").isFalse();
    }
  }

  /**
   * PKCS#11 has no "make the key unless it exists": processes of one installation that make the token's
   * key at once (serve and worker starting together) take turns under an advisory lock, and all end up
   * with the one key.
   */
  @Test
  void processesMakingTheTokensKeyAtOnceEndUpWithOneKey() throws Exception {
    SoftHsmToken.Token token = SoftHsmToken.token();
    String label = "kek-once-" + Long.toString(System.nanoTime(), 36);
    org.postgresql.ds.PGSimpleDataSource owner = new org.postgresql.ds.PGSimpleDataSource();
    owner.setUrl(app.database.jdbcUrl());
    owner.setUser(app.database.ownerUser());
    owner.setPassword(app.database.ownerPassword());
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<String>> ids = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        ids.add(pool.submit(() -> KekToken.makeOnce(owner,
            new KekToken(token.library(), token.slot(), token.pinFile(), label, Optional.empty()).provider())));
      }
      java.util.Set<String> distinct = new java.util.HashSet<>();
      for (java.util.concurrent.Future<String> id : ids) {
        distinct.add(id.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
      assertThat(distinct).hasSize(1);
      assertThat(new io.carecontext.migrations.crypto.Pkcs11KeyProvider(token.library(), token.slot(), token.pinFile(),
          label).kekId()).isEqualTo(distinct.iterator().next());
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<String> messages(ListAppender<ILoggingEvent> logged) {
    return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  private static HttpResponse<String> put(TestServer server, String tenant, String key) {
    return server.call("PUT", "/fhir/" + tenant + "/Patient/kek-1", key,
        "{\"resourceType\":\"Patient\",\"id\":\"kek-1\",\"gender\":\"female\"}", FHIR);
  }

  private static HttpResponse<String> read(TestServer server, String tenant, String key) {
    return server.call("GET", "/fhir/" + tenant + "/Patient/kek-1", key, null, FHIR);
  }

  /**
   * A rotation stopped after its commit and before its audit rows (killed there, say) left the keys
   * rotated and no row saying so, and a rerun found nothing to rewrap and wrote none. The rows it owes
   * are recorded in its transaction now: the next run writes them once, and so does the next start of
   * a process on the new key, for an operator who has already moved on to it.
   */
  @Test
  void aRotationStoppedAfterItsCommitStillGetsItsRows() throws SQLException {
    try (TestServer own = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"))) {
      String auditor = own.tenantWithKey("kekowed", "aud-o", "[\"auditor\"]", null);
      RuntimeSettings settings = settingsOf(own, Map.of());
      Path next = own.home.resolve("kek-owed-next.key");
      org.postgresql.ds.PGSimpleDataSource owner = new org.postgresql.ds.PGSimpleDataSource();
      owner.setUrl(own.database.jdbcUrl());
      owner.setUser(own.database.ownerUser());
      owner.setPassword(own.database.ownerPassword());

      // the command's commit, and no more
      KekRotation.Result first = KekRotation.rewrap(owner, new LocalFileKeyProvider(settings.kekFile()),
          new LocalFileKeyProvider(next));
      assertThat(first.rewrappedTenants()).extracting(t -> t.value()).contains("kekowed");
      assertThat(kekRotateRows(own, "kekowed")).isZero();
      assertThat(KekRotation.unaudited(owner)).extracting(u -> u.tenant().value()).contains("kekowed");

      // run again: nothing left to rewrap, the owed row written, once
      KekRotation.Result again = KeyEncryptionKeyRotation.run(settings, Optional.of(next), sessions -> { });
      assertThat(again.rewrapped()).isZero();
      assertThat(kekRotateRows(own, "kekowed")).isEqualTo(1);
      assertThat(KekRotation.unaudited(owner)).isEmpty();
      KeyEncryptionKeyRotation.run(settings, Optional.of(next), sessions -> { });
      assertThat(kekRotateRows(own, "kekowed")).isEqualTo(1);

      // stopped again after a commit, from the new key to a third; a process started on the third writes the row
      Path third = own.home.resolve("kek-owed-third.key");
      KekRotation.rewrap(owner, new LocalFileKeyProvider(next), new LocalFileKeyProvider(third));
      try (TestServer restarted = new TestServer(own, Map.of("CARECONTEXT_WORKER_THREADS", "0",
          "CARECONTEXT_KEK_FILE", third.toString()))) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (kekRotateRows(own, "kekowed") < 2 && System.nanoTime() < deadline) {
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
        assertThat(kekRotateRows(own, "kekowed")).isEqualTo(2);
        assertThat(KekRotation.unaudited(owner)).isEmpty();

        // serve and worker start together, and both pay what is owed: one at a time, under an advisory
        // lock, each reading the owed rows only once it holds it, so each row is written once
        Path fourth = own.home.resolve("kek-owed-fourth.key");
        KekRotation.rewrap(owner, new LocalFileKeyProvider(third), new LocalFileKeyProvider(fourth));
        io.carecontext.migrations.PlatformDatabase db = restarted.bean(io.carecontext.migrations.PlatformDatabase.class);
        io.carecontext.retrieval.audit.AuditLog audit = new io.carecontext.retrieval.audit.AuditLog(
            new io.carecontext.migrations.TenantTransactions(db.appDataSource(), db.config()),
            new io.carecontext.migrations.TenantKeys(new LocalFileKeyProvider(fourth), db.appDataSource()));
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (Connection holder = owner.getConnection(); java.sql.Statement st = holder.createStatement()) {
          st.execute("SELECT pg_advisory_lock(" + KeyEncryptionKeyRotation.OWED_ROWS_LOCK + ")");
          java.util.concurrent.Future<Integer> waiting = other.submit(() -> KeyEncryptionKeyRotation.recordOwed(db, audit));
          Thread.sleep(1_000);
          assertThat(waiting).as("waits while another process pays").isNotDone();
          assertThat(kekRotateRows(own, "kekowed")).isEqualTo(2);
          st.execute("SELECT pg_advisory_unlock(" + KeyEncryptionKeyRotation.OWED_ROWS_LOCK + ")");
          assertThat(waiting.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
          assertThat(KeyEncryptionKeyRotation.recordOwed(db, audit)).as("paid: nothing left").isZero();
          assertThat(kekRotateRows(own, "kekowed")).isEqualTo(3);
        } catch (InterruptedException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          throw new AssertionError(e);
        } finally {
          other.shutdownNow();
        }
        assertThat(restarted.call("GET", "/v1/kekowed/audit/verify", auditor, null).body()).contains("\"valid\":true");
      }
    }
  }

  private static long kekRotateRows(TestServer server, String tenant) throws SQLException {
    try (Connection c = TestPostgres.superuser(server.database);
        PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM tenant_" + tenant + ".audit_log WHERE action = 'kek-rotate'")) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static String kekOf(TestServer server, String tenant) throws SQLException {
    try (Connection c = TestPostgres.superuser(server.database);
        PreparedStatement ps = c.prepareStatement("SELECT kek_id FROM platform.tenant_keys WHERE tenant_id = ?")) {
      ps.setString(1, tenant);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
