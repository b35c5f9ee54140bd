package io.carecontext.ingest;

import io.carecontext.migrations.TenantId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Records what a FHIR write transaction created, changed or deleted, inside that transaction, as
 * its last step: the write and its audit rows commit together or not at all. The service records
 * them in the tenant's audit trail; a failure here rolls the write back.
 */
@FunctionalInterface
public interface WriteAudit {

  /** For tools and tests that write without an audit trail (the ingest module's own tests). */
  WriteAudit NONE = (c, tenant, written) -> { };

  /** {@code written} is never empty: a transaction that changed nothing records nothing. */
  void record(Connection c, TenantId tenant, List<WriteOutcome> written) throws SQLException;
}
