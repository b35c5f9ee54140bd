-- A retention purge left no row of its own in the trail (a log line and the shard's anchor only), so
-- a privacy officer reading the trail could not tell that rows had been removed, when, or up to which
-- instant. The purge (AuditLog.purge, as the owner, under cc.access = 'retention') now appends one row
-- in the same transaction as its deletes: action audit-purge, the system's principal, no patient.
-- FORCE ROW LEVEL SECURITY binds the owner, and no policy admitted its inserts: this one admits that
-- row and no other (the audit role, which writes every other row, keeps its own policy).
CREATE POLICY audit_log_retention_append ON audit_log FOR INSERT TO PUBLIC
  WITH CHECK (current_setting('cc.access', true) = 'retention'
              AND action = 'audit-purge' AND principal = 'system:audit-retention' AND patient_id IS NULL
              AND query_enc IS NULL AND prompt_enc IS NULL AND response_enc IS NULL);
