-- Research search ranked chunks by the embedding of their identified text while it returned them
-- de-identified under random subject codes: a researcher who typed a person's name into the query
-- (in lower case, which the query's own de-identification cannot tell from any other word, or any
-- name its detectors miss) steered the ranking towards that person's notes, and so learned which
-- subject code is that person.
--
-- Research now ranks on research_embedding: the embedding of the chunk's text de-identified as
-- research returns it (the patient's known identifiers, dates to the year), so a name the embedded
-- text does not contain cannot steer it. The treatment paths keep reading embedding, unchanged.
-- The column is filled only for tenants with research turned on (the setting researchIndex), by the
-- research build and its sweep (ResearchEmbeddings); ingest writes it as NULL, so a tenant without
-- research embeds each chunk once, as before.
ALTER TABLE chunks ADD COLUMN research_embedding public.vector;

-- The chunks still to be embedded for research: the build's and the sweep's work list, and the
-- probe below (a chunk written by ingest is in it until its research embedding is made).
CREATE INDEX chunks_research_pending_idx ON chunks (chunk_id) WHERE research_embedding IS NULL;

-- The research HNSW index moves to the new column (same name: the setting and its status read it).
-- A tenant that had it keeps research turned on: the index is made again at once (the column is
-- empty), and the sweep fills the column; research is refused until it is full.
DO $$
BEGIN
  IF to_regclass('${tenant_schema}.chunks_embedding_hnsw') IS NOT NULL THEN
    DROP INDEX ${tenant_schema}.chunks_embedding_hnsw;
    CREATE INDEX chunks_embedding_hnsw ON ${tenant_schema}.chunks
      USING hnsw ((research_embedding::public.vector(384)) public.vector_cosine_ops)
      WHERE public.vector_dims(research_embedding) = 384;
  END IF;
END
$$;

-- Whether any chunk of the tenant has no research embedding yet: research refuses (503) while one
-- has, rather than rank on what is complete and silently leave the rest out. As the owner, under
-- the probe policy of tenant migration 54, so chunks the research role may not see count too (the
-- build is tenant-wide); one read of the partial index. It says one boolean about the whole tenant,
-- which its admins see as the build's progress; nothing of any row.
CREATE FUNCTION research_embeddings_pending() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prior text := current_setting('cc.access', true);
  pending boolean;
BEGIN
  PERFORM set_config('cc.access', 'model-probe', true);
  SELECT EXISTS (SELECT 1 FROM ${tenant_schema}.chunks k WHERE k.research_embedding IS NULL) INTO pending;
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN pending;
END
$$;
REVOKE ALL ON FUNCTION research_embeddings_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION research_embeddings_pending() TO ${research_role};
