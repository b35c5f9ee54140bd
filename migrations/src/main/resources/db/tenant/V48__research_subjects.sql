-- A researcher receives de-identified data only, but its chat named the patient by the path's id,
-- which the researcher chose: a patient id (often the EHR's MRN, an identifier under Safe Harbor)
-- sent by someone who knows whose it is, answered with that patient's de-identified record, is that
-- person's record; and 200 against 404 told which ids belong to patients who consented to research.
--
-- A researcher now names a patient by a research subject code the platform issued: research search
-- gives each patient it returns one (random, derived from nothing about the patient, the same in every
-- later search, so a researcher can follow a subject from search to chat), and the chat of a role
-- served de-identified only takes a code, never a patient id. Only the platform knows which patient
-- a code stands for; the audit trail records the patient.
CREATE TABLE research_subjects (
  patient_id text PRIMARY KEY,
  code       text NOT NULL UNIQUE CHECK (code ~ '^R[0-9A-F]{15}$')
);
GRANT SELECT, INSERT ON research_subjects TO ${research_role};
GRANT SELECT ON research_subjects TO ${reader_role};
ALTER TABLE research_subjects ENABLE ROW LEVEL SECURITY;
ALTER TABLE research_subjects FORCE ROW LEVEL SECURITY;
-- Issued and read by research search, for a key with the researcher role the database admits.
CREATE POLICY research_subjects_issued ON research_subjects TO ${research_role}
  USING (current_setting('cc.access', true) = 'research'
         AND EXISTS (SELECT 1 FROM caller_key k WHERE k.roles && ARRAY['researcher']))
  WITH CHECK (current_setting('cc.access', true) = 'research'
              AND EXISTS (SELECT 1 FROM caller_key k WHERE k.roles && ARRAY['researcher']));
-- Resolved by the chat path, for such a key only: no other caller learns which patient a code names.
CREATE POLICY research_subjects_resolved ON research_subjects FOR SELECT TO ${reader_role}
  USING (current_setting('cc.access', true) = 'read'
         AND EXISTS (SELECT 1 FROM caller_key k WHERE k.roles && ARRAY['researcher']));
