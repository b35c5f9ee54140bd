package io.carecontext.migrations;

import com.pgvector.PGvector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Runs work inside one tenant's database role with transaction-scoped policy settings.
 *
 * <p>Every tenant-scoped transaction starts with one statement that sets the role (the equivalent
 * of {@code SET LOCAL ROLE}), the search path and the RLS policy settings with
 * {@code set_config(..., true)}. All of it ends at COMMIT or ROLLBACK, so nothing leaks to the next
 * borrower of a pooled connection.
 */
public final class TenantTransactions {

  /** Work done inside a tenant transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private final DataSource app;
  private final DatabaseConfig config;

  public TenantTransactions(DataSource app, DatabaseConfig config) {
    this.app = app;
    this.config = config;
  }

  public <T> T run(TenantId tenant, PolicySettings settings, Work<T> work) {
    try (Connection c = app.getConnection()) {
      c.setAutoCommit(false);
      try {
        enter(c, tenant, settings);
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException("tenant transaction failed (" + e.getSQLState() + ")", e);
    }
  }

  /**
   * Sets role, search path and policy settings in one round trip. Plans are kept generic: every
   * tenant statement is a short parameterized query whose RLS conditions read settings at run
   * time, so a custom plan per execution only costs planning time.
   */
  void enter(Connection c, TenantId tenant, PolicySettings settings) throws SQLException {
    PGvector.registerTypes(c);
    Map<String, String> values = settings.values();
    StringBuilder sql = new StringBuilder(
        "SELECT set_config('role', ?, true), set_config('search_path', ?, true), "
            + "set_config('plan_cache_mode', 'force_generic_plan', true)");
    for (int i = 0; i < values.size(); i++) {
      sql.append(", set_config(?, ?, true)");
    }
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      int i = 1;
      ps.setString(i++, config.tenantRole(tenant));
      ps.setString(i++, settings.qualifiedNames() ? "public" : Identifiers.quote(tenant.schemaName()) + ", public");
      for (Map.Entry<String, String> e : values.entrySet()) {
        ps.setString(i++, e.getKey());
        ps.setString(i++, e.getValue());
      }
      ps.execute();
    }
  }
}
