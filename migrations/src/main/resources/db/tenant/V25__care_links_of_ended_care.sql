-- A CareTeam that is inactive or entered in error, and an Encounter that was cancelled or entered
-- in error, state no care relationship (CareLinks, since this version). Links such resources made
-- under earlier versions would still admit their practitioners, until the resource is written
-- again: the statuses are inside the encrypted bodies, so no statement here can find them.
--
-- Rows stored before this migration have status_checked NULL; rows written from now on true. The
-- embedding worker, at start, queues the CareTeams and Encounters that still have such rows; when
-- it processes one it replaces the resource's links with what the resource states now, and the
-- queue entry goes. Nothing else reads the column.
ALTER TABLE care_links ADD COLUMN status_checked boolean;
ALTER TABLE care_links ALTER COLUMN status_checked SET DEFAULT true;
