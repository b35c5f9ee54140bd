-- A tenant's data key becomes a ring: `tenant rotate-data-key` adds a version (key_version was in the
-- primary key from V1, always 1 until now), the newest seals new values, and every version stays until
-- nothing is sealed under it (version 1 for good: the keyed hashes are under it). `kek rotate` rewraps
-- every version.
--
-- Like `kek rotate` (V12), the rotation commits the new version, then writes a data-key-rotate row in
-- the tenant's trail on another connection; the new version's row owes that row until it is written, so
-- a run stopped in between writes it next time. Only the owner writes the column.
ALTER TABLE tenant_keys ADD COLUMN rotation_unaudited boolean NOT NULL DEFAULT false;
ALTER TABLE tenant_keys ADD CONSTRAINT tenant_keys_version_from_one CHECK (key_version >= 1);
