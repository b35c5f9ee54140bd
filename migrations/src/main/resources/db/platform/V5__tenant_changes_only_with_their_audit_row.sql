-- The application role changes a tenant's name and settings (the admin API's PATCH), and those
-- settings decide who reads what: role policies, consent mode, the care relationship, retention,
-- the model endpoints. One wrong or hostile statement on the application's connection could lower
-- the retention (the nightly purge then deletes what it should keep), switch consent to opt-out or
-- turn the care relationship off, and nothing would say so: the tenant-settings row of the audit
-- trail is written by the admin API, not by the database.
--
-- Now the database changes a tenant's name or settings for the application role only when the
-- tenant's trail already holds a tenant-settings row, written in the last ten minutes, whose
-- settingsDigest is the SHA-256 of exactly the new name and settings (the admin API commits that row
-- first, then the change; tenant_change_digest() is how it computes the digest). Code that changes
-- a tenant must leave that row in the hash-chained, append-only trail, where the auditor sees it;
-- the owner (provisioning, maintenance) is not bound. PlatformGrantsIT proves it alone.

-- The digest a tenant-settings row names: of the name and the settings as jsonb prints them.
CREATE FUNCTION tenant_change_digest(p_name text, p_settings jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT encode(sha256(convert_to(p_name || chr(10) || p_settings::text, 'UTF8')), 'hex') $$;

-- Whether the tenant's trail holds a recent tenant-settings row naming the digest; read through the
-- partial index of tenant migration 32, not the whole trail. False for a tenant without a trail.
CREATE FUNCTION tenant_change_recorded(p_tenant_id text, p_digest text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  recorded boolean;
  prior text := current_setting('cc.access', true);
BEGIN
  IF p_tenant_id !~ '^[a-z][a-z0-9_]{1,30}$' OR p_digest !~ '^[0-9a-f]{64}$' THEN
    RETURN false;
  END IF;
  -- tenant migration 32's policy shows the owner the tenant-settings rows under this setting; it is
  -- put back before the call returns (and undone with the block on an error)
  PERFORM set_config('cc.access', 'tenant-settings-lookup', true);
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_log WHERE action = ''tenant-settings'' '
                 'AND at > now() - interval ''10 minutes'' AND details LIKE $1)', 'tenant_' || p_tenant_id)
    INTO recorded USING '%"settingsDigest":"' || p_digest || '"%';
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN recorded;
EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
  RETURN false;
END
$$;
REVOKE ALL ON FUNCTION tenant_change_recorded(text, text) FROM PUBLIC;

CREATE FUNCTION tenants_changed_with_their_audit_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  -- the owner of the table (provisioning, maintenance, test fixtures) is not bound
  IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
    RETURN NEW;
  END IF;
  IF NOT ${flyway:defaultSchema}.tenant_change_recorded(NEW.tenant_id,
      ${flyway:defaultSchema}.tenant_change_digest(NEW.name, NEW.settings)) THEN
    RAISE EXCEPTION 'a tenant''s name or settings change only after the tenant-settings row that names the change'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION tenants_changed_with_their_audit_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_change_recorded(text, text) TO ${app_role};
GRANT EXECUTE ON FUNCTION tenant_change_digest(text, jsonb) TO ${app_role};

CREATE TRIGGER tenants_changed_with_their_audit_row BEFORE UPDATE OF name, settings ON tenants
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.settings IS DISTINCT FROM NEW.settings)
  EXECUTE FUNCTION tenants_changed_with_their_audit_row();
