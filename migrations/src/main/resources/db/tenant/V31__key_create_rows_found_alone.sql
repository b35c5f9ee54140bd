-- The key-create rows of the trail, found without reading the rest of it: platform migration 4
-- looks for the row that names a key each time the application adds one. Its lookup runs as the
-- owner, which FORCE ROW LEVEL SECURITY binds too, with cc.access set to 'key-create-lookup' for
-- that call only (put back before it returns); this policy shows it those rows and no other (they hold
-- key ids, principals and roles, never PHI).
CREATE INDEX audit_log_key_create_idx ON audit_log (at) WHERE action = 'key-create';
CREATE POLICY audit_log_key_create_lookup ON audit_log FOR SELECT TO PUBLIC
  USING (action = 'key-create' AND current_setting('cc.access', true) = 'key-create-lookup');
