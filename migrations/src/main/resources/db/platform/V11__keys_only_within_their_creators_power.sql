-- Platform migration 4 lets the application role add a key once the tenant's trail holds a recent
-- key-create row naming the key's id, and nothing more: the row could say "billing" while the key
-- held tenant-admin, the operator's key could mint any role (ehr-integration writes patient data;
-- the operator key is meant to read and write none), and a tenant admin could mint a second key under
-- a principal another key already holds, so that the trail named one person for two holders.
--
-- Now the database adds a key for the application role only when:
--   * its key-create row (allowed, recent) names exactly its principal, roles, practitioner and expiry;
--   * its principal is not 'platform-admin' (the trail's name for the operator key), and no other
--     unrevoked key of the tenant holds it, compared without case (an expired key holds it until it
--     is revoked): a principal names one holder at a time;
--   * the row was written by the operator key (principal platform-admin, key bootstrap) for a key whose
--     only role is tenant-admin while the tenant has no live tenant-admin key (the first one, or one
--     to recover a tenant whose admin keys were all revoked or expired), or by a live tenant-admin key
--     of the same tenant.
-- The owner (provisioning, maintenance, test fixtures) is not bound, as before. Keys added before
-- this migration are left as they are. PlatformGrantsIT proves it alone.

-- The newest allowed, recent key-create row naming the key: who wrote it (principal, key id) and what
-- it says (details). All null when there is none. Read as tenant migration 31's lookup allows.
CREATE FUNCTION api_key_creation_row(p_tenant_id text, p_key_id text,
                                     OUT creator text, OUT creator_key text, OUT details text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  prior text := current_setting('cc.access', true);
BEGIN
  IF p_tenant_id !~ '^[a-z][a-z0-9_]{1,30}$' OR p_key_id !~ '^[a-z0-9]{1,64}$' THEN
    RETURN;
  END IF;
  PERFORM set_config('cc.access', 'key-create-lookup', true);
  EXECUTE format('SELECT principal, key_id, details FROM %I.audit_log WHERE action = ''key-create'' '
                 'AND decision = ''allowed'' AND at > now() - interval ''10 minutes'' AND details LIKE $1 '
                 'ORDER BY at DESC LIMIT 1', 'tenant_' || p_tenant_id)
    INTO creator, creator_key, details USING '{"keyId":"' || p_key_id || '",%';
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
  creator := NULL;
  creator_key := NULL;
  details := NULL;
END
$$;
REVOKE ALL ON FUNCTION api_key_creation_row(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_creation_row(text, text) TO ${app_role};

CREATE OR REPLACE FUNCTION api_keys_created_with_their_audit_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  made record;
  named jsonb;
  named_roles text[];
  named_expiry timestamptz;
BEGIN
  -- the owner of the table (provisioning, maintenance, test fixtures) is not bound
  IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
    RETURN NEW;
  END IF;
  SELECT * INTO made FROM ${flyway:defaultSchema}.api_key_creation_row(NEW.tenant_id, NEW.key_id);
  IF made.details IS NULL THEN
    RAISE EXCEPTION 'an API key is added only after the key-create row of its tenant''s audit trail'
      USING ERRCODE = '42501';
  END IF;
  BEGIN
    named := made.details::jsonb;
    named_roles := ARRAY(SELECT jsonb_array_elements_text(named -> 'roles'));
    named_expiry := (named ->> 'expiresAt')::timestamptz;
  EXCEPTION WHEN others THEN
    RAISE EXCEPTION 'an API key is added only as its key-create row names it' USING ERRCODE = '42501';
  END;
  IF named ->> 'keyPrincipal' IS DISTINCT FROM NEW.principal
     OR NOT (named_roles @> NEW.roles AND NEW.roles @> named_roles)
     OR named ->> 'practitionerId' IS DISTINCT FROM NEW.practitioner_id
     OR (named_expiry IS NULL) <> (NEW.expires_at IS NULL)
     OR abs(extract(epoch FROM named_expiry - NEW.expires_at)) >= 0.001 THEN
    RAISE EXCEPTION 'an API key is added only as its key-create row names it (principal, roles, practitioner, expiry)'
      USING ERRCODE = '42501';
  END IF;
  IF lower(NEW.principal) = 'platform-admin' THEN
    RAISE EXCEPTION 'the principal platform-admin is the platform operator''s in the audit trail' USING ERRCODE = '42501';
  END IF;
  -- one unrevoked key a principal; two adds of one principal at once wait for each other
  PERFORM pg_advisory_xact_lock(hashtext('carecontext.api_keys.principal'), hashtext(NEW.tenant_id || '/' || lower(NEW.principal)));
  IF EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.api_keys k WHERE k.tenant_id = NEW.tenant_id
             AND lower(k.principal) = lower(NEW.principal) AND k.revoked_at IS NULL) THEN
    RAISE EXCEPTION 'an unrevoked key of the tenant already holds this principal' USING ERRCODE = '23505';
  END IF;
  IF made.creator = 'platform-admin' AND made.creator_key = 'bootstrap' THEN
    IF NEW.roles <> ARRAY['tenant-admin']::text[] THEN
      RAISE EXCEPTION 'the platform operator adds only tenant-admin keys' USING ERRCODE = '42501';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('carecontext.api_keys.first-admin'), hashtext(NEW.tenant_id));
    IF EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.api_keys k WHERE k.tenant_id = NEW.tenant_id
               AND 'tenant-admin' = ANY (k.roles) AND k.revoked_at IS NULL
               AND (k.expires_at IS NULL OR k.expires_at > now())) THEN
      RAISE EXCEPTION 'the platform operator adds a tenant-admin key only while the tenant has no live one'
        USING ERRCODE = '42501';
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.api_keys k WHERE k.key_id = made.creator_key
                    AND k.tenant_id = NEW.tenant_id AND k.principal = made.creator
                    AND 'tenant-admin' = ANY (k.roles) AND k.revoked_at IS NULL
                    AND (k.expires_at IS NULL OR k.expires_at > now())) THEN
    RAISE EXCEPTION 'an API key is added by the platform operator or a live tenant-admin key of its tenant'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
