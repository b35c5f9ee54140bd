-- Platform migration 9 kept a role the platform serves de-identified only (researcher) de-identified,
-- but a tenant admin could still give it any other purpose and break-glass:
-- {"researcher":{"purposes":["HRESCH","TREAT","ETREAT"],"breakGlass":{"allowed":true,"overrideConsent":true}}}
-- was stored, and the role's scope then admitted a researcher key's reads under treatment purposes, and
-- under ETREAT with a break-glass window that overrides consent: the (de-identified) records of patients
-- who never consented to research. Break-glass exists for emergency treatment; research use without the
-- patient's consent needs more than a tenant admin's setting.
--
-- Now these limits are the platform's too, for every role whose default is deidentifiedOnly:
--
--  * its purposes are research purposes only. Of HL7 v3 PurposeOfUse that is HRESCH (healthcare research)
--    here: its specialisations (CLINTRCH, BIORCH, ...) are research too, but the read path asks for none
--    of them (the application refuses any purpose but TREAT, ETREAT, HPAYMT, HOPERAT and HRESCH), so the
--    database admits none either; a release whose read path asks for one widens research_purposes().
--  * it may not break the glass: neither breakGlass.allowed nor breakGlass.overrideConsent is true.
--
-- The trigger of platform migration 9 refuses settings that say otherwise (whoever writes them: the
-- application role or the owner); the application refuses the same settings with a 400 first.
--
-- Settings stored before this migration are left as they are (this migration writes no tenant's settings:
-- a change of what they allow needs the tenant's audit row, platform migration 5), but they grant nothing
-- beyond the limits any more: refresh_role_scopes gives such a role only the research purposes among those
-- stored, and no break-glass (so no window of the role is honoured, tenant migration 43), and the application
-- takes such a stored policy as invalid (its keys are answered 503 tenant_misconfigured until a tenant admin
-- corrects it). As with migration 9's limits, the trigger refuses any new settings for such a tenant until
-- the policy is corrected.

-- The purposes a de-identified-only role may have.
CREATE FUNCTION research_purposes() RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT '{HRESCH}'::text[]
$$;

-- Platform migration 9's check, with the limits above.
-- SECURITY DEFINER: it reads role_defaults, on which the application role has no grant.
CREATE OR REPLACE FUNCTION tenants_role_policies_within_limits() RETURNS trigger
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
  -- an element that is not a string (a number, an object) is not a research purpose either
  IF EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.role_defaults d
             CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(policies -> d.role -> 'purposes') = 'array'
                                                          THEN policies -> d.role -> 'purposes'
                                                          ELSE '[]'::jsonb END) AS p(purpose)
             WHERE d.policy -> 'deidentifiedOnly' = 'true'::jsonb
               AND (jsonb_typeof(p.purpose) IS DISTINCT FROM 'string'
                    OR (p.purpose #>> '{}') <> ALL (${flyway:defaultSchema}.research_purposes()))) THEN
    RAISE EXCEPTION 'role_policies_within_the_platforms_limits: settings give a role the platform serves de-identified only a purpose other than research'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'role_policies_within_the_platforms_limits';
  END IF;
  IF EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.role_defaults d
             WHERE d.policy -> 'deidentifiedOnly' = 'true'::jsonb
               AND (policies -> d.role -> 'breakGlass' -> 'allowed' = 'true'::jsonb
                    OR policies -> d.role -> 'breakGlass' -> 'overrideConsent' = 'true'::jsonb)) THEN
    RAISE EXCEPTION 'role_policies_within_the_platforms_limits: settings let a role the platform serves de-identified only break the glass'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'role_policies_within_the_platforms_limits';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION tenants_role_policies_within_limits() FROM PUBLIC;

-- Platform migration 9's function, with a de-identified-only role held to the limits above whatever
-- the stored settings say: its research purposes only, in their stored order, and no break-glass.
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
                                             d.policy -> 'breakGlass' -> 'overrideConsent')
           AND NOT x.deidentified,
         coalesce(t.settings ->> 'consentMode' = 'opt-out', false),
         CASE WHEN s.break_glass AND 'ETREAT' = ANY (s.purposes)
              THEN ${flyway:defaultSchema}.policy_minutes(o.p -> 'breakGlass' -> 'maxMinutes',
                                                          d.policy -> 'breakGlass' -> 'maxMinutes')
              ELSE 0 END
  FROM ${flyway:defaultSchema}.tenants t
  CROSS JOIN ${flyway:defaultSchema}.role_defaults d
  CROSS JOIN LATERAL (SELECT coalesce(t.settings -> 'rolePolicies' -> d.role, '{}'::jsonb)) AS o(p)
  CROSS JOIN LATERAL (SELECT coalesce(d.policy -> 'deidentifiedOnly' = 'true'::jsonb, false)) AS x(deidentified)
  CROSS JOIN LATERAL (SELECT ${flyway:defaultSchema}.policy_list(o.p -> 'purposes', d.policy -> 'purposes'),
                             ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'allowed',
                                                                 d.policy -> 'breakGlass' -> 'allowed'))
    AS w(purposes, break_glass)
  CROSS JOIN LATERAL (SELECT CASE WHEN x.deidentified
                                  THEN ARRAY(SELECT u.purpose FROM unnest(w.purposes) WITH ORDINALITY AS u(purpose, n)
                                             WHERE u.purpose = ANY (${flyway:defaultSchema}.research_purposes())
                                             ORDER BY u.n)
                                  ELSE w.purposes END,
                             w.break_glass AND NOT x.deidentified)
    AS s(purposes, break_glass)
  WHERE t.tenant_id = p_tenant_id;
$$;
REVOKE ALL ON FUNCTION refresh_role_scopes(text) FROM PUBLIC;

SELECT refresh_role_scopes(tenant_id) FROM tenants;
