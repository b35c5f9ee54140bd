-- De-identification (chat prompts, research results) needs the identifiers the platform knows for
-- the patients in hand: their Patient and RelatedPerson resources and the Practitioners linked to
-- them. It read them with the write path's settings, under the tenant role, which may read and
-- change everything. It gets a role of its own (<prefix>_identity_<id>) that may read exactly
-- those resources of the patients in cc.patients, whatever their security labels (a label must
-- not hide a name from the de-identifier that strips it), and nothing else: no chunks, no
-- consents, no audit trail, no writes.
GRANT USAGE ON SCHEMA ${tenant_schema} TO ${identity_role};
GRANT SELECT ON resources, care_links TO ${identity_role};

CREATE POLICY care_links_identity ON care_links FOR SELECT TO ${identity_role}
  USING (patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[]));
CREATE POLICY resources_identity ON resources FOR SELECT TO ${identity_role}
  USING ((resource_type IN ('Patient', 'RelatedPerson')
          AND patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[]))
         OR (resource_type = 'Practitioner'
             AND resource_id IN (SELECT practitioner_id FROM ${tenant_schema}.care_links
                                 WHERE patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true),
                                                                                 ','))::text[]))));
