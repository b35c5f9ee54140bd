-- Per-tenant schema template. Provisioning creates the schema and runs this inside it.
-- Placeholders: ${tenant_role} is the tenant's NOLOGIN role; the application reaches these
-- tables only through SET LOCAL ROLE ${tenant_role}. Tables are owned by the owner role, so
-- FORCE ROW LEVEL SECURITY binds every role that touches them except the owner.
--
-- Policy settings (transaction-scoped, set with set_config(..., true)):
--   cc.access      'ingest' for the write path, 'read' for retrieval
--   cc.patients    comma-separated patient ids the query may see
--   cc.categories  comma-separated chunk categories the caller's role allows
--   cc.labels      comma-separated security labels the caller may see
-- An unset setting is NULL, and "x = ANY (NULL)" is never true: no settings, no rows.

-- Current version of each resource. PHI columns are AES-256-GCM ciphertext.
CREATE TABLE resources (
  resource_type   text        NOT NULL,
  resource_id     text        NOT NULL,
  version_id      bigint      NOT NULL,
  patient_id      text,
  security_labels text[]      NOT NULL DEFAULT '{}',
  content_hash    bytea       NOT NULL,
  body            bytea       NOT NULL,
  last_updated    timestamptz NOT NULL,
  deleted         boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (resource_type, resource_id)
);
CREATE INDEX resources_patient_idx ON resources (patient_id);

CREATE TABLE resource_versions (
  resource_type   text        NOT NULL,
  resource_id     text        NOT NULL,
  version_id      bigint      NOT NULL,
  patient_id      text,
  security_labels text[]      NOT NULL DEFAULT '{}',
  content_hash    bytea       NOT NULL,
  body            bytea,
  last_updated    timestamptz NOT NULL,
  deleted         boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (resource_type, resource_id, version_id)
);

-- Embedded chunks. The vector stays in clear for search; the text is ciphertext.
CREATE TABLE chunks (
  chunk_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type   text        NOT NULL,
  resource_id     text        NOT NULL,
  version_id      bigint      NOT NULL,
  patient_id      text        NOT NULL,
  category        text        NOT NULL,
  security_labels text[]      NOT NULL DEFAULT '{}',
  effective_date  date,
  seq             int         NOT NULL,
  text_hash       bytea       NOT NULL,
  text            bytea       NOT NULL,
  model           text        NOT NULL,
  embedding       public.vector NOT NULL,
  UNIQUE (resource_type, resource_id, seq)
);
-- Single-patient retrieval is an exact scan over this index: recall 1.0 by construction.
CREATE INDEX chunks_patient_idx ON chunks (patient_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON resources, resource_versions, chunks TO ${tenant_role};

ALTER TABLE resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE resources FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_versions FORCE ROW LEVEL SECURITY;
ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;

-- The write path sees and changes every row of its own tenant (the schema and role already
-- confine it to that tenant).
CREATE POLICY resources_ingest ON resources TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
CREATE POLICY resource_versions_ingest ON resource_versions TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');
CREATE POLICY chunks_ingest ON chunks TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'ingest')
  WITH CHECK (current_setting('cc.access', true) = 'ingest');

-- The read path sees only the patients, categories and labels its policy settings allow.
CREATE POLICY chunks_read ON chunks FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'read'
         AND patient_id = ANY (string_to_array(current_setting('cc.patients', true), ','))
         AND category = ANY (string_to_array(current_setting('cc.categories', true), ','))
         AND security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[]));
CREATE POLICY resources_read ON resources FOR SELECT TO ${tenant_role}
  USING (current_setting('cc.access', true) = 'read'
         AND patient_id = ANY (string_to_array(current_setting('cc.patients', true), ','))
         AND security_labels <@ coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[]));
