-- HIPAA asks that each break-glass access be reviewed. The review was kept outside the platform (the README sent
-- the privacy officer to a compliance system): an auditor now records it (POST /v1/{t}/audit/{auditId}/review) as a
-- row of the trail itself, appended and hash-chained like every row: action 'break-glass-review', the reviewed
-- row's patient, the outcome as its reason, and in its details the reviewed row's audit id
-- ({"reviewedAuditId":"…","outcome":"…"}). The reviewed row is never changed (tenant migration 57 refuses an
-- UPDATE of any row); a later review of the same row is another row, and the latest is the one that counts.
--
-- Each break-glass row a listing shows looks up its latest review, and ?reviewed=false lists those without one:
-- both find the reviews of a row through this index. Partial: only allowed review rows pay for it on the append;
-- every other row (thousands a second on the context path) only evaluates the predicate. The listing's expression
-- and predicate are these ones (AuditLog.REVIEWS, AuditLog.REVIEWED).
CREATE INDEX audit_log_reviewed_idx ON audit_log (((details::jsonb) ->> 'reviewedAuditId'), at)
  WHERE action = 'break-glass-review' AND decision = 'allowed';

-- ?breakGlass=true and ?reviewed= list the break-glass rows, newest first: without an index of their own a listing
-- walked the whole trail by time (audit_log_at_idx) to find the few flagged ones (on a trail of 100,000 rows with
-- 50 break-glass ones, reviewed=false read all 100,000). Partial, like the index above: only break-glass rows
-- (ETREAT reads and chats, windows cut short) pay for it on the append.
CREATE INDEX audit_log_break_glass_idx ON audit_log (at) WHERE break_glass;

-- An allowed review names a row by its audit id and has one of the three outcomes: the database holds the writer
-- to that form as well (a review that named nothing would never be found, and its break-glass row would stay
-- unreviewed in every listing). Refused attempts (decision 'denied', the refusal's reason) are not bound by it.
-- NOT VALID: no row before this migration has the action, and a check would read the whole trail for nothing.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_review_form
  CHECK (action <> 'break-glass-review' OR decision <> 'allowed'
         OR (reason IN ('appropriate', 'inappropriate', 'needs_follow_up')
             -- coalesce: a review naming no id gives NULL here, which a CHECK would let through
             AND coalesce(((details::jsonb) ->> 'reviewedAuditId')
                          ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', false)))
  NOT VALID;
