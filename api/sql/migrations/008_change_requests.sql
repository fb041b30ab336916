-- Four eyes: which changes need a second person (approval rules, data the owner
-- role manages, never the API), the change requests that hold such changes until
-- a support lead other than their maker decides, and the audit trail's new steps.
--
-- The separation is a property of the table, not only of the functions: a
-- decided request names a checker whose subject differs from its maker's, and a
-- customer has at most one pending request, whatever any caller does.
SET LOCAL ROLE cims_owner;

-- A rule names a customer field (API name) or an action on a customer.
CREATE TABLE core.approval_rules (
  kind     text NOT NULL CHECK (kind IN ('field', 'action')),
  name     text NOT NULL,
  PRIMARY KEY (kind, name),
  CHECK (kind <> 'field' OR name IN ('orgName', 'contactName', 'contactEmail', 'contactPhone', 'userCount',
                                     'contractValueCents', 'currency', 'renewalDate')),
  CHECK (kind <> 'action' OR name IN ('archive', 'unarchive'))
);

-- One row: how long a pending request waits before it expires.
CREATE TABLE core.approval_settings (
  singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  request_expiry_days  integer NOT NULL CHECK (request_expiry_days BETWEEN 1 AND 365)
);

INSERT INTO core.approval_rules (kind, name) VALUES
  ('field', 'contractValueCents'), ('field', 'currency'), ('field', 'userCount'),
  ('action', 'archive'), ('action', 'unarchive');
INSERT INTO core.approval_settings (request_expiry_days) VALUES (14);

CREATE TABLE core.change_requests (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id          text NOT NULL REFERENCES core.customers (org_id),
  -- 'edit': changes holds every field of the edit; 'archive' / 'unarchive': the status.
  kind            text NOT NULL CHECK (kind IN ('edit', 'archive', 'unarchive')),
  base_version    integer NOT NULL CHECK (base_version >= 1),
  -- [{field, before, after}, ...] as in audit events; before is the base version's value.
  changes         jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'array' AND jsonb_array_length(changes) >= 1),
  reason          text NOT NULL CHECK (length(reason) BETWEEN 3 AND 500),
  maker_sub       text NOT NULL CHECK (length(maker_sub) BETWEEN 1 AND 200),
  maker_name      text NOT NULL CHECK (length(maker_name) <= 200),
  maker_roles     text[] NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn', 'expired', 'stale')),
  checker_sub     text CHECK (length(checker_sub) BETWEEN 1 AND 200),
  checker_name    text CHECK (length(checker_name) <= 200),
  checker_reason  text CHECK (length(checker_reason) BETWEEN 3 AND 500),
  decided_at      timestamptz,
  -- Optimistic concurrency for approve and reject (If-Match); every step adds one.
  version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  CHECK (expires_at > created_at),
  -- Four eyes, enforced on the row: approved and rejected requests name a checker who is not the maker.
  CONSTRAINT change_requests_checker_not_maker CHECK (checker_sub IS NULL OR checker_sub <> maker_sub),
  CONSTRAINT change_requests_decided CHECK (
    (status IN ('approved', 'rejected')) = (checker_sub IS NOT NULL AND checker_reason IS NOT NULL)
    AND (status = 'pending') = (decided_at IS NULL))
);
-- At most one pending request per customer: the record's banner shows the one.
CREATE UNIQUE INDEX change_requests_one_pending ON core.change_requests (org_id) WHERE status = 'pending';
CREATE INDEX change_requests_by_status ON core.change_requests (status, id);
CREATE INDEX change_requests_by_org ON core.change_requests (org_id, id);
CREATE INDEX change_requests_by_maker ON core.change_requests (maker_sub, id);
CREATE INDEX change_requests_pending_expiry ON core.change_requests (expires_at) WHERE status = 'pending';

RESET ROLE;

-- The trail's new steps (the audit tables belong to cims_audit_owner: a superuser migrator acts as it).
SET LOCAL ROLE cims_audit_owner;

ALTER TABLE audit.events DROP CONSTRAINT events_action_check;
ALTER TABLE audit.events ADD CONSTRAINT events_action_check CHECK (action IN (
  'customer.create', 'customer.update', 'customer.archive', 'customer.unarchive', 'predictions.ingest',
  -- A change request's steps; its approval is the applied change's own event (customer.update,
  -- customer.archive or customer.unarchive) naming the request, its maker and its checker in detail.
  'change.requested', 'change.rejected', 'change.withdrawn', 'change.expired', 'change.stale'));
-- What an event says beyond its field changes: {"changeRequestId", "maker": {sub, name}, "checker": {sub, name}}.
-- Hashed only when it holds a value (api/src/audit/hash.ts), so rows sealed before it keep their hashes.
ALTER TABLE audit.events ADD COLUMN detail jsonb CHECK (detail IS NULL OR jsonb_typeof(detail) = 'object');

-- Reading change requests shows contract values: an access event of its own kind.
ALTER TABLE audit.access_events DROP CONSTRAINT access_events_kind_check;
ALTER TABLE audit.access_events ADD CONSTRAINT access_events_kind_check CHECK (kind IN (
  'customer.read', 'customer.search', 'customer.history', 'customer.usage', 'customer.predictions',
  'audit.review', 'audit.export', 'audit.evidence',
  'change.read',   -- one change request (its customer in entity_id)
  'change.list'));  -- a page of change requests: detail.query, detail.orgIds
ALTER TABLE audit.access_events DROP CONSTRAINT access_events_entity_check;
ALTER TABLE audit.access_events ADD CONSTRAINT access_events_entity_check CHECK ((entity_type IS NULL) = (entity_id IS NULL)
  AND (entity_type IS NOT NULL OR kind IN ('customer.search', 'audit.review', 'audit.export', 'audit.evidence', 'change.list')));
