-- The application role revokes API keys (the admin API's DELETE), and platform migration 4 left
-- that unbound: one wrong or hostile statement on the application's connection could revoke every
-- key of every tenant (each EHR feed, each clinician cut off at once), and nothing in any trail would
-- say who did, or that it was done at all: the key-revoke row is written by the admin API, not by
-- the database.
--
-- Now the database revokes a key for the application role only when its tenant's trail already
-- holds a key-revoke row naming the key, written in the last ten minutes (the admin API commits
-- that row first, then the revocation). Code that revokes a key must leave that row in the
-- hash-chained, append-only trail, where the auditor sees it; the owner (maintenance) is not bound.
-- The check runs after api_keys_revocation_is_final (triggers fire in name order), and only when
-- revoked_at is set. PlatformGrantsIT proves it alone.

-- Whether the tenant's trail holds a recent key-revoke row naming the key; read through the partial
-- index of tenant migration 35, not the whole trail. False for a tenant without a trail.
CREATE FUNCTION api_key_revocation_recorded(p_tenant_id text, p_key_id text) RETURNS boolean
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
  -- tenant migration 35's policy shows the owner the key-revoke rows under this setting; it is put
  -- back before the call returns (and undone with the block on an error)
  PERFORM set_config('cc.access', 'key-revoke-lookup', true);
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_log WHERE action = ''key-revoke'' '
                 'AND at > now() - interval ''10 minutes'' AND details LIKE $1)', 'tenant_' || p_tenant_id)
    INTO recorded USING '{"keyId":"' || p_key_id || '"%';
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN recorded;
EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
  RETURN false;
END
$$;
REVOKE ALL ON FUNCTION api_key_revocation_recorded(text, text) FROM PUBLIC;

CREATE FUNCTION api_keys_revoked_with_their_audit_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  -- the owner of the table (maintenance, test fixtures) is not bound
  IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
    RETURN NEW;
  END IF;
  IF NOT ${flyway:defaultSchema}.api_key_revocation_recorded(NEW.tenant_id, NEW.key_id) THEN
    RAISE EXCEPTION 'an API key is revoked only after the key-revoke row of its tenant''s audit trail'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION api_keys_revoked_with_their_audit_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_revocation_recorded(text, text) TO ${app_role};

CREATE TRIGGER api_keys_revoked_with_their_audit_row BEFORE UPDATE OF revoked_at ON api_keys
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION api_keys_revoked_with_their_audit_row();
