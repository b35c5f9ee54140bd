-- The write path's working tables: outbox, embedding cache, consent state and care links.

-- One row per resource version to (re)index. Workers claim rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
  outbox_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type text        NOT NULL,
  resource_id   text        NOT NULL,
  version_id    bigint      NOT NULL,
  operation     text        NOT NULL CHECK (operation IN ('index', 'reembed')),
  attempts      int         NOT NULL DEFAULT 0,
  available_at  timestamptz NOT NULL DEFAULT now(),
  -- Poison items are parked, not retried forever; last_error is a PHI-free message.
  parked_at     timestamptz,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_ready_idx ON outbox (available_at, outbox_id) WHERE parked_at IS NULL;

-- A text already embedded by a model in this tenant is never embedded again. Keyed by the
-- tenant-keyed HMAC of the text, so the cache holds no clear hash of PHI.
CREATE TABLE embedding_cache (
  model       text          NOT NULL,
  text_hash   bytea         NOT NULL,
  embedding   public.vector NOT NULL,
  created_at  timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (model, text_hash)
);

-- Interpreted R4 Consent resources (patient-privacy scope), one row per Consent.
CREATE TABLE consents (
  consent_id        text        PRIMARY KEY,
  patient_id        text        NOT NULL,
  status            text        NOT NULL,
  decision          text        NOT NULL CHECK (decision IN ('permit', 'deny')),
  period_start      timestamptz,
  period_end        timestamptz,
  purposes          text[]      NOT NULL DEFAULT '{}',
  denied_classes    text[]      NOT NULL DEFAULT '{}',
  denied_labels     text[]      NOT NULL DEFAULT '{}',
  permitted_classes text[]      NOT NULL DEFAULT '{}',
  permitted_labels  text[]      NOT NULL DEFAULT '{}',
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_patient_idx ON consents (patient_id);

-- Practitioner ↔ patient links from CareTeam, Encounter and Patient.generalPractitioner.
CREATE TABLE care_links (
  practitioner_id text NOT NULL,
  patient_id      text NOT NULL,
  source_type     text NOT NULL,
  source_id       text NOT NULL,
  PRIMARY KEY (practitioner_id, patient_id, source_type, source_id)
);
CREATE INDEX care_links_patient_idx ON care_links (patient_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON outbox, embedding_cache, consents, care_links TO ${tenant_role};

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
ALTER TABLE embedding_cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE embedding_cache FORCE ROW LEVEL SECURITY;
ALTER TABLE consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE consents FORCE ROW LEVEL SECURITY;
ALTER TABLE care_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE care_links FORCE ROW LEVEL SECURITY;

CREATE POLICY outbox_ingest ON outbox TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
CREATE POLICY embedding_cache_ingest ON embedding_cache TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
CREATE POLICY consents_ingest ON consents TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
CREATE POLICY care_links_ingest ON care_links TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');

-- The read path reads the consent state and care links of the patients it asks about (the
-- policy decision is taken before the patient list is set, so these filter on the requested
-- patient: cc.subject).
CREATE POLICY consents_read ON consents FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'read' AND patient_id = current_setting('cc.subject', true));
CREATE POLICY care_links_read ON care_links FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'read' AND patient_id = current_setting('cc.subject', true));
