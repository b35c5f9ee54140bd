package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keyed seals of the audit chains (tenant migration 37) against real PostgreSQL. The chain alone
 * is SHA-256 over what the database holds, so whoever writes the tables as their owner can alter a
 * row and recompute everything after it; these tests do exactly that, as the superuser, and show
 * that the chain then still verifies while the seals do not.
 */
class AuditSealIT {

  static TestPlatform platform;
  static AuditLog audit;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    audit = new AuditLog(platform.tx, platform.keys);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static void record(TenantId tenant, int n) {
    for (int i = 0; i < n; i++) {
      audit.record(tenant, AuditEntry.of("dr-lee", "key-clin", List.of("clinician"), "p-" + i, "TREAT", "context",
          AuditEntry.Decision.ALLOWED, "allowed").withQuery("glucose trend")
          .withResult(AuditEntry.Decision.ALLOWED, "allowed", List.of((long) i), 3));
    }
  }

  static AuditVerification verify(TenantId tenant) {
    return audit.verify(tenant, Auditors.of(platform, tenant));
  }

  static void superuser(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  static long number(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * What an insider with the owner's rights does: changes one row, then recomputes the hash of every
   * later row of its shard and the shard's head, with the verifier's own functions.
   */
  static void alterAndRecompute(TenantId tenant, int shard, long seq, String newReason) throws SQLException {
    String schema = tenant.schemaName();
    try (Connection c = TestPostgres.superuser(platform.config)) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        // the table refuses updates to every role (tenant migration 57): the owner may turn that off
        st.execute("ALTER TABLE " + schema + ".audit_log DISABLE TRIGGER audit_log_no_update");
        st.executeUpdate("UPDATE " + schema + ".audit_log SET reason = '" + newReason + "' WHERE shard = " + shard
            + " AND seq = " + seq);
      }
      byte[] prev;
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT prev_hash FROM " + schema
          + ".audit_log WHERE shard = " + shard + " AND seq = " + seq)) {
        rs.next();
        prev = rs.getBytes(1);
      }
      long last = seq - 1;
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + schema
          + ".audit_log WHERE shard = " + shard + " AND seq >= " + seq + " ORDER BY seq");
          PreparedStatement update = c.prepareStatement("UPDATE " + schema
              + ".audit_log SET prev_hash = ?, row_hash = ? WHERE shard = ? AND seq = ?")) {
        while (rs.next()) {
          last = rs.getLong("seq");
          byte[] hash = AuditPayload.rowHash(prev, last, AuditLog.payload(rs));
          update.setBytes(1, prev);
          update.setBytes(2, hash);
          update.setInt(3, shard);
          update.setLong(4, last);
          update.executeUpdate();
          prev = hash;
        }
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + schema
          + ".audit_heads SET seq = ?, head = ? WHERE shard = ?")) {
        ps.setLong(1, last);
        ps.setBytes(2, prev);
        ps.setInt(3, shard);
        ps.executeUpdate();
      }
      try (Statement st = c.createStatement()) {
        st.execute("ALTER TABLE " + schema + ".audit_log ENABLE ALWAYS TRIGGER audit_log_no_update");
      }
      c.commit();
    }
  }

  static int shardOf(TenantId tenant) throws SQLException {
    return (int) number("SELECT min(shard) FROM " + tenant.schemaName() + ".audit_log");
  }

  @Test
  void aSealedTrailVerifiesAndCountsWhatItsSealsCover() {
    TenantId tenant = platform.tenant("sealcount");
    record(tenant, 5);
    assertThat(verify(tenant).sealedEntries()).isZero();

    assertThat(audit.seal(tenant)).isEqualTo(1); // the one shard these rows went to
    assertThat(audit.seal(tenant)).isZero(); // no head moved since
    record(tenant, 2);
    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isTrue();
    assertThat(v.entries()).isEqualTo(7);
    assertThat(v.sealedEntries()).isEqualTo(5);

    audit.seal(tenant);
    assertThat(verify(tenant).sealedEntries()).isEqualTo(7);
  }

  /** Verify reads seals and rows through two cursors side by side, a thousand at a time: past that, too. */
  @Test
  void aShardLongerThanOneFetchIsCheckedAgainstEverySeal() throws SQLException {
    TenantId tenant = platform.tenant("seallong");
    for (int i = 0; i < 3; i++) {
      record(tenant, 700);
      audit.seal(tenant);
    }
    record(tenant, 100);
    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isTrue();
    assertThat(v.entries()).isEqualTo(2_200);
    assertThat(v.sealedEntries()).isEqualTo(2_100);

    alterAndRecompute(tenant, shardOf(tenant), 1_500, "nothing to see");
    v = verify(tenant);
    assertThat(v.brokenAt().problem()).isEqualTo("seal");
    assertThat(v.brokenAt().seq()).isEqualTo(2_100);
  }

  @Test
  void aRowAlteredWithItsChainRecomputedIsFoundAtTheSeal() throws SQLException {
    TenantId tenant = platform.tenant("sealedit");
    record(tenant, 4);
    audit.seal(tenant);
    record(tenant, 2);
    int shard = shardOf(tenant);

    alterAndRecompute(tenant, shard, 2, "nothing to see");

    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isFalse();
    // every stored link agrees with the rows, so only the seal at seq 4 tells
    assertThat(v.brokenAt().problem()).isEqualTo("seal");
    assertThat(v.brokenAt().shard()).isEqualTo(shard);
    assertThat(v.brokenAt().seq()).isEqualTo(4);

    // without its seals, the recomputed chain would pass: what the seals add
    superuser("DELETE FROM " + tenant.schemaName() + ".audit_seals");
    AuditVerification unsealed = verify(tenant);
    assertThat(unsealed.valid()).isTrue();
    assertThat(unsealed.sealedEntries()).isZero();
    assertThat(unsealed.entries()).isEqualTo(6);
  }

  @Test
  void rowsAlteredAfterTheLatestSealHaveTheChainsProtectionOnly() throws SQLException {
    TenantId tenant = platform.tenant("sealtail");
    record(tenant, 3);
    audit.seal(tenant);
    record(tenant, 2);
    int shard = shardOf(tenant);

    alterAndRecompute(tenant, shard, 5, "nothing to see");

    // documented limit: the last, unsealed rows; verify counts them so an auditor sees the window
    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isTrue();
    assertThat(v.entries() - v.sealedEntries()).isEqualTo(2);
  }

  @Test
  void aSealTheTenantsKeyDidNotMakeIsFound() throws SQLException {
    TenantId tenant = platform.tenant("sealforge");
    record(tenant, 3);
    audit.seal(tenant);
    int shard = shardOf(tenant);

    // the insider recomputes the chain and writes a seal of the new head with a MAC of their own
    alterAndRecompute(tenant, shard, 1, "nothing to see");
    superuser("UPDATE " + tenant.schemaName() + ".audit_seals s SET head = h.head, mac = sha256(h.head) "
        + "FROM " + tenant.schemaName() + ".audit_heads h WHERE h.shard = s.shard");

    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isFalse();
    assertThat(v.brokenAt().problem()).isEqualTo("forged-seal");
    assertThat(v.brokenAt().seq()).isEqualTo(3);
  }

  @Test
  void rowsCutFromTheEndOfASealedChainAreFound() throws SQLException {
    TenantId tenant = platform.tenant("sealcut");
    record(tenant, 3);
    audit.seal(tenant);
    int shard = shardOf(tenant);
    String schema = tenant.schemaName();

    // the last row removed and the head moved back onto the row before it: a consistent, shorter chain
    superuser("DELETE FROM " + schema + ".audit_log WHERE shard = " + shard + " AND seq = 3");
    superuser("UPDATE " + schema + ".audit_heads h SET seq = 2, head = l.row_hash FROM " + schema
        + ".audit_log l WHERE l.shard = h.shard AND l.seq = 2");

    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isFalse();
    assertThat(v.brokenAt().problem()).isEqualTo("behind-seal");
    assertThat(v.brokenAt().seq()).isEqualTo(3);
  }

  /**
   * The insider who cuts the end of a sealed chain removes the seals beyond the new end as well (the
   * owner may), and moves the head back: the database then holds a shorter trail that every remaining
   * seal agrees with. The process that made (or checked) the removed seal still knows it, and verify
   * names the cut.
   */
  @Test
  void rowsCutFromTheEndTogetherWithTheirSealsAreFoundByAProcessThatSawTheSeal() throws SQLException {
    TenantId tenant = platform.tenant("sealcutseal");
    String schema = tenant.schemaName();
    record(tenant, 4);
    audit.seal(tenant);
    // the shard with the most rows (a row takes whichever chain head is free), sealed at its end
    int shard = (int) number("SELECT shard FROM " + schema + ".audit_log GROUP BY shard ORDER BY count(*) DESC, shard LIMIT 1");
    long last = number("SELECT max(seq) FROM " + schema + ".audit_seals WHERE shard = " + shard);
    assertThat(last).isEqualTo(number("SELECT max(seq) FROM " + schema + ".audit_log WHERE shard = " + shard));
    // a process started after the seal was made knows it once it has checked it
    AuditLog later = new AuditLog(platform.tx, platform.keys);
    assertThat(later.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();

    cutBackTo(tenant, shard, last - 1); // the sealed last row and its seal removed, the head moved back

    for (AuditLog process : List.of(audit, later)) {
      AuditVerification v = process.verify(tenant, Auditors.of(platform, tenant));
      assertThat(v.valid()).isFalse();
      assertThat(v.brokenAt().problem()).isEqualTo("behind-seal");
      assertThat(v.brokenAt().shard()).isEqualTo(shard);
      assertThat(v.brokenAt().seq()).isEqualTo(last);
    }
    // what a seal cannot cover: a process that never saw the removed seal has nothing to compare with
    assertThat(new AuditLog(platform.tx, platform.keys).verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  /**
   * Only a seal the tenant's key made is remembered: a forged one is reported as such, and once removed
   * it leaves no mark the trail must reach (an insider cannot make a sound trail look cut).
   */
  @Test
  void aSealTheKeyDidNotMakeIsNoMarkTheTrailMustReach() throws SQLException {
    TenantId tenant = platform.tenant("sealforgedmark");
    record(tenant, 3);
    int shard = shardOf(tenant);
    long last = number("SELECT max(seq) FROM " + tenant.schemaName() + ".audit_log WHERE shard = " + shard);
    superuser("INSERT INTO " + tenant.schemaName() + ".audit_seals (shard, seq, head, mac) SELECT shard, seq, head, "
        + "sha256(head) FROM " + tenant.schemaName() + ".audit_heads WHERE shard = " + shard);
    AuditLog other = new AuditLog(platform.tx, platform.keys);
    assertThat(other.verify(tenant, Auditors.of(platform, tenant)).brokenAt().problem()).isEqualTo("forged-seal");
    cutBackTo(tenant, shard, last - 1);
    assertThat(other.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  /**
   * The latest seals this process knew were kept, one entry per tenant, for every tenant ever sealed or
   * verified, deleted tenants too, until the process ended: a platform that makes and offboards tenants (a
   * benchmark's, a trial's) grew without end. Deleting a tenant (the admin API's offboarding) now forgets them.
   */
  @Test
  void aDeletedTenantsSealsAreForgotten() {
    TenantId tenant = platform.tenant("sealgone");
    record(tenant, 2);
    audit.seal(tenant);
    assertThat(audit.knowsSealsOf(tenant)).isTrue();
    TenantId kept = platform.tenant("sealkept");
    record(kept, 1);
    audit.seal(kept);
    assertThat(platform.provisioner.delete(tenant)).isTrue();
    audit.forget(tenant); // as TenantController#delete does after the provisioner's deletion
    assertThat(audit.knowsSealsOf(tenant)).isFalse();
    assertThat(audit.knowsSealsOf(kept)).as("another tenant's are kept").isTrue();
    assertThat(verify(kept).valid()).isTrue();
  }

  /**
   * Seals the tenant's heads and returns the lines its sealing wrote to the log (the anchors an operator's
   * log shipper keeps): the test binding writes INFO lines to standard error, captured here as they go.
   */
  static List<String> sealAndCaptureLog(TenantId tenant) {
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      assertThat(audit.seal(tenant)).isPositive();
    } finally {
      System.setErr(err);
    }
    String text = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
    err.print(text);
    return text.lines().filter(l -> l.contains("tenant=" + tenant.value() + " ")).toList();
  }

  /**
   * Each seal leaves the database as it is made: one INFO line on the anchor logger, with nothing in it but the
   * tenant, shard, seq, the head (a hash of the chain) and the MAC (a keyed hash).
   */
  @Test
  void everySealIsLoggedAsAnAnchorLineWithoutPhi() throws SQLException {
    TenantId tenant = platform.tenant("anchorlog");
    record(tenant, 6);
    List<String> lines = sealAndCaptureLog(tenant);
    long shards = number("SELECT count(*) FROM " + tenant.schemaName() + ".audit_seals");
    assertThat(lines).hasSize((int) shards);
    for (String line : lines) {
      assertThat(line).contains("INFO " + AuditAnchor.LOGGER + " - audit-anchor tenant=anchorlog shard=")
          .matches(".*audit-anchor tenant=anchorlog shard=[0-7] seq=\\d+ head=[0-9a-f]{64} mac=[0-9a-f]{64}$")
          .doesNotContain("dr-lee").doesNotContain("glucose");
    }
    List<AuditAnchor> anchors = AuditAnchor.latestPerShard(tenant, lines);
    assertThat(anchors).hasSize((int) shards);
    assertThat(verify(tenant).valid()).isTrue();
    assertThat(new AuditLog(platform.tx, platform.keys).verify(tenant, Auditors.of(platform, tenant), anchors).valid())
        .isTrue();
  }

  /**
   * The cut no seal in the database shows (rows and the seals past the new end removed, the head moved back)
   * against a process started after it: without anchors it has nothing to compare with and calls the trail
   * valid (what the database alone can tell); given the anchors its sealing logged, it names the cut.
   */
  @Test
  void aCutTogetherWithItsSealsIsFoundByAFreshProcessGivenTheLoggedAnchors() throws SQLException {
    TenantId tenant = platform.tenant("anchorcut");
    String schema = tenant.schemaName();
    record(tenant, 4);
    List<AuditAnchor> anchors = AuditAnchor.latestPerShard(tenant, sealAndCaptureLog(tenant));
    int shard = (int) number("SELECT shard FROM " + schema + ".audit_log GROUP BY shard ORDER BY count(*) DESC, shard LIMIT 1");
    long last = number("SELECT max(seq) FROM " + schema + ".audit_seals WHERE shard = " + shard);

    cutBackTo(tenant, shard, last - 1);

    // today's gap, stated: a process that never saw the removed seal finds every remaining one in agreement
    assertThat(new AuditLog(platform.tx, platform.keys).verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
    AuditLog fresh = new AuditLog(platform.tx, platform.keys);
    AuditVerification v = fresh.verify(tenant, Auditors.of(platform, tenant), anchors);
    assertThat(v.valid()).isFalse();
    assertThat(v.brokenAt().problem()).isEqualTo("behind-seal");
    assertThat(v.brokenAt().shard()).isEqualTo(shard);
    assertThat(v.brokenAt().seq()).isEqualTo(last);
    // an anchor the key made is remembered like a seal this process checked: its next check without them agrees
    assertThat(fresh.verify(tenant, Auditors.of(platform, tenant)).brokenAt().problem()).isEqualTo("behind-seal");
  }

  /** A chain rewritten after an edit, its seals removed: the anchor's head is not on the recomputed chain. */
  @Test
  void aChainRecomputedWithItsSealsRemovedMissesTheAnchorsHead() throws SQLException {
    TenantId tenant = platform.tenant("anchoredit");
    record(tenant, 3);
    List<AuditAnchor> anchors = AuditAnchor.latestPerShard(tenant, sealAndCaptureLog(tenant));
    int shard = shardOf(tenant);
    alterAndRecompute(tenant, shard, 1, "nothing to see");
    superuser("DELETE FROM " + tenant.schemaName() + ".audit_seals");

    assertThat(new AuditLog(platform.tx, platform.keys).verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
    AuditVerification v = new AuditLog(platform.tx, platform.keys).verify(tenant, Auditors.of(platform, tenant), anchors);
    assertThat(v.brokenAt().problem()).isEqualTo("seal");
    assertThat(v.brokenAt().shard()).isEqualTo(shard);
    assertThat(v.brokenAt().seq()).isEqualTo(3);
  }

  /**
   * An anchor the tenant's key did not make is reported, never trusted: neither one made up beyond the end
   * (which would make a sound trail look cut) nor a real one with its head changed; and it is not remembered.
   */
  @Test
  void aMadeUpAnchorIsReportedAndNeverTrusted() throws SQLException {
    TenantId tenant = platform.tenant("anchorforged");
    record(tenant, 3);
    AuditAnchor real = AuditAnchor.latestPerShard(tenant, sealAndCaptureLog(tenant)).get(0);
    byte[] otherHead = real.head();
    otherHead[0] ^= 1;
    AuditAnchor beyond = new AuditAnchor(real.shard(), real.seq() + 10, real.head(), real.mac());
    AuditAnchor changed = new AuditAnchor(real.shard(), real.seq(), otherHead, real.mac());
    // another tenant's genuine seal is not this tenant's either
    TenantId other = platform.tenant("anchorother");
    record(other, 1);
    AuditAnchor othersReal = AuditAnchor.latestPerShard(other, sealAndCaptureLog(other)).get(0);
    AuditLog process = new AuditLog(platform.tx, platform.keys);
    for (AuditAnchor forged : List.of(beyond, changed, othersReal)) {
      AuditVerification v = process.verify(tenant, Auditors.of(platform, tenant), List.of(real, forged));
      assertThat(v.valid()).isFalse();
      assertThat(v.brokenAt().problem()).isEqualTo("forged-anchor");
      assertThat(v.brokenAt().shard()).isEqualTo(forged.shard());
      assertThat(v.brokenAt().seq()).isEqualTo(forged.seq());
    }
    assertThat(process.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
    assertThatThrownBy(() -> process.verify(tenant, Auditors.of(platform, tenant),
        List.of(new AuditAnchor(AuditLog.SHARDS, 1, real.head(), real.mac()))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Removes the shard's rows and seals after {@code seq} and moves its head back onto row {@code seq}. */
  static void cutBackTo(TenantId tenant, int shard, long seq) throws SQLException {
    String schema = tenant.schemaName();
    superuser("DELETE FROM " + schema + ".audit_log WHERE shard = " + shard + " AND seq > " + seq);
    superuser("DELETE FROM " + schema + ".audit_seals WHERE shard = " + shard + " AND seq > " + seq);
    superuser(seq == 0
        ? "UPDATE " + schema + ".audit_heads SET seq = 0, head = sha256(convert_to('carecontext-audit-genesis:' || shard, "
            + "'UTF8')) WHERE shard = " + shard
        : "UPDATE " + schema + ".audit_heads h SET seq = " + seq + ", head = l.row_hash FROM " + schema
            + ".audit_log l WHERE l.shard = h.shard AND l.seq = " + seq + " AND h.shard = " + shard);
  }

  @Test
  void aRetentionPurgeThroughASealedHeadStillVerifies() throws SQLException {
    TenantId tenant = platform.tenant("sealpurge");
    record(tenant, 3);
    audit.seal(tenant);
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      assertThat(AuditLog.purge(owner, tenant, Instant.now().plus(1, ChronoUnit.DAYS))).isEqualTo(3);
    }
    // the seal now sits at the anchor, which it still checks
    assertThat(verify(tenant).valid()).isTrue();
    record(tenant, 2);
    audit.seal(tenant);
    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isTrue();
    assertThat(v.entries()).isEqualTo(3); // the purge's own row and the two after it
    assertThat(v.sealedEntries()).isEqualTo(3);
  }

  /**
   * Verify reads each shard's seals, rows and head in turn. In one snapshot they agree; read each in
   * a snapshot of its own, a batch committed in between made the head look one batch ahead of the
   * rows, and a trail in use was reported broken.
   */
  @Test
  void verifyDuringAppendsAndSealsSeesOneConsistentTrail() throws Exception {
    TenantId tenant = platform.tenant("sealbusy");
    record(tenant, 1);
    java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newFixedThreadPool(4);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    List<java.util.concurrent.Future<?>> running = new java.util.ArrayList<>();
    for (int w = 0; w < 4; w++) {
      running.add(writers.submit(() -> {
        while (!stop.get()) {
          record(tenant, 1);
          audit.seal(tenant);
        }
      }));
    }
    try {
      for (int i = 0; i < 25; i++) {
        AuditVerification v = verify(tenant);
        assertThat(v.valid()).as("verify %d: %s", i, v.brokenAt()).isTrue();
      }
    } finally {
      stop.set(true);
      for (java.util.concurrent.Future<?> f : running) {
        f.get();
      }
      writers.shutdown();
    }
    assertThat(verify(tenant).valid()).isTrue();
  }

  @Test
  void theApplicationsRolesCannotChangeOrRemoveSeals() {
    TenantId tenant = platform.tenant("sealrights");
    record(tenant, 1);
    audit.seal(tenant);
    for (String sql : List.of("UPDATE {schema}.audit_seals SET mac = head", "DELETE FROM {schema}.audit_seals",
        "TRUNCATE {schema}.audit_seals")) {
      assertThatThrownBy(() -> platform.tx.run(tenant, AuditLog.recordSettings(),
          c -> c.createStatement().executeUpdate(sql.replace("{schema}", tenant.schemaName()))))
          .rootCause().hasMessageContaining("permission denied");
    }
  }

  /**
   * A row's request id and client address (tenant migration 75) are in its hash: changing either, even to another
   * well-formed value, breaks the chain at that row; and the database refuses a value that is not the validated form.
   */
  @Test
  void theRequestIdAndClientAddressAreInTheChain() throws SQLException {
    for (String column : List.of("request_id", "client_address")) {
      TenantId tenant = platform.tenant("origin" + column.charAt(0));
      AuditOrigin was = AuditOrigin.bind(new AuditOrigin("req-" + column.charAt(0), "198.51.100.4"));
      try {
        record(tenant, 3);
      } finally {
        AuditOrigin.restore(was);
      }
      assertThat(verify(tenant).valid()).isTrue();
      assertThat(number("SELECT count(*) FROM " + tenant.schemaName() + ".audit_log WHERE request_id = 'req-"
          + column.charAt(0) + "' AND client_address = '198.51.100.4'")).isEqualTo(3);
      int shard = shardOf(tenant);
      long seq = number("SELECT min(seq) FROM " + tenant.schemaName() + ".audit_log WHERE shard = " + shard);
      String schema = tenant.schemaName();
      // the raw text of a header is refused by the database, whoever writes it (one transaction: undone whole)
      assertThatThrownBy(() -> superuser("ALTER TABLE " + schema + ".audit_log DISABLE TRIGGER audit_log_no_update; "
          + "UPDATE " + schema + ".audit_log SET " + column + " = 'Zebulon Quixote, 10.0.0.1' WHERE shard = " + shard))
          .isInstanceOf(SQLException.class).hasMessageContaining("audit_log_" + column + "_form");
      superuser("ALTER TABLE " + schema + ".audit_log DISABLE TRIGGER audit_log_no_update; UPDATE " + schema
          + ".audit_log SET " + column + " = '" + ("request_id".equals(column) ? "req-other" : "198.51.100.5")
          + "' WHERE shard = " + shard + " AND seq = " + seq + "; ALTER TABLE " + schema
          + ".audit_log ENABLE ALWAYS TRIGGER audit_log_no_update");
      AuditVerification v = verify(tenant);
      assertThat(v.valid()).as(column).isFalse();
      assertThat(v.brokenAt().problem()).as(column).isEqualTo("row");
      assertThat(v.brokenAt().seq()).as(column).isEqualTo(seq);
    }
  }
  /**
   * Stripping a row of its origin (both columns back to NULL, the form of the rows before tenant migration 75, which
   * the check constraints allow) is found at that row too: its payload is then the older, shorter form, whose hash
   * is not the one the chain holds.
   */
  @Test
  void aRowStrippedOfItsOriginBreaksTheChainAtThatRow() throws SQLException {
    TenantId tenant = platform.tenant("originstrip");
    AuditOrigin was = AuditOrigin.bind(new AuditOrigin("req-strip", "2001:db8::4"));
    try {
      record(tenant, 3);
    } finally {
      AuditOrigin.restore(was);
    }
    assertThat(verify(tenant).valid()).isTrue();
    int shard = shardOf(tenant);
    long seq = number("SELECT min(seq) FROM " + tenant.schemaName() + ".audit_log WHERE shard = " + shard);
    String schema = tenant.schemaName();
    superuser("ALTER TABLE " + schema + ".audit_log DISABLE TRIGGER audit_log_no_update; UPDATE " + schema
        + ".audit_log SET request_id = NULL, client_address = NULL WHERE shard = " + shard + " AND seq = " + seq
        + "; ALTER TABLE " + schema + ".audit_log ENABLE ALWAYS TRIGGER audit_log_no_update");
    AuditVerification v = verify(tenant);
    assertThat(v.valid()).isFalse();
    assertThat(v.brokenAt().problem()).isEqualTo("row");
    assertThat(v.brokenAt().seq()).isEqualTo(seq);
  }
}
