-- Four eyes: approval rules, change requests and their steps.
--
-- An edit that touches a field an approval rule names, and an archive or
-- un-archive while a rule names that action, becomes ONE change request holding
-- the whole change; the customer stays as it was (core.customer_update and
-- api.customer_archive / api.customer_unarchive in customers.sql call
-- core.change_request_create). A support lead who is not the maker approves or
-- rejects it; approval applies the change in its own transaction only if the
-- customer is still at the version the request was based on, else the request
-- becomes stale and nothing is applied. The checks live here, and the row's own
-- constraints (migration 008) hold whatever a function does: checker <> maker,
-- one pending request per customer.
--
-- Every step is one audit event through core.write_event, with detail naming
-- the request: change.requested, change.rejected, change.withdrawn,
-- change.expired, change.stale; an approval is the applied change's own event
-- (customer.update / customer.archive / customer.unarchive) whose detail names
-- the request, its maker and its checker.

-- The fields that need a second person, in the order the console lists fields.
CREATE FUNCTION core.rule_fields() RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN ARRAY(SELECT f.field FROM core.editable_fields() WITH ORDINALITY AS f(field, col, o)
                JOIN core.approval_rules r ON r.kind = 'field' AND r.name = f.field ORDER BY f.o);
END
$$;

CREATE FUNCTION core.action_needs_approval(p_action text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM core.approval_rules r WHERE r.kind = 'action' AND r.name = p_action);
END
$$;

CREATE FUNCTION core.change_request_json(r core.change_requests) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', r.id::text, 'orgId', r.org_id,
    'orgName', (SELECT c.org_name FROM core.customers c WHERE c.org_id = r.org_id),
    'kind', r.kind, 'baseVersion', r.base_version, 'changes', r.changes, 'reason', r.reason,
    'maker', jsonb_build_object('sub', r.maker_sub, 'name', r.maker_name),
    'createdAt', core.iso(r.created_at), 'expiresAt', core.iso(r.expires_at), 'status', r.status,
    'checker', CASE WHEN r.checker_sub IS NULL THEN NULL ELSE jsonb_build_object('sub', r.checker_sub, 'name', r.checker_name) END,
    'checkerReason', r.checker_reason, 'decidedAt', core.iso(r.decided_at), 'version', r.version)
    -- Only a request that reverts an event carries revertOf.
    || CASE WHEN r.revert_of IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('revertOf', r.revert_of::text) END;
END
$$;

-- The detail every step's event carries.
CREATE FUNCTION core.change_request_detail(r core.change_requests) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object('changeRequestId', r.id::text, 'kind', r.kind, 'baseVersion', r.base_version,
                            'maker', jsonb_build_object('sub', r.maker_sub, 'name', r.maker_name));
END
$$;

-- Marks pending requests past their expiry as expired, one change.expired event each,
-- recorded under the request that found them (a request no one looks at expires
-- when it is next looked at: nothing acts on it before then). At most 100 a call.
CREATE FUNCTION core.change_requests_expire(
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_id bigint, p_client_request_id text
) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  r core.change_requests;
BEGIN
  FOR r IN SELECT * FROM core.change_requests
            WHERE status = 'pending' AND expires_at <= now()
              AND (p_org_id IS NULL OR org_id = p_org_id) AND (p_id IS NULL OR id = p_id)
            ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED LOOP
    UPDATE core.change_requests SET status = 'expired', decided_at = now(), version = r.version + 1
     WHERE id = r.id RETURNING * INTO r;
    PERFORM core.write_event('cims:expiry', 'Request expiry', '{}', p_request_id, p_client_address, p_app_version,
      'change.expired', 'customer', r.org_id, '[]', NULL, p_client_request_id, NULL, core.change_request_detail(r));
  END LOOP;
END
$$;

-- A new request for customer c (locked by the caller, at the version the maker saw).
CREATE FUNCTION core.change_request_create(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  c core.customers, p_kind text, p_changes jsonb, p_reason text, p_client_request_id text,
  -- The event an edit reverts, checked by the caller (core.customer_update).
  p_revert_of bigint DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  r core.change_requests;
  waiting bigint;
BEGIN
  PERFORM core.change_requests_expire(p_request_id, p_client_address, p_app_version, c.org_id, NULL, p_client_request_id);
  SELECT id INTO waiting FROM core.change_requests WHERE org_id = c.org_id AND status = 'pending';
  IF waiting IS NOT NULL THEN
    RAISE EXCEPTION 'customer % has a change waiting for approval (request #%): withdraw it or wait for its decision', c.org_id, waiting
      USING ERRCODE = 'CD409';
  END IF;
  INSERT INTO core.change_requests (org_id, kind, base_version, changes, reason, maker_sub, maker_name, maker_roles, expires_at, revert_of)
  VALUES (c.org_id, p_kind, c.version, p_changes, p_reason, p_sub, p_name, p_roles,
          now() + make_interval(days => (SELECT s.request_expiry_days FROM core.approval_settings s)), p_revert_of)
  RETURNING * INTO r;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'change.requested', 'customer', c.org_id, p_changes, p_reason, p_client_request_id, NULL, core.change_request_detail(r));
  RETURN core.change_request_json(r);
END
$$;

-- Who may see a request: support leads all; anyone else the ones they made or on customers they own.
CREATE FUNCTION core.change_request_visible(r core.change_requests, p_sub text, p_roles text[]) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN 'support_lead' = ANY (p_roles) OR r.maker_sub = p_sub
      OR EXISTS (SELECT 1 FROM core.customers c WHERE c.org_id = r.org_id AND c.owner_sub = p_sub);
END
$$;

-- Locks a request, with the checks every step starts with: found (CN404), seen by the caller (CF403).
CREATE FUNCTION core.lock_change_request(p_id bigint, p_sub text, p_roles text[]) RETURNS core.change_requests
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, core, pg_temp AS $$
DECLARE
  r core.change_requests;
BEGIN
  SELECT * INTO r FROM core.change_requests WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'change request % not found', p_id USING ERRCODE = 'CN404';
  END IF;
  IF NOT core.change_request_visible(r, p_sub, p_roles) THEN
    RAISE EXCEPTION 'change request % concerns a customer assigned to another relationship manager', p_id USING ERRCODE = 'CF403';
  END IF;
  RETURN r;
END
$$;

-- After the expiry check: the request must still wait for a decision (CD409 otherwise).
CREATE FUNCTION core.require_pending(r core.change_requests) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF r.status <> 'pending' THEN
    RAISE EXCEPTION 'change request % is % already', r.id, r.status USING ERRCODE = 'CD409';
  END IF;
END
$$;

CREATE FUNCTION core.check_request_version(r core.change_requests, p_expected_version integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_expected_version IS NULL OR r.version <> p_expected_version THEN
    RAISE EXCEPTION 'change request % has changed (version % is current, % was expected)', r.id, r.version, p_expected_version
      USING ERRCODE = 'CC409';
  END IF;
END
$$;

-- The prologue of a decision: a support lead (whatever else they hold) who is not the maker.
CREATE FUNCTION core.check_checker(r core.change_requests, p_sub text, p_roles text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT ('support_lead' = ANY (p_roles)) THEN
    RAISE EXCEPTION 'only a support lead approves or rejects a change request' USING ERRCODE = 'CF403';
  END IF;
  IF r.maker_sub = p_sub THEN
    RAISE EXCEPTION 'a change request is approved or rejected by someone other than its maker' USING ERRCODE = 'CF403';
  END IF;
END
$$;

CREATE FUNCTION api.approval_rules(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead', 'admin'], 'read approval rules');
  RETURN jsonb_build_object(
    'fields', to_jsonb(core.rule_fields()),
    'actions', to_jsonb(ARRAY(SELECT r.name FROM core.approval_rules r WHERE r.kind = 'action' ORDER BY r.name)),
    'requestExpiryDays', (SELECT s.request_expiry_days FROM core.approval_settings s));
END
$$;

-- A page of requests, newest first (p_before_id: the last id seen); one change.list access event per non-empty page.
CREATE FUNCTION api.change_requests(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_status text, p_org_id text, p_before_id bigint, p_limit integer, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  lim integer := coalesce(p_limit, 50);
  page core.change_requests[];
  all_visible boolean := 'support_lead' = ANY (p_roles);
  shown text[];
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead'], 'read change requests');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF lim NOT BETWEEN 1 AND 200 OR (p_status IS NOT NULL AND p_status NOT IN ('pending', 'approved', 'rejected', 'withdrawn', 'expired', 'stale'))
     OR (p_org_id IS NOT NULL AND p_org_id !~ '^ORG-[0-9]{6,12}$') THEN
    RAISE EXCEPTION 'invalid change request query' USING ERRCODE = 'CV422';
  END IF;
  PERFORM core.change_requests_expire(p_request_id, p_client_address, p_app_version, p_org_id, NULL, p_client_request_id);
  page := ARRAY(
    SELECT r FROM core.change_requests r
     WHERE (p_status IS NULL OR r.status = p_status) AND (p_org_id IS NULL OR r.org_id = p_org_id)
       AND (p_before_id IS NULL OR r.id < p_before_id)
       AND (all_visible OR r.maker_sub = p_sub
            OR r.org_id IN (SELECT c.org_id FROM core.customers c WHERE c.owner_sub = p_sub))
     ORDER BY r.id DESC LIMIT lim + 1);
  shown := ARRAY(SELECT DISTINCT page[i].org_id FROM generate_subscripts(page, 1) i WHERE i <= lim ORDER BY 1);
  IF cardinality(shown) > 0 THEN
    PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'change.list', NULL,
      jsonb_build_object('query', jsonb_strip_nulls(jsonb_build_object('status', p_status, 'orgId', p_org_id,
                                                                        'beforeId', p_before_id::text)),
                         'orgIds', to_jsonb(shown)), p_client_request_id);
  END IF;
  RETURN jsonb_build_object(
    'items', coalesce((SELECT jsonb_agg(core.change_request_json(page[i]) ORDER BY i) FROM generate_subscripts(page, 1) i WHERE i <= lim), '[]'),
    'next', CASE WHEN coalesce(array_length(page, 1), 0) > lim THEN page[lim].id::text END);
END
$$;

CREATE FUNCTION api.change_request_get(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_id bigint, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  r core.change_requests;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead'], 'read change requests');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  PERFORM core.change_requests_expire(p_request_id, p_client_address, p_app_version, NULL, p_id, p_client_request_id);
  SELECT * INTO r FROM core.change_requests WHERE id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'change request % not found', p_id USING ERRCODE = 'CN404';
  END IF;
  IF NOT core.change_request_visible(r, p_sub, p_roles) THEN
    RAISE EXCEPTION 'change request % concerns a customer assigned to another relationship manager', p_id USING ERRCODE = 'CF403';
  END IF;
  PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'change.read', r.org_id,
                            jsonb_build_object('changeRequestId', r.id::text), p_client_request_id);
  RETURN core.change_request_json(r);
END
$$;

-- Approve: applies the whole change if the customer is still at the base version
-- (one event, the change's own, naming maker, checker and request); otherwise the
-- request becomes stale (one change.stale event) and nothing is applied. Both commit.
CREATE FUNCTION api.change_request_approve(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_id bigint, p_expected_version integer, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  v_reason text;
  r core.change_requests;
  c core.customers;
  n core.customers;
  action text;
BEGIN
  v_reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'approve change requests',
                              p_request_id, p_client_address, p_app_version, p_reason);
  r := core.lock_change_request(p_id, p_sub, p_roles);
  PERFORM core.check_checker(r, p_sub, p_roles);
  PERFORM core.check_request_version(r, p_expected_version);
  PERFORM core.change_requests_expire(p_request_id, p_client_address, p_app_version, NULL, r.id, p_client_request_id);
  SELECT * INTO r FROM core.change_requests WHERE id = r.id;
  PERFORM core.require_pending(r);
  c := core.lock_customer(r.org_id);

  IF c.version <> r.base_version THEN
    UPDATE core.change_requests SET status = 'stale', decided_at = now(), version = r.version + 1
     WHERE id = r.id RETURNING * INTO r;
    PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
      'change.stale', 'customer', r.org_id, '[]', v_reason, p_client_request_id, NULL,
      core.change_request_detail(r) || jsonb_build_object('currentVersion', c.version));
    RETURN core.change_request_json(r);
  END IF;

  IF r.kind = 'edit' THEN
    n := jsonb_populate_record(c, core.fields_to_columns(
           (SELECT jsonb_object_agg(x ->> 'field', x -> 'after') FROM jsonb_array_elements(r.changes) x)));
    UPDATE core.customers SET
      org_name = n.org_name, contact_name = n.contact_name, contact_email = n.contact_email,
      contact_phone = n.contact_phone, user_count = n.user_count, contract_value_cents = n.contract_value_cents,
      currency = n.currency, renewal_date = n.renewal_date, version = c.version + 1, updated_at = now()
    WHERE org_id = c.org_id;
    action := 'customer.update';
  ELSE
    UPDATE core.customers SET status = CASE r.kind WHEN 'archive' THEN 'archived' ELSE 'active' END,
                              version = c.version + 1, updated_at = now()
     WHERE org_id = c.org_id;
    action := 'customer.' || r.kind;
  END IF;
  UPDATE core.change_requests SET status = 'approved', checker_sub = p_sub, checker_name = p_name, checker_reason = v_reason,
                                  decided_at = now(), version = r.version + 1
   WHERE id = r.id RETURNING * INTO r;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    action, 'customer', r.org_id, r.changes, r.reason, p_client_request_id, r.revert_of,
    core.change_request_detail(r) || jsonb_build_object('checker', jsonb_build_object('sub', p_sub, 'name', p_name),
                                                        'checkerReason', v_reason));
  RETURN core.change_request_json(r);
END
$$;

CREATE FUNCTION api.change_request_reject(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_id bigint, p_expected_version integer, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  v_reason text;
  r core.change_requests;
BEGIN
  v_reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'reject change requests',
                              p_request_id, p_client_address, p_app_version, p_reason);
  r := core.lock_change_request(p_id, p_sub, p_roles);
  PERFORM core.check_checker(r, p_sub, p_roles);
  PERFORM core.check_request_version(r, p_expected_version);
  PERFORM core.change_requests_expire(p_request_id, p_client_address, p_app_version, NULL, r.id, p_client_request_id);
  SELECT * INTO r FROM core.change_requests WHERE id = r.id;
  PERFORM core.require_pending(r);
  UPDATE core.change_requests SET status = 'rejected', checker_sub = p_sub, checker_name = p_name, checker_reason = v_reason,
                                  decided_at = now(), version = r.version + 1
   WHERE id = r.id RETURNING * INTO r;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'change.rejected', 'customer', r.org_id, '[]', v_reason, p_client_request_id, NULL,
    core.change_request_detail(r) || jsonb_build_object('checker', jsonb_build_object('sub', p_sub, 'name', p_name)));
  RETURN core.change_request_json(r);
END
$$;

-- The maker takes their own pending request back.
CREATE FUNCTION api.change_request_withdraw(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_id bigint, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  v_reason text;
  r core.change_requests;
BEGIN
  v_reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead'], 'withdraw change requests',
                              p_request_id, p_client_address, p_app_version, p_reason);
  r := core.lock_change_request(p_id, p_sub, p_roles);
  IF r.maker_sub <> p_sub THEN
    RAISE EXCEPTION 'only the maker withdraws a change request' USING ERRCODE = 'CF403';
  END IF;
  PERFORM core.change_requests_expire(p_request_id, p_client_address, p_app_version, NULL, r.id, p_client_request_id);
  SELECT * INTO r FROM core.change_requests WHERE id = r.id;
  PERFORM core.require_pending(r);
  UPDATE core.change_requests SET status = 'withdrawn', decided_at = now(), version = r.version + 1
   WHERE id = r.id RETURNING * INTO r;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'change.withdrawn', 'customer', r.org_id, '[]', v_reason, p_client_request_id, NULL, core.change_request_detail(r));
  RETURN core.change_request_json(r);
END
$$;
