-- Research refused (503 research_index_building) while ANY chunk of the tenant had no research
-- embedding (tenant migration 64). On a live tenant the EHR feed writes notes every few seconds, and
-- each new chunk waits for the next sweep, so research was refused most of the time exactly where
-- it is used.
--
-- Research now refuses only until the tenant's research build has completed once since research was
-- turned on; afterwards it ranks on the chunks that have a research embedding and tells the
-- researcher when some are still pending (the response's "complete": false). The marker is this
-- one-row table, so it survives restarts and every API process sees it:
--   enabled     research is on (the setting researchIndex); turning it on or off bumps generation
--   generation  the current turning-on; a build or sweep started for an older one cannot mark it
--   completed   the generation whose build (or a sweep that found nothing left) embedded every chunk
-- Research answers while enabled AND completed = generation.
CREATE TABLE research_build (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  enabled    boolean NOT NULL DEFAULT false,
  generation bigint  NOT NULL DEFAULT 0,
  completed  bigint
);
GRANT SELECT, UPDATE ON research_build TO ${tenant_role};
ALTER TABLE research_build ENABLE ROW LEVEL SECURITY;
ALTER TABLE research_build FORCE ROW LEVEL SECURITY;
-- Written by the research build, its sweep and the setting, all under the ingest settings.
CREATE POLICY research_build_ingest ON research_build TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
-- The owner (this migration, and research_build_completed() below) reads and writes it whole: it holds
-- no row of any patient.
CREATE POLICY research_build_owner ON research_build TO CURRENT_USER USING (true) WITH CHECK (true);

-- A tenant that had the research index keeps research on; complete already when every chunk has its
-- research embedding (otherwise the sweep marks it once it has made them).
INSERT INTO research_build (enabled, generation, completed)
SELECT to_regclass('${tenant_schema}.chunks_embedding_hnsw') IS NOT NULL,
       CASE WHEN to_regclass('${tenant_schema}.chunks_embedding_hnsw') IS NOT NULL THEN 1 ELSE 0 END,
       CASE WHEN to_regclass('${tenant_schema}.chunks_embedding_hnsw') IS NOT NULL
                 AND NOT research_embeddings_pending() THEN 1 END;

-- Whether research may answer: its build has completed since research was last turned on. One
-- boolean about the whole tenant, which its admins see as the build's state; nothing of any row.
CREATE FUNCTION research_build_completed() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT b.enabled AND b.completed = b.generation FROM ${tenant_schema}.research_build b), false)
$$;
REVOKE ALL ON FUNCTION research_build_completed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION research_build_completed() TO ${research_role};
