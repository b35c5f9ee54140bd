package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.testing.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's "An external PostgreSQL" step 1, run as a managed service's administrator runs it: a login role
 * with CREATEROLE and CREATEDB that is no superuser (RDS's and Cloud SQL's {@code postgres}, Azure's server
 * admin). The README had it run {@code CREATE DATABASE carecontext OWNER carecontext_owner} straight after
 * creating the role, which PostgreSQL refuses such an administrator (it must be a member of the owner), and
 * {@code CREATE EXTENSION vector} "in the target database" before that database existed.
 */
class ManagedDatabaseSetupIT {

  @Test
  void theReadmesSetUpRunsAsAManagedServicesAdministratorAndTheOwnerThenMigrates() throws Exception {
    List<String> sql = stepOneStatements();
    assertThat(sql).hasSize(4);
    assertThat(sql.get(0)).startsWith("CREATE ROLE carecontext_owner LOGIN CREATEROLE");
    assertThat(sql.get(1)).isEqualTo("GRANT carecontext_owner TO CURRENT_USER;");
    assertThat(sql.get(2)).isEqualTo("CREATE DATABASE carecontext OWNER carecontext_owner;");
    assertThat(sql.get(3)).isEqualTo("CREATE EXTENSION vector;");

    DatabaseConfig shared = TestPostgres.freshDatabase(); // for the cluster's address and a unique prefix
    String prefix = shared.rolePrefix() + "m";
    String owner = prefix + "_owner";
    String database = "cc_" + prefix;
    String admin = prefix + "_admin";
    String password = "pw_" + prefix;
    TestPostgres.superuserExecute(shared, "CREATE ROLE " + admin + " LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD '"
        + password + "'");
    List<String> mine = sql.stream().map(s -> s.replace("carecontext_owner", owner)
        .replace("DATABASE carecontext ", "DATABASE " + database + " ").replace("'…'", "'" + password + "'")).toList();

    try (Connection c = DriverManager.getConnection(urlOf(shared, "postgres"), admin, password);
        Statement st = c.createStatement()) {
      st.execute(mine.get(0));
      // what the README said before the GRANT: refused to an administrator that is no superuser
      assertThatThrownBy(() -> st.execute(mine.get(2))).isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      st.execute(mine.get(1));
      st.execute(mine.get(2));
    }
    // pgvector is not a trusted extension: a managed service lets its administrator create it through its own
    // allow-list; here, as on a self-managed server, the superuser does
    DatabaseConfig config = new DatabaseConfig(urlOf(shared, database), owner, password, null, "app_" + prefix, prefix, 4)
        .allowingPlaintext(true);
    try (Connection c = TestPostgres.superuser(config); Statement st = c.createStatement()) {
      st.execute(mine.get(3));
    }

    try (PlatformDatabase db = PlatformDatabase.bootstrap(config)) {
      assertThat(db).isNotNull();
    }
    assertThat(TestPostgres.superuserString(config,
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'platform'")).isEqualTo(owner);
  }

  /** The statements of the section's step 1, in the README's order. */
  private static List<String> stepOneStatements() throws IOException {
    String readme = Files.readString(repositoryFile("README.md"));
    int start = readme.indexOf("\n### An external PostgreSQL");
    assertThat(start).isNotNegative();
    String step = readme.substring(readme.indexOf("\n1. ", start), readme.indexOf("\n2. ", start));
    Matcher m = Pattern.compile("`((?:CREATE|GRANT)[^`]*;)`").matcher(step);
    List<String> statements = new ArrayList<>();
    while (m.find()) {
      statements.add(m.group(1));
    }
    return statements;
  }

  private static String urlOf(DatabaseConfig config, String database) {
    String url = config.jdbcUrl();
    int slash = url.lastIndexOf('/');
    String query = url.indexOf('?', slash) < 0 ? "" : url.substring(url.indexOf('?', slash));
    return url.substring(0, slash + 1) + database + query;
  }

  private static Path repositoryFile(String name) {
    String basedir = System.getProperty("basedir");
    return Stream.of(basedir == null ? null : Paths.get(basedir, "..", name), Paths.get("..", name), Paths.get(name))
        .filter(p -> p != null && Files.isRegularFile(p)).findFirst()
        .orElseThrow(() -> new IllegalStateException(name + " not found from " + Paths.get("").toAbsolutePath()));
  }
}
