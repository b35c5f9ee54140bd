-- An encounter under way (arrived, triaged, in progress, on leave) without an end linked its
-- participants to the patient until the feed sent one. Real ADT feeds lose discharge messages: such an
-- encounter then linked its participants for good. Its link now holds for the tenant's
-- settings.openEncounterMaxDays (90 unless set, 1 to 3650) after the later of the encounter's start
-- and the time the feed last stored it (CareLinks.of: open_since, the column below), so a stay the feed
-- keeps updating keeps its link and one the feed forgot lapses. No follow-up is added after that bound:
-- the encounter never ended, and the follow-up is for results that arrive after an end.
--
-- Where the bound is kept: as for the follow-up (tenant migration 44), in follow_up_until, the time the
-- read path's policy compares with now(). The trigger computes it on every write of an Encounter link
-- (the earlier of the end plus the follow-up and open_since plus the bound, either absent: the other),
-- and encounter_follow_up_changed(), run by the admin API in the transaction that changes either
-- setting, recomputes it for the links stored.

ALTER TABLE care_links ADD COLUMN open_since timestamptz;

-- The tenant's bound, beside its follow-up, from its stored settings (TenantSettings.defaults()).
CREATE OR REPLACE VIEW encounter_follow_up WITH (security_barrier) AS
  SELECT make_interval(days => CASE WHEN jsonb_typeof(t.settings -> 'encounterFollowUpDays') = 'number'
                                    THEN least(greatest(floor((t.settings ->> 'encounterFollowUpDays')::numeric), 0),
                                               365)::integer
                                    ELSE 30 END) AS follow_up,
         make_interval(days => CASE WHEN jsonb_typeof(t.settings -> 'openEncounterMaxDays') = 'number'
                                    THEN least(greatest(floor((t.settings ->> 'openEncounterMaxDays')::numeric), 1),
                                               3650)::integer
                                    ELSE 90 END) AS open_max
  FROM platform.tenants t WHERE t.tenant_id = ${tenant_id};

-- LEAST ignores a null: an ended link's end is its end plus the follow-up, an open one's its bound,
-- and a copy of an open link through a PractitionerRole whose period ends (valid_until: the role's end,
-- tenant migration 47) the earlier of the two. No row for the tenant: null, which the policy below
-- admits for no open link.
CREATE OR REPLACE FUNCTION care_links_follow_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.follow_up_until := (SELECT least(NEW.valid_until + f.follow_up, NEW.open_since + f.open_max)
                          FROM ${tenant_schema}.encounter_follow_up f);
  RETURN NEW;
END
$$;

-- The links a change of either setting can affect: ended no more than the longest follow-up ago, or
-- open since no more than the longest bound ago (any other is out of force under any setting).
CREATE INDEX care_links_open_encounters ON care_links (open_since) WHERE open_since IS NOT NULL;

CREATE OR REPLACE FUNCTION encounter_follow_up_changed() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  changed integer;
BEGIN
  UPDATE ${tenant_schema}.care_links l
  SET follow_up_until = least(l.valid_until + f.follow_up, l.open_since + f.open_max)
  FROM ${tenant_schema}.encounter_follow_up f
  WHERE l.source_type = 'Encounter'
    AND (l.valid_until > now() - interval '365 days' OR l.open_since > now() - interval '3650 days')
    AND l.follow_up_until IS DISTINCT FROM least(l.valid_until + f.follow_up, l.open_since + f.open_max);
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END
$$;

-- The read path's role sees an open encounter's link only within its bound.
ALTER POLICY care_links_in_force ON care_links
  USING ((valid_from IS NULL OR valid_from <= now())
         AND (valid_until IS NULL OR valid_until > now() OR follow_up_until > now())
         AND (open_since IS NULL OR follow_up_until > now()));

-- The links stored before: run as the schema owner, which FORCE ROW LEVEL SECURITY binds like any
-- role and no policy admits (tenant migration 47), so its exemption is lifted for this transaction
-- only (Flyway runs a tenant's pending migrations in one) and forced again before it commits.
ALTER TABLE care_links NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resources NO FORCE ROW LEVEL SECURITY;

-- Every Encounter link without an end is open since the encounter was last stored (the start, inside
-- the encrypted body, can only make it later: the worker below derives it exactly), so it is bounded
-- from this commit on; with no stored encounter left, from now. (An undated encounter over, stored
-- before tenant migration 58 and not yet derived again, has no end either: it gets this bound until
-- the worker gives it its end.)
UPDATE care_links l
SET open_since = coalesce((SELECT r.last_updated FROM resources r
                           WHERE r.resource_type = 'Encounter' AND r.resource_id = l.source_id), now())
WHERE l.source_type = 'Encounter' AND l.via_role IS NULL AND l.valid_until IS NULL;

-- A copy through a PractitionerRole (tenant migration 46) of such a link: the link's bound too.
UPDATE care_links l SET open_since = s.open_since
FROM care_links s
WHERE l.source_type = 'Encounter' AND l.via_role IS NOT NULL
  AND s.source_type = l.source_type AND s.source_id = l.source_id AND s.patient_id = l.patient_id
  AND s.practitioner_id = 'PractitionerRole/' || l.via_role AND s.via_role IS NULL AND s.open_since IS NOT NULL;

-- The worker derives those links again from their stored Encounter at its next start (tenant
-- migration 25's mechanism), with the encounter's start. And the links of every encounter that ended
-- within the longest follow-up (the only ones still in force under some setting): they were last
-- derived (tenant migration 47) before a period's date end was read in the zone of its start (FHIR
-- per-1 fix), and read in UTC it could end up to 14 hours later than a date east of UTC means.
UPDATE care_links SET status_checked = NULL
WHERE source_type = 'Encounter'
  AND (valid_until IS NULL OR open_since IS NOT NULL OR valid_until > now() - interval '366 days');

ALTER TABLE resources FORCE ROW LEVEL SECURITY;
ALTER TABLE care_links FORCE ROW LEVEL SECURITY;
