-- US Core feeds name a CareTeam member or an Encounter participant by its PractitionerRole, and a
-- clinician holds several roles (one per clinic, say). A link stated through PractitionerRole/<id> was
-- the role's only (tenant migration 42's release): a key had to name that very role, and a clinician
-- whose key named its Practitioner had no care relationship through any of its roles.
--
-- The write path now keeps, per PractitionerRole, the Practitioner it names (an active role only), and
-- each care link through a role gets a copy for that Practitioner (via_role: the role it came through),
-- made when either side is written: the link's source, or the role. The read path is unchanged: it
-- finds a row for the key's practitioner as before. A role written again for another practitioner, or
-- deleted, takes its copies with it.
CREATE TABLE practitioner_roles (
  role_id         text PRIMARY KEY,
  practitioner_id text NOT NULL CHECK (practitioner_id <> '')
);
GRANT SELECT, INSERT, UPDATE, DELETE ON practitioner_roles TO ${tenant_role};
ALTER TABLE practitioner_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE practitioner_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY practitioner_roles_ingest ON practitioner_roles TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');

ALTER TABLE care_links ADD COLUMN via_role text;
CREATE INDEX care_links_via_role ON care_links (via_role) WHERE via_role IS NOT NULL;
CREATE INDEX care_links_role_members ON care_links (practitioner_id) WHERE practitioner_id LIKE 'PractitionerRole/%';
