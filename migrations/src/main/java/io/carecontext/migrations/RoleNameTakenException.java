package io.carecontext.migrations;

/**
 * A role this installation would create already exists and is not its own: another installation
 * on the cluster makes the same name ({@link RoleOwnership}). Nothing was changed.
 */
public final class RoleNameTakenException extends DatabaseException {

  /** {@code owner}: the installation the role's mark names (its prefix and database), or null when it has none. */
  RoleNameTakenException(String role, String owner) {
    super("the role " + role + " already exists and "
        + (owner != null ? "belongs to another CareContext installation on this cluster (" + owner + ")"
            : "was not made by this installation (it carries no CareContext mark)")
        + ". Give this installation its own CARECONTEXT_DB_ROLE_PREFIX (prefixes such as cc and cc_reader can make "
        + "the same names)"
        + (owner != null ? "" : ", or, if no installation uses the role, drop it"));
  }
}
