-- A research search names no one patient (its patient_id is null), yet it returned de-identified
-- chunks of several, under subject codes the platform maps back to them: a patient's accounting of
-- disclosures (GET /audit?patient=, HIPAA 164.528) missed it. Its row now names them in its details
-- ({"patients":["p1",...]}, ids as patient_id holds them), and the listing finds a patient's research
-- rows through this index. Partial: only research rows pay for it on the audit append, which the
-- context path runs thousands of times a second; every other row only evaluates the predicate.
-- The listing's expression is this one (AuditLog.RESEARCH_PATIENTS).
CREATE INDEX audit_log_research_patients_idx ON audit_log USING gin (((details::jsonb) -> 'patients'))
  WHERE action = 'research';
