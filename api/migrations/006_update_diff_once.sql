-- api.customer_update computed to_jsonb() of the old and the new row once per
-- editable field and comparison (about twenty row conversions per edit); it now
-- converts each row once. Same checks, same audit event in the same
-- transaction; CREATE OR REPLACE keeps the owner and the EXECUTE grant.
SET LOCAL ROLE cims_owner;

CREATE OR REPLACE FUNCTION api.customer_update(
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
