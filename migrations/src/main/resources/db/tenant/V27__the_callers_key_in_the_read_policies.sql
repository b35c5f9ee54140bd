-- Which tenant's rows a request reads was decided by the application alone: the request's key
-- names a tenant, the application compares it with the tenant in the path and then takes that
-- tenant's role (SET ROLE). The application login role may take every tenant's roles, so one wrong
-- line there (a comparison left out, the path's tenant taken where the key's was meant) would have
-- let a key of one tenant read another tenant's patients, and the database would have helped.
--
-- Now the read, research and identity paths also present the request's key to the database: its id
-- (cc.key) and the SHA-256 of its secret (cc.key_hash, hex), which is what platform.api_keys
-- stores. The tables that hold what those paths hand out carry a restrictive policy: a row is
-- visible only while the transaction presents a live key of this tenant (not revoked, not
-- expired). Chunks (the text of the context and of research results) for the reader and the
-- research role, research rows only for a key with the researcher role; break-glass windows, which
-- a read transaction opens and finds only for the key that presents itself; and the Patient,
-- RelatedPerson and Practitioner resources and care links that de-identification reads. Without a
-- key, with another tenant's key or with a wrong hash, those tables are empty whatever the other
-- settings say.
--
-- The check is a view owned by the migration role (a view reads with its owner's rights, so the
-- tenant roles get no right on the platform schema), marked security_barrier so that no condition
-- of a caller's runs before its own: it shows one row, the key's roles, only for the key the
-- transaction presents, and no hash. The policies read it as an init plan: once a query, one probe
-- of the keys' primary key. (A SECURITY DEFINER function on every table the read path touches cost
-- the core benchmark's transaction about a fifth of its throughput: PostgreSQL runs such a function
-- apart from the query's plan on every call. The view is planned into the query.)
--
-- Not bound to a key: the write path (ingest, and the embedding worker, which has no request and so
-- no key), the audit role (the audit trail is written in batches for many requests at once), and
-- the read path's own questions about the patient (does it exist, its care links, its consent
-- state): they answer the application yes or no and hand out no row.

CREATE VIEW caller_key WITH (security_barrier) AS
  SELECT k.key_id, k.roles
  FROM platform.api_keys k
  WHERE k.key_id = current_setting('cc.key', true)
    AND encode(k.secret_hash, 'hex') = current_setting('cc.key_hash', true)
    AND k.tenant_id = ${tenant_id}
    AND k.revoked_at IS NULL
    AND (k.expires_at IS NULL OR k.expires_at > now());
GRANT SELECT ON caller_key TO ${reader_role}, ${research_role}, ${identity_role};

-- The read path: the patient's context, and the break-glass windows of the key that asks.
CREATE POLICY chunks_read_callers_key ON chunks AS RESTRICTIVE FOR SELECT TO ${reader_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key)));
CREATE POLICY break_glass_of_the_callers_key ON break_glass AS RESTRICTIVE TO ${reader_role}
  USING (key_id = (SELECT key_id FROM caller_key))
  WITH CHECK (key_id = (SELECT key_id FROM caller_key));

-- Research: de-identified search across the tenant's patients, for researchers only.
CREATE POLICY chunks_research_callers_key ON chunks AS RESTRICTIVE FOR SELECT TO ${research_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{researcher}'::text[])));

-- Identity: the identifiers that de-identification strips from a prompt or a research result.
CREATE POLICY resources_identity_callers_key ON resources AS RESTRICTIVE FOR SELECT TO ${identity_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key)));
CREATE POLICY care_links_identity_callers_key ON care_links AS RESTRICTIVE FOR SELECT TO ${identity_role}
  USING ((SELECT EXISTS (SELECT 1 FROM caller_key)));
