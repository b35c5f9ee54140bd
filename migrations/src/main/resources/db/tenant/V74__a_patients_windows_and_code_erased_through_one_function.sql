-- Tenant migration 73 let a patient's erasure remove the patient's break-glass windows and research
-- subject code by granting the tenant role (the write path) SELECT and DELETE on break_glass and
-- research_subjects, admitted by policies only for the erased patient and a live tenant-admin key. That
-- undid two rules the grant layer held on its own, below every policy: the write path has no right on
-- break-glass windows (tenant migration 21) nor on research subject codes (tenant migration 48); a policy
-- wrong in a later migration would have exposed them to every write.
--
-- The grants and those four policies go. The erasure removes the two kinds of rows through one function,
-- which runs as the owner and can do nothing else: it removes the windows and the code of the patient the
-- transaction's cc.erase names, and only while the transaction runs the write path (cc.access 'ingest')
-- and presents a live tenant-admin key of the tenant (caller_key); otherwise it removes nothing. It
-- returns how many of each it removed. Only the tenant role may call it. As shorten_break_glass_windows()
-- (tenant migration 43) it sets cc.access for its own statements (put back before it returns), under
-- which the two policies below show the owner, whom FORCE ROW LEVEL SECURITY binds, the rows.

REVOKE SELECT, DELETE ON break_glass, research_subjects FROM ${tenant_role};
DROP POLICY break_glass_erased_with_the_patient_read ON break_glass;
DROP POLICY break_glass_erased_with_the_patient ON break_glass;
DROP POLICY research_subjects_erased_with_the_patient_read ON research_subjects;
DROP POLICY research_subjects_erased_with_the_patient ON research_subjects;

CREATE POLICY break_glass_erased_with_the_patient ON break_glass TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'patient-erase');
CREATE POLICY research_subjects_erased_with_the_patient ON research_subjects TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'patient-erase');

CREATE FUNCTION erase_patient_windows_and_code(OUT windows bigint, OUT codes bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prior text := current_setting('cc.access', true);
  patient text := nullif(current_setting('cc.erase', true), '');
BEGIN
  windows := 0;
  codes := 0;
  IF prior IS DISTINCT FROM 'ingest' OR patient IS NULL
     OR NOT EXISTS (SELECT 1 FROM ${tenant_schema}.caller_key WHERE roles && '{tenant-admin}'::text[]) THEN
    RETURN;
  END IF;
  PERFORM set_config('cc.access', 'patient-erase', true);
  DELETE FROM ${tenant_schema}.break_glass WHERE patient_id = patient;
  GET DIAGNOSTICS windows = ROW_COUNT;
  DELETE FROM ${tenant_schema}.research_subjects WHERE patient_id = patient;
  GET DIAGNOSTICS codes = ROW_COUNT;
  PERFORM set_config('cc.access', prior, true);
END
$$;
REVOKE ALL ON FUNCTION erase_patient_windows_and_code() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION erase_patient_windows_and_code() TO ${tenant_role};
