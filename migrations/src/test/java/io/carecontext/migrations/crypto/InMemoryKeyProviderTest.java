package io.carecontext.migrations.crypto;

import java.security.SecureRandom;

class InMemoryKeyProviderTest extends KeyEncryptionKeyProviderContract {

  @Override
  protected KeyEncryptionKeyProvider newProvider() {
    return new InMemoryKeyProvider(new SecureRandom());
  }
}
