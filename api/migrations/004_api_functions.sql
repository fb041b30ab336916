-- The API's contract: SECURITY DEFINER functions owned by cims_owner, with a
-- fixed search_path (pg_temp last), executable by cims_api only. Each one
-- receives the actor the API verified (sub, name, roles, scopes) and checks
-- authorization again; each write records its audit event in the same
-- transaction as the change.
--
-- Deliberate errors (the store maps them to StoreError kinds):
--   CF403 forbidden   the actor may not do this
--   CN404 not_found   no such customer
--   CC409 conflict    stale expected version, or the customer is archived
--   CV422 validation  a value the database refuses (also 22xxx, 23502, 23514, 23503)
--   CD409 duplicate   the organization id exists already (also 23505)
--   CA405             (audit.refuse_change) UPDATE/DELETE/TRUNCATE on the audit trail
SET LOCAL ROLE cims_owner;

-- Helpers (schema core: not reachable by cims_api).

CREATE FUNCTION core.iso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE FUNCTION core.check_actor(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_sub IS NULL OR length(p_sub) NOT BETWEEN 1 AND 200 OR p_name IS NULL OR length(p_name) > 200
     OR p_roles IS NULL OR p_scopes IS NULL OR array_position(p_roles, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'invalid actor' USING ERRCODE = 'CF403';
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

CREATE FUNCTION core.check_context(p_request_id text, p_client_address text, p_app_version text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_request_id IS NULL OR length(p_request_id) NOT BETWEEN 1 AND 200
     OR length(p_client_address) > 100 OR length(p_app_version) > 100 THEN
    RAISE EXCEPTION 'invalid request context' USING ERRCODE = 'CV422';
  END IF;
END
$$;

-- API field name -> column, in the order changes are listed.
CREATE FUNCTION core.editable_fields() RETURNS TABLE (field text, col text)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  VALUES ('orgName', 'org_name'), ('contactName', 'contact_name'), ('contactEmail', 'contact_email'),
         ('contactPhone', 'contact_phone'), ('userCount', 'user_count'),
         ('contractValueCents', 'contract_value_cents'), ('currency', 'currency'), ('renewalDate', 'renewal_date')
$$;

-- A jsonb object keyed by API field names -> keyed by column names; unknown keys refused.
CREATE FUNCTION core.fields_to_columns(p jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, core, pg_temp AS $$
DECLARE
  unknown text;
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN
    RAISE EXCEPTION 'fields must be an object' USING ERRCODE = 'CV422';
  END IF;
  SELECT k INTO unknown FROM jsonb_object_keys(p) k WHERE k NOT IN (SELECT f.field FROM core.editable_fields() f) LIMIT 1;
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'field % cannot be set', unknown USING ERRCODE = 'CV422';
  END IF;
  RETURN (SELECT coalesce(jsonb_object_agg(f.col, p -> f.field), '{}') FROM core.editable_fields() f WHERE p ? f.field);
END
$$;

CREATE FUNCTION core.customer_json(c core.customers) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
  SELECT jsonb_build_object(
    'orgId', c.org_id, 'orgName', c.org_name, 'contactName', c.contact_name,
    'contactEmail', c.contact_email, 'contactPhone', c.contact_phone, 'userCount', c.user_count,
    'contractValueCents', c.contract_value_cents, 'currency', c.currency,
    'renewalDate', to_char(c.renewal_date, 'YYYY-MM-DD'),
    'ownerSub', c.owner_sub, 'ownerName', c.owner_name, 'status', c.status, 'version', c.version,
    'createdAt', core.iso(c.created_at), 'updatedAt', core.iso(c.updated_at))
$$;

CREATE FUNCTION core.prediction_json(p core.predictions) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
  SELECT jsonb_build_object(
    'orgId', p.org_id, 'kind', p.kind, 'modelName', p.model_name, 'modelVersion', p.model_version,
    'score', p.score, 'topFactors', p.top_factors, 'scoredAt', core.iso(p.scored_at))
$$;

CREATE FUNCTION core.customer_detail(c core.customers) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
DECLARE
  billing jsonb;
  usage jsonb;
  preds jsonb;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('brand', b.brand, 'last4', b.last4,
                                               'expMonth', b.exp_month, 'expYear', b.exp_year) ORDER BY b.id), '[]')
    INTO billing FROM core.billing_methods b WHERE b.org_id = c.org_id;

  WITH u AS (
    SELECT count(*) AS days,
           avg(active_users) FILTER (WHERE day > current_date - 30) AS avg30,
           avg(active_users) FILTER (WHERE day <= current_date - 30 AND day > current_date - 60) AS prev30
      FROM core.usage_daily WHERE org_id = c.org_id
  )
  SELECT jsonb_build_object(
           'days', u.days,
           'activeUsersLatest', (SELECT d.active_users FROM core.usage_daily d WHERE d.org_id = c.org_id ORDER BY d.day DESC LIMIT 1),
           'activeUsersAvg30', round(u.avg30, 2)::double precision,
           'trend30', CASE WHEN u.prev30 > 0 AND u.avg30 IS NOT NULL THEN round(u.avg30 / u.prev30 - 1, 4)::double precision END)
    INTO usage FROM u;

  SELECT coalesce(jsonb_agg(core.prediction_json(p) ORDER BY p.kind), '[]') INTO preds
    FROM (SELECT DISTINCT ON (kind) * FROM core.predictions WHERE org_id = c.org_id ORDER BY kind, scored_at DESC, id DESC) p;

  RETURN jsonb_build_object('customer', core.customer_json(c), 'billing', billing, 'usage', usage, 'predictions', preds);
END
$$;

CREATE FUNCTION core.write_event(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  p_action text, p_entity_type text, p_entity_id text, p_changes jsonb, p_reason text
) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = pg_catalog, audit, pg_temp AS $$
  INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                            request_id, client_address, app_version)
  VALUES (p_sub, p_name, p_roles, p_action, p_entity_type, p_entity_id, p_changes, p_reason,
          p_request_id, p_client_address, p_app_version)
  RETURNING id
$$;

CREATE FUNCTION core.event_json(e audit.events, c audit.chain) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
  SELECT jsonb_build_object(
    'id', e.id::text, 'occurredAt', core.iso(e.occurred_at), 'actorSub', e.actor_sub, 'actorName', e.actor_name,
    'actorRoles', to_jsonb(e.actor_roles), 'action', e.action, 'entityType', e.entity_type, 'entityId', e.entity_id,
    'changes', e.changes, 'reason', e.reason, 'requestId', e.request_id, 'clientAddress', e.client_address,
    'appVersion', e.app_version, 'prevHash', c.prev_hash, 'hash', c.hash)
$$;

CREATE FUNCTION core.list_item(c core.customers) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
  SELECT jsonb_build_object(
    'orgId', c.org_id, 'orgName', c.org_name, 'contactName', c.contact_name, 'contactEmail', c.contact_email,
    'contactPhone', c.contact_phone, 'renewalDate', to_char(c.renewal_date, 'YYYY-MM-DD'),
    'contractValueCents', c.contract_value_cents, 'currency', c.currency, 'ownerSub', c.owner_sub,
    'ownerName', c.owner_name, 'status', c.status, 'churnRisk', c.latest_churn_risk)
$$;

-- api.* ---------------------------------------------------------------------

CREATE FUNCTION api.customer_search(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_q text, p_owner_me boolean, p_renewal_within_days integer, p_min_churn_risk double precision,
  p_include_archived boolean, p_sort text, p_after_key text, p_after_id text, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  pattern text;
  owner_filter text;
  renewal_until date;
  lim integer := coalesce(p_limit, 50);
  matched core.customers[];
  key_expr text;
  key_param text;
  conds text;
  sql text;
  n_found integer;
  last_row core.customers;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm', 'support_lead', 'admin'], 'search customers');
  IF lim NOT BETWEEN 1 AND 200 OR p_sort NOT IN ('name', 'renewal', 'churnRisk') OR length(p_q) > 200
     OR p_renewal_within_days NOT BETWEEN 0 AND 3650 OR p_min_churn_risk NOT BETWEEN 0 AND 1
     OR (p_after_id IS NOT NULL AND p_after_id !~ '^ORG-[0-9]{6}$') THEN
    RAISE EXCEPTION 'invalid search' USING ERRCODE = 'CV422';
  END IF;
  IF nullif(btrim(p_q), '') IS NOT NULL THEN
    pattern := '%' || replace(replace(replace(btrim(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  END IF;
  IF p_owner_me THEN owner_filter := p_sub; END IF;
  IF p_renewal_within_days IS NOT NULL THEN renewal_until := current_date + p_renewal_within_days; END IF;

  -- The statement is assembled from fixed fragments only (values are always bound
  -- with USING) so that each search is planned for the filters it really has.
  -- With a query, matches come from the trigram index (or, for one or two
  -- characters, which make no trigram, from a name-prefix index) and are sorted
  -- afterwards: walking the sort order's index and filtering would read most of
  -- the table when the matches sort late (e.g. names starting with the query).
  -- Without one, the sort order's index is walked from the cursor.
  key_expr := CASE p_sort WHEN 'name' THEN 'c.org_name' WHEN 'renewal' THEN 'c.renewal_date'
                          ELSE '-coalesce(c.latest_churn_risk, -1)' END;
  key_param := CASE p_sort WHEN 'name' THEN '$5' WHEN 'renewal' THEN '$5::date' ELSE '$5::double precision' END;
  conds := ' WHERE true';
  IF pattern IS NOT NULL AND length(btrim(p_q)) >= 3 THEN
    conds := conds || ' AND (c.org_name || '' '' || c.org_id || '' '' || c.contact_email || '' '' || c.contact_phone) ILIKE $1';
  ELSIF pattern IS NOT NULL THEN
    pattern := substr(pattern, 2);  -- 'ab%': a prefix of the organization name
    conds := conds || ' AND lower(c.org_name) LIKE lower($1)';
  END IF;
  IF owner_filter IS NOT NULL THEN conds := conds || ' AND c.owner_sub = $2'; END IF;
  IF renewal_until IS NOT NULL THEN conds := conds || ' AND c.renewal_date BETWEEN current_date AND $3'; END IF;
  IF p_min_churn_risk IS NOT NULL THEN conds := conds || ' AND c.latest_churn_risk >= $4'; END IF;
  IF NOT coalesce(p_include_archived, false) THEN conds := conds || ' AND c.status = ''active'''; END IF;
  IF p_after_id IS NOT NULL THEN
    conds := conds || ' AND (' || key_expr || ', c.org_id) > (' || key_param || ', $6)';
  END IF;
  IF pattern IS NOT NULL THEN
    sql := 'WITH m AS MATERIALIZED (SELECT c AS r, ' || key_expr || ' AS k, c.org_id FROM core.customers c' || conds
        || ') SELECT m.r FROM m ORDER BY m.k, m.org_id';
  ELSE
    sql := 'SELECT c FROM core.customers c' || conds || ' ORDER BY ' || key_expr || ', c.org_id';
  END IF;
  EXECUTE 'SELECT ARRAY(' || sql || ' LIMIT $7)' INTO matched
    USING pattern, owner_filter, renewal_until, p_min_churn_risk, p_after_key, p_after_id, lim + 1;

  n_found := coalesce(array_length(matched, 1), 0);
  IF n_found > lim THEN
    last_row := matched[lim];
  END IF;
  RETURN jsonb_build_object(
    'items', coalesce((SELECT jsonb_agg(core.list_item(matched[i]) ORDER BY i) FROM generate_subscripts(matched, 1) i WHERE i <= lim), '[]'),
    'next', CASE WHEN last_row.org_id IS NULL THEN NULL ELSE jsonb_build_object(
      'id', last_row.org_id,
      'key', CASE p_sort WHEN 'name' THEN last_row.org_name
                         WHEN 'renewal' THEN to_char(last_row.renewal_date, 'YYYY-MM-DD')
                         ELSE (-coalesce(last_row.latest_churn_risk, -1))::text END) END);
END
$$;

-- Reading a record writes its access event in the same transaction, so there is
-- no read without its log entry. The transaction commits asynchronously (no WAL
-- flush per read); the API acknowledges the read only after a later synchronous
-- commit (api.access_flush, shared by every read that finished before it) has
-- flushed the WAL past this commit. A crash can therefore only lose access
-- events of reads that were never answered.
CREATE FUNCTION api.customer_get(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  c core.customers;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm', 'support_lead', 'admin'], 'read customers');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  SELECT * INTO c FROM core.customers WHERE org_id = p_org_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'customer % not found', p_org_id USING ERRCODE = 'CN404';
  END IF;
  INSERT INTO audit.access_events (actor_sub, actor_name, actor_roles, entity_type, entity_id, request_id, client_address, app_version)
  VALUES (p_sub, p_name, p_roles, 'customer', c.org_id, p_request_id, p_client_address, p_app_version);
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN core.customer_detail(c);
END
$$;

-- The durability barrier for access events: a tiny synchronous commit. Its WAL
-- flush covers every commit that completed before it started.
CREATE FUNCTION api.access_flush(p_slot integer) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
  UPDATE audit.flush_marker SET n = n + 1 WHERE slot = ((p_slot % 8) + 8) % 8;
$$;

CREATE FUNCTION api.customer_create(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_fields jsonb, p_reason text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  cols jsonb;
  n core.customers;
  missing text;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm'], 'create customers');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  reason := core.check_reason(p_reason);
  cols := core.fields_to_columns(p_fields);
  SELECT f.field INTO missing FROM core.editable_fields() f WHERE NOT cols ? f.col OR cols -> f.col = 'null' LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'field % is required', missing USING ERRCODE = 'CV422';
  END IF;
  IF p_org_id IS NULL OR p_org_id !~ '^ORG-[0-9]{6}$' THEN
    RAISE EXCEPTION 'organization id looks like ORG-000123' USING ERRCODE = 'CV422';
  END IF;
  n := jsonb_populate_record(NULL::core.customers, cols || jsonb_build_object(
         'org_id', p_org_id, 'owner_sub', p_sub, 'owner_name', p_name, 'status', 'active', 'version', 1));
  BEGIN
    INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
                                contract_value_cents, currency, renewal_date, owner_sub, owner_name)
    VALUES (n.org_id, n.org_name, n.contact_name, n.contact_email, n.contact_phone, n.user_count,
            n.contract_value_cents, n.currency, n.renewal_date, n.owner_sub, n.owner_name)
    RETURNING * INTO n;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'customer % exists already', p_org_id USING ERRCODE = 'CD409';
  END;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'customer.create', 'customer', n.org_id,
    (SELECT jsonb_agg(jsonb_build_object('field', f.field, 'before', NULL, 'after', to_jsonb(n) -> f.col) ORDER BY o)
       FROM core.editable_fields() WITH ORDINALITY AS f(field, col, o)),
    reason);
  RETURN core.customer_detail(n);
END
$$;

-- Locks the row, then checks existence, authorization and version in that order.
CREATE FUNCTION core.lock_customer(p_org_id text) RETURNS core.customers
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, core, pg_temp AS $$
DECLARE
  c core.customers;
BEGIN
  SELECT * INTO c FROM core.customers WHERE org_id = p_org_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'customer % not found', p_org_id USING ERRCODE = 'CN404';
  END IF;
  RETURN c;
END
$$;

CREATE FUNCTION core.check_version(c core.customers, p_expected_version integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_expected_version IS NOT NULL AND c.version <> p_expected_version THEN
    RAISE EXCEPTION 'customer % has changed (version % is current, % was expected)', c.org_id, c.version, p_expected_version
      USING ERRCODE = 'CC409';
  END IF;
END
$$;

CREATE FUNCTION api.customer_update(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_changes jsonb, p_reason text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  cols jsonb;
  old core.customers;
  n core.customers;
  diff jsonb;
  old_json jsonb;
  new_json jsonb;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm'], 'edit customers');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  reason := core.check_reason(p_reason);
  IF p_expected_version IS NULL THEN
    RAISE EXCEPTION 'an expected version is required' USING ERRCODE = 'CV422';
  END IF;
  cols := core.fields_to_columns(p_changes);
  IF cols = '{}' THEN
    RAISE EXCEPTION 'change at least one field' USING ERRCODE = 'CV422';
  END IF;
  old := core.lock_customer(p_org_id);
  IF old.owner_sub <> p_sub THEN
    RAISE EXCEPTION 'customer % is assigned to another relationship manager', p_org_id USING ERRCODE = 'CF403';
  END IF;
  PERFORM core.check_version(old, p_expected_version);
  IF old.status <> 'active' THEN
    RAISE EXCEPTION 'customer % is archived', p_org_id USING ERRCODE = 'CC409';
  END IF;
  n := jsonb_populate_record(old, cols);
  -- Each row is converted to jsonb once (not once per field and comparison).
  old_json := to_jsonb(old);
  new_json := to_jsonb(n);
  SELECT jsonb_agg(jsonb_build_object('field', f.field, 'before', old_json -> f.col, 'after', new_json -> f.col) ORDER BY o)
    INTO diff
    FROM core.editable_fields() WITH ORDINALITY AS f(field, col, o)
   WHERE (old_json -> f.col) IS DISTINCT FROM (new_json -> f.col);
  IF diff IS NULL THEN
    RETURN core.customer_detail(old);  -- nothing changes, nothing is recorded
  END IF;
  UPDATE core.customers SET
    org_name = n.org_name, contact_name = n.contact_name, contact_email = n.contact_email,
    contact_phone = n.contact_phone, user_count = n.user_count, contract_value_cents = n.contract_value_cents,
    currency = n.currency, renewal_date = n.renewal_date, version = old.version + 1, updated_at = now()
  WHERE org_id = old.org_id
  RETURNING * INTO n;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'customer.update', 'customer', n.org_id, diff, reason);
  RETURN core.customer_detail(n);
END
$$;

CREATE FUNCTION api.customer_archive(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_reason text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  old core.customers;
  n core.customers;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['support_lead'], 'archive customers');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  reason := core.check_reason(p_reason);
  old := core.lock_customer(p_org_id);
  PERFORM core.check_version(old, p_expected_version);
  IF old.status = 'archived' THEN
    RETURN core.customer_detail(old);  -- already archived: nothing changes, nothing is recorded
  END IF;
  UPDATE core.customers SET status = 'archived', version = old.version + 1, updated_at = now()
   WHERE org_id = old.org_id RETURNING * INTO n;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'customer.archive', 'customer', n.org_id,
    jsonb_build_array(jsonb_build_object('field', 'status', 'before', old.status, 'after', n.status)), reason);
  RETURN core.customer_detail(n);
END
$$;

-- Admins (re)assign a customer to a CRM; recorded as a customer.update of the owner fields.
CREATE FUNCTION api.customer_assign(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_owner_sub text, p_owner_name text, p_reason text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  old core.customers;
  n core.customers;
  diff jsonb := '[]';
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['admin'], 'assign customers');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  reason := core.check_reason(p_reason);
  IF p_owner_sub IS NULL OR length(p_owner_sub) NOT BETWEEN 1 AND 200 OR p_owner_name IS NULL
     OR length(p_owner_name) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'an owner subject and name are required' USING ERRCODE = 'CV422';
  END IF;
  old := core.lock_customer(p_org_id);
  PERFORM core.check_version(old, p_expected_version);
  IF old.owner_sub IS DISTINCT FROM p_owner_sub THEN
    diff := diff || jsonb_build_object('field', 'ownerSub', 'before', old.owner_sub, 'after', p_owner_sub);
  END IF;
  IF old.owner_name IS DISTINCT FROM p_owner_name THEN
    diff := diff || jsonb_build_object('field', 'ownerName', 'before', old.owner_name, 'after', p_owner_name);
  END IF;
  IF diff = '[]' THEN
    RETURN core.customer_detail(old);
  END IF;
  UPDATE core.customers SET owner_sub = p_owner_sub, owner_name = p_owner_name, version = old.version + 1, updated_at = now()
   WHERE org_id = old.org_id RETURNING * INTO n;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'customer.update', 'customer', n.org_id, diff, reason);
  RETURN core.customer_detail(n);
END
$$;

CREATE FUNCTION core.require_customer(p_org_id text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM core.customers WHERE org_id = p_org_id) THEN
    RAISE EXCEPTION 'customer % not found', p_org_id USING ERRCODE = 'CN404';
  END IF;
END
$$;

CREATE FUNCTION api.customer_usage(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_org_id text, p_from date, p_to date
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm', 'support_lead', 'admin'], 'read usage');
  IF p_from IS NULL OR p_to IS NULL OR p_to < p_from OR p_to - p_from > 3660 THEN
    RAISE EXCEPTION 'a usage range of at most ten years is required' USING ERRCODE = 'CV422';
  END IF;
  PERFORM core.require_customer(p_org_id);
  RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('day', to_char(u.day, 'YYYY-MM-DD'), 'activeUsers', u.active_users,
                                                       'sessions', u.sessions, 'featureEvents', u.feature_events) ORDER BY u.day)
                     FROM core.usage_daily u WHERE u.org_id = p_org_id AND u.day BETWEEN p_from AND p_to), '[]');
END
$$;

CREATE FUNCTION api.customer_predictions(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_org_id text
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm', 'support_lead', 'admin'], 'read predictions');
  PERFORM core.require_customer(p_org_id);
  RETURN coalesce((SELECT jsonb_agg(core.prediction_json(p) ORDER BY p.scored_at DESC, p.id DESC)
                     FROM (SELECT * FROM core.predictions WHERE org_id = p_org_id ORDER BY scored_at DESC, id DESC LIMIT 500) p), '[]');
END
$$;

CREATE FUNCTION api.predictions_ingest(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_predictions jsonb
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  total integer;
  accepted integer;
  orgs integer;
  models text;
  unknown text;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  IF NOT ('predictions:write' = ANY (p_scopes)) THEN
    RAISE EXCEPTION 'not allowed to write predictions' USING ERRCODE = 'CF403';
  END IF;
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF p_predictions IS NULL OR jsonb_typeof(p_predictions) <> 'array' OR jsonb_array_length(p_predictions) NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'a batch of 1 to 1000 predictions is required' USING ERRCODE = 'CV422';
  END IF;

  total := jsonb_array_length(p_predictions);
  SELECT x."orgId" INTO unknown
    FROM jsonb_to_recordset(p_predictions) AS x("orgId" text)
   WHERE x."orgId" IS NULL OR NOT EXISTS (SELECT 1 FROM core.customers c WHERE c.org_id = x."orgId") LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'unknown organization id %', coalesce(unknown, '(none)') USING ERRCODE = 'CV422';
  END IF;

  WITH batch AS (
    SELECT x."orgId" AS org_id, x.kind, x."modelName" AS model_name, x."modelVersion" AS model_version, x.score,
           coalesce(x."topFactors", '[]') AS top_factors, x."scoredAt" AS scored_at
      FROM jsonb_to_recordset(p_predictions) AS x("orgId" text, kind text, "modelName" text, "modelVersion" text,
                                                   score double precision, "topFactors" jsonb, "scoredAt" timestamptz)
  ), ins AS (
    INSERT INTO core.predictions (org_id, model_name, model_version, kind, score, top_factors, scored_at)
    SELECT org_id, model_name, model_version, kind, score, top_factors, scored_at FROM batch
    ON CONFLICT (org_id, model_name, model_version, kind, scored_at) DO NOTHING
    RETURNING org_id, kind, score, scored_at, model_name, model_version
  ), latest AS (
    SELECT DISTINCT ON (org_id) org_id, score, scored_at FROM ins WHERE kind = 'churn_risk' ORDER BY org_id, scored_at DESC
  ), upd AS (
    UPDATE core.customers c SET latest_churn_risk = l.score, latest_churn_scored_at = l.scored_at
      FROM latest l
     WHERE c.org_id = l.org_id AND (c.latest_churn_scored_at IS NULL OR l.scored_at >= c.latest_churn_scored_at)
    RETURNING c.org_id
  )
  SELECT count(*), count(DISTINCT org_id), string_agg(DISTINCT model_name || '@' || model_version, ',')
    INTO accepted, orgs, models FROM ins;

  IF accepted > 0 THEN
    PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
      'predictions.ingest', 'predictions', left(models, 200),
      jsonb_build_array(jsonb_build_object('field', 'accepted', 'before', NULL, 'after', accepted),
                        jsonb_build_object('field', 'duplicates', 'before', NULL, 'after', total - accepted),
                        jsonb_build_object('field', 'organizations', 'before', NULL, 'after', orgs)),
      NULL);
  END IF;
  RETURN jsonb_build_object('accepted', accepted, 'duplicates', total - accepted);
END
$$;

-- Audit review. Newest first; p_before_id is the cursor (the last id seen).
CREATE FUNCTION api.audit_events(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_actor text, p_org_id text, p_action text, p_field text, p_from timestamptz, p_to timestamptz,
  p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lim integer := coalesce(p_limit, 100);
  items jsonb;
  n integer;
  last_id bigint;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['support_lead'], 'review the audit trail');
  IF lim NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION 'limit must be 1..500' USING ERRCODE = 'CV422';
  END IF;
  SELECT jsonb_agg(core.event_json(e, c) ORDER BY e.id DESC), count(*), min(e.id)
    INTO items, n, last_id
    FROM (SELECT * FROM audit.events e
           WHERE (p_actor IS NULL OR e.actor_sub = p_actor)
             AND (p_org_id IS NULL OR (e.entity_type = 'customer' AND e.entity_id = p_org_id))
             AND (p_action IS NULL OR e.action = p_action)
             AND (p_field IS NULL OR e.changes @> jsonb_build_array(jsonb_build_object('field', p_field)))
             AND (p_from IS NULL OR e.occurred_at >= p_from)
             AND (p_to IS NULL OR e.occurred_at <= p_to)
             AND (p_before_id IS NULL OR e.id < p_before_id)
           ORDER BY e.id DESC LIMIT lim) e
    LEFT JOIN audit.chain c ON c.event_id = e.id;
  RETURN jsonb_build_object('items', coalesce(items, '[]'), 'next', CASE WHEN n = lim THEN last_id::text END);
END
$$;

-- The history of one customer, for the people who work on it.
CREATE FUNCTION api.customer_audit(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_org_id text, p_before_id bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lim integer := coalesce(p_limit, 100);
  items jsonb;
  n integer;
  last_id bigint;
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['crm', 'support_lead'], 'read a customer''s history');
  IF lim NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION 'limit must be 1..500' USING ERRCODE = 'CV422';
  END IF;
  PERFORM core.require_customer(p_org_id);
  SELECT jsonb_agg(core.event_json(e, c) ORDER BY e.id DESC), count(*), min(e.id)
    INTO items, n, last_id
    FROM (SELECT * FROM audit.events e
           WHERE e.entity_type = 'customer' AND e.entity_id = p_org_id
             AND (p_before_id IS NULL OR e.id < p_before_id)
           ORDER BY e.id DESC LIMIT lim) e
    LEFT JOIN audit.chain c ON c.event_id = e.id;
  RETURN jsonb_build_object('items', coalesce(items, '[]'), 'next', CASE WHEN n = lim THEN last_id::text END);
END
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
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  PERFORM core.require_any_role(p_roles, ARRAY['support_lead'], 'verify the audit trail');

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

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA core, audit, api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO cims_api;
