package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Which installation a role belongs to. Roles belong to the whole cluster, and the names of two
 * installations can meet: prefix {@code cc_reader} makes the tenant role
 * {@code cc_reader_tenant_x}, and prefix {@code cc} makes the same name as the reader role of
 * tenant {@code tenant_x}; prefix {@code cc_reader}'s application role {@code cc_reader_app} is
 * prefix {@code cc}'s reader role of tenant {@code app}. Reusing such a role would grant one
 * installation's application login the other's tenant rights. So every role the platform creates
 * carries a comment that names its installation (role prefix and database), and a role that
 * exists with another installation's comment, or with none, is refused instead of reused.
 */
final class RoleOwnership {

  private static final String PREFIX = "CareContext installation ";

  private RoleOwnership() {}

  /** The comment this installation puts on its roles. */
  static String marker(Connection owner, DatabaseConfig config) throws SQLException {
    return PREFIX + "role-prefix=" + config.rolePrefix() + " database=" + owner.getCatalog();
  }

  /** Writes this installation's comment on a role. */
  static void claim(Statement st, String role, String marker) throws SQLException {
    st.execute("COMMENT ON ROLE " + Identifiers.quote(role) + " IS " + Identifiers.literal(marker));
  }

  /**
   * Whether an existing role is this installation's: it carries this installation's comment, or
   * (a role made before roles were marked) no comment and the application role is already its
   * member, which only this installation's own provisioning did.
   */
  static boolean ours(String comment, String marker, boolean grantedToApp) {
    return marker.equals(comment) || (comment == null && grantedToApp);
  }

  /** The installation another installation's mark names ("role-prefix=… database=…"), or null for no mark of ours. */
  static String installation(String comment) {
    return comment != null && comment.startsWith(PREFIX) ? comment.substring(PREFIX.length()) : null;
  }

  /** Whether an existing role carries another installation's comment. */
  static boolean anotherInstallations(String comment, String marker) {
    return installation(comment) != null && !comment.equals(marker);
  }
}
