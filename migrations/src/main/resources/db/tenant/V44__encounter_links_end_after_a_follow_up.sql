-- An Encounter's care links had no end: a practitioner who saw a patient once, years ago, kept the
-- patient's context for good. A link now ends with the encounter, or the participant's part in it, as
-- the ingest reads it from the resource (valid_until, V42's column: CareLinks.encounterEnd), and the
-- read path sees it for the tenant's follow-up after that (settings.encounterFollowUpDays, 30 days
-- unless set): results and letters arrive after discharge, and the clinician who ordered them must
-- read them.
--
-- Where the follow-up is added: into a column of the link, follow_up_until, which the database keeps
-- at valid_until plus the tenant's follow-up, on every write of an Encounter link (a trigger that
-- reads the tenant's stored settings) and on a change of the setting (encounter_follow_up_changed(),
-- called by the admin API in the transaction that changes it). The read path's policy compares it
-- with now() like valid_until, a column against a constant on the few links of one practitioner and
-- one patient: no init plan, no lookup of the settings on a read. Added in the read policy instead, the
-- setting would have been read on every read with an ended encounter (a probe of the platform's
-- tenants and a parse of their settings, or a setting the application sets and the database would
-- take on its word); added by the ingest, a change of the setting would not reach stored links.

ALTER TABLE care_links ADD COLUMN follow_up_until timestamptz;

-- Encounter links stored before this migration carry no end: the embedding worker derives them again
-- from their Encounter at its next start (tenant migration 25's mechanism), queued like a re-embedding;
-- until then they stand as they were. (Before the trigger below, which has nothing to add to them.)
UPDATE care_links SET status_checked = NULL WHERE source_type = 'Encounter';

-- The tenant's follow-up, from its stored settings (changed only with their audit row, platform
-- migration 5): 0 to 365 days, 30 when not set (TenantSettings.defaults()). A view owned by the
-- migration role, as caller_key: the tenant roles have no right on the platform schema.
CREATE VIEW encounter_follow_up WITH (security_barrier) AS
  SELECT make_interval(days => CASE WHEN jsonb_typeof(t.settings -> 'encounterFollowUpDays') = 'number'
                                    THEN least(greatest(floor((t.settings ->> 'encounterFollowUpDays')::numeric), 0),
                                               365)::integer
                                    ELSE 30 END) AS follow_up
  FROM platform.tenants t WHERE t.tenant_id = ${tenant_id};
GRANT SELECT ON encounter_follow_up TO ${tenant_role};

CREATE FUNCTION care_links_follow_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.follow_up_until := NEW.valid_until + (SELECT f.follow_up FROM ${tenant_schema}.encounter_follow_up f);
  RETURN NEW;
END
$$;

CREATE TRIGGER care_links_follow_up BEFORE INSERT OR UPDATE ON care_links
  FOR EACH ROW WHEN (NEW.source_type = 'Encounter') EXECUTE FUNCTION care_links_follow_up();

-- The links a change of the setting can affect: ended no more than the longest follow-up ago (a link
-- ended earlier is out of force under any setting, and stays so).
CREATE INDEX care_links_encounter_ends ON care_links (valid_until) WHERE source_type = 'Encounter';

-- The setting changed: every Encounter link whose follow-up ends otherwise now, or that the new
-- follow-up brings back within, carries the new one. Run by the write path's role (its policy admits
-- every link), in the transaction that changes the setting. Returns how many links it changed.
CREATE FUNCTION encounter_follow_up_changed() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  changed integer;
BEGIN
  UPDATE ${tenant_schema}.care_links l SET follow_up_until = l.valid_until + f.follow_up
  FROM ${tenant_schema}.encounter_follow_up f
  WHERE l.source_type = 'Encounter' AND l.valid_until > now() - interval '365 days'
    AND l.follow_up_until IS DISTINCT FROM l.valid_until + f.follow_up;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END
$$;
REVOKE ALL ON FUNCTION encounter_follow_up_changed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION encounter_follow_up_changed() TO ${tenant_role};

-- The read path's role sees a link inside its period (V42) or, for an Encounter's, inside the
-- follow-up after it.
ALTER POLICY care_links_in_force ON care_links
  USING ((valid_from IS NULL OR valid_from <= now())
         AND (valid_until IS NULL OR valid_until > now() OR follow_up_until > now()));
