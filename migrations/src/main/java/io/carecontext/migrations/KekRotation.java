package io.carecontext.migrations;

import io.carecontext.migrations.crypto.KeyEncryptionKeyProvider;
import io.carecontext.migrations.crypto.KeyProviderException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Rotates the key-encryption key (KEK): every tenant's data key in {@code platform.tenant_keys}
 * is unwrapped with the current KEK and wrapped again with the new one, in one transaction. No
 * resource, chunk or audit body is re-encrypted: they are sealed under the data keys, which do not
 * change (envelope encryption), so a rotation takes milliseconds per tenant.
 *
 * <p>Resumable and safe to run again: a data key already under the new KEK is left as it is. A data
 * key under a third KEK, which neither key given can open, stops the rotation before anything is
 * written. Each new wrapping is opened again with the new KEK and compared before it is stored. The
 * table is locked against new tenants' keys for the transaction, so none is made under the old KEK
 * while it runs; a service still running with the old KEK makes new tenants' keys under it
 * afterwards, which a second run rewraps.
 */
public final class KekRotation {

  /**
   * What a rotation did: data keys rewrapped, those it found under the new KEK already, and the
   * tenants whose keys it rewrapped.
   */
  public record Result(String fromKekId, String toKekId, int rewrapped, int alreadyUnderNew,
                       List<TenantId> rewrappedTenants) {}

  private KekRotation() {}

  public static Result rewrap(DataSource owner, KeyEncryptionKeyProvider from, KeyEncryptionKeyProvider to) {
    String fromId = from.kekId();
    String toId = to.kekId();
    if (fromId.equals(toId)) {
      throw new IllegalArgumentException("the new key-encryption key is the current one (kek " + fromId
          + "): give the file of a new key; nothing was changed");
    }
    try (Connection c = owner.getConnection()) {
      c.setAutoCommit(false);
      try {
        Result result = rewrap(c, from, to, fromId, toId);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException("the rotation of the key-encryption key failed (" + e.getSQLState()
          + "); nothing was changed", e);
    }
  }

  private record Row(String tenant, int version, String kekId, byte[] wrapped) {}

  private static Result rewrap(Connection c, KeyEncryptionKeyProvider from, KeyEncryptionKeyProvider to, String fromId,
                               String toId) throws SQLException {
    try (Statement st = c.createStatement()) {
      // no tenant's first key is made under the old KEK while this runs (provisioning waits for it)
      st.execute("LOCK TABLE platform.tenant_keys IN SHARE ROW EXCLUSIVE MODE");
    }
    List<Row> rows = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
        "SELECT tenant_id, key_version, kek_id, wrapped_key FROM platform.tenant_keys ORDER BY tenant_id, key_version")) {
      while (rs.next()) {
        rows.add(new Row(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getBytes(4)));
      }
    }
    long foreign = rows.stream().filter(r -> !r.kekId().equals(fromId) && !r.kekId().equals(toId)).count();
    if (foreign > 0) {
      throw new KeyProviderException(foreign + " data key(s) are wrapped under a key-encryption key that is neither "
          + "the current one (kek " + fromId + ") nor the new one (kek " + toId + "): point CARECONTEXT_KEK_FILE at "
          + "the key they were made under (platform.tenant_keys.kek_id names it); nothing was changed");
    }
    int rewrapped = 0;
    Set<TenantId> tenants = new LinkedHashSet<>();
    try (PreparedStatement update = c.prepareStatement(
        // the rotation's audit row is owed until it is written (platform migration 12): see unaudited()
        "UPDATE platform.tenant_keys SET kek_id = ?, wrapped_key = ?, rotations_unaudited = coalesce(rotations_unaudited, "
            + "'[]'::jsonb) || jsonb_build_array(jsonb_build_object('fromKek', ?::text, 'toKek', ?::text, 'at', now())) "
            + "WHERE tenant_id = ? AND key_version = ?")) {
      for (Row r : rows) {
        if (r.kekId().equals(toId)) {
          continue;
        }
        byte[] key = from.unwrap(r.wrapped());
        byte[] opened = null;
        try {
          byte[] wrapped = to.wrap(key);
          opened = to.unwrap(wrapped);
          if (!Arrays.equals(key, opened)) {
            throw new KeyProviderException("the new key-encryption key did not give back a data key it wrapped; "
                + "nothing was changed");
          }
          update.setString(1, toId);
          update.setBytes(2, wrapped);
          update.setString(3, fromId);
          update.setString(4, toId);
          update.setString(5, r.tenant());
          update.setInt(6, r.version());
          update.addBatch();
          rewrapped++;
          tenants.add(TenantId.of(r.tenant()));
        } finally {
          Arrays.fill(key, (byte) 0);
          if (opened != null) {
            Arrays.fill(opened, (byte) 0);
          }
        }
      }
      update.executeBatch();
    }
    return new Result(fromId, toId, rewrapped, rows.size() - rewrapped, List.copyOf(tenants));
  }

  /** A rotation of a tenant's data key whose audit row is not yet written. */
  public record Unaudited(TenantId tenant, String fromKekId, String toKekId, java.time.Instant at) {}

  /**
   * The rotations whose audit rows are owed, oldest first: a rewrap records them in its own transaction,
   * and {@link #audited} clears them once the row is written. A run stopped in between leaves them here.
   */
  public static List<Unaudited> unaudited(DataSource owner) {
    List<Unaudited> owed = new ArrayList<>();
    try (Connection c = owner.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
        SELECT DISTINCT k.tenant_id, r->>'fromKek', r->>'toKek', (r->>'at')::timestamptz AS at
        FROM platform.tenant_keys k, jsonb_array_elements(k.rotations_unaudited) r
        ORDER BY at, k.tenant_id""")) {
      while (rs.next()) {
        owed.add(new Unaudited(TenantId.of(rs.getString(1)), rs.getString(2), rs.getString(3),
            rs.getTimestamp(4).toInstant()));
      }
    } catch (SQLException e) {
      throw new DatabaseException("the rotations owing audit rows could not be read (" + e.getSQLState() + ")", e);
    }
    return owed;
  }

  /** Clears one owed rotation of the tenant's data keys, once its audit row is written. */
  public static void audited(DataSource owner, Unaudited rotation) {
    try (Connection c = owner.getConnection(); PreparedStatement ps = c.prepareStatement("""
        UPDATE platform.tenant_keys SET rotations_unaudited = nullif(
          (SELECT coalesce(jsonb_agg(r), '[]'::jsonb) FROM jsonb_array_elements(rotations_unaudited) r
           WHERE NOT (r->>'fromKek' = ? AND r->>'toKek' = ? AND (r->>'at')::timestamptz = ?)), '[]'::jsonb)
        WHERE tenant_id = ? AND rotations_unaudited IS NOT NULL""")) {
      ps.setString(1, rotation.fromKekId());
      ps.setString(2, rotation.toKekId());
      ps.setTimestamp(3, java.sql.Timestamp.from(rotation.at()));
      ps.setString(4, rotation.tenant().value());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new DatabaseException("a rotation's audit row was written, but its debt could not be cleared ("
          + e.getSQLState() + "); the next `kek rotate` writes the row again", e);
    }
  }
}
