-- The rules that reduce an R4 Consent to what retrieval enforces changed (ConsentInterpreter,
-- rules version 2): a nested deny limited to an actor, code or instance, a bare nested deny, a
-- nested deny of a purpose, a root permit naming classes and a nested permit limited by purpose or
-- period were read as wider than the patient wrote them, and period ends lapsed a day early. Each
-- consent row now records the version of the rules that made it; rows without one (made before
-- this migration) are read again from their stored Consent by the embedding worker when it starts,
-- queued like a re-embedding, so GET /admin/tenants/{t}/ingest shows what is left. Until then they
-- stand as they were.
ALTER TABLE consents ADD COLUMN rules_version smallint;
