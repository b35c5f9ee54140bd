package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TenantProvisionerIT {

  static TestPlatform platform;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void provisioningIsIdempotent() throws SQLException {
    TenantId t = TenantId.of("idem");
    TenantProvisioner.Result first = platform.provisioner.provision(t, "Idem");
    TenantProvisioner.Result again = platform.provisioner.provision(t, "Idem");
    assertThat(first.created()).isTrue();
    assertThat(again.created()).isFalse();
    assertThat(schemaExists("tenant_idem")).isTrue();
    for (String role : platform.db.config().tenantRoles(t)) {
      assertThat(roleExists(role)).as(role).isTrue();
    }
    assertThat(count("SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = 'idem'")).isEqualTo(1);
    assertThat(platform.provisioner.list()).contains(t);
  }

  @Test
  void aFailurePartWayLeavesNoHalfMadeTenant() throws SQLException {
    TenantId t = TenantId.of("broken");
    TenantProvisioner failing = new TenantProvisioner(platform.db, platform.keys,
        List.of("classpath:db/tenant", "classpath:db/tenant-failing"));
    assertThatThrownBy(() -> failing.provision(t, "Broken"))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("nothing was kept");
    assertThat(schemaExists("tenant_broken")).isFalse();
    for (String role : platform.db.config().tenantRoles(t)) {
      assertThat(roleExists(role)).as(role).isFalse();
    }
    assertThat(count("SELECT count(*) FROM platform.tenants WHERE tenant_id = 'broken'")).isZero();
    assertThat(count("SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = 'broken'")).isZero();
    // And the same id provisions cleanly afterwards.
    assertThat(platform.provisioner.provision(t, "Broken").created()).isTrue();
  }

  @Test
  void aTenantLeftHalfMadeByACrashIsCleanedUpAndProvisioned() throws SQLException {
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO platform.tenants (tenant_id, name, status) VALUES ('crashed', 'Crashed', 'provisioning')");
      st.execute("CREATE SCHEMA tenant_crashed");
    }
    assertThat(platform.provisioner.provision(TenantId.of("crashed"), "Crashed").created()).isTrue();
    assertThat(count("SELECT count(*) FROM platform.tenants WHERE tenant_id = 'crashed' AND status = 'active'"))
        .isEqualTo(1);
  }

  /**
   * A research index build holds an owner connection for as long as it runs (minutes on a large
   * tenant); tenants must still be created, and the build's state read, meanwhile.
   */
  @Test
  void aTenantIsProvisionedWhileAResearchIndexIsBuilding() throws Exception {
    TenantId indexed = TenantId.of("indexing");
    platform.provisioner.provision(indexed, "Indexing");
    Thread build;
    try (Connection blocker = TestPostgres.superuser(platform.config); Statement st = blocker.createStatement()) {
      // research turned on (the setting's marker, tenant migration 66): the index is made only while it is on
      st.execute("UPDATE tenant_indexing.research_build SET enabled = true, generation = generation + 1");
      blocker.setAutoCommit(false);
      // the build waits behind this lock, as behind a long scan of millions of chunks
      st.execute("LOCK TABLE tenant_indexing.chunks IN SHARE UPDATE EXCLUSIVE MODE");
      build = new Thread(() -> platform.provisioner.researchIndex(indexed, true));
      build.start();
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!platform.provisioner.researchIndexState(indexed).state().equals("building")
          && count("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' "
              + "AND wait_event_type = 'Lock'") == 0) {
        assertThat(System.nanoTime()).as("the build started").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThat(platform.provisioner.provision(TenantId.of("during_build"), "During build").created()).isTrue();
      assertThat(platform.provisioner.provision(TenantId.of("during_build2"), "During build 2").created()).isTrue();
      blocker.rollback();
    }
    build.join(60_000);
    assertThat(platform.provisioner.researchIndexState(indexed).state()).isEqualTo("ready");
  }

  /**
   * A process of before tenant migration 70 that turned research on during a rolling upgrade, after this
   * version's migration ran, made the work list's index over chunk_id alone; the next turning-on by this
   * version makes it again over (model, chunk_id), which the work list's statement needs not to sort.
   */
  @Test
  void aWorkListIndexOfTheOlderShapeIsMadeAgain() throws SQLException {
    TenantId t = TenantId.of("older_index");
    platform.provisioner.provision(t, "Older index");
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("UPDATE tenant_older_index.research_build SET enabled = true, generation = generation + 1");
      st.execute("CREATE INDEX chunks_research_pending_idx ON tenant_older_index.chunks (chunk_id) "
          + "WHERE research_embedding IS NULL");
    }
    platform.provisioner.researchIndex(t, true);
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_older_index' "
             + "AND indexname = 'chunks_research_pending_idx'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).contains("(model, chunk_id)").contains("WHERE (research_embedding IS NULL)");
    }
    assertThat(platform.provisioner.researchIndexState(t).state()).isEqualTo("ready");
  }

  @Test
  void tenantsProvisionedAndDeletedAtTheSameTimeAllSucceed() throws Exception {
    // Each call held an owner connection while it waited for its tenant's lock, and the one that
    // had the lock needed more for Flyway: with the owner pool's 3, two creates at once (of any
    // tenants) both failed after the connection timeout, as if the database were down, and kept nothing.
    TenantId leaving = TenantId.of("leaving");
    platform.provisioner.provision(leaving, "Leaving");
    List<java.util.concurrent.Callable<Object>> calls = new java.util.ArrayList<>();
    for (String id : List.of("conc_a", "conc_b", "conc_c", "conc_a")) {
      calls.add(() -> platform.provisioner.provision(TenantId.of(id), id));
    }
    calls.add(() -> platform.provisioner.delete(leaving));
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(calls.size());
    try {
      for (java.util.concurrent.Future<Object> f : pool.invokeAll(calls)) {
        f.get(); // rethrows the call's failure
      }
    } finally {
      pool.shutdownNow();
    }
    for (String id : List.of("conc_a", "conc_b", "conc_c")) {
      assertThat(count("SELECT count(*) FROM platform.tenants WHERE tenant_id = '" + id + "' AND status = 'active'"))
          .as(id).isEqualTo(1);
      assertThat(schemaExists("tenant_" + id)).as(id).isTrue();
      assertThat(count("SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = '" + id + "'")).as(id).isEqualTo(1);
    }
    assertThat(schemaExists("tenant_leaving")).isFalse();
  }

  @Test
  void deletingATenantRemovesItsSchemaRolesAndKeys() throws SQLException {
    TenantId t = TenantId.of("gone");
    platform.provisioner.provision(t, "Gone");
    assertThat(platform.provisioner.delete(t)).isTrue();
    assertThat(schemaExists("tenant_gone")).isFalse();
    for (String role : platform.db.config().tenantRoles(t)) {
      assertThat(roleExists(role)).as(role).isFalse();
    }
    assertThat(count("SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = 'gone'")).isZero();
    assertThat(platform.provisioner.delete(t)).isFalse();
  }

  /**
   * Another process's cache of a tenant's data key (a second replica, an embedding worker) follows the
   * stored row: it kept the key of an offboarded tenant for as long as it ran, and when the tenant was
   * made again under the same id it sealed the new tenant's data under the shredded key, which no other
   * process could open. A row rewrapped under a new key-encryption key keeps the cipher in use.
   */
  @Test
  void anotherProcessForgetsAnOffboardedTenantsKeyAndTakesTheNewOne() throws Exception {
    TenantId t = TenantId.of("reborn");
    platform.provisioner.provision(t, "Reborn");
    io.carecontext.migrations.crypto.LocalFileKeyProvider kek =
        new io.carecontext.migrations.crypto.LocalFileKeyProvider(platform.kekFile);
    TenantKeys replica = new TenantKeys(kek, List.of(), platform.db.appDataSource(), java.time.Duration.ZERO);
    byte[] aad = Aad.audit(t, "test");
    io.carecontext.migrations.crypto.TenantCipher before = replica.cipher(t);
    byte[] sealed = before.encryptString("kept", aad);

    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      byte[] wrapped;
      try (ResultSet rs = st.executeQuery("SELECT wrapped_key FROM platform.tenant_keys WHERE tenant_id = 'reborn'")) {
        assertThat(rs.next()).isTrue();
        wrapped = rs.getBytes(1);
      }
      byte[] rewrapped = io.carecontext.migrations.crypto.DataKey.unwrap(kek, wrapped).wrapWith(kek);
      try (java.sql.PreparedStatement ps = c.prepareStatement(
          "UPDATE platform.tenant_keys SET wrapped_key = ? WHERE tenant_id = 'reborn'")) {
        ps.setBytes(1, rewrapped);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
    }
    // the row is read again in the background: the same cipher before and after
    assertThat(replica.cipher(t)).isSameAs(before);
    awaitRefreshed(replica, t);
    assertThat(replica.cipher(t)).isSameAs(before);
    assertThat(before.decryptToString(sealed, aad)).isEqualTo("kept");

    assertThat(platform.provisioner.delete(t)).isTrue(); // by the platform's own TenantKeys, not the replica's
    replica.cipher(t); // the key in hand, its row read behind it
    awaitRefreshed(replica, t);
    assertThatThrownBy(() -> replica.cipher(t)).isInstanceOf(TenantKeys.DataKeyUnavailableException.class);
    assertThatThrownBy(() -> before.encryptString("after offboarding", aad)).isInstanceOf(IllegalStateException.class);

    platform.provisioner.provision(t, "Reborn");
    io.carecontext.migrations.crypto.TenantCipher mine = platform.keys.cipher(t);
    io.carecontext.migrations.crypto.TenantCipher theirs = replica.cipher(t);
    assertThat(theirs.decryptToString(mine.encryptString("new", aad), aad)).isEqualTo("new");
    assertThat(mine.decryptToString(theirs.encryptString("newer", aad), aad)).isEqualTo("newer");
  }

  /**
   * A ring no request uses is read again by the sweep, not by its next caller: that caller holds its request's
   * connection, and the read on its thread after an idle minute needed a second one (a small pool ran dry).
   * Without the sweep the cached cipher below is handed out as it was, the tenant's deletion unseen.
   */
  @Test
  void anUnusedRingIsReadAgainByTheSweepNotByItsNextCaller() throws Exception {
    TenantId t = TenantId.of("swept");
    platform.provisioner.provision(t, "Swept");
    TenantKeys replica = new TenantKeys(new io.carecontext.migrations.crypto.LocalFileKeyProvider(platform.kekFile),
        List.of(), platform.db.appDataSource(), java.time.Duration.ZERO);
    replica.cipher(t);
    awaitRefreshed(replica, t); // the first load's own background check, if any
    assertThat(platform.provisioner.delete(t)).isTrue(); // by the platform's own TenantKeys, not the replica's
    replica.sweep(); // no call of cipher(t)
    awaitRefreshed(replica, t);
    assertThatThrownBy(() -> replica.cipher(t)).isInstanceOf(TenantKeys.DataKeyUnavailableException.class);
  }

  /** Waits until the refresher has read the tenant's row that the last call found stale. */
  private static void awaitRefreshed(TenantKeys keys, TenantId t) throws InterruptedException {
    long until = System.nanoTime() + 60_000_000_000L;
    while (keys.refreshPending(t) && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(keys.refreshPending(t)).as("the refresh of " + t + " finished").isFalse();
  }

  /**
   * A caller never reads the key row on its own thread once it has a key: it holds a connection (its request's
   * transaction, often with row locks), and the read needed a second one. With the pool's connections held by
   * requests waiting on that caller's locks, the pool ran dry until its timeout: concurrent If-Match updates of
   * one resource answered 503 whenever the 5 seconds ran out among them. The row is read in the background.
   */
  @Test
  void aStaleKeyIsServedAtOnceAndItsRowReadInTheBackground() throws Exception {
    TenantId t = TenantId.of("busy");
    platform.provisioner.provision(t, "Busy");
    javax.sql.DataSource app = platform.db.appDataSource();
    java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
    javax.sql.DataSource slow = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
          if (method.getName().equals("getConnection") && hold.get()) {
            reading.countDown();
            release.await(); // a pool with no connection free
          }
          return method.invoke(app, args);
        });
    TenantKeys keys = new TenantKeys(new io.carecontext.migrations.crypto.LocalFileKeyProvider(platform.kekFile),
        List.of(), slow, java.time.Duration.ZERO);
    io.carecontext.migrations.crypto.TenantCipher first = keys.cipher(t);
    hold.set(true);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      // the caller whose call finds the key stale gets it at once, and so does the next (a call that waited for the
      // held read would wait for ever, so the bounds here only keep a busy machine from failing them)
      assertThat(pool.submit(() -> keys.cipher(t)).get(30, java.util.concurrent.TimeUnit.SECONDS)).isSameAs(first);
      assertThat(reading.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the row is read behind it").isTrue();
      assertThat(pool.submit(() -> keys.cipher(t)).get(30, java.util.concurrent.TimeUnit.SECONDS)).isSameAs(first);
      release.countDown();
      awaitRefreshed(keys, t);
      assertThat(keys.cipher(t)).isSameAs(first);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void upgradeBringsExistingTenantSchemasToTheTemplateVersion() throws SQLException {
    TenantId t = TenantId.of("upgraded");
    platform.provisioner.provision(t, "Upgraded");
    // A second bootstrap (a restart on a new version) migrates every existing tenant schema.
    try (PlatformDatabase again = PlatformDatabase.bootstrap(platform.config)) {
      assertThat(again.tenantIds()).contains(t);
    }
    assertThat(count("SELECT count(*) FROM tenant_upgraded.flyway_schema_history WHERE success")).isPositive();
  }

  static boolean schemaExists(String schema) throws SQLException {
    return count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") > 0;
  }

  static boolean roleExists(String role) throws SQLException {
    return count("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'") > 0;
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(platform.config, sql);
  }
}
