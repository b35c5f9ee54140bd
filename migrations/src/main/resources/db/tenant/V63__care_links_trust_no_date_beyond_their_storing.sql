-- Three ways a care link stayed in force longer than today's rules allow.
--
-- 1. Dates in the future were trusted. An encounter under way whose start was typed 2099 was open
--    since 2099 (the later of its start and its storing, tenant migration 60), so it linked until
--    2099 plus the tenant's openEncounterMaxDays; a finished one ending 2099 linked until then plus the
--    follow-up; a planned one in 2099, or one under way whose stated end lies years ahead, likewise.
--    What the server knows is when the feed stored the encounter: an end after that is a promise, not
--    an event. So, on every write of an Encounter link (the trigger below, for the write path, the
--    worker and the copies through a PractitionerRole alike):
--    * open_since is no later than the time it is stored (an encounter under way counts its bound from
--      its storing, whatever start it names; CareLinks.of gives the storing, and the trigger takes the
--      time of the write for any open_since more than a day after it);
--    * a link whose end is still ahead when it is stored is also open since then (CareLinks.of gives
--      the storing time; without it, an end more than a day ahead, the trigger takes now()): it holds
--      until the earlier of its end
--      plus the follow-up and its storing plus openEncounterMaxDays, like an encounter under way, and
--      the feed keeps it by sending the encounter again. The read path's policy already holds such a
--      link to follow_up_until (tenant migration 60), and a change of either setting reaches it
--      (encounter_follow_up_changed()).
--    (A finished or unknown-status encounter's end is, besides, no later than its storing: the feed
--    said it was over then. CareLinks.of reads it so; the worker derives the stored ones again.)
--    CareTeam and PractitionerRole periods are not bounded so: a period without an end links while the
--    resource is active, and one ending 2099 links no longer than that (README, "Care relationships").
--
-- 2. A PractitionerRole's period stored before a date bound was read in the zone of the other bound
--    (FHIR per-1 fix, before tenant migration 59) was read in UTC: a role ending on a date, beside a
--    start with a time east of UTC, held up to 14 hours past its end (and one west of UTC began up to
--    12 hours early), and so did every copy of a link through it. The bodies are encrypted, so the
--    migration cannot read them again: every role stored so far is marked unchecked (periods_checked
--    NULL, a column added without a default so that no row need be updated; rows written from now on
--    are true), the embedding worker queues them at its next start and derives the role's row and its
--    copies again in one transaction. Until it commits, the old row and copies stand: a clinician is
--    not cut off while the worker catches up, and the widening they carry is hours at a role's ends.
ALTER TABLE practitioner_roles ADD COLUMN periods_checked boolean;
ALTER TABLE practitioner_roles ALTER COLUMN periods_checked SET DEFAULT true;

CREATE OR REPLACE FUNCTION care_links_follow_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- (a day's margin on both: the storing time CareLinks.of gives, an open encounter's open_since or the
  -- end of one stored as over, is taken on the application's clock, a moment after this transaction
  -- began, and must stand as given)
  IF NEW.open_since > now() + interval '1 day' THEN
    NEW.open_since := now();
  END IF;
  IF NEW.valid_until > now() + interval '1 day' AND NEW.open_since IS NULL THEN
    NEW.open_since := now();
  END IF;
  NEW.follow_up_until := (SELECT least(NEW.valid_until + f.follow_up, NEW.open_since + f.open_max)
                          FROM ${tenant_schema}.encounter_follow_up f);
  RETURN NEW;
END
$$;

-- The links stored before: run as the schema owner, which FORCE ROW LEVEL SECURITY binds like any
-- role and no policy admits (tenant migration 47), so its exemption is lifted for this transaction
-- only (Flyway runs a tenant's pending migrations in one) and forced again before it commits.
ALTER TABLE care_links NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resources NO FORCE ROW LEVEL SECURITY;

-- An Encounter link open since after its encounter was stored (a start in the future), or ending after
-- now without a bound: open since the encounter was last stored (none stored: now), and its end
-- recomputed by the trigger above as the UPDATE writes it.
UPDATE care_links l
SET open_since = least(coalesce((SELECT r.last_updated FROM resources r
                                 WHERE r.resource_type = 'Encounter' AND r.resource_id = l.source_id), now()),
                       now())
WHERE l.source_type = 'Encounter'
  AND (l.open_since > now()
       OR l.open_since > (SELECT r.last_updated FROM resources r
                          WHERE r.resource_type = 'Encounter' AND r.resource_id = l.source_id)
       OR (l.open_since IS NULL AND l.valid_until > now()));

-- And the worker derives the encounters whose links end ahead again from the stored Encounter at its
-- next start (tenant migration 25's mechanism), so that a finished one's end is no later than its
-- storing; until then they stand with the bound above.
UPDATE care_links SET status_checked = NULL WHERE source_type = 'Encounter' AND valid_until > now();

ALTER TABLE resources FORCE ROW LEVEL SECURITY;
ALTER TABLE care_links FORCE ROW LEVEL SECURITY;
