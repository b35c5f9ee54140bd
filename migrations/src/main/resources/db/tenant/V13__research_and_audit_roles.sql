-- V12 gave the read path a role of its own; the research search and the audit trail get theirs.
-- The tenant role keeps the write path only (ingest, re-embedding, model usage).
--
--   * research (<prefix>_research_<id>): de-identified multi-patient search. It may read chunks
--     and consents through the research policies, and nothing else: no resources, no audit trail,
--     no writes.
--   * audit (<prefix>_audit_<id>): appends audit rows, moves the chain heads, reads the trail for
--     auditors and verification. It cannot see a single chunk, resource or consent. The tenant
--     role loses its audit grants: the write path cannot touch the trail.
--
-- As in V12, TenantRoles creates the roles before the tenant's migrations run.
GRANT USAGE ON SCHEMA ${tenant_schema} TO ${research_role}, ${audit_role};

GRANT SELECT ON chunks, consents TO ${research_role};
GRANT EXECUTE ON FUNCTION research_consent_allows(text, text, text[]) TO ${research_role};
ALTER POLICY chunks_research ON chunks TO ${research_role};
ALTER POLICY consents_research ON consents TO ${research_role};

GRANT SELECT, INSERT ON audit_log TO ${audit_role};
GRANT SELECT, UPDATE ON audit_heads TO ${audit_role};
GRANT SELECT ON audit_anchors TO ${audit_role};
ALTER POLICY audit_log_append ON audit_log TO ${audit_role};
ALTER POLICY audit_log_read ON audit_log TO ${audit_role};
REVOKE ALL ON audit_log, audit_heads, audit_anchors FROM ${tenant_role};
