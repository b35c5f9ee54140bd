-- FHIR reads (read and vread) answered whole resources, every PHI element of them, from a
-- transaction of the write path's role, which sees every row of the tenant and which the embedding
-- worker also uses without any request. So the database could not tell a read for an EHR
-- integration's key from any other use of that role, and a wrong line that chose the tenant (or
-- skipped the role check) would have read another tenant's records whole.
--
-- They get a role of their own (<prefix>_fhir_<id>): it may read resources and their versions and
-- nothing else, and only while the transaction presents a live key of this tenant with the
-- ehr-integration role (the caller_key view of V27). No write, no chunks, no consents, no audit.
GRANT USAGE ON SCHEMA ${tenant_schema} TO ${fhir_reader_role};
GRANT SELECT ON resources, resource_versions, caller_key TO ${fhir_reader_role};
CREATE POLICY resources_fhir_read ON resources FOR SELECT TO ${fhir_reader_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
CREATE POLICY resource_versions_fhir_read ON resource_versions FOR SELECT TO ${fhir_reader_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
