-- Tenant migration 64 gave every tenant an index of the chunks without a research embedding (the research
-- build's and sweep's work list). Ingest writes every chunk without one, so every tenant, research on or
-- not, kept one more index up to date on each chunk written (2-3 % fewer chunks a second when loading), for
-- a list only research reads.
--
-- It is now made when research is turned on, with the research HNSW index, and dropped when research is
-- turned off (TenantProvisioner.researchIndex). Here it is dropped where research is off (tenant migration
-- 66's marker; a tenant whose research HNSW index exists keeps it too, whatever the marker says). Dropping
-- an index of its own needs no more than ownership: no row is read or written, so forced row-level
-- security does not bind this, and the owner need not be a superuser.
DO $$
BEGIN
  IF NOT coalesce((SELECT b.enabled FROM ${tenant_schema}.research_build b), false)
     AND to_regclass('${tenant_schema}.chunks_embedding_hnsw') IS NULL THEN
    DROP INDEX IF EXISTS ${tenant_schema}.chunks_research_pending_idx;
  END IF;
END
$$;
