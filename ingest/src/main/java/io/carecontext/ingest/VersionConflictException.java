package io.carecontext.ingest;

/**
 * An update or delete named the version it was made from ({@code If-Match}, or a Bundle entry's
 * {@code request.ifMatch}), and the resource is now at another version, deleted, or not there:
 * another write came first. Checked against the row the write holds locked, so two changes made
 * from one version cannot both succeed. Nothing was stored. Carries no data of the request, only the
 * Bundle entry's index when it was one.
 */
public final class VersionConflictException extends RuntimeException {

  private final Integer entry;

  public VersionConflictException() {
    this(null);
  }

  public VersionConflictException(Integer entry) {
    super("the resource is not at the version the change was made from", null, false, false);
    this.entry = entry;
  }

  /** What the caller is told: which entry (when a Bundle's), what happened, and what to do. */
  public static String advice(Integer entry) {
    return (entry == null ? "" : "bundle entry " + entry + ": ") + "the resource is no longer at the version in "
        + "If-Match (another write came first, or it was deleted or never stored); nothing was stored. Read it "
        + "again and change it from that version";
  }

  /** The Bundle entry whose ifMatch failed; null outside a Bundle. */
  public Integer entry() {
    return entry;
  }
}
