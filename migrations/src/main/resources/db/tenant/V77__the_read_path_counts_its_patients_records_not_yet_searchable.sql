-- A patient's resources just written (FHIR PUT/POST, $import) are chunked and embedded by the worker
-- later; until then context and chat answer with fewer chunks and the caller could not tell. The read
-- path's role has no grant over the outbox (the worker's queue), and it should not have one: the queue
-- names every resource of every patient of the tenant, whatever its category, labels or consent.
--
-- So the reader gets one number and nothing else: subject_pending_resources(), a SECURITY DEFINER
-- function that counts the request's own patient's resources waiting in the outbox (not parked, not
-- deleted) that the request's settings would let it read once embedded, under the same conditions as the
-- chunk policy (V43): the patient in hand (cc.subject, one of cc.patients), the care relationship when
-- one is required (cc.practitioner, links in force as care_links_in_force says), the resource types
-- (cc.types), the security labels (cc.labels, or those the patient's consent makes readable), and the
-- patient's consent exclusions by class and label; only when the database admits the key and the
-- request's settings within its roles (read_scope_admitted(), V36/V43). A column grant with a policy on
-- the outbox would have needed the resources' patient and labels granted to the reader too, which is wider.
--
-- Categories: a chunk's category is decided by the renderer from the resource's body (encrypted), so it
-- is not known before the worker runs. A resource is counted only when every category its type's
-- chunks can have (pending_chunk_categories, from fhir's ChunkRenderer) is one the role reads: a billing
-- key never learns that a note was written. It undercounts (an Encounter, which may carry a clinical
-- reason, is not counted for billing), never over. A type the renderer does not render is not counted.
-- Break-glass: the function reads no break-glass window (the owner sees none under these settings), so a
-- request that needs one (cc.practitioner '*' for a role that requires care) is not admitted: it counts 0.
--
-- It runs as the owner, whom FORCE ROW LEVEL SECURITY binds too: cc.access is set to 'pending-count' for
-- the call (put back before it returns), under which the policies below show the owner the outbox, the
-- subject's resources, consents and care links in force.
CREATE POLICY outbox_pending_count ON outbox FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'pending-count');
CREATE POLICY resources_pending_count ON resources FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'pending-count' AND patient_id = current_setting('cc.subject', true));
CREATE POLICY consents_pending_count ON consents FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'pending-count' AND patient_id = current_setting('cc.subject', true));
CREATE POLICY care_links_pending_count ON care_links FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'pending-count' AND patient_id = current_setting('cc.subject', true)
         AND (valid_from IS NULL OR valid_from <= now())
         AND (valid_until IS NULL OR valid_until > now() OR follow_up_until > now())
         AND (open_since IS NULL OR follow_up_until > now()));

-- Every category the renderer may give a chunk of a resource of this type; NULL for a type it does not render.
CREATE FUNCTION pending_chunk_categories(p_type text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_type
    WHEN 'Patient' THEN '{demographic}'
    WHEN 'Condition' THEN '{clinical,note}'
    WHEN 'AllergyIntolerance' THEN '{clinical,note}'
    WHEN 'FamilyMemberHistory' THEN '{clinical,note}'
    WHEN 'Procedure' THEN '{clinical}'
    WHEN 'Immunization' THEN '{clinical}'
    WHEN 'CarePlan' THEN '{clinical}'
    WHEN 'MedicationRequest' THEN '{medication}'
    WHEN 'MedicationStatement' THEN '{medication}'
    WHEN 'Observation' THEN '{lab,clinical,note}'
    WHEN 'DiagnosticReport' THEN '{lab,clinical,note}'
    WHEN 'DocumentReference' THEN '{note}'
    WHEN 'Encounter' THEN '{administrative,clinical}'
    WHEN 'Coverage' THEN '{administrative}'
    WHEN 'Claim' THEN '{administrative}'
    WHEN 'ExplanationOfBenefit' THEN '{administrative}'
  END::text[]
$$;
REVOKE ALL ON FUNCTION pending_chunk_categories(text) FROM PUBLIC;

CREATE FUNCTION subject_pending_resources() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prior text := current_setting('cc.access', true);
  subject text := current_setting('cc.subject', true);
  practitioner text := current_setting('cc.practitioner', true);
  n integer;
BEGIN
  IF prior IS DISTINCT FROM 'read' OR subject IS NULL THEN
    RETURN 0;
  END IF;
  -- Asked after every allowed read: with nothing waiting (the usual state) one probe of the outbox's
  -- partial index answers, before the admission check (a lookup of the key, which cost the retrieval core
  -- throughput on every read) and instead of a probe of the outbox for each of the patient's resources. An
  -- early 0 tells an unadmitted caller nothing: 0 is its answer whatever waits.
  PERFORM set_config('cc.access', 'pending-count', true);
  IF NOT EXISTS (SELECT 1 FROM ${tenant_schema}.outbox o WHERE o.parked_at IS NULL) THEN
    PERFORM set_config('cc.access', prior, true);
    RETURN 0;
  END IF;
  PERFORM set_config('cc.access', prior, true); -- the admission check reads the request's own settings
  IF NOT subject = ANY (string_to_array(current_setting('cc.patients', true), ','))
     OR NOT ${tenant_schema}.read_scope_admitted() THEN
    RETURN 0;
  END IF;
  PERFORM set_config('cc.access', 'pending-count', true);
  SELECT count(*) INTO n
  FROM ${tenant_schema}.resources r
  WHERE r.patient_id = subject AND NOT r.deleted
    AND EXISTS (SELECT 1 FROM ${tenant_schema}.outbox o
                WHERE o.resource_type = r.resource_type AND o.resource_id = r.resource_id AND o.parked_at IS NULL)
    AND (practitioner = '*'
         OR EXISTS (SELECT 1 FROM ${tenant_schema}.care_links l
                    WHERE l.patient_id = subject AND l.practitioner_id = practitioner))
    AND ${tenant_schema}.pending_chunk_categories(r.resource_type)
        <@ coalesce(string_to_array(current_setting('cc.categories', true), ','), '{}'::text[])
    AND (current_setting('cc.types', true) = '*'
         OR r.resource_type = ANY (string_to_array(current_setting('cc.types', true), ',')))
    AND (cardinality(r.security_labels) = 0
         OR r.security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[])
         OR r.security_labels <@ ${tenant_schema}.subject_readable_labels())
    AND ((SELECT allows_all_rows FROM ${tenant_schema}.subject_consent_summary)
         OR coalesce(NOT r.resource_type = ANY (${tenant_schema}.subject_excluded_classes())
                       AND NOT r.security_labels && ${tenant_schema}.subject_excluded_labels(),
                     ${tenant_schema}.subject_consent_rules_allow(${tenant_schema}.subject_consent_rules(),
                                                                  r.resource_type, r.security_labels)));
  PERFORM set_config('cc.access', prior, true);
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION subject_pending_resources() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION subject_pending_resources() TO ${reader_role};
