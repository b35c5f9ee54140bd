-- The application role kept table-wide INSERT and UPDATE on tenants and api_keys from V1, while the
-- service only ever revokes a key (revoked_at) and changes a tenant's name and settings; tenants
-- are inserted and activated by provisioning, as the owner. With table-wide UPDATE, one wrong (or
-- hostile) statement on the application's connection could move a key to another tenant, give it
-- roles, replace its secret, extend its expiry or bring a revoked key back, and authentication
-- would trust the row. Now the database refuses all of that; PlatformGrantsIT proves it alone.

REVOKE INSERT, UPDATE ON tenants FROM ${app_role};
GRANT UPDATE (name, settings, updated_at) ON tenants TO ${app_role};

REVOKE UPDATE ON api_keys FROM ${app_role};
GRANT UPDATE (revoked_at) ON api_keys TO ${app_role};

-- Revoking is for good and at once: a revoked key is never un-revoked, and revoked_at is the
-- moment of revocation, never a later one (a future revoked_at would read as revoked only by
-- convention). Owned by the owner; binds the owner too (DELETE of the row stays possible).
CREATE FUNCTION api_keys_revocation_is_final() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
    RAISE EXCEPTION 'a revoked API key stays revoked' USING ERRCODE = '42501';
  END IF;
  IF NEW.revoked_at IS NOT NULL AND NEW.revoked_at > now() THEN
    RAISE EXCEPTION 'an API key is revoked now, not later' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION api_keys_revocation_is_final() FROM PUBLIC;

CREATE TRIGGER api_keys_revocation_is_final BEFORE UPDATE OF revoked_at ON api_keys
  FOR EACH ROW EXECUTE FUNCTION api_keys_revocation_is_final();
