package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two installations on one cluster whose role names meet: the second refuses the name instead of
 * reusing (and granting its application login) the first one's role, and changes nothing.
 */
class RoleOwnershipIT {

  private TestPlatform first;

  @AfterEach
  void tearDown() {
    if (first != null) {
      first.close();
    }
  }

  @Test
  void aPrefixThatMakesAnotherInstallationsTenantRoleNameIsRefused() throws SQLException {
    first = new TestPlatform();
    first.tenant("tenant_xy"); // its reader role: <p>_reader_tenant_xy
    DatabaseConfig second = withPrefix(TestPostgres.freshDatabase(), first.config.rolePrefix() + "_reader");
    String taken = first.config.readerRole(TenantId.of("tenant_xy"));
    assertThat(second.tenantRole(TenantId.of("xy"))).isEqualTo(taken);

    try (TestPlatform other = new TestPlatform(second)) {
      assertThatThrownBy(() -> other.provisioner.provision(TenantId.of("xy"), "Xy"))
          .isInstanceOf(RoleNameTakenException.class)
          .hasMessageContaining(taken)
          .hasMessageContaining("CARECONTEXT_DB_ROLE_PREFIX")
          // it names the installation that holds the name, and does not suggest dropping its role
          .hasMessageContaining("role-prefix=" + first.config.rolePrefix() + " database=")
          .hasMessageNotContaining("drop");
      // Nothing of the second installation's tenant is left, and the first one's role is untouched:
      // still there, still marked as the first's, and granted to the first's application role only.
      assertThat(other.provisioner.list()).doesNotContain(TenantId.of("xy"));
      assertThat(count(second, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_xy'")).isZero();
      assertThat(members(taken)).isEqualTo(first.config.appUser());
      assertThat(comment(taken)).contains("role-prefix=" + first.config.rolePrefix() + " ");
    }
    // The first installation's tenant still provisions and migrates as before.
    assertThat(first.provisioner.provision(TenantId.of("tenant_xy"), "tenant_xy").created()).isFalse();
  }

  @Test
  void anApplicationRoleNameThatIsAnotherInstallationsRoleIsRefusedAtStart() {
    first = new TestPlatform();
    first.tenant("app"); // its reader role: <p>_reader_app, the second installation's application role
    DatabaseConfig second = withPrefix(TestPostgres.freshDatabase(), first.config.rolePrefix() + "_reader");
    assertThat(second.appUser()).isEqualTo(first.config.readerRole(TenantId.of("app")));

    assertThatThrownBy(() -> new TestPlatform(second))
        .isInstanceOf(RoleNameTakenException.class)
        .hasMessageContaining(second.appUser());
  }

  @Test
  void theSamePrefixInAnotherDatabaseIsAnotherInstallation() throws SQLException {
    first = new TestPlatform();
    first.tenant("acme");
    DatabaseConfig second = withPrefix(TestPostgres.freshDatabase(), first.config.rolePrefix());
    try (TestPlatform other = new TestPlatform(withAppUser(second, "app2_" + first.config.rolePrefix()))) {
      assertThatThrownBy(() -> other.provisioner.provision(TenantId.of("acme"), "Acme"))
          .isInstanceOf(RoleNameTakenException.class);
      assertThat(members(first.config.tenantRole(TenantId.of("acme")))).isEqualTo(first.config.appUser());
    }
  }

  @Test
  void rolesMadeBeforeRolesWereMarkedAreAdoptedOnlyWhenTheyAreThisInstallations() throws SQLException {
    first = new TestPlatform();
    TenantId old = first.tenant("old");
    try (Connection su = TestPostgres.superuser(first.config); Statement st = su.createStatement()) {
      for (String role : first.config.tenantRoles(old)) {
        st.execute("COMMENT ON ROLE " + role + " IS NULL"); // as an earlier release left them
      }
      // A role with this installation's name that it never made (no mark, not granted to its application role).
      st.execute("CREATE ROLE " + first.config.tenantRole(TenantId.of("stray")) + " NOLOGIN");
    }
    // A restart marks the old tenant's roles as this installation's.
    PlatformDatabase.bootstrap(first.config).close();
    for (String role : first.config.tenantRoles(old)) {
      assertThat(comment(role)).as(role).startsWith("CareContext installation role-prefix=" + first.config.rolePrefix());
    }
    // The stray role is refused and survives the failed provisioning's clean-up.
    String stray = first.config.tenantRole(TenantId.of("stray"));
    assertThatThrownBy(() -> first.provisioner.provision(TenantId.of("stray"), "Stray"))
        .isInstanceOf(RoleNameTakenException.class)
        .hasMessageContaining(stray)
        .hasMessageContaining("carries no CareContext mark");
    assertThat(count(first.config, "SELECT count(*) FROM pg_roles WHERE rolname = '" + stray + "'")).isEqualTo(1);
    assertThat(members(first.config.readerRole(TenantId.of("stray")))).isNull();
  }

  private static DatabaseConfig withPrefix(DatabaseConfig c, String prefix) {
    return new DatabaseConfig(c.jdbcUrl(), c.ownerUser(), c.ownerPassword(), null, c.appPassword(), prefix,
        c.appPoolSize());
  }

  private static DatabaseConfig withAppUser(DatabaseConfig c, String appUser) {
    return new DatabaseConfig(c.jdbcUrl(), c.ownerUser(), c.ownerPassword(), appUser, c.appPassword(),
        c.rolePrefix(), c.appPoolSize());
  }

  /** The members of a role, comma-separated, or null for none (or no such role). */
  private String members(String role) throws SQLException {
    return string("SELECT string_agg(a.rolname, ',' ORDER BY a.rolname) FROM pg_auth_members m "
        + "JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles a ON a.oid = m.member WHERE r.rolname = ?", role);
  }

  private String comment(String role) throws SQLException {
    return string("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = ?", role);
  }

  private String string(String sql, String arg) throws SQLException {
    try (Connection c = TestPostgres.superuser(first.config); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static long count(DatabaseConfig config, String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(config); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
