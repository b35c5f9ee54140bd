package io.carecontext.migrations.dblayer;

import io.carecontext.migrations.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Raw SQL issued directly as one database role, with no application code in the way: on a
 * connection of the application login role (the only login the service uses), one transaction per
 * statement that takes the role with {@code SET LOCAL ROLE}, sets exactly the {@code cc.*} settings
 * given, runs the statement, and is rolled back. What the database allows or refuses there is the
 * database's decision alone.
 */
final class AsRole {

  /** SQLSTATE insufficient_privilege: a missing grant, and also a row refused by a WITH CHECK policy. */
  static final String INSUFFICIENT_PRIVILEGE = "42501";

  /** What a statement did: its update count or first column of its first row, or the error it raised. */
  record Outcome(String sql, Object value, SQLException error) {
    boolean refused() {
      return error != null && INSUFFICIENT_PRIVILEGE.equals(error.getSQLState());
    }

    @Override
    public String toString() {
      return sql + " -> " + (error == null ? "allowed (" + value + ")" : error.getSQLState() + " " + error.getMessage());
    }
  }

  private AsRole() {}

  /**
   * Runs {@code sql} as {@code role} (null: the login role itself) with {@code search_path} set to
   * {@code schema} and the given settings, and rolls back. A query's first column of its first row is
   * the value; an update's count otherwise.
   */
  static Outcome run(Connection login, String role, String schema, Map<String, String> settings, String sql)
      throws SQLException {
    login.setAutoCommit(false);
    try {
      try (Statement st = login.createStatement()) {
        if (role != null) {
          st.execute("SET LOCAL ROLE " + Identifiers.quote(role));
        }
        if (schema != null) {
          st.execute("SET LOCAL search_path = " + Identifiers.quote(schema) + ", public");
        }
      }
      for (Map.Entry<String, String> s : settings.entrySet()) {
        try (PreparedStatement ps = login.prepareStatement("SELECT set_config(?, ?, true)")) {
          ps.setString(1, s.getKey());
          ps.setString(2, s.getValue());
          ps.execute();
        }
      }
      try (Statement st = login.createStatement()) {
        Object value;
        if (st.execute(sql)) {
          try (ResultSet rs = st.getResultSet()) {
            value = rs.next() ? rs.getObject(1) : null;
          }
        } else {
          value = st.getUpdateCount();
        }
        return new Outcome(sql, value, null);
      } catch (SQLException e) {
        return new Outcome(sql, null, e);
      }
    } finally {
      login.rollback();
      login.setAutoCommit(true);
    }
  }

  /** A count (or any single number) read as the superuser, which RLS does not bind. */
  static long superuserCount(Connection superuser, String sql) throws SQLException {
    try (Statement st = superuser.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The first column of every row of a query. */
  static List<String> strings(Connection c, String sql, Object... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      List<String> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    }
  }

  /**
   * Policy settings as a request's transaction sets them: {@code cc.access} (when not null), the
   * presented key ({@code cc.key}, {@code cc.key_hash}, when not null), then {@code more} as name, value pairs.
   */
  static java.util.Map<String, String> settings(String access, io.carecontext.migrations.testing.TestPlatform.TestKey key,
                                                String... more) {
    java.util.Map<String, String> s = new java.util.LinkedHashMap<>();
    if (access != null) {
      s.put("cc.access", access);
    }
    if (key != null) {
      s.put("cc.key", key.keyId());
      s.put("cc.key_hash", key.secretHashHex());
    }
    for (int i = 0; i < more.length; i += 2) {
      s.put(more[i], more[i + 1]);
    }
    return s;
  }
}
