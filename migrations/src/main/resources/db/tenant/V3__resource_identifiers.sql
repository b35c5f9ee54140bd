-- Identifier index for conditional creates (ifNoneExist) and conditional references
-- (Practitioner?identifier=system|value). The value is a tenant-keyed HMAC of "system|value",
-- so no clear identifier (MRN, SSN, NPI) is indexed.
CREATE TABLE resource_identifiers (
  resource_type text  NOT NULL,
  value_hash    bytea NOT NULL,
  resource_id   text  NOT NULL,
  PRIMARY KEY (resource_type, value_hash, resource_id)
);
CREATE INDEX resource_identifiers_resource_idx ON resource_identifiers (resource_type, resource_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON resource_identifiers TO ${tenant_role};
ALTER TABLE resource_identifiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_identifiers FORCE ROW LEVEL SECURITY;
CREATE POLICY resource_identifiers_ingest ON resource_identifiers TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
