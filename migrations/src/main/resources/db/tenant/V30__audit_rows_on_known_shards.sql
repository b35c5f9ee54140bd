-- An audit row belongs to one of the eight chains (shards 0 to 7, AuditLog.SHARDS) that verify
-- walks. A row on any other shard was listed and exported like any other, yet no chain covered it:
-- whoever could append one (the audit role, which code on the application's connection can take)
-- could add rows that verify never saw. The database now refuses them for every role. NOT VALID:
-- rows written before are not re-checked here, so a trail that already holds such a row does not
-- stop the upgrade; verify reports it as broken instead (AuditLog.verify).
ALTER TABLE audit_log ADD CONSTRAINT audit_log_shard_known CHECK (shard BETWEEN 0 AND 7) NOT VALID;
