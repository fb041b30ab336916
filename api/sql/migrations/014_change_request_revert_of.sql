-- A revert that touches a field needing approval waits as a change request like
-- any edit; the request keeps the event it reverts, so the applied change's
-- event records revert_of as a direct revert does (core.customer_update).
SET LOCAL ROLE cims_owner;

ALTER TABLE core.change_requests ADD COLUMN revert_of bigint CHECK (revert_of >= 1);
-- Only an edit reverts an event.
ALTER TABLE core.change_requests ADD CONSTRAINT change_requests_revert_is_edit CHECK (revert_of IS NULL OR kind = 'edit');

RESET ROLE;
