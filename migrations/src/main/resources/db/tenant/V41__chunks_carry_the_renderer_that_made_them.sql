-- What a resource's chunks say changed (ChunkRenderer version 2): a record entered in error, a
-- superseded document or a cancelled result makes no chunk; refuted and provisional diagnoses and
-- preliminary results say so; comparators, decimal precision, dosages and local dates are kept;
-- an Encounter's type left the administrative chunk billing reads. Each chunk now records the
-- renderer version that made it; chunks without one (made before this migration) are made again by
-- the embedding worker at its start, queued like a re-embedding (texts that did not change reuse
-- their cached vectors), so GET /admin/tenants/{t}/ingest shows what is left. Until then they are
-- served as they were.
ALTER TABLE chunks ADD COLUMN renderer_version smallint;
