package io.carecontext.migrations.testing;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A bootstrapped platform on a fresh test database: pools, keys, provisioning and tenant
 * transactions, as the services wire them. For {@code *IT} tests of every module.
 */
public final class TestPlatform implements AutoCloseable {

  public final DatabaseConfig config;
  public final PlatformDatabase db;
  public final TenantKeys keys;
  public final TenantProvisioner provisioner;
  public final TenantTransactions tx;
  /** The key-encryption key file, for tests that start another process on the same data. */
  public final Path kekFile;

  public TestPlatform() {
    this(TestPostgres.freshDatabase());
  }

  /** A platform on the given database, e.g. one of {@link TestPostgres#freshDatabase()} with another role prefix. */
  public TestPlatform(DatabaseConfig config) {
    this.config = config;
    db = PlatformDatabase.bootstrap(config);
    kekFile = TestDirectories.create("cc-kek").resolve("kek.key");
    keys = new TenantKeys(new LocalFileKeyProvider(kekFile), db.appDataSource());
    provisioner = new TenantProvisioner(db, keys);
    tx = new TenantTransactions(db.appDataSource(), db.config());
  }

  /** Provisions a tenant and returns its id. */
  public TenantId tenant(String id) {
    TenantId t = TenantId.of(id);
    provisioner.provision(t, id);
    return t;
  }

  /**
   * An API key of the tenant, stored as the admin API stores one (the SHA-256 of a random secret):
   * its id and hash, which a read transaction presents to the database ({@link TestKey#present}).
   */
  public TestKey issueKey(TenantId tenant, String principal, List<String> roles, String practitionerId) {
    SecureRandom random = new SecureRandom();
    StringBuilder id = new StringBuilder("testkey");
    while (id.length() < 24) {
      id.append((char) ('a' + random.nextInt(26)));
    }
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest(HexFormat.of().formatHex(secret).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (Connection c = db.ownerDataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash, practitioner_id) "
            + "VALUES (?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, id.toString());
      ps.setString(2, tenant.value());
      ps.setString(3, principal);
      ps.setArray(4, c.createArrayOf("text", roles.toArray()));
      ps.setBytes(5, hash);
      ps.setString(6, practitionerId);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new DatabaseException("issuing a test key failed (" + e.getSQLState() + ")", e);
    }
    return new TestKey(id.toString(), HexFormat.of().formatHex(hash));
  }

  /**
   * Stores a tenant's settings, as the admin API's PATCH does (as the owner here, so without the audit
   * row the application role needs). The read and research policies bound a request by the stored
   * role policies, care relationship and consent mode (tenant migration 36): a test that builds a
   * TenantPolicy of its own stores the same settings, or the database refuses what the test's policy
   * allows.
   */
  public void storeSettings(TenantId tenant, Map<String, ?> settings) {
    try (Connection c = db.ownerDataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
        "UPDATE platform.tenants SET settings = ?::jsonb WHERE tenant_id = ?")) {
      ps.setString(1, json(settings));
      ps.setString(2, tenant.value());
      if (ps.executeUpdate() != 1) {
        throw new IllegalStateException("no tenant " + tenant.value());
      }
    } catch (SQLException e) {
      throw new DatabaseException("storing test settings failed (" + e.getSQLState() + ")", e);
    }
  }

  /** JSON of maps, lists, strings, numbers and booleans: what tenant settings hold. */
  public static String json(Object v) {
    if (v instanceof Map<?, ?> m) {
      StringBuilder b = new StringBuilder("{");
      m.forEach((k, x) -> b.append(b.length() > 1 ? "," : "").append(json(String.valueOf(k))).append(':').append(json(x)));
      return b.append('}').toString();
    }
    if (v instanceof java.util.Collection<?> l) {
      return l.stream().map(TestPlatform::json).collect(java.util.stream.Collectors.joining(",", "[", "]"));
    }
    if (v instanceof String str) {
      return '"' + str.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
    return String.valueOf(v);
  }

  /** A stored API key as the read path presents it to the database. */
  public record TestKey(String keyId, String secretHashHex) {
    public PolicySettings present(PolicySettings settings) {
      return settings.withCaller(keyId, secretHashHex);
    }
  }

  @Override
  public void close() {
    db.close();
  }
}
