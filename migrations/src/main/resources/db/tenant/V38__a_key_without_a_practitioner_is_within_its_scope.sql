-- A clinician key made without a practitionerId, in a tenant where the care relationship applies,
-- asks with cc.practitioner = '' (it names no one). Tenant migration 36 compared that with the key's
-- practitioner, NULL, which is never equal: the request was refused as outside the key's scope, and
-- audited as scope_not_admitted, the reason kept for a fault of the application's. The true reason is
-- that such a key has no care relationship with anyone. '' is now within the scope of a key without
-- a practitioner; it grants nothing, since no care link names '' (practitioner ids are FHIR ids), so
-- the chunk policy's care condition (tenant migration 26) still hides every row, and the read path
-- records no_care_relationship. '*' (none required) is unchanged: still only where the role or the
-- tenant requires no care relationship, or on break-glass inside an open window.
CREATE OR REPLACE FUNCTION read_scope_admitted() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM ${tenant_schema}.caller_scope s
    WHERE s.admits
      AND (current_setting('cc.practitioner', true) = coalesce(s.practitioner_id, '')
           OR current_setting('cc.practitioner', true) = '*'
              AND (NOT s.care
                   OR current_setting('cc.purpose', true) = 'ETREAT'
                      AND EXISTS (SELECT 1 FROM ${tenant_schema}.break_glass b
                                  WHERE b.patient_id = current_setting('cc.subject', true)
                                    AND b.expires_at > now()))));
END
$$;

-- That '' grants nothing rests on no care link naming ''. The ingest derives links from references
-- that must be FHIR ids, so there is none; the database now refuses one as well.
DELETE FROM care_links WHERE practitioner_id = '';
ALTER TABLE care_links ADD CONSTRAINT care_links_name_a_practitioner CHECK (practitioner_id <> '');
