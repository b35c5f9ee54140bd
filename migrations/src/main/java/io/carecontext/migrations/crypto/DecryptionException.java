package io.carecontext.migrations.crypto;

/**
 * Sealed bytes could not be opened: wrong key, wrong associated data, truncation or tampering.
 *
 * <p>Unchecked because callers cannot repair it locally; the message never contains data or key
 * material, so it is safe to log.
 */
public final class DecryptionException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public DecryptionException(String message) {
    super(message);
  }
}
