package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * A constraint the database enforces quotes the offending row in its error's DETAIL
 * ({@code Key (mrn)=(…) already exists}, {@code Failing row contains (…)}), and pgjdbc by default
 * copies that DETAIL into the exception's message, and a failed batch entry's statement with its
 * parameters too. Every exception message of the service can end in a log line (an unexpected
 * error is logged with its causes), so the pools must keep both out. Proven here on the pools the
 * service uses, against a connection with the driver's defaults that does quote the row.
 */
class ServerErrorDetailIT {

  private static final String MRN = "MRN-Q7788991";
  private static final String NAME = "Zyxwquartz Plimbo";

  static TestPlatform platform;

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    // A table of the test's own, which both pools' roles may fill and read (the server quotes a row in an error
    // only to a role that may read it); neither may create temporary tables.
    try (Connection c = platform.db.ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA scratch");
      st.execute("CREATE TABLE scratch.patients_seen (mrn text PRIMARY KEY, name text NOT NULL CHECK (length(name) < 12))");
      st.execute("GRANT USAGE ON SCHEMA scratch TO " + Identifiers.quote(platform.config.appUser()));
      st.execute("GRANT SELECT, INSERT, DELETE ON scratch.patients_seen TO " + Identifiers.quote(platform.config.appUser()));
    }
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void aViolatedConstraintOnThePlatformsPoolsNamesNoRowValue() throws SQLException {
    for (Map.Entry<String, DataSource> pool : Map.of("owner", platform.db.ownerDataSource(),
        "application", platform.db.appDataSource()).entrySet()) {
      try (Connection c = pool.getValue().getConnection()) {
        List<SQLException> errors = violations(c);
        for (SQLException e : errors) {
          assertThat(detailOf(e)).as(pool.getKey() + ": the server sent the row").containsAnyOf(MRN, NAME);
          assertThat(everythingLogged(e)).as(pool.getKey() + " pool: " + e.getClass().getSimpleName())
              .doesNotContain(MRN).doesNotContain(NAME).doesNotContain("Zyxwquartz");
        }
      }
    }
  }

  @Test
  void theDriversDefaultWouldQuoteTheRow() throws SQLException {
    // The same errors as the same role on a connection with the driver's defaults: what the pools prevent.
    try (Connection c = TestPostgres.connect(platform.config, platform.config.ownerUser(),
        platform.config.ownerPassword())) {
      List<SQLException> errors = violations(c);
      assertThat(errors).allSatisfy(e -> assertThat(everythingLogged(e)).containsAnyOf(MRN, NAME));
    }
  }

  /** A unique key, a check constraint and a batch entry refused, each over a row of PHI. */
  private static List<SQLException> violations(Connection c) throws SQLException {
    c.setAutoCommit(true);
    try (Statement st = c.createStatement()) {
      st.execute("DELETE FROM scratch.patients_seen");
    }
    List<SQLException> errors = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO scratch.patients_seen (mrn, name) VALUES (?, ?)")) {
      ps.setString(1, MRN);
      ps.setString(2, "short");
      ps.executeUpdate();
      ps.setString(1, MRN);
      ps.setString(2, "short");
      errors.add(catchThrowableOfType(ps::executeUpdate, PSQLException.class)); // Key (mrn)=(…) already exists
      ps.setString(1, "MRN-2");
      ps.setString(2, NAME);
      errors.add(catchThrowableOfType(ps::executeUpdate, PSQLException.class)); // Failing row contains (…)
      ps.setString(1, "MRN-3");
      ps.setString(2, "short");
      ps.addBatch();
      ps.setString(1, MRN);
      ps.setString(2, NAME);
      ps.addBatch();
      errors.add(catchThrowableOfType(ps::executeBatch, BatchUpdateException.class));
    }
    assertThat(errors).doesNotContainNull();
    return errors;
  }

  /** The server's DETAIL of the error or of the batch's next one. */
  private static String detailOf(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if (x instanceof PSQLException p && p.getServerErrorMessage() != null
          && p.getServerErrorMessage().getDetail() != null) {
        return p.getServerErrorMessage().getDetail();
      }
    }
    return "";
  }

  /** What a log line can show of the error: its trace with every cause, and the batch's chained errors. */
  private static String everythingLogged(SQLException e) {
    StringWriter out = new StringWriter();
    for (SQLException x = e; x != null; x = x.getNextException()) {
      x.printStackTrace(new PrintWriter(out, true));
    }
    return out.toString();
  }
}
