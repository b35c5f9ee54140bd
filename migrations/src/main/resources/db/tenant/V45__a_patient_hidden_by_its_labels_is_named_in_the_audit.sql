-- The read path's role sees a Patient resource only when its labels are within the request's (V20):
-- a patient whose registration itself is labelled (PSY, SUD: being a patient of a programme can be
-- the secret) does not exist for a role that may not read that label. The caller's answer is right
-- (the one 404 of API.md), but the audit row said unknown_patient, for a patient that exists: the
-- reviewer of a denial could not tell a mistyped id from a label the role may not read.
--
-- One more fact for the deny path's statement (never read when chunks come back): whether the
-- patient in hand (cc.subject, one of cc.patients) exists and is not deleted, whatever its labels. A
-- boolean about the request's own patient, nothing of the row. It runs as the owner, whom FORCE ROW
-- LEVEL SECURITY binds too: cc.access is set to 'subject-exists' for the call (put back before it
-- returns), under which the policy below shows the owner the Patient rows.
CREATE POLICY resources_subject_exists ON resources FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'subject-exists' AND resource_type = 'Patient');

CREATE FUNCTION subject_exists_whatever_its_labels() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prior text := current_setting('cc.access', true);
  subject text := current_setting('cc.subject', true);
  found boolean;
BEGIN
  IF prior IS DISTINCT FROM 'read' OR subject IS NULL
     OR NOT subject = ANY (string_to_array(current_setting('cc.patients', true), ',')) THEN
    RETURN false;
  END IF;
  PERFORM set_config('cc.access', 'subject-exists', true);
  SELECT EXISTS (SELECT 1 FROM ${tenant_schema}.resources r
                 WHERE r.resource_type = 'Patient' AND r.resource_id = subject AND NOT r.deleted) INTO found;
  PERFORM set_config('cc.access', prior, true);
  RETURN found;
END
$$;
REVOKE ALL ON FUNCTION subject_exists_whatever_its_labels() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION subject_exists_whatever_its_labels() TO ${reader_role};
