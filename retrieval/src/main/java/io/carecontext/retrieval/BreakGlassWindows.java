package io.carecontext.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantSql;
import io.carecontext.retrieval.audit.AuditEntry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Open break-glass windows held to the tenant's settings when they change: a lower
 * {@code breakGlass.maxMinutes}, or break-glass withdrawn from a role, binds the windows its keys
 * already hold, not only the next ones. The database enforces the bound on every read by itself
 * (tenant migration 43); this brings the windows' rows down to it in the transaction that changes the
 * settings, so that a window's end, its reopening and the audit trail say what is enforced.
 */
public final class BreakGlassWindows {

  /** The action of the audit row written for each window a settings change shortened or closed. */
  public static final String ACTION = "break-glass-window";

  private BreakGlassWindows() {}

  /**
   * A window a settings change shortened ({@code until} still ahead) or closed ({@code until} now).
   * {@code keyId} and {@code principal}: the key that holds it.
   */
  public record Shortened(String keyId, String principal, String patientId, Instant openedAt, Instant wasUntil,
                          Instant until, boolean closed) {
    /** Names no patient. */
    @Override
    public String toString() {
      return "BreakGlassWindows.Shortened[" + (closed ? "closed" : "shortened") + "]";
    }
  }

  /**
   * Brings every open window of the tenant down to the longest window its key's roles may hold open
   * under the settings as they now stand in this transaction, counted from when it opened; a window
   * past that bound, or whose key's roles may no longer break the glass, is closed. None is lengthened.
   * Runs in the caller's transaction, which must have taken the tenant's write-path role (it alone may
   * call the database's function). Returns the windows it shortened or closed.
   */
  public static List<Shortened> holdToSettings(Connection c, TenantId tenant) throws SQLException {
    List<Shortened> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, """
        SELECT key_id, principal, patient_id, opened_at, was_until, expires_at, expires_at <= now()
        FROM {schema}.shorten_break_glass_windows() ORDER BY key_id, patient_id"""));
         ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Shortened(rs.getString(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
            rs.getTimestamp(5).toInstant(), rs.getTimestamp(6).toInstant(), rs.getBoolean(7)));
      }
    }
    return out;
  }

  /**
   * The audit row of one shortened or closed window, for the patient's trail and its break-glass review:
   * flagged break-glass, by whoever changed the settings ({@code principal}, {@code keyId}, {@code roles}),
   * naming the window's key and principal, when it opened, when it was to close and when it closes now,
   * and the tenant-settings row of the change. Names, ids and times; no content.
   */
  public static AuditEntry auditEntry(String principal, String keyId, List<String> roles, Shortened w,
                                      UUID settingsRow) {
    return AuditEntry.of(principal, keyId, roles, w.patientId(), null, ACTION, AuditEntry.Decision.ALLOWED,
            w.closed() ? "break_glass_window_closed" : "break_glass_window_shortened")
        .withBreakGlass(true, "{\"breakGlass\":true}")
        .withDetail("windowKeyId", AuditEntry.jsonString(w.keyId()))
        .withDetail("windowPrincipal", w.principal() == null ? "null" : AuditEntry.jsonString(w.principal()))
        .withDetail("openedAt", AuditEntry.jsonString(w.openedAt().toString()))
        .withDetail("wasUntil", AuditEntry.jsonString(w.wasUntil().toString()))
        .withDetail("until", AuditEntry.jsonString(w.until().toString()))
        .withDetail("settingsAuditId", AuditEntry.jsonString(settingsRow.toString()));
  }
}
