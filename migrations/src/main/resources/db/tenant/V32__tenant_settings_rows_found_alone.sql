-- The tenant-settings rows of the trail, found without reading the rest of it: platform migration 5
-- looks for the row that names a change each time the application changes a tenant's name or
-- settings. Its lookup runs as the owner, which FORCE ROW LEVEL SECURITY binds too, with cc.access
-- set to 'tenant-settings-lookup' for that call only (put back before it returns); this policy shows
-- it those rows and no other (they hold the names of changed settings and a digest, never PHI).
CREATE INDEX audit_log_tenant_settings_idx ON audit_log (at) WHERE action = 'tenant-settings';
CREATE POLICY audit_log_tenant_settings_lookup ON audit_log FOR SELECT TO PUBLIC
  USING (action = 'tenant-settings' AND current_setting('cc.access', true) = 'tenant-settings-lookup');
