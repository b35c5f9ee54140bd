package io.carecontext.migrations.crypto;

/**
 * A key-encryption key could not be obtained (missing, unreadable, unsafe permissions, malformed).
 * Messages say what the operator should do and never contain key material.
 */
public final class KeyProviderException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public KeyProviderException(String message) {
    super(message);
  }

  public KeyProviderException(String message, Throwable cause) {
    super(message, cause);
  }
}
