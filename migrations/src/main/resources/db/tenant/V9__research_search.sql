-- Multi-patient search for de-identified research (role researcher, purpose HRESCH): nearest
-- neighbours over the whole tenant, filtered by RLS; with the tenant's HNSW index, approximate and
-- filtered while the index is scanned (pgvector's iterative scans keep going until k rows pass).

-- The HNSW index is not created here: maintaining it costs ~2 ms a chunk on insert (75,000 chunks
-- took 173 s to load instead of 4 s), so a tenant opts in with the setting researchIndex
-- (TenantProvisioner.researchIndex). Without it, research search is an exact scan.

-- Whether one row's patient consents to use for the request's purpose (cc.purpose), evaluated per
-- row: a research query spans patients. Deny wins; a permit's class and label exclusions hold; with
-- neither, the tenant's mode (cc.consent_mode) decides. The table is named with its schema: the
-- planner reads this body under whatever search path the calling statement has.
CREATE FUNCTION research_consent_allows(p_patient text, p_type text, p_labels text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT decision, denied_classes, denied_labels, permitted_classes, permitted_labels
    FROM ${tenant_schema}.consents
    WHERE patient_id = p_patient AND status = 'active'
      AND (period_start IS NULL OR period_start <= now())
      AND (period_end IS NULL OR period_end > now())
      AND (cardinality(purposes) = 0 OR current_setting('cc.purpose', true) = ANY (purposes)))
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM c WHERE decision = 'deny'
                 AND NOT (p_type = ANY (permitted_classes) OR p_labels && permitted_labels)) THEN false
    WHEN EXISTS (SELECT 1 FROM c WHERE decision = 'permit'
                 AND (p_type = ANY (denied_classes) OR p_labels && denied_labels)) THEN false
    WHEN EXISTS (SELECT 1 FROM c WHERE decision = 'permit') THEN true
    ELSE coalesce(current_setting('cc.consent_mode', true), '') = 'opt-out'
  END
$$;

-- The research path reads consents of every patient (the read policy admits only cc.subject's).
CREATE POLICY consents_research ON consents FOR SELECT TO ${tenant_role}
  USING ((SELECT current_setting('cc.access', true)) = 'research');

CREATE POLICY chunks_research ON chunks FOR SELECT TO ${tenant_role}
  USING ((SELECT current_setting('cc.access', true)) = 'research'
         AND (SELECT current_setting('cc.purpose', true)) = 'HRESCH'
         AND category = ANY ((SELECT string_to_array(current_setting('cc.categories', true), ','))::text[])
         AND ((SELECT current_setting('cc.types', true)) = '*'
              OR resource_type = ANY ((SELECT string_to_array(current_setting('cc.types', true), ','))::text[]))
         AND security_labels <@ (SELECT coalesce(string_to_array(current_setting('cc.labels', true), ','),
                                                 '{}'::text[]))
         AND research_consent_allows(patient_id, resource_type, security_labels));
