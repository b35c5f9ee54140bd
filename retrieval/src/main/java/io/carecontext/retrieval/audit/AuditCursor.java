package io.carecontext.retrieval.audit;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Where a listing of the trail stopped: the time and id of its last row, in the listing's order
 * (newest first, then by id). The next page is every row strictly after it in that order, so rows
 * of one microsecond that a page cut between are neither lost nor repeated (paging by {@code to},
 * which is exclusive, skipped them). Passed to the caller as an opaque token; it names a time and an
 * audit id, which grant nothing and are in the rows the caller was shown.
 *
 * <p>The token also carries {@code filters}, the {@link AuditFilter#digest() digest} of the filters of the listing
 * that made it: a cursor continues only the listing it came from. One used with other filters continued silently
 * under them, and a caller who changed a filter between pages got the second listing from the middle, with no sign
 * that its first rows were never shown. A token of before this binding ({@code v1}) names no filters and is refused
 * as bound to none.
 */
public record AuditCursor(Instant at, UUID auditId, String filters) {

  private static final String UNBOUND = "v1";
  private static final String VERSION = "v2";
  private static final Pattern DIGEST = Pattern.compile("[A-Za-z0-9_-]{22}");

  public AuditCursor {
    if (at == null || auditId == null) {
      throw new IllegalArgumentException("a cursor names a time and an audit id");
    }
    if (filters != null && !DIGEST.matcher(filters).matches()) {
      throw new IllegalArgumentException("a cursor's filters are a digest of AuditFilter.digest()");
    }
    // a row's time is within these; a token is no secret (its digest is of filters the caller sends), and one made
    // up with a time the database cannot hold (before 4713 BC) was a 500 from it, not the 400 of a token not given
    if (at.isBefore(EARLIEST) || at.isAfter(LATEST)) {
      throw new IllegalArgumentException("a cursor's time is within the years 1 to 9999");
    }
    at = at.truncatedTo(ChronoUnit.MICROS); // what the database holds
  }

  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

  /** Where the listing filtered by {@code filter} stopped. */
  public AuditCursor(Instant at, UUID auditId, AuditFilter filter) {
    this(at, auditId, filter.digest());
  }

  /**
   * Where a listing with {@code filter} that returned {@code entries} (rows as {@link AuditLog#list} gives them)
   * stopped, for its next page: the cursor of its last row, bound to the filter, or null when there is none.
   */
  public static AuditCursor after(List<Map<String, Object>> entries, AuditFilter filter) {
    if (entries.isEmpty()) {
      return null;
    }
    Map<String, Object> last = entries.get(entries.size() - 1);
    return new AuditCursor(Instant.parse((String) last.get("at")), UUID.fromString((String) last.get("auditId")),
        filter);
  }

  /** Whether this cursor was made by a listing with {@code filter}'s filters (its limit and cursor aside). */
  public boolean continues(AuditFilter filter) {
    return filters != null && filters.equals(filter.digest());
  }

  /** The cursor as the caller gets it: URL-safe, opaque. */
  public String token() {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, at);
    String text = filters == null ? UNBOUND + ":" + micros + ":" + auditId
        : VERSION + ":" + micros + ":" + auditId + ":" + filters;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  /** The cursor a token of {@link #token} names; refuses anything else. */
  public static AuditCursor parse(String token) {
    String bad = "after must be the next token of an earlier listing, as it was given";
    if (token == null || token.length() > 160) {
      throw new IllegalArgumentException(bad);
    }
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.US_ASCII).split(":", -1);
      boolean bound = parts.length == 4 && parts[0].equals(VERSION);
      if (!bound && !(parts.length == 3 && parts[0].equals(UNBOUND))) {
        throw new IllegalArgumentException(bad);
      }
      UUID id = UUID.fromString(parts[2]);
      if (!id.toString().equals(parts[2])) {
        throw new IllegalArgumentException(bad);
      }
      return new AuditCursor(Instant.EPOCH.plus(Long.parseLong(parts[1]), ChronoUnit.MICROS), id,
          bound ? parts[3] : null);
    } catch (IllegalArgumentException | ArithmeticException | DateTimeException e) {
      throw new IllegalArgumentException(bad); // NumberFormatException included; the token is not echoed
    }
  }

  @Override
  public String toString() {
    return "AuditCursor[" + at + "]";
  }
}
