package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tenant's NOLOGIN roles, one per path ({@link DatabaseConfig#tenantRoles}), each granted to
 * the application login role so a transaction can {@code SET LOCAL ROLE} to it. Roles belong to
 * the cluster, not to a schema, so they are made here rather than in the template: at provisioning
 * and before every tenant migration, which brings a tenant provisioned before a role existed up
 * to date. The template's migrations grant each role its rights on the schema.
 */
final class TenantRoles {

  // Which of the tenant's roles exist, and whether the application role is a member of each: one
  // round trip, so a start with nothing to do costs one query a tenant.
  private static final String STATE = """
      SELECT r.rolname, EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.member
                                WHERE m.roleid = r.oid AND a.rolname = ?)
      FROM pg_roles r WHERE r.rolname = ANY (?)""";

  private TenantRoles() {}

  /** Creates every missing role of the tenant and grants to the application role each it lacks. */
  static void ensure(Connection owner, DatabaseConfig config, TenantId tenant) throws SQLException {
    List<String> roles = config.tenantRoles(tenant);
    Map<String, Boolean> granted = new HashMap<>(); // existing role -> the application role is a member
    try (PreparedStatement ps = owner.prepareStatement(STATE)) {
      ps.setString(1, config.appUser());
      ps.setArray(2, owner.createArrayOf("text", roles.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          granted.put(rs.getString(1), rs.getBoolean(2));
        }
      }
    }
    String app = Identifiers.quote(config.appUser());
    try (Statement st = owner.createStatement()) {
      for (String role : roles) {
        if (!granted.containsKey(role)) {
          st.execute("CREATE ROLE " + Identifiers.quote(role)
              + " NOLOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE");
        }
        if (!granted.getOrDefault(role, false)) {
          st.execute("GRANT " + Identifiers.quote(role) + " TO " + app);
        }
      }
    }
  }
}
