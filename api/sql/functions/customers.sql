-- Customers: the record, its list and search, reads (in batches, each logged),
-- creation, edits (in batches), archiving, usage, and the counts of a portfolio
-- (assignment to another CRM: api.assignments_apply, staff.sql).
--
-- Every write records its audit event (core.write_event, audit.sql) in the
-- change's own transaction; a change that changes nothing records nothing.

-- API field name -> column, in the order changes are listed.
CREATE FUNCTION core.editable_fields() RETURNS TABLE (field text, col text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN QUERY VALUES ('orgName', 'org_name'), ('contactName', 'contact_name'), ('contactEmail', 'contact_email'),
                      ('contactPhone', 'contact_phone'), ('userCount', 'user_count'),
                      ('contractValueCents', 'contract_value_cents'), ('currency', 'currency'), ('renewalDate', 'renewal_date');
END
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
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'orgId', c.org_id, 'orgName', c.org_name, 'contactName', c.contact_name,
    'contactEmail', c.contact_email, 'contactPhone', c.contact_phone, 'userCount', c.user_count,
    'contractValueCents', c.contract_value_cents, 'currency', c.currency,
    'renewalDate', to_char(c.renewal_date, 'YYYY-MM-DD'),
    'ownerSub', c.owner_sub, 'ownerName', c.owner_name, 'status', c.status, 'version', c.version,
    'createdAt', core.iso(c.created_at), 'updatedAt', core.iso(c.updated_at));
END
$$;

CREATE FUNCTION core.list_item(c core.customers) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'orgId', c.org_id, 'orgName', c.org_name, 'contactName', c.contact_name, 'contactEmail', c.contact_email,
    'contactPhone', c.contact_phone, 'renewalDate', to_char(c.renewal_date, 'YYYY-MM-DD'),
    'contractValueCents', c.contract_value_cents, 'currency', c.currency, 'ownerSub', c.owner_sub,
    'ownerName', c.owner_name, 'status', c.status, 'churnRisk', c.latest_churn_risk);
END
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

-- Raises CN404 unless the customer exists (reads of what belongs to a customer).
CREATE FUNCTION core.require_customer(p_org_id text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM core.customers WHERE org_id = p_org_id) THEN
    RAISE EXCEPTION 'customer % not found', p_org_id USING ERRCODE = 'CN404';
  END IF;
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

CREATE FUNCTION api.customer_search(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_q text, p_owner_me boolean, p_renewal_within_days integer, p_min_churn_risk double precision,
  p_include_archived boolean, p_sort text, p_after_key text, p_after_id text, p_limit integer, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
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
  n_candidates bigint := 0;
  -- shared/api.ts SEARCH_MAX_MATCHES: a search matching more is too broad to sort.
  max_matches constant integer := 5000;
  last_row core.customers;
  shown text[];
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead', 'admin'], 'search customers');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF lim NOT BETWEEN 1 AND 200 OR p_sort NOT IN ('name', 'renewal', 'churnRisk') OR length(p_q) > 200
     OR p_renewal_within_days NOT BETWEEN 0 AND 3650 OR p_min_churn_risk NOT BETWEEN 0 AND 1
     OR (p_after_id IS NOT NULL AND p_after_id !~ '^ORG-[0-9]{6,12}$') THEN
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
  -- The matches of a query are capped: past max_matches (e.g. q=.com at a million
  -- customers) the search is answered as too broad, with no items, instead of
  -- materializing and sorting nearly every row.
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
        || ' LIMIT $8) SELECT ARRAY(SELECT m.r FROM m ORDER BY m.k, m.org_id LIMIT $7), (SELECT count(*) FROM m)';
  ELSE
    sql := 'SELECT ARRAY(SELECT c FROM core.customers c' || conds || ' ORDER BY ' || key_expr || ', c.org_id LIMIT $7), 0::bigint';
  END IF;
  EXECUTE sql INTO matched, n_candidates
    USING pattern, owner_filter, renewal_until, p_min_churn_risk, p_after_key, p_after_id, lim + 1, max_matches + 1;
  IF n_candidates > max_matches THEN
    -- Nothing is shown, so nothing is logged.
    RETURN jsonb_build_object('items', '[]'::jsonb, 'next', NULL, 'tooBroad', true);
  END IF;

  n_found := coalesce(array_length(matched, 1), 0);
  IF n_found > lim THEN
    last_row := matched[lim];
  END IF;
  -- One access event per page, naming the customers it shows; an empty page shows no one.
  shown := ARRAY(SELECT matched[i].org_id FROM generate_subscripts(matched, 1) i WHERE i <= lim ORDER BY i);
  IF cardinality(shown) > 0 THEN
    PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'customer.search', NULL,
      jsonb_build_object('query', jsonb_strip_nulls(jsonb_build_object(
                           'q', nullif(btrim(p_q), ''), 'ownerMe', p_owner_me, 'renewalWithinDays', p_renewal_within_days,
                           'minChurnRisk', p_min_churn_risk, 'includeArchived', p_include_archived, 'sort', p_sort,
                           'afterId', p_after_id)),
                         'orgIds', to_jsonb(shown)), p_client_request_id);
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

-- Customer reads in batches: api.customer_read serves several reads (of any
-- callers) in one transaction, writes one access event per record it returns
-- in that same transaction, and commits synchronously. The API answers a read
-- only after that commit, so no record is ever shown without a durable access
-- event, and the database still enforces the logging: the API role has no way
-- to read a record that does not log it. A batch costs one transaction, one
-- round trip and one WAL flush for all its reads.
--
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
           x.r ->> 'appVersion' AS app_version, x.r ->> 'orgId' AS org_id,
           x.r ->> 'clientRequestId' AS client_request_id
      FROM jsonb_array_elements(p_reads) WITH ORDINALITY AS x(r, i)
  ), checked AS (
    SELECT req.*, c,
           CASE WHEN NOT core.actor_valid(req.sub, req.name, req.roles, req.scopes) THEN 'CF403'
                WHEN NOT (req.roles && ARRAY['crm', 'support_lead', 'admin']) THEN 'CF403'
                WHEN NOT core.context_valid(req.request_id, req.client_address, req.app_version) THEN 'CV422'
                WHEN c.org_id IS NULL THEN 'CN404' END AS code
      FROM req LEFT JOIN core.customers c ON c.org_id = req.org_id
  ), logged AS (
    INSERT INTO audit.access_events (actor_sub, actor_name, actor_roles, kind, entity_type, entity_id, request_id, client_address, app_version,
                                     client_request_id)
    SELECT sub, name, roles, 'customer.read', 'customer', org_id, request_id, client_address, app_version, client_request_id
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

CREATE FUNCTION api.customer_create(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_fields jsonb, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  cols jsonb;
  n core.customers;
  missing text;
BEGIN
  reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['crm'], 'create customers',
                              p_request_id, p_client_address, p_app_version, p_reason);
  cols := core.fields_to_columns(p_fields);
  SELECT f.field INTO missing FROM core.editable_fields() f WHERE NOT cols ? f.col OR cols -> f.col = 'null' LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'field % is required', missing USING ERRCODE = 'CV422';
  END IF;
  IF p_org_id IS NULL OR p_org_id !~ '^ORG-[0-9]{6,12}$' THEN
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
    reason, p_client_request_id);
  RETURN core.customer_detail(n);
END
$$;

-- One edit, with every check a single edit needs. Not in schema api: the API
-- edits through api.customer_update_many only, which runs this as the owner.
CREATE FUNCTION core.customer_update(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_changes jsonb, p_reason text, p_client_request_id text DEFAULT NULL,
  -- "Revert this change": the id of the event of this customer's history the edit undoes.
  p_revert_of bigint DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  cols jsonb;
  old core.customers;
  n core.customers;
  diff jsonb;
  old_json jsonb;
  new_json jsonb;
BEGIN
  reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['crm'], 'edit customers',
                              p_request_id, p_client_address, p_app_version, p_reason);
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
  -- A revert names an edit of this same customer (not its creation, not another record's event).
  IF p_revert_of IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM audit.events e
        WHERE e.id = p_revert_of AND e.entity_type = 'customer' AND e.entity_id = p_org_id AND e.action = 'customer.update') THEN
    RAISE EXCEPTION 'event % is not an edit of customer %', p_revert_of, p_org_id USING ERRCODE = 'CV422';
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
    -- Nothing changes, so no audit event; but the whole record is shown, so an access event.
    PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                              'customer.read', old.org_id, '{"via": "update"}', p_client_request_id);
    RETURN core.customer_detail(old);
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(diff) d WHERE d ->> 'field' = ANY (core.rule_fields())) THEN
    -- A field an approval rule names: the whole edit waits for a second person (change_requests.sql).
    RETURN jsonb_build_object('changeRequest', core.change_request_create(p_sub, p_name, p_roles, p_request_id, p_client_address,
                                                                          p_app_version, old, 'edit', diff, reason, p_client_request_id,
                                                                          p_revert_of));
  END IF;
  UPDATE core.customers SET
    org_name = n.org_name, contact_name = n.contact_name, contact_email = n.contact_email,
    contact_phone = n.contact_phone, user_count = n.user_count, contract_value_cents = n.contract_value_cents,
    currency = n.currency, renewal_date = n.renewal_date, version = old.version + 1, updated_at = now()
  WHERE org_id = old.org_id
  RETURNING * INTO n;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'customer.update', 'customer', n.org_id, diff, reason, p_client_request_id, p_revert_of);
  RETURN core.customer_detail(n);
END
$$;

-- Whether an edit passes every check core.customer_update makes before it locks
-- the row (the same predicates, in no particular order): a valid actor holding
-- the crm role, a valid request context, a reason of 3 to 500 characters, an
-- expected version, and a non-empty object of editable fields. No revert.
CREATE FUNCTION core.edit_prechecked(r jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, core, pg_temp AS $$
DECLARE
  roles text[] := core.jsonb_text_array(r -> 'roles');
BEGIN
  RETURN coalesce(core.actor_valid(r ->> 'sub', r ->> 'name', roles, core.jsonb_text_array(r -> 'scopes'))
    AND roles && ARRAY['crm']
    AND core.context_valid(r ->> 'requestId', r ->> 'clientAddress', r ->> 'appVersion')
    AND length(btrim(r ->> 'reason')) BETWEEN 3 AND 500
    AND r ->> 'expectedVersion' IS NOT NULL AND r ->> 'revertOf' IS NULL
    AND jsonb_typeof(r -> 'changes') = 'object' AND r -> 'changes' <> '{}'
    AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(r -> 'changes') k WHERE k NOT IN (SELECT f.field FROM core.editable_fields() f)),
    false);
END
$$;

-- Edits in batches: api.customer_update_many applies several edits (of any
-- callers) in one transaction. An edit that fails rolls back its own change
-- and event and nothing else; the others commit together, with one WAL flush,
-- before any of them is answered. Under load this saves each edit a
-- transaction, a round trip and a flush of its own.
--
-- Two paths, one outcome. First, set-based: the edits that pass the checks made
-- before the lock (core.edit_prechecked), name a customer no other edit of the
-- batch names, and find it theirs, active, at the expected version, changed
-- and touching no field an approval rule names, are applied in one statement
-- (the UPDATE, their audit events, their answers), inside one subtransaction.
-- Every other edit, and all of them if that statement raises (a value the
-- table refuses, the card-number guard), goes through core.customer_update
-- (the same checks, the same audit event) in a subtransaction of its own, as
-- every edit did before, and so meets the error it would alone. The set path
-- saves each edit its subtransaction and most of its statements and function
-- calls: in batches of 10, 0.79 ms of backend CPU an edit against 1.01 when each
-- took the second path (bench/README.md). Locks taken for an edit that then
-- fails a later check are held until the batch commits.
--
-- p_edits: a JSON array of {sub, name, roles, scopes, requestId, clientAddress,
-- appVersion, orgId, expectedVersion, changes, reason[, revertOf]}. Returns an array in the
-- same order: {"detail": <customer detail>} for an applied edit, {"changeRequest": ...}
-- for one that waits for approval, or
-- {"code": <SQLSTATE>, "message": ..., "constraint": ...} for one that failed.
CREATE FUNCTION api.customer_update_many(p_edits jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  e record;
  outcome jsonb;
  outcomes jsonb := '{}';
  rules text[];
  prechecked bigint[];
  err_state text;
  err_message text;
  err_constraint text;
BEGIN
  PERFORM core.begin_batch(p_edits);
  prechecked := ARRAY(SELECT x.i FROM jsonb_array_elements(p_edits) WITH ORDINALITY AS x(r, i) WHERE core.edit_prechecked(x.r));
  -- The rows of every edit that passes the checks before the lock, locked in one statement
  -- in organization id order, so two batches never wait on each other in a cycle.
  PERFORM 1 FROM core.customers c
   WHERE c.org_id = ANY (ARRAY(SELECT p_edits -> (i::integer - 1) ->> 'orgId' FROM unnest(prechecked) i))
   ORDER BY c.org_id FOR UPDATE;
  rules := core.rule_fields();
  BEGIN
    -- MATERIALIZED: each step once per edit (inlined, the planner repeated the diff three
    -- times), and each customer by its key (LIMIT 1: not a join the planner may hash).
    WITH req AS MATERIALIZED (
      SELECT q.i, q.r, core.fields_to_columns(q.r -> 'changes') AS cols
        FROM (SELECT x.i, x.r, count(*) OVER (PARTITION BY x.r ->> 'orgId') AS same_org
                FROM jsonb_array_elements(p_edits) WITH ORDINALITY AS x(r, i)) q
       WHERE q.same_org = 1 AND q.i = ANY (prechecked)
    ), cand AS MATERIALIZED (
      SELECT req.i, req.r, l.old, jsonb_populate_record(l.old, req.cols) AS n
        FROM req CROSS JOIN LATERAL (SELECT c FROM core.customers c WHERE c.org_id = req.r ->> 'orgId' LIMIT 1) l(old)
       WHERE (l.old).owner_sub = req.r ->> 'sub' AND (l.old).version = (req.r ->> 'expectedVersion')::integer
         AND (l.old).status = 'active'
    ), diffed AS MATERIALIZED (
      SELECT cand.i, cand.r, cand.n, (cand.old).version,
             (SELECT jsonb_agg(jsonb_build_object('field', f.field, 'before', j.old_json -> f.col, 'after', j.new_json -> f.col) ORDER BY o)
                FROM core.editable_fields() WITH ORDINALITY AS f(field, col, o)
               WHERE (j.old_json -> f.col) IS DISTINCT FROM (j.new_json -> f.col)) AS diff
        FROM cand CROSS JOIN LATERAL (SELECT to_jsonb(cand.old) AS old_json, to_jsonb(cand.n) AS new_json) j
    ), fast AS MATERIALIZED (
      SELECT d.* FROM diffed d
       WHERE d.diff IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(d.diff) x WHERE x ->> 'field' = ANY (rules))
    ), upd AS (
      UPDATE core.customers c SET
        org_name = (f.n).org_name, contact_name = (f.n).contact_name, contact_email = (f.n).contact_email,
        contact_phone = (f.n).contact_phone, user_count = (f.n).user_count, contract_value_cents = (f.n).contract_value_cents,
        currency = (f.n).currency, renewal_date = (f.n).renewal_date, version = f.version + 1, updated_at = now()
        FROM fast f
       WHERE c.org_id = f.r ->> 'orgId'
      RETURNING f.i, f.r, f.diff, core.customer_detail(c) AS detail
    ), logged AS (
      -- The events core.write_event would write, in the order the edits lock their rows.
      INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                                request_id, client_address, app_version, client_request_id)
      SELECT u.r ->> 'sub', u.r ->> 'name', core.jsonb_text_array(u.r -> 'roles'), 'customer.update', 'customer', u.r ->> 'orgId',
             u.diff, btrim(u.r ->> 'reason'), u.r ->> 'requestId', u.r ->> 'clientAddress', u.r ->> 'appVersion', u.r ->> 'clientRequestId'
        FROM upd u ORDER BY u.r ->> 'orgId', u.i
    )
    SELECT coalesce(jsonb_object_agg(u.i::text, jsonb_build_object('detail', u.detail)), '{}') INTO outcomes FROM upd u;
  EXCEPTION WHEN OTHERS THEN
    outcomes := '{}'; -- rolled back: every edit takes the path below and meets its own error there
  END;
  -- Edits of one customer keep their order of arrival.
  FOR e IN SELECT x.i, x.r FROM jsonb_array_elements(p_edits) WITH ORDINALITY AS x(r, i) ORDER BY x.r ->> 'orgId', x.i LOOP
    CONTINUE WHEN outcomes ? e.i::text;
    BEGIN
      outcome := core.customer_update(
        e.r ->> 'sub', e.r ->> 'name', core.jsonb_text_array(e.r -> 'roles'), core.jsonb_text_array(e.r -> 'scopes'),
        e.r ->> 'requestId', e.r ->> 'clientAddress', e.r ->> 'appVersion',
        e.r ->> 'orgId', (e.r ->> 'expectedVersion')::integer, e.r -> 'changes', e.r ->> 'reason', e.r ->> 'clientRequestId',
        (e.r ->> 'revertOf')::bigint);
      -- {"changeRequest": ...} when the edit waits for approval, else the new record.
      IF NOT outcome ? 'changeRequest' THEN outcome := jsonb_build_object('detail', outcome); END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT, err_constraint = CONSTRAINT_NAME;
      outcome := jsonb_build_object('code', err_state, 'message', err_message, 'constraint', nullif(err_constraint, ''));
    END;
    outcomes := outcomes || jsonb_build_object(e.i::text, outcome);
  END LOOP;
  RETURN (SELECT jsonb_agg(outcomes -> i::text ORDER BY i) FROM generate_series(1, jsonb_array_length(p_edits)) i);
END
$$;

-- Archive (p_action 'archive') or un-archive ('unarchive'): a CRM a customer they
-- own, a support lead any. While an approval rule names the action it becomes a
-- change request (change_requests.sql), returned as {"changeRequest": ...};
-- otherwise it applies at once. Not in schema api: see the two functions below.
CREATE FUNCTION core.customer_set_status(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_reason text, p_client_request_id text, p_action text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  old core.customers;
  n core.customers;
  target text := CASE p_action WHEN 'archive' THEN 'archived' ELSE 'active' END;
  diff jsonb;
BEGIN
  reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead'], p_action || ' customers',
                              p_request_id, p_client_address, p_app_version, p_reason);
  old := core.lock_customer(p_org_id);
  IF NOT ('support_lead' = ANY (p_roles)) AND old.owner_sub <> p_sub THEN
    RAISE EXCEPTION 'customer % is assigned to another relationship manager', p_org_id USING ERRCODE = 'CF403';
  END IF;
  PERFORM core.check_version(old, p_expected_version);
  IF old.status = target THEN
    -- Nothing changes, so no audit event; the record is shown, so an access event.
    PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                              'customer.read', old.org_id, jsonb_build_object('via', p_action), p_client_request_id);
    RETURN core.customer_detail(old);
  END IF;
  diff := jsonb_build_array(jsonb_build_object('field', 'status', 'before', old.status, 'after', target));
  IF core.action_needs_approval(p_action) THEN
    RETURN jsonb_build_object('changeRequest', core.change_request_create(p_sub, p_name, p_roles, p_request_id, p_client_address,
                                                                          p_app_version, old, p_action, diff, reason, p_client_request_id));
  END IF;
  UPDATE core.customers SET status = target, version = old.version + 1, updated_at = now()
   WHERE org_id = old.org_id RETURNING * INTO n;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'customer.' || p_action, 'customer', n.org_id, diff, reason, p_client_request_id);
  RETURN core.customer_detail(n);
END
$$;

CREATE FUNCTION api.customer_archive(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  RETURN core.customer_set_status(p_sub, p_name, p_roles, p_scopes, p_request_id, p_client_address, p_app_version,
                                  p_org_id, p_expected_version, p_reason, p_client_request_id, 'archive');
END
$$;

CREATE FUNCTION api.customer_unarchive(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  RETURN core.customer_set_status(p_sub, p_name, p_roles, p_scopes, p_request_id, p_client_address, p_app_version,
                                  p_org_id, p_expected_version, p_reason, p_client_request_id, 'unarchive');
END
$$;

CREATE FUNCTION api.customer_usage(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_from date, p_to date, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead', 'admin'], 'read usage');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF p_from IS NULL OR p_to IS NULL OR p_to < p_from OR p_to - p_from > 3660 THEN
    RAISE EXCEPTION 'a usage range of at most ten years is required' USING ERRCODE = 'CV422';
  END IF;
  PERFORM core.require_customer(p_org_id);
  PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'customer.usage', p_org_id,
                            jsonb_build_object('from', to_char(p_from, 'YYYY-MM-DD'), 'to', to_char(p_to, 'YYYY-MM-DD')), p_client_request_id);
  RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('day', to_char(u.day, 'YYYY-MM-DD'), 'activeUsers', u.active_users,
                                                       'sessions', u.sessions, 'featureEvents', u.feature_events) ORDER BY u.day)
                     FROM core.usage_daily u WHERE u.org_id = p_org_id AND u.day BETWEEN p_from AND p_to), '[]');
END
$$;

-- A CRM's portfolio in numbers: their active customers, how many of those are
-- at high churn risk, and how many renew from today through p_renewal_days
-- ahead (the database's current date). The thresholds come from the caller
-- (HIGH_CHURN_RISK and RENEWAL_SOON_DAYS in shared/api.ts) so the console and
-- the database cannot disagree about them. Counts name no customer and carry no
-- personal or contract data, so unlike a list page this writes no access event.
-- Counted from customers_by_owner (owner_sub first), the index the portfolio's
-- list walks too.
CREATE FUNCTION api.portfolio_summary(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_high_churn_risk double precision, p_renewal_days integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  today date := current_date;
  n record;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm'], 'read a portfolio');
  IF p_high_churn_risk IS NULL OR p_high_churn_risk NOT BETWEEN 0 AND 1
     OR p_renewal_days IS NULL OR p_renewal_days NOT BETWEEN 0 AND 3650 THEN
    RAISE EXCEPTION 'invalid portfolio thresholds' USING ERRCODE = 'CV422';
  END IF;
  SELECT count(*) AS customers,
         count(*) FILTER (WHERE c.latest_churn_risk >= p_high_churn_risk) AS high_churn_risk,
         count(*) FILTER (WHERE c.renewal_date BETWEEN today AND today + p_renewal_days) AS renewing_soon
    INTO n
    FROM core.customers c
   WHERE c.owner_sub = p_sub AND c.status = 'active';
  RETURN jsonb_build_object('customers', n.customers, 'highChurnRisk', n.high_churn_risk,
                            'renewingSoon', n.renewing_soon, 'asOf', to_char(today, 'YYYY-MM-DD'));
END
$$;
