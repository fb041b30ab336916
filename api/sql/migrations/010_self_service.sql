-- Customer self-service through the portal (GET/PATCH /v1/self/organization,
-- PUT /v1/self/billing-method): a customer's contact edits their own contact
-- fields and replaces their card through the same API as everyone else.
--
-- audit.events.via: where a change came from when it was not the console:
-- 'portal' for the customer's own contact through the portal, null for every
-- other event. Rows hash over every column where a null via is left out
-- (api/src/audit/hash.ts), so events sealed before this column keep their hashes.
--
-- Card data stays where it was (core.billing_methods: a processor token, brand,
-- last four, expiry); the triggers in ../functions/self.sql refuse a card number
-- in any text column of the customer or billing tables, whoever writes it.

-- audit.events belongs to cims_audit_owner (migration 005): changed by the superuser migrator.
ALTER TABLE audit.events ADD COLUMN via text CHECK (via IN ('portal'));
