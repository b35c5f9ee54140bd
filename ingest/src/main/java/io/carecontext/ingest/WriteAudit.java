package io.carecontext.ingest;

import io.carecontext.migrations.TenantId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Records what a FHIR write transaction created, changed, deleted or left unchanged, inside that transaction, as
 * its last step: the write and its audit rows commit together or not at all. The service records
 * them in the tenant's audit trail; a failure here rolls the write back.
 */
@FunctionalInterface
public interface WriteAudit {

  /** For tools and tests that write without an audit trail (the ingest module's own tests). */
  WriteAudit NONE = (c, tenant, outcomes) -> { };

  /**
   * {@code outcomes} is never empty; it holds the resources the transaction was sent and left as
   * they were too ({@link WriteOutcome.Status#UNCHANGED}), since sending them was an access to the
   * record. A transaction that touched no resource (a delete of what was not there) records nothing.
   */
  void record(Connection c, TenantId tenant, List<WriteOutcome> outcomes) throws SQLException;
}
