-- Research search no longer asks research_consent_allows (V9) about every chunk it looks at.
--
-- Without the tenant's HNSW index research search is an exact scan, so the research policy ran
-- research_consent_allows for every chunk of the tenant: a SQL function with a common table
-- expression and three EXISTS, executed once a chunk. EXPLAIN ANALYZE of one search of a tenant of
-- 25,000 chunks: 338-413 ms, nearly all of it in the function (about 15 µs a chunk); at 100,000
-- chunks that is about a second and a half a search. With the HNSW index it ran for every
-- candidate.
--
-- Now the policy first asks, once a query, which patients consent lets through whole: those whose
-- applicable consents are all permits without class or label exclusions, and in opt-out mode those
-- with no applicable consent. It also asks which patients it may let through in part: those with an
-- applicable consent and no deny without exceptions. PostgreSQL hashes each set once (a hashed
-- sub-plan), so a chunk costs a lookup or two, and research_consent_allows still decides the
-- chunks of patients let through in part, so the rule is V9's. The first two sets name only
-- patients whose every row that function admits; a patient outside all three is one whose every
-- row it refuses (ConsentSummaryIT checks both for every mix of consents it knows, in both modes).

-- The consents that apply to the request's purpose, of every patient (the research policy of
-- consents admits them all): the conditions of research_consent_allows.
CREATE VIEW research_consents WITH (security_invoker = true) AS
  SELECT * FROM consents
  WHERE status = 'active'
    AND (period_start IS NULL OR period_start <= now())
    AND (period_end IS NULL OR period_end > now())
    AND (cardinality(purposes) = 0 OR current_setting('cc.purpose', true) = ANY (purposes));

-- Patients whose applicable consents are all permits without exclusions: every row passes.
CREATE VIEW research_consent_plain WITH (security_invoker = true) AS
  SELECT patient_id FROM research_consents
  GROUP BY patient_id
  HAVING bool_and(decision = 'permit' AND cardinality(denied_classes) = 0 AND cardinality(denied_labels) = 0);

-- Patients with an applicable consent and no deny without exceptions: some rows may pass. (The
-- others: without an applicable consent the tenant's mode decides, and a deny without exceptions
-- refuses every row.)
CREATE VIEW research_consent_partial WITH (security_invoker = true) AS
  SELECT patient_id FROM research_consents
  GROUP BY patient_id
  HAVING NOT bool_or(decision = 'deny' AND cardinality(permitted_classes) + cardinality(permitted_labels) = 0);

GRANT SELECT ON research_consents, research_consent_plain, research_consent_partial TO ${research_role};

ALTER POLICY chunks_research ON chunks USING (
  (SELECT current_setting('cc.access', true)) = 'research'
  AND (SELECT current_setting('cc.purpose', true)) = 'HRESCH'
  AND category = ANY ((SELECT string_to_array(current_setting('cc.categories', true), ','))::text[])
  AND ((SELECT current_setting('cc.types', true)) = '*'
       OR resource_type = ANY ((SELECT string_to_array(current_setting('cc.types', true), ','))::text[]))
  AND security_labels <@ (SELECT coalesce(string_to_array(current_setting('cc.labels', true), ','),
                                          '{}'::text[]))
  AND (patient_id IN (SELECT patient_id FROM research_consent_plain)
       OR ((SELECT coalesce(current_setting('cc.consent_mode', true), '') = 'opt-out')
           AND patient_id NOT IN (SELECT patient_id FROM research_consents))
       OR (patient_id IN (SELECT patient_id FROM research_consent_partial)
           AND research_consent_allows(patient_id, resource_type, security_labels))));
