-- The change stream announces a request's events after its commit
-- (api.announce_changes, api/sql/functions/audit.sql), finding them by the
-- API's request id: one probe per request instead of a scan of the trail.
-- IF NOT EXISTS: on a large trail it may be built beforehand without blocking
-- writes (CREATE INDEX CONCURRENTLY, docs/operating.md, Upgrades).
CREATE INDEX IF NOT EXISTS events_request ON audit.events (request_id);
