-- The V4 chunk policy evaluated consent_allows() for every row: ~50 index lookups per query.
-- Retrieval reads one patient at a time (cc.subject), so the consent state is computed once per
-- query instead: uncorrelated sub-selects become init plans that run once, and each row is checked
-- against their results.

CREATE FUNCTION consent_rows() RETURNS SETOF consents
LANGUAGE sql STABLE AS $$
  SELECT * FROM consents
  WHERE patient_id = current_setting('cc.subject', true) AND status = 'active'
    AND (period_start IS NULL OR period_start <= now())
    AND (period_end IS NULL OR period_end > now())
    AND (cardinality(purposes) = 0 OR current_setting('cc.purpose', true) = ANY (purposes))
$$;

-- true: the patient's consent permits AI use (exceptions aside); false: it does not.
CREATE FUNCTION consent_base_allows() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM consent_rows() WHERE decision = 'deny') THEN false
    WHEN EXISTS (SELECT 1 FROM consent_rows() WHERE decision = 'permit') THEN true
    ELSE coalesce(current_setting('cc.consent_mode', true), '') = 'opt-out'
  END
$$;

CREATE FUNCTION consent_denied_classes() RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT c), '{}') FROM consent_rows() r, unnest(r.denied_classes) AS c
  WHERE r.decision = 'permit'
$$;

CREATE FUNCTION consent_denied_labels() RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT l), '{}') FROM consent_rows() r, unnest(r.denied_labels) AS l
  WHERE r.decision = 'permit'
$$;

-- Classes and labels a deny consent still permits (exceptions of the opposite type).
CREATE FUNCTION consent_permitted_classes() RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT c), '{}') FROM consent_rows() r, unnest(r.permitted_classes) AS c
  WHERE r.decision = 'deny'
$$;

CREATE FUNCTION consent_permitted_labels() RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT l), '{}') FROM consent_rows() r, unnest(r.permitted_labels) AS l
  WHERE r.decision = 'deny'
$$;

DROP POLICY chunks_read ON chunks;
CREATE POLICY chunks_read ON chunks FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'read'
         AND patient_id = current_setting('cc.subject', true)
         AND patient_id = ANY (string_to_array(current_setting('cc.patients', true), ','))
         AND category = ANY (string_to_array(current_setting('cc.categories', true), ','))
         AND (current_setting('cc.types', true) = '*'
              OR resource_type = ANY (string_to_array(current_setting('cc.types', true), ',')))
         AND security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[])
         AND (current_setting('cc.consent_override', true) = 'on'
              OR ((SELECT consent_base_allows())
                  AND NOT resource_type = ANY ((SELECT consent_denied_classes())::text[])
                  AND NOT security_labels && (SELECT consent_denied_labels()))
              OR resource_type = ANY ((SELECT consent_permitted_classes())::text[])
              OR security_labels && (SELECT consent_permitted_labels())));
