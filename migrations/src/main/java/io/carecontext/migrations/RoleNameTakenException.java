package io.carecontext.migrations;

/**
 * A role this installation would create already exists and is not its own: another installation
 * on the cluster makes the same name ({@link RoleOwnership}). Nothing was changed.
 */
public final class RoleNameTakenException extends DatabaseException {
  RoleNameTakenException(String role) {
    super("the role " + role + " already exists and does not belong to this installation (role prefix and "
        + "database): another installation on this cluster makes the same name. Give this installation its own "
        + "CARECONTEXT_DB_ROLE_PREFIX (prefixes such as cc and cc_reader can make the same names), or drop the "
        + "role if it is a leftover");
  }
}
