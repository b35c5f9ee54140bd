-- Break-glass windows name a key and a patient. The read path's role could read and open them for
-- every patient of the tenant, and the write path's role (which has not used them since the read
-- path got its own role in V12) still held its V4 grants. A read transaction opens or checks the
-- window of the one patient it asks about (cc.patients): the database now refuses it the windows
-- of every other patient, and the write path all of them.
REVOKE ALL ON break_glass FROM ${tenant_role};
ALTER TABLE break_glass ENABLE ROW LEVEL SECURITY;
ALTER TABLE break_glass FORCE ROW LEVEL SECURITY;
CREATE POLICY break_glass_of_the_query ON break_glass TO ${reader_role}
  USING (patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[]))
  WITH CHECK (patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[]));
