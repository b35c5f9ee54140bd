package io.carecontext.services;

import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.KeyEncryptionKeyProvider;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.List;
import javax.sql.DataSource;

/** Beans of the platform libraries, built from the bootstrapped {@link PlatformDatabase}. */
@Factory
public class PlatformFactory {

  /** The application role's pool: Micronaut Data's platform repositories use it too. */
  @Singleton
  @Named("default")
  DataSource dataSource(PlatformDatabase db) {
    return db.appDataSource();
  }

  @Singleton
  TenantTransactions tenantTransactions(PlatformDatabase db) {
    return new TenantTransactions(db.appDataSource(), db.config());
  }

  @Singleton
  TenantKeys tenantKeys(PlatformDatabase db, @Value("${carecontext.kek-file}") String kekFile,
                        @Value("${carecontext.kek-previous-file:}") String previousKekFile) {
    // the previous key only opens data keys not yet rewrapped by `kek rotate` (a rotation under way)
    List<KeyEncryptionKeyProvider> previous = previousKekFile.isEmpty() ? List.of()
        : List.of(new LocalFileKeyProvider(Path.of(previousKekFile)));
    return new TenantKeys(new LocalFileKeyProvider(Path.of(kekFile)), previous, db.appDataSource());
  }

  @Singleton
  TenantProvisioner tenantProvisioner(PlatformDatabase db, TenantKeys keys) {
    return new TenantProvisioner(db, keys);
  }
}
