package io.carecontext.migrations.testing;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import java.nio.file.Path;

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

  @Override
  public void close() {
    db.close();
  }
}
