-- Request ids: request_id is always the API's own (a UUID it generated), so a
-- caller cannot choose what the trail records as the request. A caller's own
-- x-request-id, when it is a plain token of 8 to 64 characters, is kept beside it
-- for correlation with the caller's logs, and nothing else is.
--
-- Rows hash over every column (api/src/audit/hash.ts), where a null
-- client_request_id is left out: rows written and sealed before this column
-- existed keep the hashes they were sealed and checkpointed with.
ALTER TABLE audit.events
  ADD COLUMN client_request_id text CHECK (client_request_id ~ '^[A-Za-z0-9._:-]{8,64}$');
ALTER TABLE audit.access_events
  ADD COLUMN client_request_id text CHECK (client_request_id ~ '^[A-Za-z0-9._:-]{8,64}$');
