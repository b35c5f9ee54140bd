-- Every numeric tenant setting is a whole number, but a client could send one as 7.0 or 1e3, and
-- before the admin API wrote such a number as the whole number it is, the settings stored it as
-- 7.0: a typed client could no longer read the tenant's configuration, and an embedding's
-- dimensions of 1536.0 compared unequal to 1536. The application then rewrote the stored settings'
-- numbers on every request that read them. Now they are rewritten here, once: every number in a
-- tenant's settings, at any depth (rolePolicies' kMax, an llm endpoint's timeoutSeconds), that equals
-- its integer part, as that integer; fractions, strings, booleans and the order of arrays stay as
-- they are. The application takes stored settings as they are, and writes whole numbers as such
-- (TenantSettings.merge).
--
-- jsonb compares 7.0 and 7 as equal, so the rows to rewrite are found by their text. updated_at stays:
-- the values are the same, the tenant did not change. As the owner, which platform migration 5 does not
-- bind, so no tenant-settings row is needed (and none would be true: nobody changed a setting). Platform
-- migration 9's check is off for the rewrite alone, in this transaction: it refuses any new settings for
-- a tenant that stored a policy for a role without a default before that migration (the database
-- already ignores such a policy), and the rewrite changes how numbers are written, not what the
-- settings allow. The role scopes follow the settings as on every change, and come out the same.

CREATE FUNCTION settings_whole_numbers(v jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT CASE jsonb_typeof(v)
           WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(e.key, ${flyway:defaultSchema}.settings_whole_numbers(e.value)),
                                               '{}'::jsonb)
                               FROM jsonb_each(v) AS e)
           WHEN 'array' THEN (SELECT coalesce(jsonb_agg(${flyway:defaultSchema}.settings_whole_numbers(e.value) ORDER BY e.n),
                                              '[]'::jsonb)
                              FROM jsonb_array_elements(v) WITH ORDINALITY AS e(value, n))
           WHEN 'number' THEN CASE WHEN (v #>> '{}')::numeric = trunc((v #>> '{}')::numeric)
                                   THEN to_jsonb(trunc((v #>> '{}')::numeric)) ELSE v END
           ELSE v
         END
$$;

ALTER TABLE tenants DISABLE TRIGGER tenants_role_policies_within_limits;

UPDATE tenants SET settings = settings_whole_numbers(settings)
WHERE settings::text <> settings_whole_numbers(settings)::text;

ALTER TABLE tenants ENABLE TRIGGER tenants_role_policies_within_limits;

DROP FUNCTION settings_whole_numbers(jsonb);
