package io.carecontext.services.admin;

import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantId;
import io.carecontext.services.http.ApiException;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Makes one tenant's key creations and revocations take turns, across every replica: the checks of a
 * creation (principal free, no live tenant-admin key), and a revocation's (the key still active), then hold
 * until its audit row and its key are written. Without the
 * turn, two creations of one principal both passed the checks and both wrote an allowed key-create row;
 * the database refused the loser's key (platform migration 11), and the trail said it was made.
 *
 * <p>The turn is a transaction-scoped advisory lock on a connection of its own, so it ends with that
 * transaction whatever happens. A creation that finds the turn taken lets its connection go and tries
 * again shortly: a waiting request must not hold a pooled connection the holder needs for its writes.
 */
@Singleton
final class KeyCreations {

  private static final long WAIT_MILLIS = 10_000;
  private static final long RETRY_MILLIS = 15;

  private final DataSource platform;

  KeyCreations(PlatformDatabase db) {
    this.platform = db.appDataSource();
  }

  <T> T inTurn(TenantId tenant, Supplier<T> creation) {
    long deadline = System.currentTimeMillis() + WAIT_MILLIS;
    while (true) {
      try (Connection c = platform.getConnection()) {
        c.setAutoCommit(false);
        try {
          if (tryLock(c, tenant)) {
            return creation.get();
          }
        } finally {
          c.rollback(); // ends the lock; nothing was written on this connection
        }
      } catch (SQLException e) {
        throw new IllegalStateException("key creation lock failed: " + e.getSQLState(), e);
      }
      if (System.currentTimeMillis() > deadline) {
        throw new ApiException(io.micronaut.http.HttpStatus.SERVICE_UNAVAILABLE, "key_creation_busy",
            "another change to this tenant's keys (a creation or a revocation) is under way: try again in a "
                + "few seconds");
      }
      try {
        Thread.sleep(RETRY_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting to create a key", e);
      }
    }
  }

  private static boolean tryLock(Connection c, TenantId tenant) throws SQLException {
    // a key of its own: the insert trigger's locks (platform migration 11) are taken on another connection
    try (PreparedStatement st = c.prepareStatement(
        "SELECT pg_try_advisory_xact_lock(hashtext('carecontext.api_keys.create'), hashtext(?))")) {
      st.setString(1, tenant.value());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }
}
