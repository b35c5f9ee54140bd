package io.carecontext.ingest;

/**
 * The database refused a FHIR write because the key the transaction presented is not a live
 * EHR-integration key of the tenant (tenant migration 29), which the request's authentication had
 * admitted a moment before: it was revoked or expired in between. Nothing was stored. Carries no
 * data of the request.
 */
public final class KeyNotAdmittedException extends RuntimeException {

  public KeyNotAdmittedException() {
    super("the database did not admit the request's key for writing", null, false, false);
  }
}
