-- Two sets of care links are derived again from their stored resources by the embedding worker at its
-- next start (tenant migration 25's mechanism: status_checked NULL; chunk vectors come from the
-- embedding cache):
--
-- * Every CareTeam's. A participant's period that ends before it starts (FHIR invariant per-1) was
--   stored as sent and merged with the same practitioner's other periods into the widest span the
--   bounds gave, which could stretch a link beyond any period the team stated. Such periods are now
--   refused on every write path (ResourceValidator), and a participant whose period shares no moment
--   with the team's links no one (CareLinks.of). An inverted Encounter participant period stored
--   before gives a link that ends before it starts, which the read path admits at no moment.
-- * Every Encounter link without an end: tenant migration 58's work, which changed nothing where the
--   schema owner is not a superuser (any managed PostgreSQL). FORCE ROW LEVEL SECURITY binds the owner
--   like any role and no policy admits it, so its UPDATE met no row and succeeded, as tenant migration
--   47 found for migrations 42 and 44. The owner's exemption is lifted for this transaction only
--   (Flyway runs a tenant's pending migrations in one) and forced again before it commits.
ALTER TABLE care_links NO FORCE ROW LEVEL SECURITY;

UPDATE care_links SET status_checked = NULL
WHERE source_type = 'CareTeam' OR (source_type = 'Encounter' AND valid_until IS NULL);

ALTER TABLE care_links FORCE ROW LEVEL SECURITY;
