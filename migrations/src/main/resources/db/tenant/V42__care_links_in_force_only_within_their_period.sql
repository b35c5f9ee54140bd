-- A CareTeam's period, and each participant's, bound the care relationship it states: a review found
-- a team whose period ended in 2018, and a participant who left in 2016, still admitting the
-- practitioner to the patient's context, and a proposed team (not yet caring) admitting its members.
-- Each link now carries the bounds of its period (inclusive at their precision, computed when the
-- resource is written), and the read path's role sees a link only inside them, so a relationship
-- ends when its period does without the resource being sent again. Only the read path is bounded:
-- the worker and the write path still see every link (they replace a resource's links whole), and
-- de-identification still strips an ended team's practitioners' names.
ALTER TABLE care_links ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz;

CREATE POLICY care_links_in_force ON care_links AS RESTRICTIVE FOR SELECT TO ${reader_role}
  USING ((valid_from IS NULL OR valid_from <= now()) AND (valid_until IS NULL OR valid_until > now()));

-- CareTeam links stored before this migration carry no period, and a proposed team's exist: the
-- embedding worker derives them again from their CareTeam at its next start (tenant migration 25's
-- mechanism), queued like a re-embedding.
UPDATE care_links SET status_checked = NULL WHERE source_type = 'CareTeam';
