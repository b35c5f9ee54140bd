-- A patient whose Patient resource is deleted does not exist for the read path: its search requires
-- the Patient resource, not deleted, and answers the one 404 of API.md. The research path had no such
-- condition: the patient's other resources (an Observation, a note) keep their chunks when only the
-- Patient is deleted, and with the consent still on record research search went on returning them.
--
-- Now the research role sees a chunk only while its patient's Patient resource exists and is not
-- deleted. The research role is given no right on resources: a view owned by the migration role
-- (it reads with its owner's rights; security_barrier, so no condition of a caller's runs before its
-- own) lists the ids of the Patient resources on record, and only while the transaction presents a
-- live researcher key of the tenant, as the chunks and consents require (tenant migrations 27 and
-- 55). The owner, whom FORCE ROW LEVEL SECURITY binds too, sees the Patient rows for it only under
-- the research path's own setting. The restrictive policy below is planned into the research search
-- as a join on the resources' primary key, not a function call a row. RowSecurityAloneIT proves it
-- alone.
CREATE POLICY resources_research_patients ON resources FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'research' AND resource_type = 'Patient');

CREATE VIEW research_patients_on_record WITH (security_barrier) AS
  SELECT r.resource_id AS patient_id
  FROM resources r
  WHERE r.resource_type = 'Patient' AND NOT r.deleted
    AND EXISTS (SELECT 1 FROM caller_key k WHERE k.roles && '{researcher}'::text[]);
GRANT SELECT ON research_patients_on_record TO ${research_role};

CREATE POLICY chunks_research_patient_on_record ON chunks AS RESTRICTIVE FOR SELECT TO ${research_role}
  USING (EXISTS (SELECT 1 FROM research_patients_on_record p WHERE p.patient_id = chunks.patient_id));
