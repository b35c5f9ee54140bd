-- The reason a caller gives for break-glass (purpose ETREAT). API.md requires one, and the
-- platform refused an ETREAT without it, then threw it away: the audit row said "break glass,
-- review required" and nothing of why, which is the one thing the review judges.
--
-- Free text (it can name the patient or the situation), so it is stored like the query: AES-GCM
-- ciphertext under the tenant's data key, its hash in the row's chain (AuditPayload), decrypted
-- only for an auditor who asks for bodies. NULL for every other row, and for rows written before
-- this migration, which keep their hashes (the payload names the field only when it is present).
-- The audit role's table-wide INSERT and SELECT (V13) cover the column.
ALTER TABLE audit_log ADD COLUMN justification_enc bytea;
