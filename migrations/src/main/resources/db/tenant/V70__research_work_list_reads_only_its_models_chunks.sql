-- The research build's work list (ResearchEmbeddings: the chunks of the tenant's model at its size without a
-- research embedding, oldest first) was read through an index of chunk_id alone (tenant migration 64). During a
-- re-embedding the tenant holds many chunks of its old model, none of which is ever given a research embedding
-- (their successors are); with statistics of before the change of model (every chunk of the new one, as they are
-- until the next analyze) the planner walked that index from its start and read every old chunk on its way to the
-- first new one, batch after batch of a build (about 290 ms a batch at 40,000 old chunks). A (model, chunk_id) index was
-- never chosen: the statement's model = ? let the planner drop model from its order and walk chunk_id's.
--
-- The work list's index is now (model, chunk_id), same name and predicate, and the statement asks for that order
-- (ResearchEmbeddings.WORK_LIST), which only this index yields: a batch reads the new model's chunks alone,
-- whatever the statistics say (0.1-2 ms). Its other readers (is any chunk pending, how many) read any part of it.
-- Made again only where it exists (research on, tenant migration 68); TenantProvisioner.researchIndex makes it
-- so from now on. Not CONCURRENTLY (a migration runs in a transaction): on a tenant with research on, the build
-- holds off writes to its chunks for one scan of them, once, at the first start of this version. Dropping and
-- creating an index of its own needs no more than ownership: no row is read or written, so forced row-level
-- security does not bind this.
DO $$
BEGIN
  IF to_regclass('${tenant_schema}.chunks_research_pending_idx') IS NOT NULL THEN
    DROP INDEX ${tenant_schema}.chunks_research_pending_idx;
    CREATE INDEX chunks_research_pending_idx ON ${tenant_schema}.chunks (model, chunk_id)
      WHERE research_embedding IS NULL;
  END IF;
END
$$;
