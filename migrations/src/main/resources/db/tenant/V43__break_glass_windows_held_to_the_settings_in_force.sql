-- A break-glass window was bound by its role's breakGlass.maxMinutes only when it opened (expires_at,
-- written by the read path). A tenant admin who lowered maxMinutes, or withdrew break-glass from a
-- role, left every window already open at its old length: an hour by default, of access that
-- overrides the patient's consent and needs no care relationship.
--
-- Now the database honours a window only while it is also within the longest window that one of the
-- presenting key's roles may hold open under the tenant's settings as they are now (platform migration
-- 8: role_scopes.break_glass_minutes, 0 for a role that may not break the glass), counted from when it
-- opened. A settings change binds open windows on its commit, whatever their rows say. The check runs
-- only on the break-glass path: in the chunk policy's consent override (V33), which is off on every
-- other request, and in read_scope_admitted()'s care branch for ETREAT (V36, V38); a treatment
-- request's plan and cost are unchanged.
--
-- The rows are brought down to the same bound by the admin API in the transaction that changes the
-- settings (shorten_break_glass_windows(), below), so that a window's row, its reopening (V39: only a
-- closed window) and the audit trail agree with what the database enforces.

-- V36's view, with how long each role of the key may hold a window open.
CREATE OR REPLACE VIEW caller_scope WITH (security_barrier) AS
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
              OR (s.overrides_consent AND current_setting('cc.purpose', true) = 'ETREAT')) AS admits,
         s.break_glass_minutes
  FROM caller_key k
  JOIN platform.role_scopes s ON s.tenant_id = ${tenant_id} AND s.role = ANY (k.roles);

-- When the presenting key's window for cc.subject closes, if it is open now: its expires_at, or sooner
-- when the key's roles now allow a shorter window; NULL when none is open. The reader sees only that
-- key's windows of the request's patient (V21, V27). PL/pgSQL, as read_scope_admitted(), so that the
-- session keeps its plan; run with the caller's rights.
CREATE FUNCTION break_glass_closes_at() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  closes timestamptz;
BEGIN
  SELECT least(b.expires_at, b.opened_at + make_interval(mins => m.minutes)) INTO closes
  FROM ${tenant_schema}.break_glass b,
       (SELECT coalesce(max(s.break_glass_minutes), 0) AS minutes FROM ${tenant_schema}.caller_scope s) m
  WHERE b.patient_id = current_setting('cc.subject', true);
  RETURN CASE WHEN closes > now() THEN closes END;
END
$$;
REVOKE ALL ON FUNCTION break_glass_closes_at() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION break_glass_closes_at() TO ${reader_role};

-- V38's function; the window is the one in force now.
CREATE OR REPLACE FUNCTION read_scope_admitted() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM ${tenant_schema}.caller_scope s
    WHERE s.admits
      AND (current_setting('cc.practitioner', true) = coalesce(s.practitioner_id, '')
           OR current_setting('cc.practitioner', true) = '*'
              AND (NOT s.care
                   OR current_setting('cc.purpose', true) = 'ETREAT'
                      AND ${tenant_schema}.break_glass_closes_at() IS NOT NULL)));
END
$$;

-- V33's policy; the consent override holds only inside the window in force now.
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
               AND ${tenant_schema}.break_glass_closes_at() IS NOT NULL)
       OR (SELECT allows_all_rows FROM subject_consent_summary)
       OR coalesce(NOT resource_type = ANY ((SELECT subject_excluded_classes())::text[])
                     AND NOT security_labels && (SELECT subject_excluded_labels()),
                   subject_consent_rules_allow((SELECT subject_consent_rules()), resource_type, security_labels))));

-- The settings change's own step: every open window brought down to what its key's roles allow now,
-- counted from when it opened (closed at once when that has passed, or when none of them may break the
-- glass any longer); never lengthened. Returns each window it shortened or closed, with what it was, for
-- the audit trail. It enforces the stored settings and nothing else, so whoever calls it can only bring
-- the rows to what the database already enforces. It runs as the owner, whom FORCE ROW LEVEL SECURITY
-- binds too: cc.access is set to 'break-glass-settings' for the call (put back before it returns), under
-- which the policy below shows the owner the windows. (A bound a second or less below a row's end is
-- left: windows opened before this release took their end from the application's clock.)
CREATE POLICY break_glass_held_to_the_settings ON break_glass TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'break-glass-settings');

CREATE FUNCTION shorten_break_glass_windows()
RETURNS TABLE (key_id text, principal text, patient_id text, opened_at timestamptz, was_until timestamptz,
               expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prior text := current_setting('cc.access', true);
BEGIN
  PERFORM set_config('cc.access', 'break-glass-settings', true);
  RETURN QUERY
    WITH allowed AS (
      SELECT k.key_id, k.principal, coalesce(max(s.break_glass_minutes), 0) AS minutes
      FROM platform.api_keys k
      LEFT JOIN platform.role_scopes s ON s.tenant_id = k.tenant_id AND s.role = ANY (k.roles)
      WHERE k.tenant_id = ${tenant_id}
      GROUP BY k.key_id, k.principal),
    open AS (
      SELECT b.key_id, b.patient_id, b.expires_at AS was, a.principal,
             greatest(b.opened_at + make_interval(mins => coalesce(a.minutes, 0)), now()) AS bound
      FROM ${tenant_schema}.break_glass b LEFT JOIN allowed a ON a.key_id = b.key_id
      WHERE b.expires_at > now())
    UPDATE ${tenant_schema}.break_glass b SET expires_at = least(b.expires_at, o.bound)
    FROM open o
    WHERE b.key_id = o.key_id AND b.patient_id = o.patient_id AND o.bound < o.was - interval '1 second'
    RETURNING b.key_id, o.principal, b.patient_id, b.opened_at, o.was, b.expires_at;
  PERFORM set_config('cc.access', coalesce(prior, ''), true);
END
$$;
REVOKE ALL ON FUNCTION shorten_break_glass_windows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shorten_break_glass_windows() TO ${tenant_role};
