-- Helpers every api.* function uses: who is calling, with what request, in
-- which kind of transaction. Schema core: not reachable by cims_api.
--
-- The API's contract is schema api: SECURITY DEFINER functions owned by
-- cims_owner, with a fixed search_path (pg_temp last), executable by cims_api.
-- Each receives the actor the API verified (sub, name, roles, scopes) and
-- checks authorization again (core.check_reader / core.check_editor below);
-- each write records its audit event in the same transaction as the change.
--
-- The functions in this folder are a definition, not a history: `npm run
-- db:migrate` drops every function in core, audit and api and creates these
-- files again, in one transaction, as cims_owner (see api/src/db/migrate.ts).
-- So each function is written here once, in its current form, with plain
-- CREATE FUNCTION. PL/pgSQL rather than SQL throughout (except where noted):
-- none of ours can be inlined (each has a fixed search_path), and PostgreSQL
-- plans a SQL function's body again in every transaction, while PL/pgSQL keeps
-- its plans for the connection's lifetime.
--
-- Deliberate errors (the store maps them to StoreError kinds):
--   CF403 forbidden   the actor may not do this
--   CN404 not_found   no such customer
--   CC409 conflict    stale expected version, or the customer is archived
--   CV422 validation  a value the database refuses (also 22xxx, 23502, 23514, 23503)
--   CD409 duplicate   the organization id exists already (also 23505)
--   CA405             (audit.refuse_change) UPDATE/DELETE/TRUNCATE on the audit trail

CREATE FUNCTION core.iso(t timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END
$$;

-- The rules for the actor the API verified and for the request context, as
-- predicates, so that a batch can apply them to each item without aborting the
-- others (api.customer_read); core.check_actor and core.check_context raise.
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

CREATE FUNCTION core.check_actor(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT core.actor_valid(p_sub, p_name, p_roles, p_scopes) THEN
    RAISE EXCEPTION 'invalid actor' USING ERRCODE = 'CF403';
  END IF;
END
$$;

CREATE FUNCTION core.check_context(p_request_id text, p_client_address text, p_app_version text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT core.context_valid(p_request_id, p_client_address, p_app_version) THEN
    RAISE EXCEPTION 'invalid request context' USING ERRCODE = 'CV422';
  END IF;
END
$$;

-- Users with a role read customers; a service account (scope only) does not.
CREATE FUNCTION core.require_any_role(p_roles text[], p_allowed text[], p_what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT (p_roles && p_allowed) THEN
    RAISE EXCEPTION 'not allowed to %', p_what USING ERRCODE = 'CF403';
  END IF;
END
$$;

CREATE FUNCTION core.check_reason(p_reason text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_reason IS NULL OR length(btrim(p_reason)) NOT BETWEEN 3 AND 500 THEN
    RAISE EXCEPTION 'a reason of 3 to 500 characters is required' USING ERRCODE = 'CV422';
  END IF;
  RETURN btrim(p_reason);
END
$$;

-- The prologue of a read: a valid actor (CF403) holding one of the allowed
-- roles (CF403, 'not allowed to <p_what>'), checked in that order.
CREATE FUNCTION core.check_reader(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_allowed text[], p_what text
) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, p_allowed, p_what);
END
$$;

-- The prologue of an edit: what a read checks, then the request context
-- (CV422) and the reason (CV422); returns the reason trimmed.
CREATE FUNCTION core.check_editor(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_allowed text[], p_what text,
  p_request_id text, p_client_address text, p_app_version text, p_reason text
) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, p_allowed, p_what);
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  RETURN core.check_reason(p_reason);
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
