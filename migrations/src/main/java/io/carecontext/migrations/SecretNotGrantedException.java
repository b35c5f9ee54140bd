package io.carecontext.migrations;

/**
 * An endpoint setting names a secret variable the platform operator has not granted to the tenant
 * ({@link SecretNames}). Its name is what the outbox's {@code last_error} and the worker's log show
 * for the rows it stops, so an admin can tell what to fix.
 */
public final class SecretNotGrantedException extends IllegalArgumentException {

  SecretNotGrantedException(String message) {
    super(message);
  }
}
