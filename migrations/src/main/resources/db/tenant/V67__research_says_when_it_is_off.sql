-- Research refused a tenant that had never turned research on with the same 503 as one whose build was
-- running (research_index_building, Retry-After: 30): a client that obeys Retry-After retried for ever,
-- when what it needed was a tenant admin's setting. The research role may now ask whether research is on
-- at all (tenant migration 66's marker), to be told which of the two it is. One boolean about the whole
-- tenant, which its admins set; nothing of any row.
CREATE FUNCTION research_enabled() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT b.enabled FROM ${tenant_schema}.research_build b), false)
$$;
REVOKE ALL ON FUNCTION research_enabled() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION research_enabled() TO ${research_role};
