package io.carecontext.migrations;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to reach the platform database.
 *
 * @param jdbcUrl      the database, e.g. {@code jdbc:postgresql://db:5432/carecontext?sslmode=verify-full}
 * @param ownerUser    owner/migration role: owns the schemas, runs DDL, creates tenant roles (CREATEROLE)
 * @param appUser      application login role: NOSUPERUSER NOBYPASSRLS, owns nothing
 * @param rolePrefix   prefix of every role the platform creates, so several installations can share a
 *                     cluster: a tenant's roles are {@code <prefix>_tenant_<id>},
 *                     {@code <prefix>_reader_<id>}, {@code <prefix>_research_<id>},
 *                     {@code <prefix>_audit_<id>} and {@code <prefix>_identity_<id>}
 * @param connectTimeoutSeconds how long a caller waits for a pooled connection, and a new
 *                     connection for the database's answer, before the request fails as
 *                     "database unreachable"; 0 for {@link #DEFAULT_CONNECT_TIMEOUT_SECONDS}
 */
public record DatabaseConfig(
    String jdbcUrl,
    String ownerUser,
    String ownerPassword,
    String appUser,
    String appPassword,
    String rolePrefix,
    int appPoolSize,
    int connectTimeoutSeconds,
    boolean plaintextAllowed) {

  /**
   * Short enough that a request against an unreachable database fails while its client still
   * waits, long enough that a queue for the pool under load never does: under the retrieval
   * benchmark's 8 HTTP clients (2 cores, a pool of 6) 99.5 % of ~98,000 acquisitions waited
   * under 10 ms and the longest 0.24 s, a twelfth of it.
   */
  public static final int DEFAULT_CONNECT_TIMEOUT_SECONDS = 3;

  private static final Pattern PREFIX = Pattern.compile("^[a-z][a-z0-9_]{0,20}$");

  public DatabaseConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      // a libpq URL (postgresql://…, postgres://…) is what most providers hand out
      throw new IllegalArgumentException("database URL (CARECONTEXT_DB_URL) must be a JDBC URL starting with "
          + "jdbc:postgresql:, e.g. jdbc:postgresql://db.example.org:5432/carecontext?sslmode=verify-full; user and "
          + "password go in CARECONTEXT_DB_USER and CARECONTEXT_DB_PASSWORD");
    }
    if (jdbcUrl.toLowerCase(java.util.Locale.ROOT).contains("logservererrordetail")) {
      // The pools switch it off so that no row value reaches an exception or a log; a URL
      // parameter would switch it back on.
      throw new IllegalArgumentException("database URL must not set logServerErrorDetail: the platform keeps the "
          + "server's error detail (which can carry patient data) out of its exceptions and logs");
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
    if (connectTimeoutSeconds <= 0) {
      connectTimeoutSeconds = DEFAULT_CONNECT_TIMEOUT_SECONDS;
    }
  }

  /** With the default connect timeout. */
  public DatabaseConfig(String jdbcUrl, String ownerUser, String ownerPassword, String appUser, String appPassword,
                        String rolePrefix, int appPoolSize) {
    this(jdbcUrl, ownerUser, ownerPassword, appUser, appPassword, rolePrefix, appPoolSize, 0);
  }

  /** A connection that crosses a network must be encrypted (see {@link PlatformDatabase#bootstrap}). */
  public DatabaseConfig(String jdbcUrl, String ownerUser, String ownerPassword, String appUser, String appPassword,
                        String rolePrefix, int appPoolSize, int connectTimeoutSeconds) {
    this(jdbcUrl, ownerUser, ownerPassword, appUser, appPassword, rolePrefix, appPoolSize, connectTimeoutSeconds,
        false);
  }

  /**
   * The same, where the operator has said that the network to the database encrypts what crosses it
   * (a service mesh with mutual TLS, an IPsec link): an unencrypted connection to another machine is
   * then started with a warning rather than refused.
   */
  public DatabaseConfig allowingPlaintext(boolean allowed) {
    return new DatabaseConfig(jdbcUrl, ownerUser, ownerPassword, appUser, appPassword, rolePrefix, appPoolSize,
        connectTimeoutSeconds, allowed);
  }

  /** The NOLOGIN role of this tenant's write path (ingest, re-embedding, model usage). */
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

  /** The NOLOGIN role of this tenant's de-identified research search: it may only read chunks and consents. */
  public String researchRole(TenantId tenant) {
    return rolePrefix + "_research_" + tenant.value();
  }

  /** The NOLOGIN role of this tenant's audit trail: it may append and read audit rows, nothing else. */
  public String auditRole(TenantId tenant) {
    return rolePrefix + "_audit_" + tenant.value();
  }

  /**
   * The NOLOGIN role that reads the identifiers de-identification strips: the Patient,
   * RelatedPerson and linked Practitioner resources of the patients in hand, nothing else.
   */
  public String identityRole(TenantId tenant) {
    return rolePrefix + "_identity_" + tenant.value();
  }

  /**
   * The NOLOGIN role that serves FHIR reads (read and vread): it may read resources and their
   * versions, whole, only while the transaction presents a live EHR-integration key of the tenant.
   */
  public String fhirReaderRole(TenantId tenant) {
    return rolePrefix + "_fhir_" + tenant.value();
  }

  /** Every role of the tenant, the tenant role first. */
  public List<String> tenantRoles(TenantId tenant) {
    return List.of(tenantRole(tenant), readerRole(tenant), researchRole(tenant), auditRole(tenant),
        identityRole(tenant), fhirReaderRole(tenant));
  }

  /**
   * The role a transaction with these policy settings runs under: one per path, so each path's
   * policies bind only its own transactions and the database refuses a path what it never needs.
   */
  public String roleFor(TenantId tenant, PolicySettings settings) {
    return switch (settings.access()) {
      case "read" -> readerRole(tenant);
      case "research" -> researchRole(tenant);
      case "audit" -> auditRole(tenant);
      case "identity" -> identityRole(tenant);
      case "fhir-read" -> fhirReaderRole(tenant);
      default -> tenantRole(tenant);
    };
  }

  public DatabaseConfig withAppPassword(String password) {
    return new DatabaseConfig(jdbcUrl, ownerUser, ownerPassword, appUser, password, rolePrefix, appPoolSize,
        connectTimeoutSeconds, plaintextAllowed);
  }

  @Override
  public String toString() {
    return "DatabaseConfig[url=" + jdbcUrl.replaceAll("password=[^&]*", "password=***")
        + ", owner=" + ownerUser + ", app=" + appUser + ", rolePrefix=" + rolePrefix + "]";
  }
}
