package io.carecontext.services.platform;

import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PlatformDatabase;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What authentication reads for every request, in one statement: the key, only while its tenant is
 * active, with that tenant's settings, which the request then works with instead of reading the
 * tenant again. (Three statements before: the key, its tenant's status, then the settings.) The
 * database compares the secret's hash: the application role cannot read the stored ones (platform
 * migration 3).
 */
@Singleton
public class ActiveKeys {

  static final String SQL = """
      SELECT k.key_id, k.tenant_id, k.principal, array_to_string(k.roles, ','), k.practitioner_id,
             k.created_at, k.expires_at, k.revoked_at, t.settings::text
      FROM platform.api_keys k JOIN platform.tenants t ON t.tenant_id = k.tenant_id AND t.status = 'active'
      WHERE k.key_id = ? AND platform.api_key_secret_matches(k.key_id, ?)""";

  /** A key of an active tenant whose secret was presented, and that tenant's settings (JSON) as read with it. */
  public record ActiveKey(ApiKeyRecord key, String tenantSettings) {
    @Override
    public String toString() {
      return "ActiveKey[" + key + "]";
    }
  }

  private final DataSource platform;

  /** On the application role's pool itself: Micronaut's data source bean hands out only a surrounding transaction's connection. */
  public ActiveKeys(PlatformDatabase db) {
    this.platform = db.appDataSource();
  }

  /** The key {@code keyId} if {@code secretHash} is its secret's SHA-256 and its tenant is active. */
  public Optional<ActiveKey> find(String keyId, byte[] secretHash) {
    try (Connection c = platform.getConnection(); PreparedStatement ps = c.prepareStatement(SQL)) {
      ps.setString(1, keyId);
      ps.setBytes(2, secretHash);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new ActiveKey(new ApiKeyRecord(rs.getString(1), rs.getString(2), rs.getString(3),
            rs.getString(4), rs.getString(5), instant(rs.getTimestamp(6)), instant(rs.getTimestamp(7)),
            instant(rs.getTimestamp(8))), rs.getString(9)));
      }
    } catch (SQLException e) {
      throw new DatabaseException("reading the API key failed (" + e.getSQLState() + ")", e);
    }
  }

  /**
   * A key of an active tenant, as its owner's audit row names it (no secret, no hash), and why
   * authentication refused it: {@code secretMatches} false, or revoked, or expired.
   */
  public record KnownKey(String keyId, String tenantId, String principal, List<String> roles, boolean secretMatches,
                         boolean revoked, boolean expired) {}

  static final String KNOWN = """
      SELECT k.tenant_id, k.principal, array_to_string(k.roles, ','), platform.api_key_secret_matches(k.key_id, ?),
             k.revoked_at IS NOT NULL, k.expires_at IS NOT NULL AND k.expires_at <= now()
      FROM platform.api_keys k JOIN platform.tenants t ON t.tenant_id = k.tenant_id AND t.status = 'active'
      WHERE k.key_id = ?""";

  /**
   * The key {@code keyId} of an active tenant, whatever secret was presented with it, with whether
   * {@code secretHash} is its secret's: read, in one statement, only when authentication refused a
   * key, so that the refusal can be recorded in that tenant's trail with its reason.
   */
  public Optional<KnownKey> known(String keyId, byte[] secretHash) {
    try (Connection c = platform.getConnection(); PreparedStatement ps = c.prepareStatement(KNOWN)) {
      ps.setBytes(1, secretHash);
      ps.setString(2, keyId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        String roles = rs.getString(3);
        return Optional.of(new KnownKey(keyId, rs.getString(1), rs.getString(2),
            roles == null || roles.isEmpty() ? List.of() : List.of(roles.split(",")), rs.getBoolean(4),
            rs.getBoolean(5), rs.getBoolean(6)));
      }
    } catch (SQLException e) {
      throw new DatabaseException("reading the API key failed (" + e.getSQLState() + ")", e);
    }
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }
}
