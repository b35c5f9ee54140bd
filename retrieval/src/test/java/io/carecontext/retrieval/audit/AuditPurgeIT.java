package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Retention against real PostgreSQL, with rows whose time is not the time they were written. The
 * audit role (which any code on the application's connection may take) appends rows, and the time
 * of a row is the writer's to state: a row dated years back, appended after this year's rows,
 * must not make retention delete them, or one appended row would erase a shard's trail while the
 * chain still verifies.
 */
class AuditPurgeIT {

  static TestPlatform platform;
  static TenantId tenant;
  static AuditLog audit;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("purgeclock");
    audit = new AuditLog(platform.tx, platform.keys);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /**
   * Appends, as the audit role, a correctly chained row dated {@code at} to {@code shard}: what the
   * service's own append does, with a time of the writer's choosing.
   */
  static UUID appendDated(int shard, Instant at, String principal) {
    return appendDated(tenant, shard, at, principal);
  }

  /** {@link #appendDated(int, Instant, String)} in another tenant's trail. */
  static UUID appendDated(TenantId tenant, int shard, Instant at, String principal) {
    return platform.tx.run(tenant, AuditLog.recordSettings(), c -> {
      byte[] prev;
      long seq;
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant,
          "SELECT seq, head FROM {schema}.audit_heads WHERE shard = ? FOR UPDATE"))) {
        ps.setInt(1, shard);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          seq = rs.getLong(1) + 1;
          prev = rs.getBytes(2);
        }
      }
      UUID id = UUID.randomUUID();
      Instant when = at.truncatedTo(ChronoUnit.MICROS);
      byte[] payload = AuditPayload.of(id.toString(), when, principal, null, List.of(), null, null, "context",
          "allowed", "allowed", false, List.of(), null, null, null, null, null, null, "{}", null, null, null, null);
      byte[] hash = AuditPayload.rowHash(prev, seq, payload);
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, """
          INSERT INTO {schema}.audit_log (audit_id, shard, seq, at, principal, action, decision, reason, details,
                                          latency_ms, prev_hash, row_hash)
          VALUES (?, ?, ?, ?, ?, 'context', 'allowed', 'allowed', '{}', NULL, ?, ?)"""))) {
        ps.setObject(1, id);
        ps.setInt(2, shard);
        ps.setLong(3, seq);
        ps.setObject(4, OffsetDateTime.ofInstant(when, ZoneOffset.UTC));
        ps.setString(5, principal);
        ps.setBytes(6, prev);
        ps.setBytes(7, hash);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant,
          "UPDATE {schema}.audit_heads SET seq = ?, head = ? WHERE shard = ?"))) {
        ps.setLong(1, seq);
        ps.setBytes(2, hash);
        ps.setInt(3, shard);
        ps.executeUpdate();
      }
      return id;
    });
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(platform.config, sql);
  }

  @Test
  void aRowDatedBackAfterRecentRowsDoesNotMakeRetentionDeleteThem() throws SQLException {
    Instant now = Instant.now();
    int purgeRowsBefore = purgeRows();
    for (int i = 0; i < 3; i++) {
      appendDated(3, now, "dr-recent-" + i);
    }
    appendDated(3, now.minus(3650, ChronoUnit.DAYS), "backdated");
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();

    int purged;
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      purged = AuditLog.purge(owner, tenant, now.minus(6 * 366, ChronoUnit.DAYS)); // six years' retention
    }
    // the recent rows are no prefix of old ones: nothing is deleted, and the trail still verifies
    assertThat(purged).isZero();
    assertThat(purgeRows()).as("a purge that deleted nothing writes no row").isEqualTo(purgeRowsBefore);
    assertThat(count("SELECT count(*) FROM tenant_purgeclock.audit_log WHERE principal LIKE 'dr-recent-%'"))
        .isEqualTo(3);
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  @Test
  void oldRowsBeforeRecentOnesArePurgedAndTheRestStillVerifies() throws SQLException {
    Instant now = Instant.now();
    appendDated(5, now.minus(4000, ChronoUnit.DAYS), "old-1");
    appendDated(5, now.minus(3999, ChronoUnit.DAYS), "old-2");
    appendDated(5, now, "kept-1");
    appendDated(5, now.minus(3998, ChronoUnit.DAYS), "old-after-kept");
    int purged;
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      purged = AuditLog.purge(owner, tenant, now.minus(6 * 366, ChronoUnit.DAYS));
    }
    assertThat(purged).isEqualTo(2); // old-1 and old-2: the prefix of old rows, not the one after a kept row
    assertThat(count("SELECT count(*) FROM tenant_purgeclock.audit_log WHERE shard = 5 AND action = 'context'"))
        .isEqualTo(2);
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }

  static int purgeRows() throws SQLException {
    return count("SELECT count(*) FROM tenant_purgeclock.audit_log WHERE action = 'audit-purge'");
  }

  /**
   * The purge leaves a row of its own in the trail it cut: the system's, with the count and the
   * cut-off, no patient, chained like every other row (the trail still verifies with it, and rows
   * written after it too).
   */
  @Test
  void aPurgeWritesARowOfItsOwnThatTheTrailVerifiesWith() throws SQLException {
    // a tenant of its own: the rows this test writes after the purge go to any shard, and the other
    // tests' shards must hold only their own rows
    TenantId tenant = platform.tenant("purgerow");
    Instant now = Instant.now();
    appendDated(tenant, 6, now.minus(5000, ChronoUnit.DAYS), "older-1");
    appendDated(tenant, 6, now.minus(4999, ChronoUnit.DAYS), "older-2");
    appendDated(tenant, 6, now.minus(4998, ChronoUnit.DAYS), "older-3");
    Instant before = now.minus(4900, ChronoUnit.DAYS);
    int purged;
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      purged = AuditLog.purge(owner, tenant, before);
    }
    assertThat(purged).isEqualTo(3);
    var rows = audit.list(tenant, Auditors.of(platform, tenant),
        new AuditFilter(null, AuditEntry.SYSTEM_PRINCIPAL, AuditEntry.AUDIT_PURGE, now, null, 10), false);
    assertThat(rows).hasSize(1);
    var row = rows.get(0);
    assertThat(row.get("principal")).isEqualTo("system:audit-retention");
    assertThat(row.get("patient")).isNull();
    assertThat(row.get("decision")).isEqualTo("allowed");
    assertThat(row.get("reason")).isEqualTo("retention");
    assertThat(row.get("details")).isEqualTo("{\"purged\":3,\"before\":\"" + before + "\"}");
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
    audit.record(tenant, AuditEntry.of("after-purge", null, List.of(), null, null, "context",
        AuditEntry.Decision.ALLOWED, "allowed"));
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
    // the AuditEvent export files it as a use of the audit log that deleted, naming no patient
    var event = AuditEvents.of(tenant, row);
    assertThat(event.getType().getCode()).isEqualTo("110101");
    assertThat(event.getAction().toCode()).isEqualTo("D");
    assertThat(event.getEntity()).noneSatisfy(e -> assertThat(e.getWhat().hasReference()).isTrue());
  }

  /** A purge whose row cannot be written deletes nothing: the trail never loses rows without saying so. */
  @Test
  void aPurgeWhoseRowCannotBeWrittenDeletesNothing() throws SQLException {
    TenantId other = platform.tenant("purgeatomic");
    AuditLog otherAudit = new AuditLog(platform.tx, platform.keys);
    otherAudit.record(other, AuditEntry.of("dr-a", null, List.of(), "p1", "TREAT", "context",
        AuditEntry.Decision.ALLOWED, "allowed"));
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.execute("""
          CREATE FUNCTION tenant_purgeatomic.refuse_purge_row() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'refused for the test'; END $$""");
      st.execute("CREATE TRIGGER refuse_purge_row BEFORE INSERT ON tenant_purgeatomic.audit_log FOR EACH ROW "
          + "WHEN (NEW.action = 'audit-purge') EXECUTE FUNCTION tenant_purgeatomic.refuse_purge_row()");
    }
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
          () -> AuditLog.purge(owner, other, Instant.now().plus(1, ChronoUnit.DAYS))).isInstanceOf(SQLException.class);
    }
    assertThat(count("SELECT count(*) FROM tenant_purgeatomic.audit_log")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM tenant_purgeatomic.audit_anchors")).isZero();
    assertThat(otherAudit.verify(other, Auditors.of(platform, other)).valid()).isTrue();
  }

  /**
   * Under the retention setting the owner may insert the purge's row and no other (tenant migration
   * 73): a row of a patient's access, written by the owner, is refused.
   */
  @Test
  void theOwnerMayInsertNoRowButAPurgesUnderRetention() throws SQLException {
    try (Connection owner = platform.db.ownerDataSource().getConnection()) {
      owner.setAutoCommit(false);
      try (Statement st = owner.createStatement()) {
        st.execute("SELECT set_config('cc.access', 'retention', true)");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> st.executeUpdate("""
            INSERT INTO tenant_purgeclock.audit_log (audit_id, shard, seq, at, principal, patient_id, action, decision,
                                                     reason, prev_hash, row_hash)
            VALUES (gen_random_uuid(), 0, 1000000, now(), 'system:audit-retention', 'p1', 'context', 'allowed',
                    'allowed', '\\x00', '\\x00')"""))
            .isInstanceOf(SQLException.class).hasMessageContaining("row-level security");
      } finally {
        owner.rollback();
        owner.setAutoCommit(true);
      }
    }
  }
}
