package io.carecontext.migrations;

import com.pgvector.PGvector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.postgresql.core.BaseConnection;

/**
 * Runs work inside one tenant's database role with transaction-scoped policy settings.
 *
 * <p>Every tenant-scoped transaction starts with one statement that sets the role (the equivalent
 * of {@code SET LOCAL ROLE}: the tenant's role for the path its settings open, see
 * {@link DatabaseConfig#roleFor}), the search path and the RLS policy settings with
 * {@code set_config(..., true)}. All of it ends at COMMIT or ROLLBACK, so nothing leaks to the next
 * borrower of a pooled connection.
 */
public final class TenantTransactions {

  /** Work done inside a tenant transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * Work whose first statement travels with the settings statement in one round trip; it gets
   * that statement's rows (read them before running another statement).
   */
  @FunctionalInterface
  public interface Pipelined<T> {
    T run(Connection connection, ResultSet firstRows) throws SQLException;
  }

  /**
   * Ends a work's last statement so that it commits in the same round trip:
   * {@code sql + TenantTransactions.AND_COMMIT}. If the statement fails, PostgreSQL skips the
   * COMMIT and the transaction is rolled back as usual; after it succeeds there is nothing left to
   * commit.
   */
  public static final String AND_COMMIT = ";\nCOMMIT";

  /**
   * The settings statement for {@code n} policy settings: role, search path, generic plans, then
   * one {@code set_config} per setting with its name and value as parameters. Its text depends
   * only on {@code n}, so each connection prepares it once per count. (An earlier form set any
   * number of settings through {@code unnest} of two arrays: an aggregate and a function scan to
   * start, and two arrays to parse, on every transaction.)
   */
  private static final String[] SETTINGS = IntStream.range(0, 32).mapToObj(n -> IntStream.range(0, n)
      .mapToObj(i -> ", set_config(?, ?, true)").collect(Collectors.joining("",
          "SELECT set_config('role', ?, true), set_config('search_path', ?, true), "
              + "set_config('plan_cache_mode', 'force_generic_plan', true)", ""))).toArray(String[]::new);

  /**
   * The settings statement and a work's first statement as one text, for each settings count: the
   * same instance on every request, so neither this class nor the driver's statement cache hashes
   * and compares a newly joined text each time.
   */
  @SuppressWarnings("unchecked")
  private static final Map<String, String>[] WITH_SETTINGS =
      IntStream.range(0, SETTINGS.length).mapToObj(n -> new ConcurrentHashMap<>()).toArray(Map[]::new);

  private final DataSource app;
  private final DatabaseConfig config;

  public TenantTransactions(DataSource app, DatabaseConfig config) {
    this.app = app;
    this.config = config;
  }

  public <T> T run(TenantId tenant, PolicySettings settings, Work<T> work) {
    return transaction(c -> {
      switchTo(c, tenant, settings);
      return work.run(c);
    });
  }

  /**
   * A transaction that begins as the application's own role, for work on the platform schema (a
   * tenant's settings) whose consequences in the tenant's schema must commit with it or not at all: it
   * takes a tenant role with {@link #switchTo} for those steps.
   */
  public <T> T runOnPlatform(Work<T> work) {
    return transaction(work);
  }

  /**
   * Like {@link #run}, in one snapshot: every statement of the work sees the database as its first
   * statement did (REPEATABLE READ), and none may write (READ ONLY). For reads that must agree with
   * one another while others write, such as an audit shard's rows and its head.
   */
  public <T> T runInSnapshot(TenantId tenant, PolicySettings settings, Work<T> work) {
    return transaction(c -> {
      try (Statement st = c.createStatement()) {
        st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      }
      switchTo(c, tenant, settings);
      return work.run(c);
    });
  }

  /**
   * Takes another of the tenant's roles, with its settings, inside a transaction that {@link #run}
   * began: what follows runs as that role, and what came before commits with it. For a step that
   * belongs in the same commit but not to the first role (a FHIR write's audit rows, which only the
   * audit role may append). The settings of the first role stay set; each role's policies read
   * their own.
   */
  public void switchTo(Connection c, TenantId tenant, PolicySettings settings) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(settingsSql(settings))) {
      bindSettings(ps, tenant, settings);
      ps.execute();
    }
  }

  /**
   * Like {@link #run}, with the settings and the work's first statement ({@code firstSql} with
   * {@code parameters}) sent in one round trip.
   */
  public <T> T run(TenantId tenant, PolicySettings settings, String firstSql, List<?> parameters, Pipelined<T> work) {
    return transaction(c -> withSettings(c, tenant, settings, firstSql, parameters, work));
  }

  /**
   * The settings and one statement as one implicit transaction: one round trip with no
   * {@code BEGIN} and no {@code COMMIT}. PostgreSQL runs every statement of a round trip (up to its
   * Sync) in one transaction and commits it at the end, or rolls all of it back if a statement
   * fails; the settings end with it. The work gets the statement's rows and may not run another
   * statement: the transaction has ended.
   */
  public <T> T runOnce(TenantId tenant, PolicySettings settings, String sql, List<?> parameters, Pipelined<T> work) {
    try (Connection c = app.getConnection()) {
      c.setAutoCommit(true);
      registerVectorTypes(c);
      return withSettings(c, tenant, settings, sql, parameters, work);
    } catch (SQLException e) {
      throw new DatabaseException("tenant transaction failed (" + e.getSQLState() + ")", e);
    }
  }

  /**
   * Sends the settings statement and {@code sql} in one round trip and hands {@code sql}'s rows to
   * the work. {@code sql} is a constant or a {@link TenantSql} text: the joined text is kept for it.
   */
  private <T> T withSettings(Connection c, TenantId tenant, PolicySettings settings, String sql, List<?> parameters,
                             Pipelined<T> work) throws SQLException {
    int n = settingCount(settings);
    try (PreparedStatement ps = c.prepareStatement(WITH_SETTINGS[n].computeIfAbsent(sql, s -> SETTINGS[n] + ";\n" + s))) {
      int i = bindSettings(ps, tenant, settings) + 1;
      for (Object p : parameters) {
        if (p == null) {
          // typed: an untyped null makes the driver describe the round trip's statements before the
          // settings have run, as the login role, which may not even look into the tenant's schema
          ps.setNull(i++, java.sql.Types.VARCHAR);
        } else {
          ps.setObject(i++, p);
        }
      }
      ps.execute();
      if (!ps.getMoreResults()) {
        throw new SQLException("the statement sent with the settings must return rows");
      }
      try (ResultSet rows = ps.getResultSet()) {
        return work.run(c, rows);
      }
    }
  }

  private <T> T transaction(Work<T> work) {
    try (Connection c = app.getConnection()) {
      c.setAutoCommit(false);
      try {
        registerVectorTypes(c);
        T result = work.run(c);
        c.commit(); // nothing to do when the work's last statement ended with AND_COMMIT
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
   * Binds role, search path and policy settings. Plans are kept generic: every tenant statement
   * is a short parameterized query whose RLS conditions read settings at run time, so a custom plan
   * per execution only costs planning time.
   */
  private int bindSettings(PreparedStatement ps, TenantId tenant, PolicySettings settings) throws SQLException {
    ps.setString(1, config.roleFor(tenant, settings));
    ps.setString(2, settings.qualifiedNames() ? "public" : Identifiers.quote(tenant.schemaName()) + ", public");
    int i = 2;
    for (Map.Entry<String, String> e : settings.values().entrySet()) {
      ps.setString(++i, e.getKey());
      ps.setString(++i, e.getValue());
    }
    return i;
  }

  private static String settingsSql(PolicySettings settings) {
    return SETTINGS[settingCount(settings)];
  }

  private static int settingCount(PolicySettings settings) {
    int n = settings.values().size();
    if (n >= SETTINGS.length) {
      throw new IllegalArgumentException("at most " + (SETTINGS.length - 1) + " policy settings a transaction");
    }
    return n;
  }

  /**
   * Lets the driver read and bind pgvector's types: once per physical connection (the driver keeps
   * them), not on every transaction.
   */
  private static void registerVectorTypes(Connection c) throws SQLException {
    if (c.unwrap(BaseConnection.class).getTypeInfo().getPGobject("vector") == null) {
      PGvector.registerTypes(c);
    }
  }
}
