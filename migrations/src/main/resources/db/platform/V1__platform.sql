-- Platform schema: tenants, API keys and wrapped data keys.
-- Runs as the owner/migration role; ${app_role} is the application login role,
-- which gets exactly the rights the HTTP service needs and nothing else.

CREATE TABLE tenants (
  tenant_id   text        PRIMARY KEY CHECK (tenant_id ~ '^[a-z][a-z0-9_]{1,30}$'),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- 'provisioning' rows are half-made tenants: provisioning either finishes them or removes them.
  status      text        NOT NULL CHECK (status IN ('provisioning', 'active', 'deleting')),
  settings    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  key_id          text        PRIMARY KEY CHECK (key_id ~ '^[a-z0-9]{16,32}$'),
  tenant_id       text        NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  principal       text        NOT NULL CHECK (principal ~ '^[A-Za-z0-9._@-]{1,100}$'),
  roles           text[]      NOT NULL,
  -- SHA-256 of the 256-bit random secret. A slow KDF buys nothing for secrets this long.
  secret_hash     bytea       NOT NULL,
  practitioner_id text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,
  revoked_at      timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

-- A tenant's AES-256 data key, wrapped by the key-encryption key. Deleting the row shreds the data.
CREATE TABLE tenant_keys (
  tenant_id   text        NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  key_version int         NOT NULL,
  kek_id      text        NOT NULL,
  wrapped_key bytea       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key_version)
);

GRANT USAGE ON SCHEMA ${flyway:defaultSchema} TO ${app_role};
GRANT SELECT, INSERT, UPDATE ON tenants TO ${app_role};
GRANT SELECT, INSERT, UPDATE ON api_keys TO ${app_role};
GRANT SELECT ON tenant_keys TO ${app_role};
