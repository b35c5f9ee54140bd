-- The application role adds API keys (the admin API issues them), so one wrong or hostile statement
-- on the application's connection could add a live key for any tenant, with any roles and a secret
-- of its choosing, and nothing would say so: the key-create row of the tenant's audit trail is
-- written by the admin API, not by the database.
--
-- Now the database adds a key for the application role only when the tenant's trail already holds
-- the key-create row that names it, written in the last ten minutes (the admin API commits that
-- row first, then the key). Code that mints a key must leave that row in the hash-chained,
-- append-only trail, where the auditor sees it; the owner (provisioning, maintenance) is not bound.
-- PlatformGrantsIT proves it alone.

-- Whether the tenant's trail holds a recent key-create row naming the key; read through the partial
-- index of tenant migration 31, not the whole trail. False for a tenant without a trail.
CREATE FUNCTION api_key_creation_recorded(p_tenant_id text, p_key_id text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  recorded boolean;
  prior text := current_setting('cc.access', true);
BEGIN
  IF p_tenant_id !~ '^[a-z][a-z0-9_]{1,30}$' OR p_key_id !~ '^[a-z0-9]{1,64}$' THEN
    RETURN false;
  END IF;
  -- tenant migration 31's policy shows the owner the key-create rows under this setting; it is put
  -- back before the call returns (and undone with the block on an error)
  PERFORM set_config('cc.access', 'key-create-lookup', true);
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_log WHERE action = ''key-create'' '
                 'AND at > now() - interval ''10 minutes'' AND details LIKE $1)', 'tenant_' || p_tenant_id)
    INTO recorded USING '{"keyId":"' || p_key_id || '",%';
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN recorded;
EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
  RETURN false;
END
$$;
REVOKE ALL ON FUNCTION api_key_creation_recorded(text, text) FROM PUBLIC;

CREATE FUNCTION api_keys_created_with_their_audit_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  -- the owner of the table (provisioning, maintenance, test fixtures) is not bound
  IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
    RETURN NEW;
  END IF;
  IF NOT ${flyway:defaultSchema}.api_key_creation_recorded(NEW.tenant_id, NEW.key_id) THEN
    RAISE EXCEPTION 'an API key is added only after the key-create row of its tenant''s audit trail'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION api_keys_created_with_their_audit_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_creation_recorded(text, text) TO ${app_role};

CREATE TRIGGER api_keys_created_with_their_audit_row BEFORE INSERT ON api_keys
  FOR EACH ROW EXECUTE FUNCTION api_keys_created_with_their_audit_row();
