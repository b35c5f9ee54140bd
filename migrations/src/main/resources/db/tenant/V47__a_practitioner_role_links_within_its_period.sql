-- A PractitionerRole's period bounds the care links it passes to its practitioner (tenant migration
-- 46). The write path checked only whether the period had ended when the role was written: a role
-- ending next month kept linking its practitioner after that, and a role that had not begun linked
-- at once. The role's bounds are now kept with it, and each copy of a link through the role carries
-- the later start and the earlier end of the link's period and the role's, so the read path (which
-- compares them with now(), tenant migration 42) ends the relationship when either period does.
ALTER TABLE practitioner_roles ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz;

-- The rows below are changed by the schema owner, which FORCE ROW LEVEL SECURITY binds like any role
-- and no policy admits: an UPDATE or DELETE run as it meets no row and succeeds. So tenant migrations
-- 42 and 44, which queued every CareTeam's and Encounter's links to be derived again (status_checked
-- NULL), changed nothing where the owner is not a superuser (any managed PostgreSQL); the embedded
-- default's owner is one. The owner's exemption is lifted for this transaction only (Flyway runs a
-- tenant's pending migrations in one), and forced again before it commits.
ALTER TABLE care_links NO FORCE ROW LEVEL SECURITY;
ALTER TABLE practitioner_roles NO FORCE ROW LEVEL SECURITY;

-- The copies made so far carry the link's period only, and roles stored before migration 46 have
-- no row: both are made again from the stored PractitionerRole by the embedding worker at its next
-- start (it queues every current PractitionerRole without a row, as for a re-embedding). Until then
-- a clinician linked only through a role is not linked: the care relationship fails closed.
DELETE FROM care_links WHERE via_role IS NOT NULL;
DELETE FROM practitioner_roles;

-- Migrations 42 and 44's work, again: the worker derives every CareTeam's and Encounter's links
-- from the stored resource at its next start, with their periods and the encounter's end.
UPDATE care_links SET status_checked = NULL WHERE source_type IN ('CareTeam', 'Encounter');

ALTER TABLE care_links FORCE ROW LEVEL SECURITY;
ALTER TABLE practitioner_roles FORCE ROW LEVEL SECURITY;
