-- The read path asks the resources table one question: does the patient exist (and is it not
-- deleted)? Its role (V12) held SELECT on every column, and the read policy admits every resource
-- of the patient in hand whatever its category or type (it checks labels only): under billing's
-- settings, say, a read transaction could read the patient's notes whole (their encrypted bodies,
-- which the application holds the key to), around the chunk policy that limits billing to
-- administrative categories. Nothing on the read path reads a body (chunks carry the text; the
-- de-identifier reads identifiers under the identity role, V14), so the reader keeps the columns of
-- its question and nothing else. TenantIsolationIT proves it.
REVOKE SELECT ON resources FROM ${reader_role};
GRANT SELECT (resource_type, resource_id, deleted) ON resources TO ${reader_role};
