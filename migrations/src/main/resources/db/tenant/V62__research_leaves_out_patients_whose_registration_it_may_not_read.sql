-- A patient whose registration is itself labelled (a Patient resource marked PSY, SUD, R: being a
-- patient of the programme can be the secret) does not exist for a role that may not read that label:
-- the read path's search requires the Patient resource within the request's labels (V20, V45), and a
-- researcher's chat by that patient's subject code answers the one 404 (patient_label_not_readable).
-- Research search required only that the Patient be on record and not deleted (V56): it returned such
-- a patient's unlabelled chunks (its labs, its medications) to a researcher whose labels are N alone,
-- and issued the patient a subject code.
--
-- Now the research role's patients on record are those whose Patient resource's labels are all within
-- the request's labels (cc.labels), as its chunks' own labels are (V18). The view keeps its columns, its
-- owner, its grant and security_barrier; only its condition grows.
CREATE OR REPLACE VIEW research_patients_on_record WITH (security_barrier) AS
  SELECT r.resource_id AS patient_id
  FROM resources r
  WHERE r.resource_type = 'Patient' AND NOT r.deleted
    AND r.security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[])
    AND EXISTS (SELECT 1 FROM caller_key k WHERE k.roles && '{researcher}'::text[]);
