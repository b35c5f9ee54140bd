-- Platform migration 11 holds a key to its creator's power: the operator key makes only a tenant's
-- first tenant-admin key, any other key is made by a live tenant-admin key of the tenant. It did not
-- hold it to its creator's time: a tenant-admin key given for a week (a contractor, a migration
-- project) could make a tenant-admin key that never expires, for another principal, and so keep its
-- access after its own had ended.
--
-- Now the database adds a key made by a tenant key that expires only when the new key expires too,
-- no later than its creator. Keys made by the operator key (which does not expire) and by the owner
-- are not bound; keys added before this migration are left as they are. The check runs after
-- api_keys_created_with_their_audit_row (triggers fire in name order), which has already refused a
-- key without its key-create row. PlatformGrantsIT proves it alone.
CREATE FUNCTION api_keys_expire_with_their_creator() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  made record;
  creator_expiry timestamptz;
BEGIN
  -- the owner of the table (provisioning, maintenance, test fixtures) is not bound
  IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
    RETURN NEW;
  END IF;
  SELECT * INTO made FROM ${flyway:defaultSchema}.api_key_creation_row(NEW.tenant_id, NEW.key_id);
  IF made.creator_key IS NULL OR (made.creator = 'platform-admin' AND made.creator_key = 'bootstrap') THEN
    RETURN NEW;
  END IF;
  SELECT k.expires_at INTO creator_expiry FROM ${flyway:defaultSchema}.api_keys k
   WHERE k.key_id = made.creator_key AND k.tenant_id = NEW.tenant_id;
  IF creator_expiry IS NOT NULL AND (NEW.expires_at IS NULL OR NEW.expires_at > creator_expiry) THEN
    RAISE EXCEPTION 'a key expires no later than the key that made it' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION api_keys_expire_with_their_creator() FROM PUBLIC;

CREATE TRIGGER api_keys_expire_with_their_creator BEFORE INSERT ON api_keys
  FOR EACH ROW EXECUTE FUNCTION api_keys_expire_with_their_creator();
