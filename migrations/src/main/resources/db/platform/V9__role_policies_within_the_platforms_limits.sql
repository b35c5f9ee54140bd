-- A tenant's rolePolicies widen or narrow a role's defaults, but some limits are the platform's
-- (API.md's role table), not a tenant admin's to lift:
--
--  * tenant-admin, auditor and ehr-integration read no patient context. rolePolicies took them (they
--    are roles the application knows), and an override such as
--    {"tenant-admin":{"categories":["clinical"],"purposes":["TREAT"],"careRelationship":false}} gave the
--    admin's own key every patient's context: refresh_role_scopes made a scope for any role the
--    settings named, so the database admitted it too.
--  * a role the platform serves de-identified only (researcher) is never re-identified:
--    {"researcher":{"deidentifiedOnly":false}} had researcher keys read identified context and
--    re-identified chat answers.
--
-- The database now refuses settings that do either (whoever writes them: the application role or the
-- owner), and a role without a default gets no scope, whatever settings stored before this migration say,
-- so the read policies admit nothing for it. The application refuses the same settings with a 400 first.

-- SECURITY DEFINER: it reads role_defaults, on which the application role has no grant.
CREATE FUNCTION tenants_role_policies_within_limits() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  policies jsonb := NEW.settings -> 'rolePolicies';
BEGIN
  IF jsonb_typeof(policies) IS DISTINCT FROM 'object' THEN
    RETURN NEW;
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_object_keys(policies) AS k(role)
             WHERE NOT EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.role_defaults d WHERE d.role = k.role)) THEN
    RAISE EXCEPTION 'role_policies_within_the_platforms_limits: settings give a role that reads no patient data a role policy'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'role_policies_within_the_platforms_limits';
  END IF;
  IF EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.role_defaults d
             WHERE d.policy -> 'deidentifiedOnly' = 'true'::jsonb
               AND policies -> d.role -> 'deidentifiedOnly' = 'false'::jsonb) THEN
    RAISE EXCEPTION 'role_policies_within_the_platforms_limits: settings re-identify a role the platform serves de-identified only'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'role_policies_within_the_platforms_limits';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION tenants_role_policies_within_limits() FROM PUBLIC;

CREATE TRIGGER tenants_role_policies_within_limits BEFORE INSERT OR UPDATE OF settings ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenants_role_policies_within_limits();

-- Platform migration 8's function, for the roles with a default only (it also made a scope for every
-- role the settings' rolePolicies named).
CREATE OR REPLACE FUNCTION refresh_role_scopes(p_tenant_id text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DELETE FROM ${flyway:defaultSchema}.role_scopes WHERE tenant_id = p_tenant_id;
  INSERT INTO ${flyway:defaultSchema}.role_scopes (tenant_id, role, purposes, categories, types, labels,
                                                    consent_labels, care, break_glass, overrides_consent, opt_out,
                                                    break_glass_minutes)
  SELECT t.tenant_id, d.role, s.purposes,
         ${flyway:defaultSchema}.policy_list(o.p -> 'categories', d.policy -> 'categories'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'resourceTypes', d.policy -> 'resourceTypes'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'labels', d.policy -> 'labels'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'labelsWithConsent', d.policy -> 'labelsWithConsent'),
         ${flyway:defaultSchema}.policy_flag(o.p -> 'careRelationship', d.policy -> 'careRelationship')
           AND ${flyway:defaultSchema}.policy_flag(t.settings -> 'careRelationship', 'true'::jsonb),
         s.break_glass,
         ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'overrideConsent',
                                             d.policy -> 'breakGlass' -> 'overrideConsent'),
         coalesce(t.settings ->> 'consentMode' = 'opt-out', false),
         CASE WHEN s.break_glass AND 'ETREAT' = ANY (s.purposes)
              THEN ${flyway:defaultSchema}.policy_minutes(o.p -> 'breakGlass' -> 'maxMinutes',
                                                          d.policy -> 'breakGlass' -> 'maxMinutes')
              ELSE 0 END
  FROM ${flyway:defaultSchema}.tenants t
  CROSS JOIN ${flyway:defaultSchema}.role_defaults d
  CROSS JOIN LATERAL (SELECT coalesce(t.settings -> 'rolePolicies' -> d.role, '{}'::jsonb)) AS o(p)
  CROSS JOIN LATERAL (SELECT ${flyway:defaultSchema}.policy_list(o.p -> 'purposes', d.policy -> 'purposes'),
                             ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'allowed',
                                                                 d.policy -> 'breakGlass' -> 'allowed'))
    AS s(purposes, break_glass)
  WHERE t.tenant_id = p_tenant_id;
$$;
REVOKE ALL ON FUNCTION refresh_role_scopes(text) FROM PUBLIC;

SELECT refresh_role_scopes(tenant_id) FROM tenants;
