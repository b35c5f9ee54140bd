-- Platform migrations 4 to 6 let the application role create a key, revoke one or change a tenant's
-- settings only when the tenant's trail already holds the row that names the change. The lookup
-- (audit_row_recorded, migration 6) matched the row's action, age and details but not its decision:
-- a denied row naming the same key would have counted as leave to revoke it. The admin API records
-- refused attempts to change keys and settings too (since the thirty-eighth session); none of those
-- rows names a key id or a settings digest today, but the database should not depend on that. Only
-- an allowed row now counts, as migration 11 already required of key creation. PlatformGrantsIT
-- proves it alone.
CREATE OR REPLACE FUNCTION audit_row_recorded(p_tenant_id text, p_action text, p_details_like text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  recorded boolean;
  prior text := current_setting('cc.access', true);
BEGIN
  IF p_tenant_id !~ '^[a-z][a-z0-9_]{1,30}$'
     OR p_action NOT IN ('key-create', 'key-revoke', 'tenant-settings') THEN
    RETURN false;
  END IF;
  PERFORM set_config('cc.access', p_action || '-lookup', true);
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_log WHERE action = $1 AND decision = ''allowed'' '
                 'AND at > now() - interval ''10 minutes'' AND details LIKE $2)', 'tenant_' || p_tenant_id)
    INTO recorded USING p_action, p_details_like;
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN recorded;
EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
  RETURN false;
END
$$;
REVOKE ALL ON FUNCTION audit_row_recorded(text, text, text) FROM PUBLIC;
