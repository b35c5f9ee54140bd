-- Resources were written by the tenant role with no request behind it as far as the database could
-- tell: the role also serves the embedding worker, which has no request and no key. So a wrong line
-- that chose the tenant (the path's where the key's was meant) or skipped the role check would have
-- written one tenant's EHR feed into another tenant's records, and the database would have helped.
--
-- Now a resource row (and each of its versions) is written, changed or removed by the tenant role
-- only while the transaction presents a live key of this tenant with the ehr-integration role (the
-- caller_key view of V27; cc.key and cc.key_hash, as the FHIR reads of V28 present them). Every FHIR
-- write stores its resource row first, so a write without such a key stores nothing at all: its
-- consents, care links, identifiers and outbox rows go with the failed transaction.
--
-- Not bound: reads by the tenant role (the embedding worker reads every resource it chunks), and
-- chunks, consents, care links and the outbox, which the worker derives from stored resources.
GRANT SELECT ON caller_key TO ${tenant_role};
CREATE POLICY resources_insert_callers_key ON resources AS RESTRICTIVE FOR INSERT TO ${tenant_role}
  WITH CHECK ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
CREATE POLICY resources_update_callers_key ON resources AS RESTRICTIVE FOR UPDATE TO ${tenant_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])))
  WITH CHECK ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
CREATE POLICY resources_delete_callers_key ON resources AS RESTRICTIVE FOR DELETE TO ${tenant_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
CREATE POLICY resource_versions_insert_callers_key ON resource_versions AS RESTRICTIVE FOR INSERT TO ${tenant_role}
  WITH CHECK ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
CREATE POLICY resource_versions_update_callers_key ON resource_versions AS RESTRICTIVE FOR UPDATE TO ${tenant_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])))
  WITH CHECK ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
CREATE POLICY resource_versions_delete_callers_key ON resource_versions AS RESTRICTIVE FOR DELETE TO ${tenant_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])));
