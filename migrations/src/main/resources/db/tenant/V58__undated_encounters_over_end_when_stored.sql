-- An Encounter sent as over (finished, or of unknown status) with no date at all, neither the visit's
-- nor the participant's, linked its participants with no end: a clinician of one undated visit kept
-- the patient's context for good. The ingest now ends such a link when the version saying the visit
-- was over was stored (its meta.lastUpdated; CareLinks.of), and the read path adds the tenant's
-- follow-up as for any ended encounter (tenant migration 44).
--
-- Links stored before have no end, and the dates that decide are inside the encrypted bodies: the
-- embedding worker derives every Encounter link without an end again at its next start (tenant
-- migration 25's mechanism); an encounter under way keeps its open link, as before.
UPDATE care_links SET status_checked = NULL WHERE source_type = 'Encounter' AND valid_until IS NULL;
