-- The read path: consent enforced by row-level security, break-glass windows, and the
-- hash-chained, append-only audit trail.

-- Whether the patient's consent state permits AI use of one row, evaluated inside the RLS policy.
-- cc.consent_mode is the tenant's mode (opt-in: needs an active permit; opt-out: allowed unless
-- denied); cc.purpose the request's purpose of use. Deny wins over permit.
CREATE FUNCTION consent_allows(p_patient text, p_type text, p_labels text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT decision, denied_classes, denied_labels, permitted_classes, permitted_labels
    FROM consents
    WHERE patient_id = p_patient AND status = 'active'
      AND (period_start IS NULL OR period_start <= now())
      AND (period_end IS NULL OR period_end > now())
      AND (cardinality(purposes) = 0 OR current_setting('cc.purpose', true) = ANY (purposes)))
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM c WHERE decision = 'deny'
                 AND NOT (p_type = ANY (permitted_classes) OR p_labels && permitted_labels)) THEN false
    WHEN EXISTS (SELECT 1 FROM c WHERE decision = 'permit'
                 AND (p_type = ANY (denied_classes) OR p_labels && denied_labels)) THEN false
    WHEN EXISTS (SELECT 1 FROM c WHERE decision = 'permit') THEN true
    ELSE coalesce(current_setting('cc.consent_mode', true), '') = 'opt-out'
  END
$$;

DROP POLICY chunks_read ON chunks;
CREATE POLICY chunks_read ON chunks FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'read'
         AND patient_id = ANY (string_to_array(current_setting('cc.patients', true), ','))
         AND category = ANY (string_to_array(current_setting('cc.categories', true), ','))
         AND (current_setting('cc.types', true) = '*'
              OR resource_type = ANY (string_to_array(current_setting('cc.types', true), ',')))
         AND security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[])
         AND (current_setting('cc.consent_override', true) = 'on'
              OR consent_allows(patient_id, resource_type, security_labels)));

-- Break-glass (ETREAT) windows: the first emergency access of a key to a patient opens a window
-- of the role policy's length; after it closes, break-glass for that pair is refused.
CREATE TABLE break_glass (
  key_id     text        NOT NULL,
  patient_id text        NOT NULL,
  opened_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key_id, patient_id)
);
GRANT SELECT, INSERT ON break_glass TO ${tenant_role};

-- Append-only audit trail, one row per access decision, hash-chained in independent shards so
-- concurrent writers do not serialize on one chain head. Bodies (query, prompt, response) are
-- ciphertext; the chain covers their hashes.
CREATE TABLE audit_log (
  audit_id      uuid        PRIMARY KEY,
  shard         int         NOT NULL,
  seq           bigint      NOT NULL,
  at            timestamptz NOT NULL,
  principal     text        NOT NULL,
  key_id        text,
  roles         text[]      NOT NULL DEFAULT '{}',
  patient_id    text,
  purpose       text,
  action        text        NOT NULL,
  decision      text        NOT NULL CHECK (decision IN ('allowed', 'denied', 'failed')),
  reason        text        NOT NULL,
  break_glass   boolean     NOT NULL DEFAULT false,
  chunk_ids     bigint[]    NOT NULL DEFAULT '{}',
  model         text,
  prompt_hash   bytea,
  response_hash bytea,
  query_enc     bytea,
  prompt_enc    bytea,
  response_enc  bytea,
  details       text        NOT NULL DEFAULT '{}',
  latency_ms    int,
  prev_hash     bytea       NOT NULL,
  row_hash      bytea       NOT NULL,
  UNIQUE (shard, seq)
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_patient_idx ON audit_log (patient_id, at);

CREATE TABLE audit_heads (
  shard int    PRIMARY KEY,
  seq   bigint NOT NULL,
  head  bytea  NOT NULL
);
INSERT INTO audit_heads (shard, seq, head)
SELECT g, 0, sha256(convert_to('carecontext-audit-genesis:' || g, 'UTF8')) FROM generate_series(0, 7) AS g;

-- Retention purges whole prefixes of a shard; the anchor keeps the rest verifiable.
CREATE TABLE audit_anchors (
  shard       int         PRIMARY KEY,
  through_seq bigint      NOT NULL,
  anchor_hash bytea       NOT NULL,
  purged_at   timestamptz NOT NULL DEFAULT now()
);

-- The application may add audit rows and read them, never change or remove them.
GRANT SELECT, INSERT ON audit_log TO ${tenant_role};
GRANT SELECT, UPDATE ON audit_heads TO ${tenant_role};
GRANT SELECT ON audit_anchors TO ${tenant_role};

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_append ON audit_log FOR INSERT TO ${tenant_role} WITH CHECK (true);
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'audit');
-- Retention runs as the owner, which FORCE ROW LEVEL SECURITY binds too; the tenant role holds no
-- DELETE grant, so this policy opens deletion to the owner only.
CREATE POLICY audit_log_retention ON audit_log FOR ALL TO PUBLIC
  USING (current_setting('cc.access', true) = 'retention');
