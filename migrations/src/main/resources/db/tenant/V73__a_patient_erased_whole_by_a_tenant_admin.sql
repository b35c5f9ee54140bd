-- A patient's erasure (POST /admin/tenants/{t}/patients/{id}/erase, PatientErasure): a privacy officer
-- removes everything the tenant holds of one patient (a chart misfiled into a test patient, a patient
-- withdrawn from AI use) in one transaction under the tenant role, the trail kept. A FHIR DELETE of
-- Patient/{id} removed that resource alone.
--
-- The erasure runs as the write path (cc.access = 'ingest') with the request's key presented and the
-- patient it erases named (cc.erase). The write path may already remove chunks, queue rows, consent
-- rows, care links and identifier keys of any resource (the worker derives them). What it could not:
--
-- * resources and their versions: removed by the tenant role only for a live EHR-integration key
--   (tenant migration 29). They may now also be removed for a live tenant-admin key of the tenant, and
--   then only the rows of the patient named in cc.erase: its compartment's resources (the Patient
--   itself, and every resource whose patient it is) and every version that named it or is a version of
--   such a resource (a delete's version names no patient). Inserting and updating stay the feed's.
-- * break-glass windows (no right since tenant migration 21) and research subject codes (the research
--   role's and the reader's, tenant migration 48): the tenant role gets SELECT and DELETE on them (a
--   DELETE with a WHERE reads the rows it removes), each admitted only for the erased patient's rows
--   and a live tenant-admin key. No INSERT or UPDATE: the erasure makes none.
--
-- The audit trail is not touched: its rows are appended by the audit role and removed only by the
-- retention purge (tenant migrations 57, 72); an erasure appends its own patient-erase row.

ALTER POLICY resources_delete_callers_key ON resources
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[]))
         OR ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[]))
             AND current_setting('cc.erase', true) IN
                 (patient_id, CASE WHEN resource_type = 'Patient' THEN resource_id END)));

ALTER POLICY resource_versions_delete_callers_key ON resource_versions
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[]))
         OR ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[]))
             AND (patient_id = current_setting('cc.erase', true)
                  OR EXISTS (SELECT 1 FROM resources r
                             WHERE r.resource_type = resource_versions.resource_type
                               AND r.resource_id = resource_versions.resource_id
                               AND current_setting('cc.erase', true) IN
                                   (r.patient_id, CASE WHEN r.resource_type = 'Patient' THEN r.resource_id END)))));

GRANT SELECT, DELETE ON break_glass, research_subjects TO ${tenant_role};
CREATE POLICY break_glass_erased_with_the_patient_read ON break_glass FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest' AND patient_id = current_setting('cc.erase', true)
         AND (SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[])));
CREATE POLICY break_glass_erased_with_the_patient ON break_glass FOR DELETE TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest' AND patient_id = current_setting('cc.erase', true)
         AND (SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[])));
CREATE POLICY research_subjects_erased_with_the_patient_read ON research_subjects FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest' AND patient_id = current_setting('cc.erase', true)
         AND (SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[])));
CREATE POLICY research_subjects_erased_with_the_patient ON research_subjects FOR DELETE TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest' AND patient_id = current_setting('cc.erase', true)
         AND (SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[])));
