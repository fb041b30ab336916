-- Organization ids: ORG- and 6 to 12 digits (was exactly 6), so the system is not
-- capped at 999,999 customers. Every existing id stays valid; the api.* functions
-- check the same pattern, and shared/api.ts (OrgId) the same again at the API.
SET LOCAL ROLE cims_owner;

ALTER TABLE core.customers DROP CONSTRAINT customers_org_id_check;
ALTER TABLE core.customers ADD CONSTRAINT customers_org_id_check CHECK (org_id ~ '^ORG-[0-9]{6,12}$');
