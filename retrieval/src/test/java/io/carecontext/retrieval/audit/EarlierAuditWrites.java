package io.carecontext.retrieval.audit;

import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantTransactions;
import java.util.UUID;

/**
 * Audit rows as the release that shipped a tenant's template version wrote them, for upgrade tests:
 * the same chained append, under the role that then held the audit grants (before tenant migration
 * 13 the write path's role, from it on the audit role), into the columns that template had (tenant
 * migration 22 added the break-glass justification, 75 the request id and client address).
 */
public final class EarlierAuditWrites {

  private EarlierAuditWrites() {}

  public static UUID append(TenantTransactions tx, AuditLog audit, TenantId tenant, int templateVersion, AuditEntry e) {
    PolicySettings settings = templateVersion < 13 ? PolicySettings.ingest() : AuditLog.recordSettings();
    return tx.run(tenant, settings, c -> templateVersion < 22 ? audit.appendBefore22(c, tenant, e)
        : templateVersion < 75 ? audit.appendBefore75(c, tenant, e) : audit.append(c, tenant, e));
  }
}
