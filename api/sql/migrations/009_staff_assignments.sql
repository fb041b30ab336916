-- The staff directory and the record of what an edit undoes.
--
-- 1. core.staff: every person the API has seen with a valid token (subject,
--    name, roles, first and last seen). Written by api.staff_seen in batches
--    (api/src/staff-seen.ts), read by admins (GET /v1/staff); an assignment may
--    only name a CRM found here, so a customer is never given to a subject
--    nobody has seen.
-- 2. audit.events.revert_of: the event an edit reverts ("Revert this change"),
--    null for every other event. Rows hash over every column where a null
--    revert_of is left out (api/src/audit/hash.ts), so events sealed before
--    this column keep their hashes.
SET LOCAL ROLE cims_owner;

CREATE TABLE core.staff (
  sub            text PRIMARY KEY CHECK (length(sub) BETWEEN 1 AND 200),
  name           text NOT NULL CHECK (length(name) <= 200),
  roles          text[] NOT NULL CHECK (roles <@ ARRAY['crm', 'support_lead', 'admin']),
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (last_seen_at >= first_seen_at)
);

RESET ROLE;

-- audit.events belongs to cims_audit_owner (migration 005): changed by the superuser migrator.
ALTER TABLE audit.events ADD COLUMN revert_of bigint CHECK (revert_of >= 1);
