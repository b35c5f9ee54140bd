-- Used only by TenantProvisionerIT: fails after the real template has run, to prove atomicity.
SELECT 1 / 0;
