-- The decision statement reads the consent facts only when no chunk came back (to name the true
-- reason). As a sub-select in that statement, PostgreSQL still initialised its plan (an aggregate
-- over the subject's consents, a subquery scan and an index scan) on every execution, though it
-- ran it only on the deny path: executor start-up was 13 % of the machine's CPU in the core
-- benchmark, ExecInitAgg alone 5 %. Behind a PL/pgSQL function the plan lives in the function's
-- cache and is started only when the function is called. Same facts, same snapshot, same RLS
-- (the function runs as its caller).
CREATE FUNCTION subject_consent_facts() RETURNS boolean[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT ARRAY[s.base_allows, s.exceptions, s.any_deny, s.denied_classes, s.denied_labels]
          FROM ${tenant_schema}.subject_consent_summary s);
END
$$;

REVOKE ALL ON FUNCTION subject_consent_facts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION subject_consent_facts() TO ${tenant_role};
