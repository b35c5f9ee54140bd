package io.carecontext.ingest;

import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.crypto.TenantCipher;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * After a rotation of a tenant's data key, seals its stored resources, their versions and its chunk texts again
 * under the active key version, a batch at a time, each batch its own transaction as the database owner under
 * cc.access 'reencrypt' (tenant migration 78: no tenant key stands behind this work), so serve and worker go on
 * meanwhile: a row is read, sealed again and written back only if it is still as read, and a row changed in between
 * (by a writer, under the active version already) is left to the next pass.
 *
 * <p>Resumable without a record of its own: what is left is exactly what is sealed under an older version, which
 * each value's header says (format 1: version 1; format 2: the version it names). A pass walks each table in key
 * order; passes repeat until one re-encrypts nothing, which also catches a row a process still on the old ring
 * (for up to {@link TenantKeys#REVALIDATE_AFTER}) wrote behind an earlier pass. Audit bodies are not touched: the
 * audit log refuses updates, so they stay under the version that wrote them.
 */
public final class DataKeyReencryption {

  /** One batch: the table and the rows it re-encrypted. */
  public record Batch(String table, int reencrypted) {}

  /** Each table with sealed values: its key columns (in order), its sealed column and how its AAD is built. */
  private enum Table {
    RESOURCES("resources", List.of("resource_type", "resource_id"), "body", List.of("version_id")),
    RESOURCE_VERSIONS("resource_versions", List.of("resource_type", "resource_id", "version_id"), "body",
        List.of("version_id")),
    CHUNKS("chunks", List.of("chunk_id"), "text", List.of("resource_type", "resource_id", "seq"));

    final String name;
    final List<String> key;
    final String sealed;
    final List<String> aadColumns;

    Table(String name, List<String> key, String sealed, List<String> aadColumns) {
      this.name = name;
      this.key = key;
      this.sealed = sealed;
      this.aadColumns = aadColumns;
    }

    byte[] aad(TenantId tenant, ResultSet rs, int from) throws SQLException {
      return switch (this) {
        case CHUNKS -> Aad.chunk(tenant, rs.getString(from), rs.getString(from + 1), rs.getInt(from + 2));
        default -> Aad.resource(tenant, rs.getString(1), rs.getString(2), rs.getLong(from));
      };
    }
  }

  private final javax.sql.DataSource owner;
  private final TenantKeys keys;
  private final int batchSize;

  /** {@code owner}: the database owner's connections; {@code keys}: the tenant keys, read as the application. */
  public DataKeyReencryption(javax.sql.DataSource owner, TenantKeys keys, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("the batch size is at least 1");
    }
    this.owner = owner;
    this.keys = keys;
    this.batchSize = batchSize;
  }

  /**
   * Re-encrypts until nothing of the tenant's resources and chunks is under an older version than the active one;
   * {@code progress} hears each batch (counts only). Returns how many values were re-encrypted.
   */
  public long run(TenantId tenant, Consumer<Batch> progress) {
    keys.evict(tenant); // the ring as stored now: a rotation has just added a version
    long total = 0;
    long pass;
    do {
      pass = 0;
      for (Table table : Table.values()) {
        List<Object> after = null;
        while (true) {
          Step step = batch(tenant, table, after);
          if (step.seen() == 0) {
            break;
          }
          after = step.last();
          if (step.reencrypted() > 0) {
            pass += step.reencrypted();
            progress.accept(new Batch(table.name, step.reencrypted()));
          }
        }
      }
      total += pass;
    } while (pass > 0);
    return total;
  }

  /**
   * How many values of each table are sealed under {@code version} (audit bodies included, which are never
   * re-encrypted), by table, read as the database owner under cc.access 'reencrypt' (tenant migration 78: without it
   * FORCE ROW LEVEL SECURITY shows the owner none of these rows, and every count was 0); a version can be retired
   * when none names it.
   */
  public static Map<String, Long> stillUnder(javax.sql.DataSource owner, TenantId tenant, int version) {
    try (Connection c = owner.getConnection()) {
      c.setAutoCommit(false);
      try {
        Map<String, Long> counts = stillUnder(c, tenant, version);
        c.commit();
        return counts;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not count the values under data key version " + version + " ("
          + e.getSQLState() + ")", e);
    }
  }

  /**
   * What {@link #retire} did: whether the version is gone, else whether it was replaced too recently, and its counts;
   * {@code retirableFrom}, the database's time from which its successor is old enough (whole seconds, rounded up), so a
   * refusal can say when to run again.
   */
  public record Retirement(boolean retired, boolean tooRecent, Map<String, Long> stillUnder,
                           java.time.Instant retirableFrom) {}

  /**
   * Deletes data key {@code version} if no value of any table names it, in one owner transaction: first that its
   * successor is older than twice {@link TenantKeys#MAX_STALE} (so no process seals under it any more, and every value
   * one sealed under it before is committed), then the counts of every sealed column (read after that, so they see
   * those values), then the delete. A version still named by one value (an audit body, which is never re-encrypted,
   * or a row a process wrote behind the re-encryption) is kept: deleting it would make that value unreadable for good.
   */
  public static Retirement retire(javax.sql.DataSource owner, TenantKeys keys, TenantId tenant, int version) {
    try (Connection c = owner.getConnection()) {
      c.setAutoCommit(false);
      try {
        boolean replacedLongAgo;
        java.time.Instant from;
        // the first successor's creation plus the wait: the same bound TenantKeys.retire's delete checks
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(min(created_at) < now() - make_interval(secs "
            + "=> ?), false), ceil(extract(epoch FROM min(created_at)))::bigint + ? FROM platform.tenant_keys WHERE "
            + "tenant_id = ? AND key_version > ?")) {
          long wait = TenantKeys.MAX_STALE.multipliedBy(2).toSeconds();
          ps.setLong(1, wait);
          ps.setLong(2, wait);
          ps.setString(3, tenant.value());
          ps.setInt(4, version);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            replacedLongAgo = rs.getBoolean(1);
            long epoch = rs.getLong(2);
            from = rs.wasNull() ? null : java.time.Instant.ofEpochSecond(epoch);
          }
        }
        Map<String, Long> counts = stillUnder(c, tenant, version);
        boolean unused = counts.values().stream().allMatch(n -> n == 0);
        if (replacedLongAgo && unused && version != 1) {
          keys.retire(c, tenant, version);
        }
        c.commit();
        return new Retirement(replacedLongAgo && unused && version != 1, !replacedLongAgo, counts, from);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException("data key version " + version + " could not be retired (" + e.getSQLState()
          + "); it is kept", e);
    }
  }

  private static Map<String, Long> stillUnder(Connection c, TenantId tenant, int version) throws SQLException {
    String schema = io.carecontext.migrations.Identifiers.quote(tenant.schemaName()) + ".";
    openToTheOwner(c);
    Map<String, Long> counts = new LinkedHashMap<>();
    for (Table t : Table.values()) {
      counts.put(t.name, count(c, "SELECT count(*) FROM " + schema + t.name + " WHERE " + named(t.sealed), version));
    }
    String audit = String.join(" OR ", SEALED_AUDIT_COLUMNS.stream()
        .map(col -> "(" + col + " IS NOT NULL AND " + named(col) + ")").toList());
    counts.put("audit_log", count(c, "SELECT count(*) FROM " + schema + "audit_log WHERE " + audit, version));
    return counts;
  }

  /** The audit trail's sealed bodies (AuditRow): kept under the version that wrote them, the log refuses updates. */
  static final List<String> SEALED_AUDIT_COLUMNS = List.of("query_enc", "prompt_enc", "response_enc",
      "justification_enc");

  private static String named(String column) {
    // format 1 is version 1; format 2 names its version in bytes 1-4
    // (an empty value, a deleted resource's, is sealed under no version)
    return "CASE WHEN octet_length(" + column + ") = 0 THEN 0 WHEN get_byte(" + column + ", 0) = 1 THEN 1 ELSE ('x' || "
        + "encode(substring(" + column + " FROM 2 FOR 4), 'hex'))::bit(32)::int END = ?";
  }

  /** cc.access 'reencrypt' for the transaction: tenant migration 78's owner-only policies, which FORCE RLS needs. */
  private static void openToTheOwner(Connection c) throws SQLException {
    try (PreparedStatement access = c.prepareStatement("SELECT set_config('cc.access', 'reencrypt', true)")) {
      access.execute();
    }
  }

  private static long count(Connection c, String sql, int version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int n = sql.split("\\?", -1).length - 1;
      for (int i = 1; i <= n; i++) {
        ps.setInt(i, version);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private record Step(int seen, int reencrypted, List<Object> last) {}

  /** The next {@code batchSize} rows after {@code after} in key order, those under an older version sealed again. */
  private Step batch(TenantId tenant, Table t, List<Object> after) {
    TenantCipher cipher = keys.cipher(tenant);
    int active = cipher.activeVersion();
    String keyList = String.join(", ", t.key);
    String table = io.carecontext.migrations.Identifiers.quote(tenant.schemaName()) + "." + t.name;
    String sql = "SELECT " + keyList + ", " + String.join(", ", t.aadColumns) + ", " + t.sealed + " FROM " + table
        + " WHERE "
        + (after == null ? "true" : "(" + keyList + ") > (" + "?, ".repeat(t.key.size() - 1) + "?)")
        + " ORDER BY " + keyList + " LIMIT " + batchSize;
    String update = "UPDATE " + table + " SET " + t.sealed + " = ? WHERE "
        + String.join(" AND ", t.key.stream().map(k -> k + " = ?").toList()) + " AND " + t.sealed + " = ?";
    try (Connection c = owner.getConnection()) {
      c.setAutoCommit(false);
      try {
        openToTheOwner(c);
        int seen = 0;
        int done = 0;
        List<Object> last = null;
        List<Object[]> changes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          for (int i = 0; after != null && i < after.size(); i++) {
            ps.setObject(i + 1, after.get(i));
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              seen++;
              last = new ArrayList<>();
              for (int i = 1; i <= t.key.size(); i++) {
                last.add(rs.getObject(i));
              }
              byte[] sealed = rs.getBytes(t.key.size() + t.aadColumns.size() + 1);
              if (sealed == null || sealed.length == 0 || TenantCipher.keyVersion(sealed) == active) {
                continue;
              }
              byte[] aad = t.aad(tenant, rs, t.key.size() + 1);
              Object[] row = new Object[t.key.size() + 2];
              row[0] = cipher.reseal(sealed, aad);
              for (int i = 0; i < t.key.size(); i++) {
                row[i + 1] = last.get(i);
              }
              row[row.length - 1] = sealed;
              changes.add(row);
            }
          }
        }
        try (PreparedStatement up = c.prepareStatement(update)) {
          for (Object[] row : changes) {
            for (int i = 0; i < row.length; i++) {
              up.setObject(i + 1, row[i]);
            }
            up.addBatch();
          }
          // one round trip for the batch's updates, not one a row; a row changed since it was read (a writer stored
          // it meanwhile, under the active version) updates nothing and is left alone
          for (int n : changes.isEmpty() ? new int[0] : up.executeBatch()) {
            done += n;
          }
        }
        c.commit();
        return new Step(seen, done, last);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException("a batch of the re-encryption of " + t.name + " failed (" + e.getSQLState()
          + "); what earlier batches did stays, and a rerun goes on from there", e);
    }
  }
}
