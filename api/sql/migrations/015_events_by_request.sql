-- The change stream announces a request's events after its commit
-- (api.announce_changes, api/sql/functions/audit.sql), finding them by the
-- API's request id: one probe per request instead of a scan of the trail.
CREATE INDEX events_request ON audit.events (request_id);
