-- The default policy of each role (API.md's role table), as the database's own copy, so that the read
-- path's RLS can bound what a request asks for by what its key's roles allow (tenant migration 36).
-- The application keeps the same defaults in RolePolicy.DEFAULTS; RoleDefaultsIT fails when the two
-- differ, so a change to one is a new migration for the other. The shape is a tenant's
-- rolePolicies override's (the admin API's field names): a tenant's override replaces a field of the
-- default, breakGlass field by field, as RolePolicy.merge does. A role without a row has no default
-- (deny-all unless the tenant's settings give it a policy).
--
-- Owned by the migration role; the application role has no grant on it, so no code on the
-- application's connection can widen a default.

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
