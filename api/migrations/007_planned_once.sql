-- The helpers every request calls, in PL/pgSQL instead of SQL. A LANGUAGE sql
-- function that PostgreSQL cannot inline (none of ours can: each has a fixed
-- search_path) has its body parsed and planned again in every transaction that
-- calls it; PL/pgSQL keeps its plans for the connection's lifetime. Measured on
-- an audited edit (pg_stat_user_functions, one client): customer_json 163 µs,
-- write_event 84 µs, three calls of editable_fields 17 µs, mostly planning.
-- Same signatures, same rules, same results.
SET LOCAL ROLE cims_owner;

CREATE OR REPLACE FUNCTION core.iso(t timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END
$$;

CREATE OR REPLACE FUNCTION core.editable_fields() RETURNS TABLE (field text, col text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN QUERY VALUES ('orgName', 'org_name'), ('contactName', 'contact_name'), ('contactEmail', 'contact_email'),
                      ('contactPhone', 'contact_phone'), ('userCount', 'user_count'),
                      ('contractValueCents', 'contract_value_cents'), ('currency', 'currency'), ('renewalDate', 'renewal_date');
END
$$;

CREATE OR REPLACE FUNCTION core.customer_json(c core.customers) RETURNS jsonb
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

CREATE OR REPLACE FUNCTION core.prediction_json(p core.predictions) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'orgId', p.org_id, 'kind', p.kind, 'modelName', p.model_name, 'modelVersion', p.model_version,
    'score', p.score, 'topFactors', p.top_factors, 'scoredAt', core.iso(p.scored_at));
END
$$;

CREATE OR REPLACE FUNCTION core.write_event(
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

CREATE OR REPLACE FUNCTION core.event_json(e audit.events, c audit.chain) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', e.id::text, 'occurredAt', core.iso(e.occurred_at), 'actorSub', e.actor_sub, 'actorName', e.actor_name,
    'actorRoles', to_jsonb(e.actor_roles), 'action', e.action, 'entityType', e.entity_type, 'entityId', e.entity_id,
    'changes', e.changes, 'reason', e.reason, 'requestId', e.request_id, 'clientAddress', e.client_address,
    'appVersion', e.app_version, 'prevHash', c.prev_hash, 'hash', c.hash);
END
$$;

CREATE OR REPLACE FUNCTION core.list_item(c core.customers) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'orgId', c.org_id, 'orgName', c.org_name, 'contactName', c.contact_name, 'contactEmail', c.contact_email,
    'contactPhone', c.contact_phone, 'renewalDate', to_char(c.renewal_date, 'YYYY-MM-DD'),
    'contractValueCents', c.contract_value_cents, 'currency', c.currency, 'ownerSub', c.owner_sub,
    'ownerName', c.owner_name, 'status', c.status, 'churnRisk', c.latest_churn_risk);
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA core FROM PUBLIC;
