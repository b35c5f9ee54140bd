package io.carecontext.services.admin;

import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.BreakGlassWindows;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.auth.Caller;
import jakarta.inject.Singleton;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.UUID;

/**
 * A tenant's new name and settings, committed with what they change in the tenant's own schema, in
 * one transaction, so that a failure changes none of it: open break-glass windows brought down to the
 * new role policies, with an audit row for each window shortened or closed, and stored Encounter care
 * links given a new follow-up or open encounters' bound. The change's own tenant-settings row is
 * committed before (platform migration 5 refuses the change without it).
 */
@Singleton
public class TenantChange {

  private final TenantTransactions tx;
  private final AuditLog audit;

  public TenantChange(TenantTransactions tx, AuditLog audit) {
    this.tx = tx;
    this.audit = audit;
  }

  /**
   * Stores the name and settings (JSON) of an active tenant; returns the break-glass windows they
   * shortened or closed. {@code encounterLinksChanged}: encounterFollowUpDays or openEncounterMaxDays
   * changed, which the stored Encounter links' ends are computed from. {@code settingsRow}: the audit id of the change's tenant-settings row, which
   * each window's row names. {@code atCreation}: the settings a tenant is created with, which are no change of it
   * (updatedAt stays its createdAt until the first one).
   */
  public List<BreakGlassWindows.Shortened> commit(Caller caller, TenantId id, String name, String settings,
                                                  boolean encounterLinksChanged, UUID settingsRow, boolean atCreation) {
    return tx.runOnPlatform(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE platform.tenants SET name = ?, "
          + "settings = CAST(? AS jsonb), updated_at = CASE WHEN ? THEN created_at ELSE now() END "
          + "WHERE tenant_id = ? AND status = 'active'")) {
        ps.setString(1, name);
        ps.setString(2, settings);
        ps.setBoolean(3, atCreation);
        ps.setString(4, id.value());
        if (ps.executeUpdate() == 0) {
          return List.of(); // offboarded meanwhile: no schema left to hold anything
        }
      }
      // the write path's role: it alone may call the database's function that shortens the windows
      tx.switchTo(c, id, PolicySettings.ingest().withQualifiedNames());
      List<BreakGlassWindows.Shortened> windows = BreakGlassWindows.holdToSettings(c, id);
      if (encounterLinksChanged) {
        // stored Encounter links carry the new follow-up, and open encounters' links the new bound, from
        // this commit on (tenant migrations 44 and 60)
        try (PreparedStatement ps = c.prepareStatement(
            TenantSql.of(id, "SELECT {schema}.encounter_follow_up_changed()"))) {
          ps.execute();
        }
      }
      if (!windows.isEmpty()) {
        audit.appendWithin(c, id, windows.stream().map(w -> BreakGlassWindows.auditEntry(caller.principal(),
            caller.keyId(), caller.requester().roles(), w, settingsRow)).toList());
      }
      return windows;
    });
  }
}
