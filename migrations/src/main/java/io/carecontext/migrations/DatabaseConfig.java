package io.carecontext.migrations;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to reach the platform database.
 *
 * @param jdbcUrl      the database, e.g. {@code jdbc:postgresql://db:5432/carecontext?sslmode=verify-full}
 * @param ownerUser    owner/migration role: owns the schemas, runs DDL, creates tenant roles (CREATEROLE)
 * @param appUser      application login role: NOSUPERUSER NOBYPASSRLS, owns nothing
 * @param rolePrefix   prefix of every role the platform creates, so several installations can share a
 *                     cluster: tenant roles are {@code <prefix>_tenant_<id>} and
 *                     {@code <prefix>_reader_<id>}
 */
public record DatabaseConfig(
    String jdbcUrl,
    String ownerUser,
    String ownerPassword,
    String appUser,
    String appPassword,
    String rolePrefix,
    int appPoolSize) {

  private static final Pattern PREFIX = Pattern.compile("^[a-z][a-z0-9_]{0,20}$");

  public DatabaseConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("database URL must start with jdbc:postgresql:");
    }
    Objects.requireNonNull(ownerUser, "ownerUser");
    if (rolePrefix == null || !PREFIX.matcher(rolePrefix).matches()) {
      throw new IllegalArgumentException("role prefix must match ^[a-z][a-z0-9_]{0,20}$");
    }
    if (appUser == null || appUser.isBlank()) {
      appUser = rolePrefix + "_app";
    }
    Identifiers.quote(appUser);
    if (appPoolSize <= 0) {
      appPoolSize = 10;
    }
  }

  /** The NOLOGIN role that this tenant's write, research and audit transactions run under. */
  public String tenantRole(TenantId tenant) {
    return rolePrefix + "_tenant_" + tenant.value();
  }

  /**
   * The NOLOGIN role of this tenant's read path (patient context): it may read what that path
   * reads and open break-glass windows, and only the read policies bind it.
   */
  public String readerRole(TenantId tenant) {
    return rolePrefix + "_reader_" + tenant.value();
  }

  /** The role a transaction with these policy settings runs under: the reader for the read path. */
  public String roleFor(TenantId tenant, PolicySettings settings) {
    return settings.readPath() ? readerRole(tenant) : tenantRole(tenant);
  }

  public DatabaseConfig withAppPassword(String password) {
    return new DatabaseConfig(jdbcUrl, ownerUser, ownerPassword, appUser, password, rolePrefix, appPoolSize);
  }

  @Override
  public String toString() {
    return "DatabaseConfig[url=" + jdbcUrl.replaceAll("password=[^&]*", "password=***")
        + ", owner=" + ownerUser + ", app=" + appUser + ", rolePrefix=" + rolePrefix + "]";
  }
}
