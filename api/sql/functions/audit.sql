-- The audit trail's integrity: append-only tables, the event writer, and what
-- the API needs to seal the hash chain and sign checkpoints (it computes every
-- hash itself, api/src/audit/; nothing here computes or checks one).
--
-- Why the chain is sealed separately: appending to a hash chain inside each
-- write would need one global lock held until commit, so every write would wait
-- for every other. Instead a write inserts its event "unsealed" (recording its
-- transaction id) in its own transaction, and the API (every ~200 ms and before
-- verify/export) reads the committed unsealed events, computes their links
-- (seq, prev_hash, hash = SHA-256(prev_hash | canonical JSON of seq and the
-- whole event row)) and stores them under an advisory lock it only tries to
-- take: a sealer that finds it busy skips the round, so no request ever waits
-- on it. A write never waits for the chain; the chain trails commits by one
-- interval. Access events are queued the same way for the next checkpoint.
--
-- Triggers on the audit tables are written here, right after their function:
-- every migrate drops the functions (and with them these triggers) and creates
-- both again in the same transaction, so no commit ever sees a table without
-- its trigger. The audit tables belong to cims_audit_owner (nobody logs in as
-- it; migration 005), so that part runs as that role: a superuser migrator may
-- SET ROLE to it, nobody else can. ENABLE ALWAYS: the triggers fire also under
-- session_replication_role = replica.

SET LOCAL ROLE cims_audit_owner;

-- Both chain tables, the checkpoints and the access log only ever receive
-- INSERTs: this refuses UPDATE, DELETE and TRUNCATE for every role, the owner
-- included.
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
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.checkpoints
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

-- Every new access event is queued for the next checkpoint (one statement per insert, not per row).
CREATE FUNCTION audit.queue_for_checkpoint() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO audit.access_unsealed (access_id) SELECT n.id FROM new_rows n;
  RETURN NULL;
END
$$;

CREATE TRIGGER access_events_queue_for_checkpoint AFTER INSERT ON audit.access_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit.queue_for_checkpoint();

ALTER TABLE audit.events ENABLE ALWAYS TRIGGER events_append_only;
ALTER TABLE audit.events ENABLE ALWAYS TRIGGER events_queue_for_seal;
ALTER TABLE audit.chain ENABLE ALWAYS TRIGGER chain_append_only;
ALTER TABLE audit.access_events ENABLE ALWAYS TRIGGER access_events_append_only;
ALTER TABLE audit.access_events ENABLE ALWAYS TRIGGER access_events_queue_for_checkpoint;
ALTER TABLE audit.checkpoints ENABLE ALWAYS TRIGGER checkpoints_append_only;

-- Still nobody acts as the audit owner (roles are cluster-wide, and may have been granted since).
DO $$
DECLARE
  m record;
BEGIN
  FOR m IN SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member
            WHERE a.roleid = 'cims_audit_owner'::regrole LOOP
    RAISE EXCEPTION 'role % is a member of cims_audit_owner, the owner of the audit trail: nobody may be', m.rolname
      USING ERRCODE = 'CA403';
  END LOOP;
END
$$;

SET LOCAL ROLE cims_owner;

-- How an audit event is written (core.write_events below and the set path of
-- api.customer_update_many write many in one INSERT): by the api.* function that
-- makes the change, in the change's own transaction. It does not announce the change: a
-- notifying transaction holds PostgreSQL's one database-wide NOTIFY lock from
-- before its commit until the commit is flushed, so no two writers would share a
-- flush. The API announces committed changes afterwards (api.announce_changes).
CREATE FUNCTION core.write_event(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  p_action text, p_entity_type text, p_entity_id text, p_changes jsonb, p_reason text,
  -- The caller's own x-request-id (validated by the API); p_request_id is always the API's.
  p_client_request_id text DEFAULT NULL,
  -- The event this change reverts ("Revert this change"), checked by the caller.
  p_revert_of bigint DEFAULT NULL,
  -- What the event says beyond its changes (a change request's id, maker and checker).
  p_detail jsonb DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, audit, pg_temp AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                            request_id, client_address, app_version, client_request_id, revert_of, detail)
  VALUES (p_sub, p_name, p_roles, p_action, p_entity_type, p_entity_id, p_changes, p_reason,
          p_request_id, p_client_address, p_app_version, p_client_request_id, p_revert_of, p_detail)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

-- Many events of one action by one caller (a bulk assignment): one event per
-- entity, in the order given, in one INSERT. A core.write_event call per row cost about 0.2 ms, 3.8 s for
-- 20,000 customers, most of the API role's 5 s statement limit.
CREATE FUNCTION core.write_events(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  p_action text, p_entity_type text, p_entity_ids text[], p_changes jsonb[], p_reason text,
  p_client_request_id text DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, audit, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  IF cardinality(p_entity_ids) IS DISTINCT FROM cardinality(p_changes) THEN
    RAISE EXCEPTION 'one change list per entity' USING ERRCODE = 'CV422';
  END IF;
  INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                            request_id, client_address, app_version, client_request_id)
  SELECT p_sub, p_name, p_roles, p_action, p_entity_type, x.entity_id, x.changes, p_reason,
         p_request_id, p_client_address, p_app_version, p_client_request_id
    FROM unnest(p_entity_ids, p_changes) WITH ORDINALITY AS x(entity_id, changes, i) ORDER BY x.i;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- Announces on channel cims_changes the committed events of the given requests
-- (the API's own request ids, queued by its store after each write call
-- returned: src/live/announcer.ts), one notification each in id order. Anyone
-- who may connect may LISTEN, so the payload is the event id, the entity and
-- its version only: no names, no values (the API looks the rest up,
-- api.live_events). The version is the customer's when announced, which a later
-- change may have raised already. A statement sees committed rows only, so an
-- event whose transaction rolled back is never announced. This transaction
-- keeps nothing, so its commit does not wait for a WAL flush
-- (synchronous_commit off for it alone): NOTIFY's database-wide lock, taken
-- before the commit and released after it, is held for microseconds instead of
-- a flush.
CREATE FUNCTION api.announce_changes(p_request_ids text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  IF coalesce(cardinality(p_request_ids), 0) > 1000 THEN
    RAISE EXCEPTION 'at most 1000 requests at once' USING ERRCODE = 'CV422';
  END IF;
  PERFORM set_config('synchronous_commit', 'off', true);
  SELECT count(pg_notify('cims_changes', json_build_object(
           'id', e.id::text, 'type', e.entity_type, 'entity', e.entity_id,
           'version', CASE e.entity_type WHEN 'customer' THEN (SELECT c.version FROM core.customers c WHERE c.org_id = e.entity_id) END)::text))
    INTO n
    FROM (SELECT ev.id, ev.entity_type, ev.entity_id FROM audit.events ev
           WHERE ev.request_id = ANY (p_request_ids) ORDER BY ev.id) e;
  RETURN n;
END
$$;

-- Who may hear of an event on the change stream, and what it says (GET /v1/events).
-- One object per event: the entity, its version now, who acted, the names of the
-- fields it changed (never their values), the change request it concerns, and
-- `owners`, the CRMs it concerns: a customer's owner, its previous owner when it
-- was reassigned, a change request's maker. The API forwards an event to a CRM
-- named there, and to support leads and admins. (detail is read through to_jsonb
-- so that this definition does not depend on which migrations added columns.)
CREATE FUNCTION core.live_event_json(e audit.events) RETURNS json
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT json_build_object(
    'id', e.id::text, 'action', e.action, 'type', e.entity_type, 'entity', e.entity_id,
    'version', c.version,
    'actorSub', e.actor_sub, 'actorName', e.actor_name,
    'fields', coalesce((SELECT json_agg(ch ->> 'field') FROM jsonb_array_elements(e.changes) ch WHERE ch ? 'field'), '[]'::json),
    'changeRequest', to_jsonb(e) -> 'detail' ->> 'changeRequestId',
    'owners', (
      SELECT coalesce(json_agg(DISTINCT o), '[]'::json)
        FROM (SELECT c.owner_sub AS o
              UNION ALL SELECT ch ->> 'before' FROM jsonb_array_elements(e.changes) ch
               WHERE ch ->> 'field' = 'ownerSub' AND jsonb_typeof(ch -> 'before') = 'string'
              UNION ALL SELECT to_jsonb(e) -> 'detail' -> 'maker' ->> 'sub') s
       WHERE o IS NOT NULL))
    FROM (SELECT 1) one LEFT JOIN core.customers c ON e.entity_type = 'customer' AND c.org_id = e.entity_id
$$;

-- The events named by ids heard on cims_changes (one call per batch of notifications, not per listener).
CREATE FUNCTION api.live_events(p_ids bigint[]) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
  SELECT coalesce(json_agg(core.live_event_json(e) ORDER BY e.id), '[]'::json)
    FROM audit.events e WHERE e.id = ANY (p_ids)
$$;

-- Resuming a stream after event p_after (Last-Event-ID): the events written from
-- 30 s before it on, but p_after itself. Ids are taken at insert, not at commit,
-- so an event with a lower id may commit after p_after; the window catches those
-- and the client ignores what it has seen. null when p_after is unknown, older
-- than an hour, or more than p_limit events are due: the client then refreshes
-- everything instead.
CREATE FUNCTION api.live_events_after(p_after bigint, p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  since timestamptz;
  due json;
BEGIN
  SELECT e.occurred_at - interval '30 seconds' INTO since FROM audit.events e WHERE e.id = p_after;
  IF since IS NULL OR since < now() - interval '1 hour' THEN
    RETURN NULL;
  END IF;
  SELECT json_agg(core.live_event_json(x) ORDER BY x.id) INTO due
    FROM (SELECT * FROM audit.events e WHERE e.occurred_at >= since AND e.id <> p_after ORDER BY e.id LIMIT p_limit + 1) x;
  IF coalesce(json_array_length(due), 0) > p_limit THEN
    RETURN NULL;
  END IF;
  RETURN coalesce(due, '[]'::json);
END
$$;

-- The lock that makes sealers and checkpointers (API instances) take turns. Only
-- ever tried (pg_try_advisory_xact_lock), never waited for: whoever holds it, a
-- busy round is skipped and the next one tries again.
CREATE FUNCTION core.try_seal_lock() RETURNS boolean
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_try_advisory_xact_lock(hashtext('cims.audit.seal'))
$$;

-- The chain's head: {seq, hash} of the last link, or null.
CREATE FUNCTION core.chain_head() RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object('seq', c.seq, 'hash', c.hash) FROM audit.chain c ORDER BY c.seq DESC LIMIT 1
$$;

-- Sealing, step 1: the head and up to p_limit committed events without a link,
-- each as its whole row (row_to_json, timestamps in UTC: what the link hashes;
-- json, not jsonb: a third of the time to build, and the same values once parsed).
-- A statement sees only events whose transactions have committed, so nothing
-- waits for unrelated long transactions.
CREATE FUNCTION api.audit_seal_pending(p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core, audit, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
  RETURN json_build_object(
    'head', core.chain_head(),
    'events', coalesce((
      SELECT json_agg(json_build_object('id', e.id::text, 'row', row_to_json(e)) ORDER BY e.id)
        -- The queue's first ids by its primary key, then their events: each round costs its own
        -- rows, not the whole queue (a hash join over it made sealing a large backlog quadratic).
        FROM (SELECT ev.* FROM (SELECT u.event_id FROM audit.unsealed u ORDER BY u.event_id LIMIT p_limit) q
                JOIN audit.events ev ON ev.id = q.event_id
               WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = q.event_id)) e), '[]'::json));
END
$$;

-- Sealing, step 2: store the links the API computed, after the head it read
-- (p_after_seq, 0 for an empty chain). Returns how many were stored, -1 when
-- another sealer holds the lock (skip this round), -2 when the head moved
-- since it was read (another sealer came first: read again).
CREATE FUNCTION api.audit_seal_link(p_after_seq bigint, p_links jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  IF NOT core.try_seal_lock() THEN
    RETURN -1;
  END IF;
  IF coalesce((SELECT max(c.seq) FROM audit.chain c), 0) <> p_after_seq THEN
    RETURN -2;
  END IF;
  INSERT INTO audit.chain (seq, event_id, prev_hash, hash)
  SELECT (l ->> 'seq')::bigint, (l ->> 'eventId')::bigint, l ->> 'prevHash', l ->> 'hash'
    FROM jsonb_array_elements(p_links) l;
  GET DIAGNOSTICS n = ROW_COUNT;
  -- The queue is bookkeeping, not evidence: drop what is linked.
  DELETE FROM audit.unsealed u USING jsonb_array_elements(p_links) l WHERE u.event_id = (l ->> 'eventId')::bigint;
  RETURN n;
END
$$;

CREATE FUNCTION core.checkpoint_json(k audit.checkpoints) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object('checkpoint', k.body, 'signature', k.signature, 'accessRanges', k.access_ranges)
$$;

-- Checkpointing, step 1: the chain's head, the last checkpoint, the hash of
-- the link that checkpoint names (so the API refuses to sign on top of a chain
-- that no longer holds it), and how many access events wait for a checkpoint.
CREATE FUNCTION api.audit_checkpoint_state() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  last audit.checkpoints;
BEGIN
  SELECT * INTO last FROM audit.checkpoints k ORDER BY k.seq DESC LIMIT 1;
  RETURN jsonb_build_object(
    'head', core.chain_head(),
    'last', CASE WHEN last.seq IS NOT NULL THEN core.checkpoint_json(last) END,
    'lastHeadHash', (SELECT c.hash FROM audit.chain c WHERE c.seq = (last.body ->> 'chainSeq')::bigint),
    'pendingAccess', (SELECT count(*) FROM audit.access_unsealed));
END
$$;

-- Checkpointing, step 2: committed access events waiting for a checkpoint,
-- after id p_after_id, ascending, each its whole row (row_to_json, UTC).
CREATE FUNCTION api.audit_access_pending(p_after_id bigint, p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core, audit, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
  RETURN coalesce((
    SELECT json_agg(row_to_json(a) ORDER BY a.id)
      FROM (SELECT ae.* FROM audit.access_unsealed u JOIN audit.access_events ae ON ae.id = u.access_id
             WHERE u.access_id > p_after_id ORDER BY u.access_id LIMIT p_limit) a), '[]'::json);
END
$$;

-- Checkpointing, step 3: store what the API signed. 'ok'; 'busy' when another
-- sealer holds the lock; 'conflict' when it does not follow the last stored
-- checkpoint. The access events it covers leave the queue.
CREATE FUNCTION api.audit_checkpoint_add(p_body jsonb, p_signature text, p_ranges jsonb) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  IF NOT core.try_seal_lock() THEN
    RETURN 'busy';
  END IF;
  IF coalesce((SELECT max(k.seq) FROM audit.checkpoints k), 0) + 1 <> (p_body ->> 'seq')::bigint THEN
    RETURN 'conflict';
  END IF;
  INSERT INTO audit.checkpoints (seq, body, signature, access_ranges)
  VALUES ((p_body ->> 'seq')::bigint, p_body, p_signature, p_ranges);
  DELETE FROM audit.access_unsealed u USING jsonb_array_elements(p_ranges) r
   WHERE u.access_id BETWEEN (r ->> 0)::bigint AND (r ->> 1)::bigint;
  RETURN 'ok';
END
$$;

-- One signed checkpoint as stored now (support leads compare it with their copy).
CREATE FUNCTION api.audit_checkpoint(p_sub text, p_name text, p_roles text[], p_scopes text[], p_seq bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  k audit.checkpoints;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'verify the audit trail');
  SELECT * INTO k FROM audit.checkpoints c WHERE c.seq = p_seq;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no checkpoint %', p_seq USING ERRCODE = 'CN404';
  END IF;
  RETURN jsonb_build_object('checkpoint', k.body, 'signature', k.signature);
END
$$;

-- Verification reads rows and nothing else (the API recomputes every hash).
-- The checkpoints, and how many events have no link.
CREATE FUNCTION api.audit_verify_state(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'verify the audit trail');
  RETURN jsonb_build_object(
    'checkpoints', coalesce((SELECT jsonb_agg(core.checkpoint_json(k) ORDER BY k.seq) FROM audit.checkpoints k), '[]'),
    -- Events without a link: after the newest linked event, and queued ones before it (a write that
    -- committed late). Both by index, so it stays quick at millions of events (the API role's
    -- statement_timeout); an event a superuser inserts below the head without queueing it is in no
    -- checkpoint either way, and so in no part of the trail verification vouches for.
    'unlinked',
      (SELECT count(*) FROM audit.events e
        WHERE e.id > coalesce((SELECT max(c.event_id) FROM audit.chain c), 0)
          AND NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id))
      + (SELECT count(*) FROM audit.unsealed u
          WHERE u.event_id <= coalesce((SELECT max(c.event_id) FROM audit.chain c), 0)
            AND NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = u.event_id)));
END
$$;

-- Links after p_after_seq, ascending, each with its event's whole row (null when the event is gone).
CREATE FUNCTION api.audit_verify_links(p_sub text, p_name text, p_roles text[], p_scopes text[], p_after_seq bigint, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core, audit, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'verify the audit trail');
  RETURN coalesce((
    SELECT json_agg(json_build_object('seq', l.seq, 'eventId', l.event_id::text, 'prevHash', l.prev_hash, 'hash', l.hash,
                                      'event', CASE WHEN e.id IS NOT NULL THEN row_to_json(e) END) ORDER BY l.seq)
      FROM (SELECT * FROM audit.chain c WHERE c.seq > p_after_seq ORDER BY c.seq LIMIT p_limit) l
      LEFT JOIN audit.events e ON e.id = l.event_id), '[]'::json);
END
$$;

-- Access events after id p_after_id, ascending, each its whole row.
CREATE FUNCTION api.audit_verify_access(p_sub text, p_name text, p_roles text[], p_scopes text[], p_after_id bigint, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core, audit, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'verify the audit trail');
  RETURN coalesce((
    SELECT json_agg(row_to_json(a) ORDER BY a.id)
      FROM (SELECT * FROM audit.access_events ae WHERE ae.id > p_after_id ORDER BY ae.id LIMIT p_limit) a), '[]'::json);
END
$$;
