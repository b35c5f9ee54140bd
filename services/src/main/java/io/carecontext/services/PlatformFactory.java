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
import java.util.Optional;
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
                        @Value("${carecontext.kek-previous-file:}") String previousKekFile,
                        @Value("${" + KekToken.LIBRARY + ":}") String tokenLibrary,
                        @Value("${" + KekToken.SLOT + ":0}") String tokenSlot,
                        @Value("${" + KekToken.PIN_FILE + ":}") String tokenPinFile,
                        @Value("${" + KekToken.KEY_LABEL + ":}") String tokenKeyLabel,
                        @Value("${" + KekToken.PREVIOUS_KEY_LABEL + ":}") String tokenPreviousKeyLabel) {
    Optional<KekToken> token = KekToken.fromProperties(tokenLibrary, tokenSlot, tokenPinFile, tokenKeyLabel,
        tokenPreviousKeyLabel);
    KeyEncryptionKeyProvider current = token.<KeyEncryptionKeyProvider>map(KekToken::provider)
        .orElseGet(() -> new LocalFileKeyProvider(Path.of(kekFile)));
    Optional<KeyEncryptionKeyProvider> previous = previousKekFile.isEmpty()
        ? token.flatMap(KekToken::previousProvider)
        : Optional.of(new LocalFileKeyProvider(Path.of(previousKekFile)));
    return tenantKeys(db.appDataSource(), current, previous);
  }

  /**
   * The tenants' data keys under the {@code current} KEK (a file's, or a PKCS#11 token's); with a
   * {@code previous} one (a rotation under way), that key too opens the data keys not yet rewrapped,
   * and wraps none.
   */
  static TenantKeys tenantKeys(DataSource app, KeyEncryptionKeyProvider current,
                               Optional<KeyEncryptionKeyProvider> previous) {
    return new TenantKeys(current, previous.map(List::of).orElse(List.of()), app);
  }

  @Singleton
  TenantProvisioner tenantProvisioner(PlatformDatabase db, TenantKeys keys) {
    return new TenantProvisioner(db, keys);
  }
}
