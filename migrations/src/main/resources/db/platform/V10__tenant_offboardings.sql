-- Offboarding a tenant (DELETE /admin/tenants/{id}) destroys its data keys and drops its schema, its
-- audit trail with it: nothing recorded that the tenant had existed, when it was removed, or by whom,
-- but a line of the access log. Each offboarding now leaves one row here, written in the transaction
-- that removes the tenant (by the owner), never changed: the application role may read the rows only.
CREATE TABLE tenant_offboardings (
  tenant_id     text        NOT NULL,
  name          text        NOT NULL,
  created_at    timestamptz NOT NULL,
  offboarded_at timestamptz NOT NULL DEFAULT now(),
  offboarded_by text        NOT NULL
);
CREATE INDEX tenant_offboardings_at ON tenant_offboardings (offboarded_at);
GRANT SELECT ON tenant_offboardings TO ${app_role};
