-- A chunk's date at the precision its resource wrote it with (ChunkRenderer version 6): FHIR lets a
-- date be a year ("2019") or a month ("2019-03"), and such a date was stored, returned as the
-- context's "date" and put before the chunk in chat prompts as its first day ("2019-01-01"), a day
-- nobody recorded. effective_date stays the first day it covers, for ordering; this column says how
-- much of it was written. NULL is a whole day: rows made before this migration, and re-made by the
-- embedding worker at its next start since the renderer's version changed.
ALTER TABLE chunks ADD COLUMN effective_precision text
  CHECK (effective_precision IN ('year', 'month', 'day'));
