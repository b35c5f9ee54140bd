-- Turning research on again is how an operator makes every research embedding again with today's identifiers
-- and detectors: the setting starts a new generation (tenant migration 66), and the build forgets every research
-- embedding, then makes them all. Between the two, another process's sweep (which only waits for the research
-- index, already there when research was on) found nothing pending and marked the new generation completed:
-- research answered from the old embeddings, and, once the build had forgotten them, from none.
--
-- forgotten is the generation whose research embeddings were forgotten, set in the forgetting's transaction
-- (ResearchEmbeddings.forgetAll, by the build or by whichever sweep comes first; once per generation). A build or
-- sweep marks a generation completed only when forgotten = generation.
ALTER TABLE research_build ADD COLUMN forgotten bigint;

-- A tenant whose build has completed keeps answering: its embeddings were made for its completed generation. One
-- not completed (a build under way at the upgrade) is forgotten again by its next build or sweep: whether its
-- forgetting had happened is not known. Written as the owner, whose policy on this table admits it (tenant
-- migration 66); forced row-level security is lifted for this transaction all the same, as for every data
-- migration (tenant migration 47), and forced again before it commits.
ALTER TABLE research_build NO FORCE ROW LEVEL SECURITY;

UPDATE research_build SET forgotten = completed WHERE completed IS NOT NULL;

ALTER TABLE research_build FORCE ROW LEVEL SECURITY;
