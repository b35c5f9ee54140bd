package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Group commit of audit rows against real PostgreSQL: combining, chaining, and every way a batch can fail. */
class AuditGroupCommitIT {

  static TestPlatform platform;
  static TenantId north;
  static TenantId south;
  static AuditLog audit;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    north = platform.tenant("gcnorth");
    south = platform.tenant("gcsouth");
    audit = new AuditLog(platform.tx, platform.keys);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static AuditEntry entry(String patient) {
    return AuditEntry.of("dr-lee", "key-clin", List.of("clinician", "quote\"and\\slash"), patient, "TREAT", "context",
        AuditEntry.Decision.ALLOWED, "allowed").withQuery("glucose trend")
        .withResult(AuditEntry.Decision.ALLOWED, "allowed", List.of(3L, 1L, 2L), 4);
  }

  static int rows(TenantId tenant) {
    return audit.list(tenant, Auditors.of(platform, tenant), new AuditFilter(null, null, null, null, AuditFilter.MAX_LIMIT), false).size();
  }

  /** Waits until a session of the test database waits for a lock: the writer the test holds off. */
  static void awaitALockWait() throws Exception {
    String waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        + "AND wait_event_type = 'Lock'";
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      for (int i = 0; i < 600; i++) {
        try (java.sql.ResultSet rs = st.executeQuery(waiting)) {
          rs.next();
          if (rs.getLong(1) > 0) {
            return;
          }
        }
        Thread.sleep(100);
      }
    }
    throw new AssertionError("no session waits for a lock");
  }

  /** A group commit of its own (as another process would have) whose lanes extend {@code shard}. */
  static AuditGroupCommit groupCommitOn(int shard) {
    return new AuditGroupCommit(platform.tx, AuditLog.recordSettings(), audit::recordAlone, () -> shard);
  }

  static AuditRow row(TenantId tenant, String patient) {
    return AuditRow.of(tenant, platform.keys.cipher(tenant), entry(patient));
  }

  @Test
  void concurrentRequestsShareCommitsAndEachTenantsChainVerifies() throws Exception {
    int northBefore = rows(north);
    int southBefore = rows(south);
    var before = audit.groupCommitStats();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<UUID>> ids = new ArrayList<>();
    try {
      for (int i = 0; i < 400; i++) {
        TenantId t = i % 2 == 0 ? north : south;
        String patient = "p-" + i;
        ids.add(pool.submit(() -> audit.record(t, entry(patient))));
      }
      Set<UUID> distinct = new HashSet<>();
      for (Future<UUID> f : ids) {
        distinct.add(f.get());
      }
      assertThat(distinct).hasSize(400);
    } finally {
      pool.shutdownNow();
    }
    var after = audit.groupCommitStats();
    assertThat(rows(north)).isEqualTo(northBefore + 200);
    assertThat(rows(south)).isEqualTo(southBefore + 200);
    assertThat(after.rows() - before.rows()).isEqualTo(400);
    // rows that went into batches (not written alone, nor again after a failed batch) shared commits
    long single = (after.alone() - before.alone()) + (after.fallbacks() - before.fallbacks());
    long batchedRows = after.rows() - before.rows() - single;
    long batchCommits = after.commits() - before.commits() - single;
    assertThat(batchedRows).isPositive();
    assertThat(batchCommits).as("16 waiting writers share commits").isLessThan(batchedRows);
    assertThat(audit.verify(north, Auditors.of(platform, north)).valid()).isTrue();
    assertThat(audit.verify(south, Auditors.of(platform, south)).valid()).isTrue();
    // what was written is what was asked: one row read back field by field
    var row = audit.list(north, Auditors.of(platform, north), new AuditFilter("p-0", null, null, null, 1), true).get(0);
    assertThat(row.get("roles")).isEqualTo(List.of("clinician", "quote\"and\\slash"));
    assertThat(row.get("chunkIds")).isEqualTo(List.of(3L, 1L, 2L));
    assertThat(row.get("query")).isEqualTo("glucose trend");
    assertThat(row.get("latencyMillis")).isEqualTo(4);
  }

  @Test
  void aRowWrittenOnItsOwnTakesAFreeChainHeadInsteadOfWaitingForAHeldOne() throws Exception {
    AuditEntry entry = entry("p-ok");
    var executor = Executors.newSingleThreadExecutor();
    try {
      UUID concurrent = platform.tx.run(north, PolicySettings.read().set("cc.access", "audit").build(), c -> {
        audit.append(c, north, entry); // holds one chain head until this transaction ends
        try {
          return executor.submit(() -> audit.recordAlone(north, row(north, "p-ok"), -1)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("the second writer waited for the held head", e);
        }
      });
      assertThat(concurrent).isNotNull();
    } finally {
      executor.shutdownNow();
    }
    assertThat(audit.verify(north, Auditors.of(platform, north)).valid()).isTrue();
  }

  @Test
  void aBatchWhoseHeadIsHeldWaitsForItAndThenExtendsTheChain() throws Exception {
    AuditGroupCommit groupCommit = groupCommitOn(6);
    groupCommit.append(north, row(north, "p-first")); // head of shard 6 known
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      su.setAutoCommit(false);
      st.execute("SELECT 1 FROM tenant_gcnorth.audit_heads WHERE shard = 6 FOR UPDATE"); // another writer's lock
      Future<UUID> waiting = pool.submit(() ->
          groupCommit.append(north, row(north, "p-waits")));
      awaitALockWait();
      assertThat(waiting.isDone()).as("the batch waits for the head's holder").isFalse();
      su.commit(); // the holder ends without moving the head
      assertThat(waiting.get(60, TimeUnit.SECONDS)).isNotNull();
    } finally {
      pool.shutdownNow();
    }
    assertThat(groupCommit.stats().fallbacks()).isZero();
    assertThat(groupCommit.stats().commits()).isEqualTo(2);
    assertThat(audit.verify(north, Auditors.of(platform, north)).valid()).isTrue();
  }

  @Test
  void aTenantDeletedAndMadeAgainStartsItsOwnChainOnceItsLaneIsForgotten() {
    TenantId again = platform.tenant("gcagain");
    AuditGroupCommit writer = groupCommitOn(2);
    writer.append(again, row(again, "p-1"));
    writer.append(again, row(again, "p-2"));
    platform.provisioner.delete(again);
    writer.forget(again);
    platform.tenant("gcagain");
    writer.append(again, row(again, "p-3"));
    // the new tenant's chain starts at its genesis: no batch went by the old tenant's head
    assertThat(writer.stats().fallbacks()).isZero();
    assertThat(writer.stats().rows()).isEqualTo(3);
    assertThat(rows(again)).isEqualTo(1);
    assertThat(audit.verify(again, Auditors.of(platform, again)).valid()).isTrue();
  }

  @Test
  void aHeadMovedByAnotherWriterIsDetectedAndTheRowsStillLandOnTheChain() {
    // two processes that happen to append to the same shard
    AuditGroupCommit one = groupCommitOn(5);
    AuditGroupCommit two = groupCommitOn(5);
    int before = rows(north);
    for (int i = 0; i < 10; i++) {
      one.append(north, row(north, "p-one"));
      two.append(north, row(north, "p-two"));
    }
    assertThat(rows(north)).isEqualTo(before + 20);
    // each moved the head the other had last seen: detected, and those rows went the row-at-a-time way
    assertThat(one.stats().fallbacks() + two.stats().fallbacks()).isPositive();
    assertThat(audit.verify(north, Auditors.of(platform, north)).valid()).isTrue();
  }

  @Test
  void aStalledWriterDoesNotHoldUpRowsItHasNotTaken() throws Exception {
    AuditGroupCommit groupCommit = groupCommitOn(2);
    groupCommit.append(north, row(north, "p-first")); // head of shard 2 known
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      su.setAutoCommit(false);
      // an uncommitted row at the writer's next sequence number: its insert waits on the unique index
      st.execute("""
          INSERT INTO tenant_gcnorth.audit_log (audit_id, shard, seq, at, principal, action, decision, reason,
                                                prev_hash, row_hash)
          SELECT gen_random_uuid(), 2, seq + 1, now(), 'blocker', 'test', 'allowed', 'blocker', head, head
          FROM tenant_gcnorth.audit_heads WHERE shard = 2""");
      Future<UUID> stalled = pool.submit(() ->
          groupCommit.append(north, row(north, "p-stalled")));
      // that request is now the writer, stuck in its batch (after a fixed 300 ms it could still be on its way, and
      // the next request then became the writer and was stuck behind the blocker too)
      awaitALockWait();
      UUID other = pool.submit(() ->
          groupCommit.append(north, row(north, "p-other")))
          .get(60, TimeUnit.SECONDS);
      assertThat(other).isNotNull();
      assertThat(groupCommit.stats().alone()).isEqualTo(1);
      assertThat(stalled.isDone()).isFalse();
      su.rollback();
      assertThat(stalled.get(60, TimeUnit.SECONDS)).isNotNull();
    } finally {
      pool.shutdownNow();
    }
    assertThat(audit.verify(north, Auditors.of(platform, north)).valid()).isTrue();
  }

  @Test
  void aRowWrittenOnItsOwnBeforeTheLaneHasReadItsHeadStillKeepsOffTheLanesShard() throws Exception {
    // Before, a lane chose its shard only when its first batch read the head: a row that gave up
    // waiting in the meantime took any shard, perhaps that one, and the batch then found its head
    // moved (the one failed batch of each full benchmark run).
    List<Integer> avoided = new java.util.concurrent.CopyOnWriteArrayList<>();
    AuditGroupCommit groupCommit = new AuditGroupCommit(platform.tx, AuditLog.recordSettings(),
        (t, r, avoid) -> {
          avoided.add(avoid);
          return r.id();
        }, () -> 6);
    var pooled = (com.zaxxer.hikari.HikariDataSource) platform.db.appDataSource();
    List<Connection> taken = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      // every pooled connection taken: the lane's first writer waits for one to read its head
      while (taken.size() < pooled.getMaximumPoolSize()) {
        taken.add(pooled.getConnection());
      }
      Future<UUID> first = pool.submit(() -> groupCommit.append(north, row(north, "p-first")));
      // until it waits for a connection, holding the lane (not a fixed 300 ms, after which it could still be on its
      // way, and the next row then became the lane's writer)
      for (int i = 0; i < 600 && pooled.getHikariPoolMXBean().getThreadsAwaitingConnection() == 0; i++) {
        Thread.sleep(100);
      }
      assertThat(pooled.getHikariPoolMXBean().getThreadsAwaitingConnection()).as("the writer waits").isPositive();
      assertThat(pool.submit(() -> groupCommit.append(north, row(north, "p-alone"))).get(60, TimeUnit.SECONDS))
          .isNotNull();
      assertThat(groupCommit.stats().alone()).isEqualTo(1);
      assertThat(avoided).containsExactly(6);
      for (Connection c : taken) {
        c.close();
      }
      taken.clear();
      assertThat(first.get(60, TimeUnit.SECONDS)).isNotNull();
    } finally {
      for (Connection c : taken) {
        c.close();
      }
      pool.shutdownNow();
    }
    assertThat(audit.verify(north, Auditors.of(platform, north)).valid()).isTrue();
  }

  @Test
  void aRowThatCannotBeWrittenFailsOnlyItsOwnRequest() {
    AuditEntry broken = new AuditEntry("dr-lee", "key-clin", List.of("clinician"), "p-x", "TREAT", "context",
        AuditEntry.Decision.ALLOWED, null, false, List.of(), null, null, null, null, "{}", 0);
    int before = rows(south);
    assertThatThrownBy(() -> audit.record(south, broken))
        .isInstanceOf(AuditLog.AuditUnavailableException.class)
        .satisfies(e -> {
          for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as("no PHI in any message of the chain").doesNotContain("p-x");
          }
        });
    assertThat(audit.record(south, entry("p-after"))).isNotNull();
    assertThat(rows(south)).isEqualTo(before + 1);
    assertThat(audit.verify(south, Auditors.of(platform, south)).valid()).isTrue();
  }

  /** A patient id from the path with a NUL in it (%00): the denial is still written, as not a FHIR id, and found by it. */
  @Test
  void anAttemptOnAPatientIdWithANulIsAuditedAndFoundByIt() {
    UUID id = audit.record(south, AuditEntry.of("dr-lee", "key-clin", List.of("clinician"), "Synthetic\u0000Doe",
        "TREAT", "context", AuditEntry.Decision.DENIED, "unknown_patient"));
    List<java.util.Map<String, Object>> found = audit.list(south, Auditors.of(platform, south), new AuditFilter("Synthetic\u0000Doe", null, null, null, 10), false);
    assertThat(found).extracting(m -> m.get("auditId")).containsExactly(id.toString());
    assertThat(audit.verify(south, Auditors.of(platform, south)).valid()).isTrue();
  }
}
