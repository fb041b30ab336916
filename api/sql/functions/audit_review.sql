-- Reading the audit trail: the review across customers (support leads) and one
-- customer's history (the people who work on it). Events carry their chain
-- link when sealed (prevHash/hash null until then).

CREATE FUNCTION core.event_json(e audit.events, c audit.chain) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', e.id::text, 'occurredAt', core.iso(e.occurred_at), 'actorSub', e.actor_sub, 'actorName', e.actor_name,
    'actorRoles', to_jsonb(e.actor_roles), 'action', e.action, 'entityType', e.entity_type, 'entityId', e.entity_id,
    'changes', e.changes, 'reason', e.reason, 'requestId', e.request_id, 'clientAddress', e.client_address,
    'appVersion', e.app_version, 'prevHash', c.prev_hash, 'hash', c.hash)
    -- Only an edit that reverts another carries revertOf.
    || CASE WHEN e.revert_of IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('revertOf', e.revert_of::text) END
    -- Only a change request's steps and the change it applied carry detail.
    || CASE WHEN e.detail IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('detail', e.detail) END
    -- Only a change from outside the console carries via ('portal': the customer's own contact).
    || CASE WHEN e.via IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('via', e.via) END;
END
$$;

-- The events the audit review's filters select, newest first, below p_before_id
-- (the last id seen), at most p_limit (NULL: all). The review's pages and the
-- export's count select through this one filter.
CREATE FUNCTION core.audit_filtered(
  p_actor text, p_org_id text, p_action text, p_field text, p_from timestamptz, p_to timestamptz,
  p_before_id bigint, p_limit integer
) RETURNS SETOF audit.events
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT * FROM audit.events e
     WHERE (p_actor IS NULL OR e.actor_sub = p_actor)
       AND (p_org_id IS NULL OR (e.entity_type = 'customer' AND e.entity_id = p_org_id))
       AND (p_action IS NULL OR e.action = p_action)
       AND (p_field IS NULL OR e.changes @> jsonb_build_array(jsonb_build_object('field', p_field)))
       AND (p_from IS NULL OR e.occurred_at >= p_from)
       AND (p_to IS NULL OR e.occurred_at <= p_to)
       AND (p_before_id IS NULL OR e.id < p_before_id)
     ORDER BY e.id DESC LIMIT p_limit;
END
$$;

-- Audit review. Newest first; p_before_id is the cursor (the last id seen).
-- The review's filter, as its access events record it.
CREATE FUNCTION core.audit_filter_json(
  p_actor text, p_org_id text, p_action text, p_field text, p_from timestamptz, p_to timestamptz
) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_strip_nulls(jsonb_build_object('actor', p_actor, 'orgId', p_org_id, 'action', p_action, 'field', p_field,
                                              'from', core.iso(p_from), 'to', core.iso(p_to)));
END
$$;

-- A page of events with their links, newest first; next is the cursor of the page after it.
CREATE FUNCTION core.audit_page(
  p_actor text, p_org_id text, p_action text, p_field text, p_from timestamptz, p_to timestamptz,
  p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lim integer := coalesce(p_limit, 100);
  items jsonb;
  orgs jsonb;
  n integer;
  last_id bigint;
BEGIN
  IF lim NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION 'limit must be 1..500' USING ERRCODE = 'CV422';
  END IF;
  SELECT jsonb_agg(core.event_json(e, c) ORDER BY e.id DESC), count(*), min(e.id),
         coalesce(jsonb_agg(DISTINCT e.entity_id) FILTER (WHERE e.entity_type = 'customer'), '[]')
    INTO items, n, last_id, orgs
    FROM core.audit_filtered(p_actor, p_org_id, p_action, p_field, p_from, p_to, p_before_id, lim) e
    LEFT JOIN audit.chain c ON c.event_id = e.id;
  RETURN jsonb_build_object('items', coalesce(items, '[]'), 'next', CASE WHEN n = lim THEN last_id::text END,
                            'events', n, 'orgIds', orgs);
END
$$;

-- Audit review. Newest first; p_before_id is the cursor (the last id seen). A
-- page shows before and after values of customers' fields: one access event
-- per non-empty page, with the filter and the customers it shows.
CREATE FUNCTION api.audit_events(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_actor text, p_org_id text, p_action text, p_field text, p_from timestamptz, p_to timestamptz,
  p_before_id bigint, p_limit integer, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  page jsonb;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'review the audit trail');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  page := core.audit_page(p_actor, p_org_id, p_action, p_field, p_from, p_to, p_before_id, p_limit);
  IF (page ->> 'events')::integer > 0 THEN
    PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'audit.review', p_org_id,
      jsonb_build_object('filter', core.audit_filter_json(p_actor, p_org_id, p_action, p_field, p_from, p_to),
                         'events', page -> 'events', 'orgIds', page -> 'orgIds'), p_client_request_id);
  END IF;
  RETURN jsonb_build_object('items', page -> 'items', 'next', page -> 'next');
END
$$;

-- The pages of an audit CSV export, after api.audit_export has logged it: the
-- filter and the upper bound come from that access event (the caller's own,
-- of the last hour), so the export's pages need no event of their own and no
-- other read of the trail can pass for one.
CREATE FUNCTION api.audit_export_page(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_export_id bigint, p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  f jsonb;
  upto bigint;
  page jsonb;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'review the audit trail');
  SELECT a.detail -> 'filter', (a.detail ->> 'beforeId')::bigint INTO f, upto
    FROM audit.access_events a
   WHERE a.id = p_export_id AND a.kind = 'audit.export' AND a.actor_sub = p_sub AND a.occurred_at > now() - interval '1 hour';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no export of yours to continue' USING ERRCODE = 'CF403';
  END IF;
  page := core.audit_page(f ->> 'actor', f ->> 'orgId', f ->> 'action', f ->> 'field', (f ->> 'from')::timestamptz,
                          (f ->> 'to')::timestamptz, least(coalesce(p_before_id, upto), upto), p_limit);
  RETURN jsonb_build_object('items', page -> 'items', 'next', page -> 'next');
END
$$;

-- The start of an audit CSV export: fixes what it will contain (the matching
-- events up to the newest id now) and writes its access event with the filter
-- and the count of events and CSV rows (one per changed field, at least one per
-- event), before the first byte is sent. Returns {events, rows, exportId}: the
-- export then reads its pages through api.audit_export_page.
CREATE FUNCTION api.audit_export(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_actor text, p_org_id text, p_action text, p_field text, p_from timestamptz, p_to timestamptz, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  upto bigint;
  n_events bigint;
  n_rows bigint;
  export_id bigint;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'review the audit trail');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  SELECT coalesce(max(id), 0) + 1 INTO upto FROM audit.events;
  SELECT count(*), coalesce(sum(greatest(jsonb_array_length(e.changes), 1)), 0) INTO n_events, n_rows
    FROM core.audit_filtered(p_actor, p_org_id, p_action, p_field, p_from, p_to, upto, NULL) e;
  export_id := core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'audit.export',
    -- Filtered to one customer: it is about that record, so the record's own access list shows it.
    p_org_id,
    jsonb_build_object('filter', core.audit_filter_json(p_actor, p_org_id, p_action, p_field, p_from, p_to),
                       'events', n_events, 'rows', n_rows, 'beforeId', upto::text), p_client_request_id);
  RETURN jsonb_build_object('events', n_events, 'rows', n_rows, 'exportId', export_id::text);
END
$$;

-- The history of one customer, for the people who work on it.
CREATE FUNCTION api.customer_audit(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_before_id bigint, p_limit integer, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lim integer := coalesce(p_limit, 100);
  items jsonb;
  n integer;
  last_id bigint;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead'], 'read a customer''s history');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF lim NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION 'limit must be 1..500' USING ERRCODE = 'CV422';
  END IF;
  PERFORM core.require_customer(p_org_id);
  -- Where a colleague worked from (client address, request id) is for support leads;
  -- the other people who work on the record see what changed, who changed it and why.
  SELECT jsonb_agg(core.event_json(e, c) - CASE WHEN 'support_lead' = ANY (p_roles) THEN '{}'::text[]
                                                ELSE ARRAY['requestId', 'clientAddress'] END ORDER BY e.id DESC),
         count(*), min(e.id)
    INTO items, n, last_id
    FROM (SELECT * FROM audit.events e
           WHERE e.entity_type = 'customer' AND e.entity_id = p_org_id
             AND (p_before_id IS NULL OR e.id < p_before_id)
           ORDER BY e.id DESC LIMIT lim) e
    LEFT JOIN audit.chain c ON c.event_id = e.id;
  -- The history shows before and after values of the record's fields.
  PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                            'customer.history', p_org_id, jsonb_build_object('events', n), p_client_request_id);
  RETURN jsonb_build_object('items', coalesce(items, '[]'), 'next', CASE WHEN n = lim THEN last_id::text END);
END
$$;
