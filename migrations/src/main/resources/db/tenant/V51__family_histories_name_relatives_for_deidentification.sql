-- A FamilyMemberHistory names the relative it is about (its "name" element: "Gertrude"), and its notes,
-- which ChunkRenderer version 10 serves, name them again ("Gertrude had a mastectomy at 45"). The name is
-- one of Safe Harbor's names of relatives, and de-identification strips only the names it knows: the
-- identity role (tenant migration 14) may now also read the patients' FamilyMemberHistory resources,
-- still only of the patients in cc.patients and still under the caller's key (tenant migration 27).
DROP POLICY resources_identity ON resources;
CREATE POLICY resources_identity ON resources FOR SELECT TO ${identity_role}
  USING ((resource_type IN ('Patient', 'RelatedPerson', 'FamilyMemberHistory')
          AND patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true), ','))::text[]))
         OR (resource_type = 'Practitioner'
             AND resource_id IN (SELECT practitioner_id FROM ${tenant_schema}.care_links
                                 WHERE patient_id = ANY ((SELECT string_to_array(current_setting('cc.patients', true),
                                                                                 ','))::text[]))));
