package io.carecontext.retrieval.audit;

import java.util.regex.Pattern;

/**
 * Where an audited request came from and which one it was: the id its answer carries in {@code X-Request-Id}
 * and the client's IP address (the socket's peer, or the address a trusted proxy forwarded). Both enter the
 * row's hash chain (tenant migration 75). Only validated forms are kept: an id of letters, digits and hyphens
 * of at most 64 characters, an address that is an IPv4 or IPv6 literal, never a header's raw text.
 *
 * <p>The HTTP layer binds the origin of the request a thread is serving ({@link #bind}); {@link AuditLog}
 * stamps every row written on that thread without one of its own. Rows the platform writes on its own (a
 * retention purge, a KEK rotation from the command line) have none.
 */
public record AuditOrigin(String requestId, String clientAddress) {

  /** The forms a request id is kept in: what the service accepts in X-Request-Id, or a UUID it made. */
  private static final Pattern REQUEST_ID = Pattern.compile("[0-9A-Za-z-]{1,64}");

  /**
   * The ids the service gives a request: a caller's X-Request-Id only when it is a UUID, a ULID or 16 to 64 hex
   * digits, else a UUID of its own. No other text is an id a row can carry, so no other is taken as one (a name
   * typed in the audit list's requestId filter was kept in the listing's own row).
   */
  public static final Pattern ISSUED_REQUEST_ID = Pattern.compile(
      "^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
          + "|[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}|[0-9a-fA-F]{16,64})$");
  /** The characters of an IPv4 or IPv6 literal, as a parser of addresses printed it (no zone, no prefix). */
  private static final Pattern ADDRESS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  public static final AuditOrigin NONE = new AuditOrigin(null, null);

  public AuditOrigin {
    requestId = requestId(requestId);
    clientAddress = clientAddress(clientAddress);
  }

  /** The id as a row keeps it, or null for anything that is not one (never stored as sent). */
  public static String requestId(String id) {
    return id != null && REQUEST_ID.matcher(id).matches() ? id : null;
  }

  /** The address as a row keeps it, or null for anything that is not an address's printed form. */
  public static String clientAddress(String address) {
    return address != null && ADDRESS.matcher(address).matches() && (address.indexOf(':') >= 0
        || address.chars().filter(ch -> ch == '.').count() == 3) ? address : null;
  }

  private static final ThreadLocal<AuditOrigin> CURRENT = new ThreadLocal<>();

  /** The origin of the request this thread serves, or {@link #NONE}. */
  public static AuditOrigin current() {
    AuditOrigin o = CURRENT.get();
    return o == null ? NONE : o;
  }

  /** Binds {@code origin} to this thread; returns what was bound before, for {@link #restore}. */
  public static AuditOrigin bind(AuditOrigin origin) {
    AuditOrigin before = CURRENT.get();
    CURRENT.set(origin);
    return before;
  }

  /** Binds again what {@link #bind} returned. */
  public static void restore(AuditOrigin before) {
    if (before == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(before);
    }
  }
}
