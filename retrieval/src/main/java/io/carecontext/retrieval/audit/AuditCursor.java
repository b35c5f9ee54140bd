package io.carecontext.retrieval.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.UUID;

/**
 * Where a listing of the trail stopped: the time and id of its last row, in the listing's order
 * (newest first, then by id). The next page is every row strictly after it in that order, so rows
 * of one microsecond that a page cut between are neither lost nor repeated (paging by {@code to},
 * which is exclusive, skipped them). Passed to the caller as an opaque token; it names a time and an
 * audit id, which grant nothing and are in the rows the caller was shown.
 */
public record AuditCursor(Instant at, UUID auditId) {

  private static final String VERSION = "v1";

  public AuditCursor {
    if (at == null || auditId == null) {
      throw new IllegalArgumentException("a cursor names a time and an audit id");
    }
    at = at.truncatedTo(ChronoUnit.MICROS); // what the database holds
  }

  /** The cursor as the caller gets it: URL-safe, opaque. */
  public String token() {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, at);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        (VERSION + ":" + micros + ":" + auditId).getBytes(StandardCharsets.US_ASCII));
  }

  /** The cursor a token of {@link #token} names; refuses anything else. */
  public static AuditCursor parse(String token) {
    String bad = "after must be the next token of an earlier listing, as it was given";
    if (token == null || token.length() > 128) {
      throw new IllegalArgumentException(bad);
    }
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.US_ASCII).split(":", -1);
      if (parts.length != 3 || !parts[0].equals(VERSION)) {
        throw new IllegalArgumentException(bad);
      }
      UUID id = UUID.fromString(parts[2]);
      if (!id.toString().equals(parts[2])) {
        throw new IllegalArgumentException(bad);
      }
      return new AuditCursor(Instant.EPOCH.plus(Long.parseLong(parts[1]), ChronoUnit.MICROS), id);
    } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
      throw new IllegalArgumentException(bad); // NumberFormatException included; the token is not echoed
    }
  }

  @Override
  public String toString() {
    return "AuditCursor[" + at + "]";
  }
}
