package io.carecontext.services;

import io.carecontext.migrations.DatabaseException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Work that one process of the installation does at a time (serve, worker and `kek rotate` start
 * together): a PostgreSQL advisory lock, held on an owner connection of its own for the whole work.
 */
final class InstallationLock {

  private InstallationLock() {
  }

  /** {@code work}'s result, done while holding lock {@code key}; {@code what} names the work in errors. */
  static <T> T holding(DataSource owner, long key, String what, Supplier<T> work) {
    try (Connection lock = owner.getConnection();
         PreparedStatement take = lock.prepareStatement("SELECT pg_advisory_lock(?)")) {
      take.setLong(1, key);
      take.execute();
      try {
        return work.get();
      } finally {
        try (PreparedStatement release = lock.prepareStatement("SELECT pg_advisory_unlock(?)")) {
          release.setLong(1, key);
          release.execute();
        }
      }
    } catch (SQLException e) {
      throw new DatabaseException(what + " failed: the installation's lock could not be taken or released ("
          + e.getSQLState() + ")", e);
    }
  }
}
