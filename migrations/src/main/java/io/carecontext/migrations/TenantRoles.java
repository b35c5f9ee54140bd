package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The tenant's NOLOGIN roles, one per path ({@link DatabaseConfig#tenantRoles}), each granted to
 * the application login role so a transaction can {@code SET LOCAL ROLE} to it. Roles belong to
 * the cluster, not to a schema, so they are made here rather than in the template: at provisioning
 * and before every tenant migration, which brings a tenant provisioned before a role existed up
 * to date. The template's migrations grant each role its rights on the schema.
 */
final class TenantRoles {

  private TenantRoles() {}

  /** Creates every missing role of the tenant and grants each to the application role. */
  static void ensure(Connection owner, DatabaseConfig config, TenantId tenant) throws SQLException {
    String app = Identifiers.quote(config.appUser());
    try (Statement st = owner.createStatement()) {
      for (String role : config.tenantRoles(tenant)) {
        if (!exists(owner, role)) {
          st.execute("CREATE ROLE " + Identifiers.quote(role)
              + " NOLOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE");
        }
        st.execute("GRANT " + Identifiers.quote(role) + " TO " + app);
      }
    }
  }

  static boolean exists(Connection c, String role) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
      ps.setString(1, role);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
