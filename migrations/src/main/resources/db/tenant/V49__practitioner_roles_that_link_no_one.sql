-- The embedding worker queues, at each start, every PractitionerRole without its practitioner's row
-- (tenant migration 46), so that a role stored before the write path kept the row is linked again. A
-- role that links no one (inactive, ended, or naming no Practitioner) has no row by design, so it was
-- queued, read, rendered and its chunks replaced at every start, for good: a tenant with thousands of
-- former staff's roles did that work each time a worker pod restarted.
--
-- Each role version found linking no one is now recorded, by its write or by the worker's one check of
-- a role stored before; it is not queued again. A later version that links someone makes its row as
-- before, and the record of the earlier one is then never read (nor is that of a deleted role).
CREATE TABLE practitioner_roles_without_holder (
  role_id    text PRIMARY KEY,
  version_id bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON practitioner_roles_without_holder TO ${tenant_role};
ALTER TABLE practitioner_roles_without_holder ENABLE ROW LEVEL SECURITY;
ALTER TABLE practitioner_roles_without_holder FORCE ROW LEVEL SECURITY;
CREATE POLICY practitioner_roles_without_holder_ingest ON practitioner_roles_without_holder TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
