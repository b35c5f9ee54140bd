-- A search ranks chunks by their distance to the question's vector. After a tenant changes its
-- embedding model, each resource keeps its older chunks until the worker re-embeds it. A change to
-- a model of another size was refused by pgvector itself ("different vector dimensions") and is
-- answered 503 reembedding_in_progress. A change to another model of the SAME size was not: pgvector
-- measures any two vectors of one size, so the question, embedded by the new model, was ranked
-- against chunks of the old one, and the search returned a meaningless top k as if it were the
-- patient's context.
--
-- The search now states its question's model, and a chunk of another model is refused like one of
-- another size: this function stands in for its distance (CASE WHEN model = ... THEN embedding <=> ...
-- ELSE chunk_of_another_model() END), so the statement fails with SQLSTATE CC001, nothing is returned,
-- and the service answers 503 reembedding_in_progress. It reads nothing and returns nothing.
CREATE FUNCTION chunk_of_another_model() RETURNS double precision
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'a chunk embedded by another model than the question''s: not yet re-embedded'
    USING ERRCODE = 'CC001';
END
$$;
REVOKE ALL ON FUNCTION chunk_of_another_model() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chunk_of_another_model() TO ${reader_role}, ${research_role};
