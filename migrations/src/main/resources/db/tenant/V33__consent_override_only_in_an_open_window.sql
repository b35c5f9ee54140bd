-- cc.consent_override = 'on' let the chunk policy skip the patient's consent, and the database took
-- the setting on the application's word: one wrong line setting it on a TREAT request (or any
-- request) would have served a patient without consent, or one whose consent denies a class or a
-- label, and RLS would have helped. The setting is meant for break-glass only: an ETREAT request of
-- a role whose policy lets it override consent, inside the window its key opened for the patient.
--
-- Now the policy honours the override only while the key that presents itself (caller_key, tenant
-- migration 27) has an open break-glass window for cc.subject: break_glass's own policies (V21, V27)
-- show the reader the windows of that key and patient only. The read path opens the window before
-- its search. The check is an init plan, run once a query and only when the override is on.
--
-- Otherwise V26's policy, unchanged.
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
  AND ((SELECT current_setting('cc.consent_override', true) = 'on'
               AND EXISTS (SELECT 1 FROM break_glass b
                           WHERE b.patient_id = current_setting('cc.subject', true) AND b.expires_at > now()))
       OR (SELECT allows_all_rows FROM subject_consent_summary)
       OR coalesce(NOT resource_type = ANY ((SELECT subject_excluded_classes())::text[])
                     AND NOT security_labels && (SELECT subject_excluded_labels()),
                   subject_consent_rules_allow((SELECT subject_consent_rules()), resource_type, security_labels))));
