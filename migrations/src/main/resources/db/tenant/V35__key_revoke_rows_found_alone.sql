-- The key-revoke rows of the trail, found without reading the rest of it: platform migration 6
-- looks for the row that names a key each time the application revokes one. Its lookup runs as the
-- owner, which FORCE ROW LEVEL SECURITY binds too, with cc.access set to 'key-revoke-lookup' for
-- that call only (put back before it returns); this policy shows it those rows and no other (they
-- hold key ids and principals, never PHI). As tenant migrations 31 and 32 do for key-create and
-- tenant-settings rows.
CREATE INDEX audit_log_key_revoke_idx ON audit_log (at) WHERE action = 'key-revoke';
CREATE POLICY audit_log_key_revoke_lookup ON audit_log FOR SELECT TO PUBLIC
  USING (action = 'key-revoke' AND current_setting('cc.access', true) = 'key-revoke-lookup');
