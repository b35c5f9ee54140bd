-- A patient asks for the accounting of disclosures (HIPAA §164.528) under the hospital's MRN, which is
-- what the patient and the privacy office know; the trail names patients by FHIR id only, and the audit
-- role could not read the identifier index, so an auditor had to get the id from the EHR first.
--
-- The audit role may now read the identifier index of Patient resources alone, while it presents a live
-- auditor key of this tenant (cc.key, cc.key_hash, as its reads of the trail do: tenant migration 34).
-- The index holds no identifier: value_hash is the tenant-keyed HMAC of "system|value" that the write
-- path made (tenant migration 3), so the service hashes the MRN it was given with the tenant's key and
-- asks for the ids under that hash. Nothing else of the index (a Practitioner's NPI, a Coverage's member
-- id) and no resource is opened to the role.
GRANT SELECT ON resource_identifiers TO ${audit_role};
CREATE POLICY resource_identifiers_audit_patients ON resource_identifiers FOR SELECT TO ${audit_role}
  USING (resource_type = 'Patient' AND current_setting('cc.access', true) = 'audit'
         AND (SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{auditor}'::text[])));
