-- The default policy of each role (API.md's role table), as the database's own copy, so that the read
-- path's RLS can bound what a request asks for by what its key's roles allow (tenant migration 36),
-- and each tenant's scope of each role computed from it (role_scopes, below).
-- The application keeps the same defaults in RolePolicy.DEFAULTS; RoleDefaultsIT fails when the two
-- differ, so a change to one is a new migration for the other. The shape is a tenant's
-- rolePolicies override's (the admin API's field names): a tenant's override replaces a field of the
-- default, breakGlass field by field, as RolePolicy.merge does. A role without a row has no default
-- (deny-all unless the tenant's settings give it a policy).
--
-- Owned by the migration role; the application role has no grant on these tables, so no code on the
-- application's connection can widen a default or a scope (only the tenant's settings, with their
-- audit row: platform migration 5).

CREATE TABLE role_defaults (
  role   text  PRIMARY KEY,
  policy jsonb NOT NULL CHECK (jsonb_typeof(policy) = 'object')
);

INSERT INTO role_defaults (role, policy) VALUES
  ('clinician', '{"categories":["demographic","clinical","lab","medication","note"],"resourceTypes":["*"],
    "purposes":["TREAT","ETREAT"],"labels":["N","R","V","HIV","PSY","ETH","SUD","SDV","STD"],"labelsWithConsent":[],
    "kMax":20,"careRelationship":true,"breakGlass":{"allowed":true,"overrideConsent":true,"maxMinutes":60},
    "deidentifiedOnly":false}'),
  ('care-coordinator', '{"categories":["demographic","clinical","lab","medication","note"],"resourceTypes":["*"],
    "purposes":["TREAT","HOPERAT"],"labels":["N","R"],"labelsWithConsent":["HIV","PSY","ETH","SUD","SDV","STD"],
    "kMax":10,"careRelationship":false,"breakGlass":{"allowed":false,"overrideConsent":false,"maxMinutes":0},
    "deidentifiedOnly":false}'),
  ('billing', '{"categories":["administrative"],"resourceTypes":["Coverage","Claim","ExplanationOfBenefit","Encounter"],
    "purposes":["HPAYMT","HOPERAT"],"labels":["N","R"],"labelsWithConsent":[],
    "kMax":10,"careRelationship":false,"breakGlass":{"allowed":false,"overrideConsent":false,"maxMinutes":0},
    "deidentifiedOnly":false}'),
  ('researcher', '{"categories":["demographic","clinical","lab","medication"],"resourceTypes":["*"],
    "purposes":["HRESCH"],"labels":["N"],"labelsWithConsent":[],
    "kMax":10,"careRelationship":false,"breakGlass":{"allowed":false,"overrideConsent":false,"maxMinutes":0},
    "deidentifiedOnly":true}');

-- Each tenant's effective scope of each role, as arrays: the default merged with the tenant's
-- rolePolicies override field by field (RolePolicy.merge), with the tenant's careRelationship and
-- consentMode. The read policies read one row a role of the presenting key (tenant migration 36).
-- Kept here rather than computed from the JSON on every search: parsing it there cost a search about
-- 120 µs of CPU (15 function calls), the core benchmark a third of its throughput.
--
-- Written only by the trigger below (as the owner: the application role, which changes a tenant's
-- settings, has no grant on this table), in the same transaction as the settings it follows, so the
-- two never disagree: a change of settings is in force in the database on its commit.
CREATE TABLE role_scopes (
  tenant_id         text    NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  role              text    NOT NULL,
  purposes          text[]  NOT NULL,
  categories        text[]  NOT NULL,
  types             text[]  NOT NULL,
  labels            text[]  NOT NULL,
  consent_labels    text[]  NOT NULL,
  -- the role's and the tenant's care relationship together: one is required only when both say so
  care              boolean NOT NULL,
  break_glass       boolean NOT NULL,
  overrides_consent boolean NOT NULL,
  -- the tenant's consent mode is opt-out
  opt_out           boolean NOT NULL,
  PRIMARY KEY (tenant_id, role)
);

-- A field as RolePolicy.merge reads it: the override's when it is a list (a boolean), else the default's.
CREATE FUNCTION policy_list(override jsonb, base jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN jsonb_typeof(override) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(override))
              WHEN jsonb_typeof(base) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(base))
              ELSE '{}'::text[] END
$$;

CREATE FUNCTION policy_flag(override jsonb, base jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN jsonb_typeof(override) = 'boolean' THEN override::boolean
              WHEN jsonb_typeof(base) = 'boolean' THEN base::boolean
              ELSE false END
$$;

-- The scopes of one tenant, from its settings as they are now: every role with a default, and every
-- role its rolePolicies name (a role without a default starts from nothing, as in RolePolicy.merge).
CREATE FUNCTION refresh_role_scopes(p_tenant_id text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DELETE FROM ${flyway:defaultSchema}.role_scopes WHERE tenant_id = p_tenant_id;
  INSERT INTO ${flyway:defaultSchema}.role_scopes (tenant_id, role, purposes, categories, types, labels,
                                                    consent_labels, care, break_glass, overrides_consent, opt_out)
  SELECT t.tenant_id, r.role,
         ${flyway:defaultSchema}.policy_list(o.p -> 'purposes', b.p -> 'purposes'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'categories', b.p -> 'categories'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'resourceTypes', b.p -> 'resourceTypes'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'labels', b.p -> 'labels'),
         ${flyway:defaultSchema}.policy_list(o.p -> 'labelsWithConsent', b.p -> 'labelsWithConsent'),
         ${flyway:defaultSchema}.policy_flag(o.p -> 'careRelationship', b.p -> 'careRelationship')
           AND ${flyway:defaultSchema}.policy_flag(t.settings -> 'careRelationship', 'true'::jsonb),
         ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'allowed', b.p -> 'breakGlass' -> 'allowed'),
         ${flyway:defaultSchema}.policy_flag(o.p -> 'breakGlass' -> 'overrideConsent',
                                             b.p -> 'breakGlass' -> 'overrideConsent'),
         coalesce(t.settings ->> 'consentMode' = 'opt-out', false)
  FROM ${flyway:defaultSchema}.tenants t
  CROSS JOIN LATERAL (
    SELECT role FROM ${flyway:defaultSchema}.role_defaults
    UNION
    SELECT jsonb_object_keys(CASE WHEN jsonb_typeof(t.settings -> 'rolePolicies') = 'object'
                                  THEN t.settings -> 'rolePolicies' ELSE '{}'::jsonb END)) AS r(role)
  CROSS JOIN LATERAL (SELECT coalesce((SELECT policy FROM ${flyway:defaultSchema}.role_defaults d
                                       WHERE d.role = r.role), '{}'::jsonb)) AS b(p)
  CROSS JOIN LATERAL (SELECT coalesce(t.settings -> 'rolePolicies' -> r.role, '{}'::jsonb)) AS o(p)
  WHERE t.tenant_id = p_tenant_id;
$$;
REVOKE ALL ON FUNCTION refresh_role_scopes(text) FROM PUBLIC;

CREATE FUNCTION tenants_role_scopes_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM ${flyway:defaultSchema}.refresh_role_scopes(NEW.tenant_id);
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tenants_role_scopes_follow() FROM PUBLIC;

CREATE TRIGGER tenants_role_scopes_follow AFTER INSERT OR UPDATE OF settings ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenants_role_scopes_follow();

SELECT refresh_role_scopes(tenant_id) FROM tenants;
