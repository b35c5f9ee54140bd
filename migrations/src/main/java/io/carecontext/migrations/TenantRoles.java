package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

  // Which of the tenant's roles exist, whether the application role is a member of each, and the
  // installation each is marked with (RoleOwnership): one round trip, so a start with nothing to
  // do costs one query a tenant.
  private static final String STATE = """
      SELECT r.rolname, EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.member
                                WHERE m.roleid = r.oid AND a.rolname = ?),
             shobj_description(r.oid, 'pg_authid')
      FROM pg_roles r WHERE r.rolname = ANY (?)""";

  private TenantRoles() {}

  /**
   * Creates every missing role of the tenant, marked as this installation's, and grants to the
   * application role each it lacks. Refuses, before changing anything, when one of the names is
   * taken by a role that is not this installation's ({@link RoleOwnership}). The caller commits.
   */
  static void ensure(Connection owner, DatabaseConfig config, TenantId tenant) throws SQLException {
    List<String> roles = config.tenantRoles(tenant);
    String marker = RoleOwnership.marker(owner, config);
    Map<String, Existing> existing = existing(owner, config, roles);
    for (Map.Entry<String, Existing> e : existing.entrySet()) {
      if (!RoleOwnership.ours(e.getValue().comment(), marker, e.getValue().granted())) {
        throw new RoleNameTakenException(e.getKey(), RoleOwnership.installation(e.getValue().comment()));
      }
    }
    String app = Identifiers.quote(config.appUser());
    try (Statement st = owner.createStatement()) {
      for (String role : roles) {
        Existing found = existing.get(role);
        if (found == null) {
          st.execute("CREATE ROLE " + Identifiers.quote(role)
              + " NOLOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE");
        }
        if (found == null || found.comment() == null) {
          RoleOwnership.claim(st, role, marker);
        }
        if (found == null || !found.granted()) {
          st.execute("GRANT " + Identifiers.quote(role) + " TO " + app);
        }
      }
    }
  }

  /** The tenant's roles that exist and are this installation's: those deleting the tenant drops. */
  static List<String> owned(Connection owner, DatabaseConfig config, TenantId tenant) throws SQLException {
    String marker = RoleOwnership.marker(owner, config);
    List<String> owned = new ArrayList<>();
    existing(owner, config, config.tenantRoles(tenant)).forEach((role, found) -> {
      if (RoleOwnership.ours(found.comment(), marker, found.granted())) {
        owned.add(role);
      }
    });
    return owned;
  }

  private static Map<String, Existing> existing(Connection owner, DatabaseConfig config, List<String> roles)
      throws SQLException {
    Map<String, Existing> existing = new LinkedHashMap<>();
    try (PreparedStatement ps = owner.prepareStatement(STATE)) {
      ps.setString(1, config.appUser());
      ps.setArray(2, owner.createArrayOf("text", roles.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          existing.put(rs.getString(1), new Existing(rs.getBoolean(2), rs.getString(3)));
        }
      }
    }
    return existing;
  }

  /** An existing role: whether the application role is its member, and its comment. */
  private record Existing(boolean granted, String comment) {}
}
