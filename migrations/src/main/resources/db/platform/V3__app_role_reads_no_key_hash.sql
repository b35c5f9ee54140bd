-- The application role read every key's secret hash (table-wide SELECT on api_keys) to compare it
-- with the hash of a presented secret. Since tenant migration 27 that hash is what a read
-- transaction presents to the database for the request's key, so any statement on the
-- application's connection that read the hashes could have presented any key of any tenant.
--
-- Now the application role reads every column of a key but its hash, and authentication asks the
-- database whether the hash of a presented secret is a key's (api_key_secret_matches: yes or no
-- for one key id; a SHA-256 of a 256-bit secret cannot be guessed through it). Keys are still
-- added with their hash (INSERT needs no SELECT). PlatformGrantsIT proves it alone.

REVOKE SELECT ON api_keys FROM ${app_role};
GRANT SELECT (key_id, tenant_id, principal, roles, practitioner_id, created_at, expires_at, revoked_at)
  ON api_keys TO ${app_role};

-- PL/pgSQL, not SQL: PostgreSQL keeps a PL/pgSQL function's plan for the session, and plans a SQL
-- function's body anew on every call that it cannot inline (a SECURITY DEFINER one never is).
CREATE FUNCTION api_key_secret_matches(p_key_id text, p_secret_hash bytea) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.api_keys k
                 WHERE k.key_id = p_key_id AND k.secret_hash = p_secret_hash);
END
$$;
REVOKE ALL ON FUNCTION api_key_secret_matches(text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_secret_matches(text, bytea) TO ${app_role};
