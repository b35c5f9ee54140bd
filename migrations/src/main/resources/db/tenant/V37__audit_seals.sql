-- Keyed seals of the audit chains.
--
-- The chain of tenant migration 4 is SHA-256 over inputs anyone can read: whoever writes these
-- tables as their owner (a database administrator, a stolen superuser password) could alter a row,
-- recompute every later hash and the head, and the trail would still verify. A seal records one
-- shard's head (seq and hash) with an HMAC-SHA256 under a key derived from the tenant's data key,
-- which this database never holds (it is stored wrapped by the key-encryption key, which lives
-- outside it). The application seals every shard whose head moved, once a minute and when it stops
-- (AuditSealing), and verify checks each seal's MAC and that the recomputed chain passes through
-- every sealed head. So a row altered at or before its shard's latest seal is found even when the
-- chain was recomputed around it; a seal cannot be forged, or moved to another head, without the
-- key; and a chain cut back behind a seal shows as a seal beyond the head. Rows after the latest
-- seal (the last minute's) have the chain's protection only, and verify counts them.
--
-- A seal carries hashes only, no PHI. The audit role appends seals and reads them; nothing may
-- change or remove one (no UPDATE or DELETE grant; the owner's rights are what the MAC is for).
CREATE TABLE audit_seals (
  shard     int         NOT NULL CHECK (shard BETWEEN 0 AND 7),
  seq       bigint      NOT NULL CHECK (seq > 0),
  head      bytea       NOT NULL,
  mac       bytea       NOT NULL,
  sealed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shard, seq)
);

GRANT SELECT, INSERT ON audit_seals TO ${audit_role};
ALTER TABLE audit_seals ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_seals FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_seals_append ON audit_seals FOR INSERT TO ${audit_role}
  WITH CHECK (current_setting('cc.access', true) = 'audit');
CREATE POLICY audit_seals_read ON audit_seals FOR SELECT TO ${audit_role}
  USING (current_setting('cc.access', true) = 'audit');
