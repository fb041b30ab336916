-- The access log covers every response that shows a customer's personal or
-- contract data, not only record reads: each event says what kind of read it
-- was, and a read that showed several customers at once (a search page, an
-- export) names them in `detail` instead of in one entity column, so such a
-- read costs one row, not one per customer (see api/sql/functions/access.sql).
SET LOCAL ROLE cims_owner;

ALTER TABLE audit.access_events
  ADD COLUMN kind text NOT NULL DEFAULT 'customer.read',
  ADD COLUMN detail jsonb;
-- Rows before this migration were all record reads; from now on every writer names its kind.
ALTER TABLE audit.access_events ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE audit.access_events ALTER COLUMN entity_type DROP NOT NULL, ALTER COLUMN entity_id DROP NOT NULL;
ALTER TABLE audit.access_events
  ADD CONSTRAINT access_events_kind_check CHECK (kind IN (
    'customer.read',         -- the whole record (a read, or a write that changed nothing)
    'customer.search',       -- a page of search results: detail.query, detail.orgIds
    'customer.history',      -- a page of one customer's audit trail
    'customer.usage',        -- daily usage: detail.from, detail.to
    'customer.predictions',  -- prediction history
    'audit.review',          -- a page of the audit review: detail.filter, detail.events, detail.orgIds
    'audit.export',          -- audit CSV: detail.filter, detail.events, detail.rows
    'audit.evidence')),      -- evidence bundle: detail.filter, detail.events
  ADD CONSTRAINT access_events_entity_check CHECK ((entity_type IS NULL) = (entity_id IS NULL)
    AND (entity_type IS NOT NULL OR kind IN ('customer.search', 'audit.review', 'audit.export', 'audit.evidence'))),
  ADD CONSTRAINT access_events_detail_check CHECK (detail IS NULL OR jsonb_typeof(detail) = 'object');

-- "Who viewed this record" finds search and review pages that listed the customer through this index.
CREATE INDEX access_events_listed_orgs ON audit.access_events
  USING gin ((detail -> 'orgIds') jsonb_path_ops) WHERE kind IN ('customer.search', 'audit.review');
-- The access review by time range.
CREATE INDEX access_events_occurred ON audit.access_events (occurred_at);
