-- The audit trail's integrity: append-only tables, the event writer, and the
-- hash chain (seal and verify).
--
-- Why the chain is sealed separately: appending to a hash chain inside each
-- write would need one global lock held until commit, so every write would wait
-- for every other. Instead a write inserts its event "unsealed" (recording its
-- transaction id) in its own transaction, and api.audit_seal() (run by the API
-- every ~200 ms and before verify/export, under an advisory lock) links the
-- committed events into audit.chain in the order it sees them, each link holding
-- a sequence number, prev_hash and hash = SHA-256(prev_hash | canonical event).
-- A write never waits for the chain; the chain trails commits by one interval.
--
-- Triggers on the audit tables are written here, right after their function:
-- every migrate drops the functions (and with them these triggers) and creates
-- both again in the same transaction, so no commit ever sees a table without
-- its trigger.

-- Both chain tables and the access log only ever receive INSERTs: this refuses
-- UPDATE, DELETE and TRUNCATE for every role, the owner included.
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

-- The one way an audit event is written: by the api.* function that makes the
-- change, in the change's own transaction.
CREATE FUNCTION core.write_event(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  p_action text, p_entity_type text, p_entity_id text, p_changes jsonb, p_reason text
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, audit, pg_temp AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                            request_id, client_address, app_version)
  VALUES (p_sub, p_name, p_roles, p_action, p_entity_type, p_entity_id, p_changes, p_reason,
          p_request_id, p_client_address, p_app_version)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

-- The canonical form of an event at a chain position: jsonb's text output is
-- deterministic (keys ordered, no insignificant whitespace), timestamps in UTC
-- with microseconds. Used by sealing and verification only, not per request,
-- so these two stay LANGUAGE sql (link_hash is created after what it calls).
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

-- Seal: link committed events into the chain. A statement here sees only events
-- whose transactions have committed (an open or rolled-back write is invisible),
-- so nothing waits for unrelated long transactions, and the chain's order is the
-- order of sealing (event id within one pass). The advisory lock makes sealers
-- (API instances) take turns; each statement after it sees the previous
-- sealer's links.
CREATE FUNCTION api.audit_seal() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  prev text;
  next_seq bigint;
  e audit.events;
  h text;
  sealed integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('cims.audit.seal'));
  SELECT c.seq + 1, c.hash INTO next_seq, prev FROM audit.chain c ORDER BY c.seq DESC LIMIT 1;
  IF next_seq IS NULL THEN
    next_seq := 1;
    prev := repeat('0', 64);
  END IF;
  FOR e IN
    SELECT ev.* FROM audit.unsealed u JOIN audit.events ev ON ev.id = u.event_id
     WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = u.event_id)
     ORDER BY u.event_id LIMIT 10000
  LOOP
    h := audit.link_hash(prev, e, next_seq);
    INSERT INTO audit.chain (seq, event_id, prev_hash, hash) VALUES (next_seq, e.id, prev, h);
    prev := h;
    next_seq := next_seq + 1;
    sealed := sealed + 1;
  END LOOP;
  -- The queue is bookkeeping, not evidence: drop what is linked.
  DELETE FROM audit.unsealed u WHERE EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = u.event_id);
  RETURN sealed;
END
$$;

-- Recompute the chain over the events that occurred in [from, to] (all when
-- null): each link must follow the one before it (seq and prev_hash), point to
-- an event that exists, and hold the hash of that event's canonical form.
CREATE FUNCTION api.audit_verify(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_from timestamptz, p_to timestamptz
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lo bigint;
  hi bigint;
  expected_seq bigint;
  expected_prev text;
  checked integer := 0;
  unsealed integer;
  r record;
  e audit.events;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'verify the audit trail');

  SELECT count(*) INTO unsealed FROM audit.events ev
   WHERE (p_from IS NULL OR ev.occurred_at >= p_from) AND (p_to IS NULL OR ev.occurred_at <= p_to)
     AND NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = ev.id);

  IF p_from IS NULL AND p_to IS NULL THEN
    SELECT min(seq), max(seq) INTO lo, hi FROM audit.chain;
    lo := least(lo, 1);
  ELSE
    SELECT min(c.seq), max(c.seq) INTO lo, hi FROM audit.chain c JOIN audit.events ev ON ev.id = c.event_id
     WHERE (p_from IS NULL OR ev.occurred_at >= p_from) AND (p_to IS NULL OR ev.occurred_at <= p_to);
  END IF;
  IF lo IS NULL THEN
    RETURN jsonb_build_object('ok', true, 'checked', 0, 'unsealed', unsealed);
  END IF;
  expected_seq := lo;
  IF lo = 1 THEN
    expected_prev := repeat('0', 64);
  ELSE
    SELECT c.hash INTO expected_prev FROM audit.chain c WHERE c.seq = lo - 1;
  END IF;

  FOR r IN SELECT c.seq, c.event_id, c.prev_hash, c.hash FROM audit.chain c WHERE c.seq BETWEEN lo AND hi ORDER BY c.seq LOOP
    IF r.seq <> expected_seq OR (expected_prev IS NOT NULL AND r.prev_hash <> expected_prev) THEN
      RETURN jsonb_build_object('ok', false, 'checked', checked, 'firstBadEventId', r.event_id::text,
                                'problem', 'chain_break', 'unsealed', unsealed);
    END IF;
    SELECT * INTO e FROM audit.events ev WHERE ev.id = r.event_id;
    IF NOT FOUND THEN
      RETURN jsonb_build_object('ok', false, 'checked', checked, 'firstBadEventId', r.event_id::text,
                                'problem', 'missing_event', 'unsealed', unsealed);
    END IF;
    IF audit.link_hash(r.prev_hash, e, r.seq) <> r.hash THEN
      RETURN jsonb_build_object('ok', false, 'checked', checked, 'firstBadEventId', r.event_id::text,
                                'problem', 'hash_mismatch', 'unsealed', unsealed);
    END IF;
    expected_prev := r.hash;
    expected_seq := r.seq + 1;
    checked := checked + 1;
  END LOOP;
  RETURN jsonb_build_object('ok', true, 'checked', checked, 'unsealed', unsealed);
END
$$;
