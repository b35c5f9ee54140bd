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
          "allowed", "allowed", false, List.of(), null, null, null, null, null, null, "{}", null, null);
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
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void aRowDatedBackAfterRecentRowsDoesNotMakeRetentionDeleteThem() throws SQLException {
    Instant now = Instant.now();
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
    assertThat(count("SELECT count(*) FROM tenant_purgeclock.audit_log WHERE shard = 5")).isEqualTo(2);
    assertThat(audit.verify(tenant, Auditors.of(platform, tenant)).valid()).isTrue();
  }
}
