-- The access log (audit.access_events): who was shown which customer's
-- personal or contract data, when, how and from where. Every api.* function
-- that returns such data writes its access event here, in its own transaction,
-- and makes that transaction commit with a WAL flush: the API answers only
-- after the function's commit, so nothing is shown without a durable event,
-- and a refused or failed read (which raises first) writes none.
--
-- A read that shows many customers at once (a search page) is one event that
-- names them in detail.orgIds: one row per page costs a search one insert,
-- not up to 200 (bench/api-bench.ts, search scenario).
--
-- Support leads review the log (api.customer_access, api.access_events).
-- Reviewing it writes no access event: it shows which staff member viewed which
-- organization id when, not the customer's contact or contract data, and an
-- event per review would make the log record its own reading without end.

CREATE FUNCTION core.write_access(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  p_kind text, p_org_id text, p_detail jsonb, p_client_request_id text DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, audit, pg_temp AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO audit.access_events (actor_sub, actor_name, actor_roles, kind, entity_type, entity_id, detail,
                                   request_id, client_address, app_version, client_request_id)
  VALUES (p_sub, p_name, p_roles, p_kind, CASE WHEN p_org_id IS NOT NULL THEN 'customer' END, p_org_id, p_detail,
          p_request_id, p_client_address, p_app_version, p_client_request_id)
  RETURNING id INTO new_id;
  -- Whatever the session or role says: the answer waits for this commit.
  PERFORM set_config('synchronous_commit', 'on', true);
  RETURN new_id;
END
$$;

CREATE FUNCTION core.access_json(a audit.access_events) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', a.id::text, 'occurredAt', core.iso(a.occurred_at), 'actorSub', a.actor_sub, 'actorName', a.actor_name,
    'actorRoles', to_jsonb(a.actor_roles), 'kind', a.kind, 'orgId', a.entity_id, 'detail', coalesce(a.detail, '{}'),
    'requestId', a.request_id, 'clientAddress', a.client_address, 'appVersion', a.app_version);
END
$$;

-- A page of access events, newest first (p_before_id: the last id seen). With
-- an organization id: the events about it and the search or review pages that
-- listed it, each through its own index.
CREATE FUNCTION core.access_page(
  p_user text, p_org_id text, p_from timestamptz, p_to timestamptz, p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lim integer := coalesce(p_limit, 100);
  page audit.access_events[];
BEGIN
  IF lim NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION 'limit must be 1..500' USING ERRCODE = 'CV422';
  END IF;
  IF p_org_id IS NULL THEN
    page := ARRAY(
      SELECT a FROM audit.access_events a
       WHERE (p_user IS NULL OR a.actor_sub = p_user)
         AND (p_from IS NULL OR a.occurred_at >= p_from) AND (p_to IS NULL OR a.occurred_at <= p_to)
         AND (p_before_id IS NULL OR a.id < p_before_id)
       ORDER BY a.id DESC LIMIT lim);
  ELSE
    page := ARRAY(
      SELECT a FROM (
        SELECT * FROM audit.access_events WHERE entity_type = 'customer' AND entity_id = p_org_id
        UNION ALL
        SELECT * FROM audit.access_events
         WHERE kind IN ('customer.search', 'audit.review') AND (detail -> 'orgIds') @> jsonb_build_array(p_org_id)
      ) a
       WHERE (p_user IS NULL OR a.actor_sub = p_user)
         AND (p_from IS NULL OR a.occurred_at >= p_from) AND (p_to IS NULL OR a.occurred_at <= p_to)
         AND (p_before_id IS NULL OR a.id < p_before_id)
       ORDER BY a.id DESC LIMIT lim);
  END IF;
  RETURN jsonb_build_object(
    'items', coalesce((SELECT jsonb_agg(core.access_json(page[i]) ORDER BY i) FROM generate_subscripts(page, 1) i), '[]'),
    'next', CASE WHEN cardinality(page) = lim THEN page[lim].id::text END);
END
$$;

-- Who viewed this record: support leads, on the record screen.
CREATE FUNCTION api.customer_access(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_org_id text, p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'review the access log');
  PERFORM core.require_customer(p_org_id);
  RETURN core.access_page(NULL, p_org_id, NULL, NULL, p_before_id, p_limit);
END
$$;

-- The access review across customers (and its CSV, page by page).
CREATE FUNCTION api.access_events(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_user text, p_org_id text, p_from timestamptz, p_to timestamptz, p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'review the access log');
  RETURN core.access_page(p_user, p_org_id, p_from, p_to, p_before_id, p_limit);
END
$$;
