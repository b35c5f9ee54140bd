package io.carecontext.migrations;

import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A bootstrapped platform on a fresh test database, for the ITs of this module. */
final class PlatformFixture implements AutoCloseable {

  final DatabaseConfig config;
  final PlatformDatabase db;
  final TenantKeys keys;
  final TenantProvisioner provisioner;
  final TenantTransactions tx;

  PlatformFixture() {
    config = TestPostgres.freshDatabase();
    db = PlatformDatabase.bootstrap(config);
    try {
      Path dir = Files.createTempDirectory("cc-kek");
      keys = new TenantKeys(new LocalFileKeyProvider(dir.resolve("kek.key")), db.appDataSource());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    provisioner = new TenantProvisioner(db, keys);
    tx = new TenantTransactions(db.appDataSource(), db.config());
  }

  @Override
  public void close() {
    db.close();
  }
}
