-- A break-glass window could be opened once per key and patient (tenant migration 4): after it
-- closed, every later emergency access of that clinician to that patient was refused for good, the
-- next day's emergency as well, until an administrator issued a new key. The read path may now open
-- a closed window again, on an ETREAT request that asks for it ("reopen": true, with its own reason,
-- audited and flagged for review like the first). An open window still cannot be lengthened: the
-- read path's role may update a window only once it has closed, and only to a new window opened now
-- (tenant migration 23's policy: opened_at within five minutes of now) of at most a day (its check).
-- The windows stay the key's own and the request's patient's (tenant migrations 21 and 27).
GRANT UPDATE (opened_at, expires_at) ON break_glass TO ${reader_role};

-- Restrictive, for UPDATE only: the row updated must be a closed window. WITH CHECK (true): the new
-- row is bounded by the other policies and the check constraint; without it the USING condition
-- would apply to the new row too, which is open by design.
CREATE POLICY break_glass_reopen_only_closed ON break_glass AS RESTRICTIVE FOR UPDATE TO ${reader_role}
  USING (expires_at <= now())
  WITH CHECK (true);
