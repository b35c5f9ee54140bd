package io.carecontext.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import java.sql.SQLException;

/**
 * The refusal of a search that met chunks of another model than its question's: the tenant changed
 * its embedding model and the worker has not re-embedded every chunk the search ranks yet. Context,
 * chat and research answer it as a denial (503, {@value #CODE}, {@code Retry-After}) with its own
 * audit row, like every other refusal: the search's transaction failed and wrote nothing, and the
 * trail had no row of the request at all.
 */
public final class ReembeddingInProgress {

  /** The caller's error code, and the audit row's reason. */
  public static final String CODE = "reembedding_in_progress";

  /** Re-embedding takes minutes to hours, not the seconds of a database that is back. */
  public static final long RETRY_AFTER_SECONDS = 60;

  public static final String MESSAGE = "this tenant's embedding model was changed and the stored chunks searched here "
      + "are not all re-embedded with it yet, so they cannot be compared with the question; "
      + "nothing was returned. Retry when the re-embedding is done: a tenant admin follows it at "
      + "GET /admin/tenants/{tenant}/ingest (chunksOfAnotherModel falls to 0; lastError names a model that fails)";

  private ReembeddingInProgress() {}

  /**
   * {@code failure} as the caller's answer: the denial, recorded in the trail as {@code entry} refused
   * with this reason, when the search met chunks of another model ({@link #causedBy}); otherwise the
   * failure itself, unrecorded, for the caller's 503 "not audited".
   */
  public static RuntimeException refusal(RuntimeException failure, AuditLog audit, TenantId tenant, AuditEntry entry,
                                         long startNanos) {
    if (!causedBy(failure)) {
      return failure;
    }
    return new AccessDenied(503, CODE, MESSAGE, CODE, audit.recordDenial(tenant, entry, CODE, startNanos),
        RETRY_AFTER_SECONDS);
  }

  /**
   * Whether the failure is a search meeting chunks of another model: of another dimension (pgvector's
   * "different vector dimensions", SQLSTATE 22000), or of the same one (the search's own refusal,
   * SQLSTATE {@value ContextService#ANOTHER_MODEL}, tenant migrations 52 and 54). Read from the
   * failure, never shown.
   */
  public static boolean causedBy(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql && (ContextService.ANOTHER_MODEL.equals(sql.getSQLState())
          || "22000".equals(sql.getSQLState()) && sql.getMessage() != null
          && sql.getMessage().contains("different vector dimensions"))) {
        return true;
      }
    }
    return false;
  }
}
