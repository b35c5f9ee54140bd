-- The trail's rows were append-only for the application's roles (they hold no UPDATE, DELETE or
-- TRUNCATE grant on it), not for the schema owner: tenant migration 4 opened the trail to the
-- retention purge with one policy FOR ALL, so the owner that set cc.access to 'retention' could
-- rewrite any row as well as delete old ones; and TRUNCATE, which row-level security does not
-- govern, was the owner's at any time. The hash chain and the keyed seals find such a change
-- afterwards; the database now refuses it in the first place.
--
-- The purge (AuditLog.purge) only reads and deletes: its policy becomes one for SELECT and one for
-- DELETE, and no policy admits an UPDATE. To PUBLIC as before: no role but the owner holds DELETE,
-- and the audit role's reads stay bound to a live auditor key (tenant migration 34).
DROP POLICY audit_log_retention ON audit_log;
CREATE POLICY audit_log_retention_read ON audit_log FOR SELECT TO PUBLIC
  USING (current_setting('cc.access', true) = 'retention');
CREATE POLICY audit_log_retention_delete ON audit_log FOR DELETE TO PUBLIC
  USING (current_setting('cc.access', true) = 'retention');

-- And for whoever row-level security does not bind (the superuser, a role with BYPASSRLS, an owner
-- that turned FORCE off), triggers refuse UPDATE, row by row, and TRUNCATE, for every role. ALWAYS, so
-- that a session in replica mode (session_replication_role) does not skip them either. The owner can
-- still disable or drop them, as it owns the table: that is DDL, in the server's log, and the chain
-- and the seals are there to find what it then changed. The message names no row and no value.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: its rows are never updated or truncated (retention deletes whole old prefixes only)'
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
