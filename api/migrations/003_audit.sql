-- The audit trail: append-only events, a hash chain sealed behind the writes,
-- and the access log.
--
-- Why the chain is sealed separately: appending to a hash chain inside each
-- write would need one global lock held until commit, so every write would wait
-- for every other. Instead a write inserts its event "unsealed" (recording its
-- transaction id) in its own transaction, and api.audit_seal() (run by the API
-- every ~200 ms and before verify/export, under an advisory lock) links the
-- committed events into audit.chain in the order it sees them, each link holding
-- a sequence number, prev_hash and hash = SHA-256(prev_hash | canonical event).
-- A write never waits for the chain; the chain trails commits by one interval.
-- Both tables only ever receive INSERTs; a trigger refuses UPDATE, DELETE and
-- TRUNCATE for every role, the owner included.
SET LOCAL ROLE cims_owner;

CREATE TABLE audit.events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  actor_sub       text NOT NULL,
  actor_name      text NOT NULL,
  actor_roles     text[] NOT NULL,
  action          text NOT NULL CHECK (action IN ('customer.create', 'customer.update', 'customer.archive', 'predictions.ingest')),
  entity_type     text NOT NULL,
  entity_id       text NOT NULL,
  changes         jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'array'),
  reason          text,
  request_id      text NOT NULL,
  client_address  text,
  app_version     text,
  -- Transaction that wrote the event (forensics: which events were written together).
  xid             xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_entity ON audit.events (entity_type, entity_id, id);
CREATE INDEX events_actor ON audit.events (actor_sub, id);
CREATE INDEX events_occurred ON audit.events (occurred_at);

CREATE TABLE audit.chain (
  seq        bigint PRIMARY KEY CHECK (seq >= 1),
  event_id   bigint NOT NULL UNIQUE,
  prev_hash  text NOT NULL,
  hash       text NOT NULL,
  sealed_at  timestamptz NOT NULL DEFAULT now()
);
-- Unsealed events: events without a chain link. Kept small by sealing.
CREATE TABLE audit.unsealed (
  event_id  bigint PRIMARY KEY,
  xid       xid8 NOT NULL
);

-- Who viewed which record, when, from where. Not hash-chained (reads are far more
-- numerous than writes) but append-only like the rest of the schema.
CREATE TABLE audit.access_events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  actor_sub       text NOT NULL,
  actor_name      text NOT NULL,
  actor_roles     text[] NOT NULL,
  entity_type     text NOT NULL,
  entity_id       text NOT NULL,
  request_id      text NOT NULL,
  client_address  text,
  app_version     text
);
CREATE INDEX access_events_entity ON audit.access_events (entity_type, entity_id, occurred_at);
CREATE INDEX access_events_actor ON audit.access_events (actor_sub, occurred_at);

-- Rows that api.access_flush() updates: a tiny synchronously committed write
-- whose WAL flush also makes every earlier asynchronously committed access
-- event durable (see api.customer_get). A few slots, so that concurrent flushes
-- do not queue on one row lock (PostgreSQL then lets them share WAL flushes).
CREATE TABLE audit.flush_marker (
  slot   smallint PRIMARY KEY CHECK (slot BETWEEN 0 AND 7),
  n      bigint NOT NULL DEFAULT 0
);
INSERT INTO audit.flush_marker (slot) SELECT generate_series(0, 7);

CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'CA405';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.events
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.chain
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.access_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- The canonical form of an event at a chain position: jsonb's text output is
-- deterministic (keys ordered, no insignificant whitespace), timestamps in UTC
-- with microseconds.
CREATE FUNCTION audit.canonical(e audit.events, seq bigint) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object(
    'seq', seq,
    'id', e.id,
    'occurredAt', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actorSub', e.actor_sub,
    'actorName', e.actor_name,
    'actorRoles', to_jsonb(e.actor_roles),
    'action', e.action,
    'entityType', e.entity_type,
    'entityId', e.entity_id,
    'changes', e.changes,
    'reason', e.reason,
    'requestId', e.request_id,
    'clientAddress', e.client_address,
    'appVersion', e.app_version
  )::text
$$;

CREATE FUNCTION audit.link_hash(prev_hash text, e audit.events, seq bigint) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT encode(sha256(convert_to(prev_hash || '|' || audit.canonical(e, seq), 'UTF8')), 'hex')
$$;

-- Every new event is queued for sealing.
CREATE FUNCTION audit.queue_for_seal() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO audit.unsealed (event_id, xid) VALUES (NEW.id, NEW.xid);
  RETURN NULL;
END
$$;
CREATE TRIGGER events_queue_for_seal AFTER INSERT ON audit.events
  FOR EACH ROW EXECUTE FUNCTION audit.queue_for_seal();
