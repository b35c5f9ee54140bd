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

-- Whether a tenant's trail holds a row of one of these actions, written in the last ten minutes,
-- whose details match a LIKE pattern; read through the action's partial index (tenant migrations
-- 31, 32 and 35), not the whole trail. It runs as the owner, which FORCE ROW LEVEL SECURITY binds
-- too: cc.access is set to '<action>-lookup', whose policy shows those rows and no other, and put
-- back before the call returns (and undone with the block on an error). False for a tenant without
-- a trail. One function for the three checks: migrations 4 and 5 each had a copy of this body,
-- and now call it.
CREATE FUNCTION audit_row_recorded(p_tenant_id text, p_action text, p_details_like text) RETURNS boolean
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
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_log WHERE action = $1 '
                 'AND at > now() - interval ''10 minutes'' AND details LIKE $2)', 'tenant_' || p_tenant_id)
    INTO recorded USING p_action, p_details_like;
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN recorded;
EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
  RETURN false;
END
$$;
REVOKE ALL ON FUNCTION audit_row_recorded(text, text, text) FROM PUBLIC;

-- The key-revoke row names the key first in its details, as the key-create row does. Ids are
-- checked here, so no LIKE wildcard reaches the pattern.
CREATE FUNCTION api_key_revocation_recorded(p_tenant_id text, p_key_id text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT p_key_id ~ '^[a-z0-9]{1,64}$'
         AND ${flyway:defaultSchema}.audit_row_recorded(p_tenant_id, 'key-revoke', '{"keyId":"' || p_key_id || '"%') $$;
REVOKE ALL ON FUNCTION api_key_revocation_recorded(text, text) FROM PUBLIC;

-- Migrations 4 and 5's lookups, the same answers through the one function above.
CREATE OR REPLACE FUNCTION api_key_creation_recorded(p_tenant_id text, p_key_id text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT p_key_id ~ '^[a-z0-9]{1,64}$'
         AND ${flyway:defaultSchema}.audit_row_recorded(p_tenant_id, 'key-create', '{"keyId":"' || p_key_id || '",%') $$;
CREATE OR REPLACE FUNCTION tenant_change_recorded(p_tenant_id text, p_digest text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT p_digest ~ '^[0-9a-f]{64}$'
         AND ${flyway:defaultSchema}.audit_row_recorded(p_tenant_id, 'tenant-settings',
                                                       '%"settingsDigest":"' || p_digest || '"%') $$;

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
