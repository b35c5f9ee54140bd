-- Tenant migration 53 made research refuse when any chunk the research role could see was of another
-- model than the question's. Two gaps remained, and a cost:
--
-- * A chunk of the question's model at another size (an endpoint's model asked for other dimensions
--   keeps its name) was not counted. The HNSW statement keeps only 384-dimensional chunks, so such
--   chunks were never met and the search answered 200 without them.
-- * The probe ran under the research role's row-level security: every chunk of another model that
--   the role may not see (a patient who has not consented, a category outside the role) was found
--   in the index and then checked row by row, before the first visible one or none: a policy check
--   per such chunk on every research request (late in a re-embedding whose remaining chunks are of
--   patients research does not see). And those chunks did not refuse it, though the tenant's
--   re-embedding was not done.
--
-- The probe is now this function: whether the tenant holds ANY chunk that is not of the question's
-- model at the question's size. It runs as the owner, whom FORCE ROW LEVEL SECURITY binds too:
-- cc.access is set to 'model-probe' for the call (put back before it returns), under which the policy
-- below shows the owner every chunk, and the index makes the probe two reads, one at each end of it
-- (measured at 300,000 chunks: 0.04 ms inside the database, whether none, one or all of them are of
-- another model; the research role's probe took 230-280 ms with 150,000-300,000 it could not see).
-- It answers one boolean about the whole tenant (a re-embedding is in progress), which the tenant's
-- ingest status shows its admins too; nothing of any row. A re-embedding is tenant-wide, so research
-- refuses until it is done, as context and chat do for their patient.
DROP INDEX chunks_model_idx;
-- The renderer's version last: when every chunk is of one model at one size, the index's two ends also
-- hold the least renderer version and (NULLs first, descending) any chunk made before the renderer
-- was recorded, so a worker start learns from them too whether any chunk is to be made again.
CREATE INDEX chunks_model_size_renderer_idx ON chunks (model, public.vector_dims(embedding), renderer_version);

CREATE POLICY chunks_model_probe ON chunks FOR SELECT TO CURRENT_USER
  USING ((SELECT current_setting('cc.access', true)) = 'model-probe');

CREATE FUNCTION chunks_of_another_model_exist(question_model text, question_dimensions integer)
RETURNS boolean
LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prior text := current_setting('cc.access', true);
  low_model text;
  low_size integer;
  high_model text;
  high_size integer;
BEGIN
  PERFORM set_config('cc.access', 'model-probe', true);
  -- The least and the greatest (model, size) pair: every chunk is of the question's model at its size
  -- only when both are the question's. Each is the first entry at one end of the index; no condition
  -- on vector_dims (not leakproof, so row-level security would keep it out of an index scan's bounds).
  SELECT k.model, public.vector_dims(k.embedding) INTO low_model, low_size FROM ${tenant_schema}.chunks k
    ORDER BY k.model, public.vector_dims(k.embedding) LIMIT 1;
  SELECT k.model, public.vector_dims(k.embedding) INTO high_model, high_size FROM ${tenant_schema}.chunks k
    ORDER BY k.model DESC, public.vector_dims(k.embedding) DESC LIMIT 1;
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
  RETURN low_model IS NOT NULL AND (low_model <> question_model OR low_size <> question_dimensions
                                    OR high_model <> question_model OR high_size <> question_dimensions);
END
$$;
REVOKE ALL ON FUNCTION chunks_of_another_model_exist(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chunks_of_another_model_exist(text, integer) TO ${research_role};
