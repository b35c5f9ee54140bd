package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Whether the database answers, within about a second, on a connection of its own: a readiness
 * probe must not read a busy pool as an outage, nor wait for the pool's acquire timeout to see one.
 * An answer is reused for a second and probes arriving while one runs get the last answer, so
 * however many probes come in (health needs no key), the database sees at most one round trip a
 * second and no caller waits for another's.
 */
final class DatabaseProbe implements AutoCloseable {

  static final int TIMEOUT_SECONDS = 1;
  private static final long REUSE_NANOS = 1_000_000_000L;
  /** A check that failed faster than this met a closed connection, not a silent network. */
  private static final long FAST_FAILURE_NANOS = 250_000_000L;

  private final String url;
  private final Properties login;
  private final Consumer<Boolean> onChange;
  private final ReentrantLock lock = new ReentrantLock();
  private Connection connection;
  private volatile boolean reachable = true; // the bootstrap has just reached it
  private long checkedAt;

  /** Connects lazily, on the first check; {@code onChange} hears when the database stops or starts answering. */
  DatabaseProbe(String url, String user, String password, Consumer<Boolean> onChange) {
    this.url = url;
    this.onChange = onChange;
    login = new Properties();
    login.setProperty("user", user);
    if (password != null) {
      login.setProperty("password", password);
    }
    login.setProperty("connectTimeout", String.valueOf(TIMEOUT_SECONDS));
    login.setProperty("loginTimeout", String.valueOf(TIMEOUT_SECONDS));
    // The driver gives up on a login after loginTimeout but leaves its connecting thread reading
    // until socketTimeout: without one, every probe against a server that accepts and never
    // answers would leave a thread behind. This connection only ever runs the probe.
    login.setProperty("socketTimeout", String.valueOf(TIMEOUT_SECONDS));
    login.setProperty("ApplicationName", "carecontext-probe");
    login.setProperty("logServerErrorDetail", "false");
  }

  boolean reachable() {
    if (!lock.tryLock()) {
      return reachable;
    }
    try {
      if (checkedAt != 0 && System.nanoTime() - checkedAt < REUSE_NANOS) {
        return reachable;
      }
      boolean now = check();
      checkedAt = System.nanoTime();
      if (now != reachable) {
        reachable = now;
        onChange.accept(now);
      }
      return now;
    } finally {
      lock.unlock();
    }
  }

  /**
   * One validation of the held connection, or one new login; both a second at most. A held
   * connection that fails fast (the server restarted and closed it) gets a new login at once.
   */
  private boolean check() {
    if (connection != null) {
      long started = System.nanoTime();
      if (valid()) {
        return true;
      }
      closeConnection();
      if (System.nanoTime() - started > FAST_FAILURE_NANOS) {
        return false;
      }
    }
    try {
      connection = DriverManager.getConnection(url, login);
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  private boolean valid() {
    try {
      return connection.isValid(TIMEOUT_SECONDS);
    } catch (SQLException e) {
      return false;
    }
  }

  private void closeConnection() {
    try {
      connection.close();
    } catch (SQLException e) {
      // already broken: nothing to release
    }
    connection = null;
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (connection != null) {
        closeConnection();
      }
    } finally {
      lock.unlock();
    }
  }
}
