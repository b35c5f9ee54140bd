-- Which request an audit row records, and from where it came. An auditor could not join a row to the
-- access log's line or to a support ticket (every answer carries X-Request-Id; the row did not keep it),
-- and could not tell from which address a disclosure was asked (IHE BALP puts the client's address in
-- the AuditEvent's agent.network). Both are now columns of the row, in its hash chain (AuditPayload:
-- the canonical form names them only on rows that carry either, so every row written before keeps its
-- payload and its hash; NULL here for those rows and for the platform's own, a retention purge's).
--
-- Only validated forms, which the database holds the application to as well: a request id is what the
-- service accepts in X-Request-Id or the UUID it makes (letters, digits, hyphens; at most 64); an address
-- is an IPv4 or IPv6 literal without prefix, never a header's raw text. NOT VALID: the rows already there
-- hold NULL, and a check of them would read the whole trail during the upgrade for nothing.
-- The audit role's table-wide INSERT and SELECT (V13) cover the columns.
ALTER TABLE audit_log ADD COLUMN request_id text, ADD COLUMN client_address text;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_request_id_form
  CHECK (request_id ~ '^[0-9A-Za-z-]{1,64}$') NOT VALID;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_client_address_form
  CHECK (client_address ~ '^[0-9A-Fa-f:.]{2,45}$' AND family(client_address::inet) IN (4, 6)) NOT VALID;

-- GET /audit?requestId=: a caller with the id from a ticket or a log line finds its rows. Partial: the rows
-- before (NULL) and the platform's own add nothing to it.
CREATE INDEX audit_log_request_id_idx ON audit_log (request_id) WHERE request_id IS NOT NULL;
