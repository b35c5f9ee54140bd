-- Security labels a role may read only for a patient who explicitly consented to them. API.md's
-- care-coordinator sees "no sensitive categories without explicit consent": until now such a role
-- simply never had the sensitive labels (HIV, PSY, SUD, ...), with or without consent.
--
-- explicit_labels: the labels a Consent names in a permit provision (its base provision when that
-- permits, or any nested permit), written by ingest with the consent from this version on. For the
-- consents stored before it the column starts NULL (not derived yet): the embedding worker queues
-- their Consent resources when it starts and fills the column in from the stored resource
-- (EmbeddingWorker.enqueueConsentLabels). Until then NULL names no label, which only ever hides
-- rows, never shows more.
--
-- The chunk policy's label check becomes: no labels, or every label within the role's own
-- (cc.labels, as before), or every label within the role's own plus those of its labels-with-consent
-- (cc.consent_labels) that an applicable consent of the subject names explicitly. The consent rule
-- further down still applies to every row (deny wins), so an explicit permit only widens what the
-- role's scope lets through, never what consent does. The new init plan runs only for a chunk that
-- has labels outside the role's own: an unlabelled chunk, the common case, never calls it.

ALTER TABLE consents ADD COLUMN explicit_labels text[];
ALTER TABLE consents ALTER COLUMN explicit_labels SET DEFAULT '{}';
CREATE INDEX consents_labels_underived ON consents (consent_id) WHERE explicit_labels IS NULL;

-- The same view, with the new column at its end (SELECT * was expanded when the view was made).
CREATE OR REPLACE VIEW subject_consents WITH (security_invoker = true) AS
  SELECT * FROM consents
  WHERE patient_id = current_setting('cc.subject', true) AND status = 'active'
    AND (period_start IS NULL OR period_start <= now())
    AND (period_end IS NULL OR period_end > now())
    AND (cardinality(purposes) = 0 OR current_setting('cc.purpose', true) = ANY (purposes));

-- The labels this request may read: the role's own and those of its labels-with-consent that an
-- applicable consent of the subject explicitly permits. PL/pgSQL, as V17 and V19, so that the
-- policy's init plan is a bare function call.
CREATE FUNCTION subject_readable_labels() RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[])
      || coalesce((SELECT array_agg(DISTINCT l)
                   FROM ${tenant_schema}.subject_consents s, unnest(s.explicit_labels) AS l
                   WHERE l = ANY (string_to_array(current_setting('cc.consent_labels', true), ','))),
                  '{}'::text[]);
END
$$;

REVOKE ALL ON FUNCTION subject_readable_labels() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION subject_readable_labels() TO ${reader_role};

-- A resource's own labels are checked the same way (V1's policy otherwise): a Patient resource that
-- itself carries a sensitive label would else be "unknown" to such a role even with the consent.
ALTER POLICY resources_read ON resources USING (
  current_setting('cc.access', true) = 'read'
  AND patient_id = ANY (string_to_array(current_setting('cc.patients', true), ','))
  AND (security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[])
       OR security_labels <@ (SELECT subject_readable_labels())));

-- V19's policy with the label check widened as above; everything else as it was.
ALTER POLICY chunks_read ON chunks USING (
  (SELECT current_setting('cc.access', true) = 'read')
  AND patient_id = (SELECT current_setting('cc.subject', true))
  AND patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[])
  AND category = ANY ((SELECT string_to_array(current_setting('cc.categories', true), ','))::text[])
  AND ((SELECT current_setting('cc.types', true) = '*')
       OR resource_type = ANY ((SELECT string_to_array(current_setting('cc.types', true), ','))::text[]))
  AND (cardinality(security_labels) = 0
       OR security_labels <@ (SELECT coalesce(string_to_array(current_setting('cc.labels', true), ','),
                                              '{}'::text[]))
       OR security_labels <@ (SELECT subject_readable_labels()))
  AND ((SELECT current_setting('cc.consent_override', true) = 'on')
       OR (SELECT allows_all_rows FROM subject_consent_summary)
       OR coalesce(NOT resource_type = ANY ((SELECT subject_excluded_classes())::text[])
                     AND NOT security_labels && (SELECT subject_excluded_labels()),
                   subject_consent_rules_allow((SELECT subject_consent_rules()), resource_type, security_labels))));
