package io.carecontext.ingest.embedding;

/**
 * An external embedding endpoint that the tenant has not declared covered by a business associate
 * agreement ({@code "baaCovered": true}). Its name is what the outbox's {@code last_error} and the
 * worker's log show for the rows it stops, so an admin can tell what to fix.
 */
public final class EndpointNotCoveredException extends IllegalArgumentException {

  EndpointNotCoveredException(String message) {
    super(message);
  }
}
