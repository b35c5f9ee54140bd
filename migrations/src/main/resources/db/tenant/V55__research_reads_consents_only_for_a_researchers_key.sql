-- The research role read every consent of its tenant (who consented to research, to what, with which
-- exceptions) under cc.access = 'research' alone: no key of the caller was needed, where its chunks
-- need a live researcher key of the tenant (tenant migration 27). A statement on the application's
-- connection that took the role and the setting could list them. Now the consents, like the chunks,
-- are the research role's only while the transaction presents such a key; the research search reads
-- them through the research_consent views (security invoker), under the same key it already presents.
-- RowSecurityAloneIT proves it alone.
CREATE POLICY consents_research_callers_key ON consents AS RESTRICTIVE FOR SELECT TO ${research_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{researcher}'::text[])));
