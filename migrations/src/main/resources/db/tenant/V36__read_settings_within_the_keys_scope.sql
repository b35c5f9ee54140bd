-- The read and research policies took the application's word for the request's scope: the categories,
-- resource types and labels it may read (cc.categories, cc.types, cc.labels, cc.consent_labels), its
-- purpose (cc.purpose), the consent mode (cc.consent_mode), whether consent is overridden
-- (cc.consent_override) and whose care relationship applies (cc.practitioner, '*' for none). The key
-- had to be a live key of the tenant (tenant migration 27), but any key would do: one wrong line that
-- gave a billing key a clinician's categories, set '*' for a clinician who has no care link to the
-- patient, or set opt-out for a tenant in opt-in mode would have served those chunks, and RLS would
-- have helped.
--
-- Now a restrictive policy bounds each setting by what the presenting key's roles allow, computed in
-- the database from its own copy of the role defaults (platform migration 7) and the tenant's stored
-- settings (rolePolicies, careRelationship, consentMode: changed only with their audit row, platform
-- migration 5), which platform migration 7 keeps merged, a row a role, in platform.role_scopes. A
-- request is admitted when one role of the key allows all of it at once:
--   * its purpose is one of the role's purposes (ETREAT only for a role that may break the glass);
--   * its categories, labels and labels-with-consent are within the role's, its resource types too
--     (or the role has '*');
--   * opt-out only in a tenant whose consent mode is opt-out;
--   * a consent override only on an ETREAT request of a role whose break-glass overrides consent
--     (and still only inside an open window: V33);
--   * cc.practitioner is the key's own practitioner, or '*' when the role or the tenant requires no
--     care relationship, or on an ETREAT request with an open break-glass window of the key for the
--     patient.
-- Research reads are bounded the same way (they set no practitioner and no override).
--
-- caller_scope is a view owned by the migration role (as caller_key: it reads the platform schema,
-- on which the tenant roles have no right), marked security_barrier. The policies read it through a
-- function, as an init plan: once a query, a probe of the key's primary key and of its roles' rows
-- in platform.role_scopes.

-- The key's practitioner (api_keys.practitioner_id), at the view's end.
CREATE OR REPLACE VIEW caller_key WITH (security_barrier) AS
  SELECT k.key_id, k.roles, k.practitioner_id
  FROM platform.api_keys k
  WHERE k.key_id = current_setting('cc.key', true)
    AND encode(k.secret_hash, 'hex') = current_setting('cc.key_hash', true)
    AND k.tenant_id = ${tenant_id}
    AND k.revoked_at IS NULL
    AND (k.expires_at IS NULL OR k.expires_at > now());

-- One row a role of the presenting key: whether it admits the request's settings, and what the
-- practitioner check needs (care: whether the role and the tenant require a care relationship). The
-- role's scope in this tenant is platform.role_scopes' row (platform migration 7: the default merged
-- with the tenant's stored rolePolicies, careRelationship and consentMode). A list setting is
-- comma-separated; unset or empty is none.
CREATE VIEW caller_scope WITH (security_barrier) AS
  SELECT k.practitioner_id, s.care,
         current_setting('cc.purpose', true) = ANY (s.purposes)
         AND (current_setting('cc.purpose', true) IS DISTINCT FROM 'ETREAT' OR s.break_glass)
         AND coalesce(string_to_array(nullif(current_setting('cc.categories', true), ''), ','), '{}') <@ s.categories
         AND coalesce(string_to_array(nullif(current_setting('cc.labels', true), ''), ','), '{}') <@ s.labels
         AND coalesce(string_to_array(nullif(current_setting('cc.consent_labels', true), ''), ','), '{}')
             <@ s.consent_labels
         AND ('*' = ANY (s.types)
              OR coalesce(string_to_array(nullif(current_setting('cc.types', true), ''), ','), '{}')
                 <@ array_remove(s.types, '*'))
         AND (current_setting('cc.consent_mode', true) IS DISTINCT FROM 'opt-out' OR s.opt_out)
         AND (current_setting('cc.consent_override', true) IS DISTINCT FROM 'on'
              OR (s.overrides_consent AND current_setting('cc.purpose', true) = 'ETREAT')) AS admits
  FROM caller_key k
  JOIN platform.role_scopes s ON s.tenant_id = ${tenant_id} AND s.role = ANY (k.roles);

GRANT SELECT ON caller_scope TO ${reader_role}, ${research_role};

-- Whether the read path's settings are within the key's scope, care relationship included. The chunk
-- policy asks it, and so does the read path when it finds nothing (ContextService.FACTS), so that such
-- a request is recorded as scope_not_admitted rather than as an allowed read that found nothing.
-- PL/pgSQL, as V17, V19 and V20, so that the policy's init plan is a bare function call: the session
-- keeps the function's plan, where the same condition written into the policy was planned again with
-- every search (the pooled connections change roles between tenants, which discards the search's
-- plan; docs/benchmarks.md, twenty-sixth session, has what each form cost). It runs with the
-- caller's rights, since the break-glass windows it looks at are the reader's through their own
-- policies (V21, V27).
CREATE FUNCTION read_scope_admitted() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM ${tenant_schema}.caller_scope s
    WHERE s.admits
      AND (current_setting('cc.practitioner', true) = s.practitioner_id
           OR current_setting('cc.practitioner', true) = '*'
              AND (NOT s.care
                   OR current_setting('cc.purpose', true) = 'ETREAT'
                      AND EXISTS (SELECT 1 FROM ${tenant_schema}.break_glass b
                                  WHERE b.patient_id = current_setting('cc.subject', true)
                                    AND b.expires_at > now()))));
END
$$;

-- The same for research, which sets no practitioner.
CREATE FUNCTION research_scope_admitted() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM ${tenant_schema}.caller_scope s WHERE s.admits);
END
$$;

REVOKE ALL ON FUNCTION read_scope_admitted(), research_scope_admitted() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION read_scope_admitted() TO ${reader_role};
GRANT EXECUTE ON FUNCTION research_scope_admitted() TO ${research_role};

CREATE POLICY chunks_read_within_the_keys_scope ON chunks AS RESTRICTIVE FOR SELECT TO ${reader_role}
  USING ((SELECT read_scope_admitted()));

CREATE POLICY chunks_research_within_the_keys_scope ON chunks AS RESTRICTIVE FOR SELECT TO ${research_role}
  USING ((SELECT research_scope_admitted()));

-- read_scope_admitted() is true only for a live key of this tenant (caller_scope joins caller_key), so
-- tenant migration 27's key policy on the reader's chunks says nothing more: one init plan less a
-- search. (The research role's stays: it also asks for the researcher role.)
DROP POLICY chunks_read_callers_key ON chunks;
