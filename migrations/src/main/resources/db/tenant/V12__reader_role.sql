-- The read path (patient context for chat and clinical apps) gets a role of its own: the tenant's
-- reader. It may read what the read path reads and open break-glass windows, nothing else; the
-- read policies bind it alone, and the write, research and audit policies do not bind it.
--
-- Until now one tenant role ran every path, told apart only by the cc.access setting: a bug that
-- set the wrong access value would have opened another path's policies. Now the database refuses
-- the read path any write to patient data whatever its settings say, and the tenant role no longer
-- sees anything through the read policies.
--
-- Also cheaper: PostgreSQL starts the plans of every policy that binds the current role, so a read
-- ran the ingest and research policies' init plans too (7 of its 21). Measured in the core
-- benchmark: 515-521 µs of CPU a request against 536-539 with those policies out of the plan.
--
-- A role belongs to the cluster, not the schema: TenantRoles creates it (and grants it to the
-- application role) before the tenant's migrations run. Deleting the tenant drops it.

GRANT USAGE ON SCHEMA ${tenant_schema} TO ${reader_role};
-- The decision and the search: the patient and its care links, the chunks, the consent state.
GRANT SELECT ON resources, care_links, chunks, consents,
                subject_consents, subject_consent_summary, subject_consent_state TO ${reader_role};
GRANT EXECUTE ON FUNCTION subject_consent_allows(text, text[]), subject_consent_facts() TO ${reader_role};
-- Break-glass (ETREAT) windows are opened and checked on the read path.
GRANT SELECT, INSERT ON break_glass TO ${reader_role};

-- The read policies move to the reader: same conditions, another role.
ALTER POLICY chunks_read ON chunks TO ${reader_role};
ALTER POLICY resources_read ON resources TO ${reader_role};
ALTER POLICY consents_read ON consents TO ${reader_role};
ALTER POLICY care_links_read ON care_links TO ${reader_role};
