package io.carecontext.ingest;

/**
 * An update named the version it was made from ({@code If-Match}), and the resource is now at
 * another version, deleted, or not there: another write came first. Checked against the row the
 * write holds locked, so two updates made from one version cannot both succeed. Nothing was stored.
 * Carries no data of the request.
 */
public final class VersionConflictException extends RuntimeException {

  public VersionConflictException() {
    super("the resource is not at the version the update was made from", null, false, false);
  }
}
