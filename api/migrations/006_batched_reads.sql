-- Customer reads in batches: api.customer_read serves several reads (of any
-- callers) in one transaction, writes one access event per record it returns
-- in that same transaction, and commits synchronously. The API answers a read
-- only after that commit, so no record is ever shown without a durable access
-- event, and the database still enforces the logging: the API role has no way
-- to read a record that does not log it.
--
-- It replaces api.customer_get (one transaction per read, committed without a
-- WAL flush) and api.access_flush (a later synchronous commit the API waited
-- for). Under load that cost each read two transactions and two round trips;
-- a batch costs one of each for all its reads, and one WAL flush.
SET LOCAL ROLE cims_owner;

-- The rules of core.check_actor and core.check_context as predicates, so that
-- a batch can apply them to each read without aborting the others. (PL/pgSQL,
-- not SQL: see 007.)
CREATE FUNCTION core.actor_valid(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN coalesce(p_sub IS NOT NULL AND length(p_sub) BETWEEN 1 AND 200
                  AND p_name IS NOT NULL AND length(p_name) <= 200
                  AND p_roles IS NOT NULL AND p_scopes IS NOT NULL AND array_position(p_roles, NULL) IS NULL, false);
END
$$;

CREATE FUNCTION core.context_valid(p_request_id text, p_client_address text, p_app_version text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN coalesce(p_request_id IS NOT NULL AND length(p_request_id) BETWEEN 1 AND 200
                  AND (p_client_address IS NULL OR length(p_client_address) <= 100)
                  AND (p_app_version IS NULL OR length(p_app_version) <= 100), false);
END
$$;

-- A JSON array of strings as text[]; NULL for anything that is not an array (an invalid actor).
CREATE FUNCTION core.jsonb_text_array(j jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF jsonb_typeof(j) IS DISTINCT FROM 'array' THEN
    RETURN NULL;
  END IF;
  RETURN ARRAY(SELECT jsonb_array_elements_text(j));
END
$$;

CREATE OR REPLACE FUNCTION core.check_actor(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT core.actor_valid(p_sub, p_name, p_roles, p_scopes) THEN
    RAISE EXCEPTION 'invalid actor' USING ERRCODE = 'CF403';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION core.check_context(p_request_id text, p_client_address text, p_app_version text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT core.context_valid(p_request_id, p_client_address, p_app_version) THEN
    RAISE EXCEPTION 'invalid request context' USING ERRCODE = 'CV422';
  END IF;
END
$$;

-- Every batch function starts here. The items must be an array of 1 to 1000;
-- and the transaction's commit must wait for its WAL flush, whatever the session
-- or role says, because the API answers the batch's requests once it returns.
CREATE FUNCTION core.begin_batch(p_items jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_items IS NULL OR jsonb_typeof(p_items) <> 'array' OR jsonb_array_length(p_items) NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'a batch is an array of 1 to 1000 items' USING ERRCODE = 'CV422';
  END IF;
  PERFORM set_config('synchronous_commit', 'on', true);
END
$$;

-- p_reads: a JSON array of {sub, name, roles, scopes, requestId, clientAddress,
-- appVersion, orgId}, one per read. Returns an array in the same order: for each
-- read either {"detail": <customer detail>} or {"code": <SQLSTATE>, "message": ...}
-- with the code a single read would have raised (CF403, CV422, CN404). Refused
-- and unknown reads are not logged: nothing was shown.
CREATE FUNCTION api.customer_read(p_reads jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  results jsonb;
BEGIN
  PERFORM core.begin_batch(p_reads);

  WITH req AS (
    SELECT x.i, x.r ->> 'sub' AS sub, x.r ->> 'name' AS name,
           core.jsonb_text_array(x.r -> 'roles') AS roles, core.jsonb_text_array(x.r -> 'scopes') AS scopes,
           x.r ->> 'requestId' AS request_id, x.r ->> 'clientAddress' AS client_address,
           x.r ->> 'appVersion' AS app_version, x.r ->> 'orgId' AS org_id
      FROM jsonb_array_elements(p_reads) WITH ORDINALITY AS x(r, i)
  ), checked AS (
    SELECT req.*, c,
           CASE WHEN NOT core.actor_valid(req.sub, req.name, req.roles, req.scopes) THEN 'CF403'
                WHEN NOT (req.roles && ARRAY['crm', 'support_lead', 'admin']) THEN 'CF403'
                WHEN NOT core.context_valid(req.request_id, req.client_address, req.app_version) THEN 'CV422'
                WHEN c.org_id IS NULL THEN 'CN404' END AS code
      FROM req LEFT JOIN core.customers c ON c.org_id = req.org_id
  ), logged AS (
    INSERT INTO audit.access_events (actor_sub, actor_name, actor_roles, entity_type, entity_id, request_id, client_address, app_version)
    SELECT sub, name, roles, 'customer', org_id, request_id, client_address, app_version
      FROM checked WHERE code IS NULL ORDER BY i
  )
  SELECT jsonb_agg(CASE WHEN code IS NULL THEN jsonb_build_object('detail', core.customer_detail(c))
                        ELSE jsonb_build_object('code', code, 'message', CASE code
                          WHEN 'CN404' THEN format('customer %s not found', org_id)
                          WHEN 'CV422' THEN 'invalid request context'
                          ELSE 'not allowed to read customers' END) END ORDER BY i)
    INTO results FROM checked;
  RETURN results;
END
$$;

DROP FUNCTION api.customer_get(text, text, text[], text[], text, text, text, text);
DROP FUNCTION api.access_flush(integer);
DROP TABLE audit.flush_marker;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA core, audit, api FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.customer_read(jsonb) TO cims_api;
