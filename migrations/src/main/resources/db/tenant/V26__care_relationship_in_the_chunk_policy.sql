-- The care relationship was a condition of the search statement alone: with cc.subject and
-- cc.patients naming the patient, a read transaction whose statement left that condition out saw
-- the chunks of a patient outside the key's care relationship. Now the chunk policy repeats it, as
-- it repeats every other decision of the read path.
--
-- cc.practitioner: the practitioner whose care relationship (care_links, V2) must link it to
-- cc.subject, or '*' when none is required (a role or tenant without it, or a break-glass request).
-- Unset or empty matches no link, so a read transaction that forgets the setting sees nothing. The
-- check is an init plan, run once a query (one probe of care_links' primary key), not once a row.
--
-- Otherwise V20's policy, unchanged.
ALTER POLICY chunks_read ON chunks USING (
  (SELECT current_setting('cc.access', true) = 'read')
  AND patient_id = (SELECT current_setting('cc.subject', true))
  AND patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[])
  AND ((SELECT current_setting('cc.practitioner', true) = '*')
       OR (SELECT EXISTS (SELECT 1 FROM care_links l
                          WHERE l.patient_id = current_setting('cc.subject', true)
                            AND l.practitioner_id = current_setting('cc.practitioner', true))))
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
