-- Which tenant's trail an auditor reads was the application's decision alone: the login role may
-- take every tenant's audit role, so one wrong tenant comparison would have let an auditor key of
-- one tenant list or export another tenant's trail (patient ids, principals and, with includeBodies,
-- the encrypted query texts the application then decrypts), and the database would have helped.
--
-- Now reading the trail presents the auditor's key (cc.key, cc.key_hash, as the read path does since
-- tenant migration 27), and the audit role sees audit rows only while that is a live key of this
-- tenant with the auditor role. The append stays unbound (rows are written in batches for many
-- requests at once) and reads no row: its statements return the moved head, not the new rows, so
-- they pass no SELECT policy. The owner's lookups (platform migrations 4 and 5) and the retention
-- purge are the owner's, not the audit role's.
GRANT SELECT ON caller_key TO ${audit_role};
CREATE POLICY audit_log_read_callers_key ON audit_log AS RESTRICTIVE FOR SELECT TO ${audit_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{auditor}'::text[])));
