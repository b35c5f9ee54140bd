-- A break-glass window was bound by the role's breakGlass.maxMinutes only when it opened: the read path
-- wrote expires_at from the policy of that moment, and the database honoured the window until then. A
-- tenant admin who lowered maxMinutes, or withdrew break-glass from a role, left every window already
-- open at its old length (an hour by default) for the keys holding that role.
--
-- Each role's scope now also says how long a window of the role may stay open: breakGlass.maxMinutes
-- when the role may break the glass (allowed, and ETREAT among its purposes), else 0. Tenant migration
-- 43 has the read path's policies honour a window only within the longest of these among the key's
-- roles, counted from when it opened, so a lower limit binds open windows from the commit of the
-- settings, in the database, whatever the window's row says. Kept by the same trigger as the rest of
-- the scope, in the same transaction as the settings.
ALTER TABLE role_scopes ADD COLUMN break_glass_minutes integer NOT NULL DEFAULT 0
  CHECK (break_glass_minutes BETWEEN 0 AND 1440);

-- A whole-number field as RolePolicy.merge reads it: the override's when it is a number, else the default's.
CREATE FUNCTION policy_minutes(override jsonb, base jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT least(greatest(CASE WHEN jsonb_typeof(override) = 'number' THEN floor(override::text::numeric)
                             WHEN jsonb_typeof(base) = 'number' THEN floor(base::text::numeric)
                             ELSE 0 END, 0), 1440)::integer
$$;

-- Platform migration 7's function, with the new column.
CREATE OR REPLACE FUNCTION refresh_role_scopes(p_tenant_id text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DELETE FROM ${flyway:defaultSchema}.role_scopes WHERE tenant_id = p_tenant_id;
  INSERT INTO ${flyway:defaultSchema}.role_scopes (tenant_id, role, purposes, categories, types, labels,
                                                    consent_labels, care, break_glass, overrides_consent, opt_out,
                                                    break_glass_minutes)
  SELECT t.tenant_id, r.role, s.purposes,
         ${flyway:defaultSchema}.policy_list(o.p -> 'categories', b.p -> 'categories'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'resourceTypes', b.p -> 'resourceTypes'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'labels', b.p -> 'labels'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'labelsWithConsent', b.p -> 'labelsWithConsent'),
         ${flyway:defaultSchema}.policy_flag(o.p -> 'careRelationship', b.p -> 'careRelationship')
           AND ${flyway:defaultSchema}.policy_flag(t.settings -> 'careRelationship', 'true'::jsonb),
         s.break_glass,
         ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'overrideConsent',
                                             b.p -> 'breakGlass' -> 'overrideConsent'),
         coalesce(t.settings ->> 'consentMode' = 'opt-out', false),
         CASE WHEN s.break_glass AND 'ETREAT' = ANY (s.purposes)
              THEN ${flyway:defaultSchema}.policy_minutes(o.p -> 'breakGlass' -> 'maxMinutes',
                                                          b.p -> 'breakGlass' -> 'maxMinutes')
              ELSE 0 END
  FROM ${flyway:defaultSchema}.tenants t
  CROSS JOIN LATERAL (
    SELECT role FROM ${flyway:defaultSchema}.role_defaults
    UNION
    SELECT jsonb_object_keys(CASE WHEN jsonb_typeof(t.settings -> 'rolePolicies') = 'object'
                                  THEN t.settings -> 'rolePolicies' ELSE '{}'::jsonb END)) AS r(role)
  CROSS JOIN LATERAL (SELECT coalesce((SELECT policy FROM ${flyway:defaultSchema}.role_defaults d
                                       WHERE d.role = r.role), '{}'::jsonb)) AS b(p)
  CROSS JOIN LATERAL (SELECT coalesce(t.settings -> 'rolePolicies' -> r.role, '{}'::jsonb)) AS o(p)
  CROSS JOIN LATERAL (SELECT ${flyway:defaultSchema}.policy_list(o.p -> 'purposes', b.p -> 'purposes'),
                             ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'allowed',
                                                                 b.p -> 'breakGlass' -> 'allowed'))
    AS s(purposes, break_glass)
  WHERE t.tenant_id = p_tenant_id;
$$;
REVOKE ALL ON FUNCTION refresh_role_scopes(text) FROM PUBLIC;

SELECT refresh_role_scopes(tenant_id) FROM tenants;
