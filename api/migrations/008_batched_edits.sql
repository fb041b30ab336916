-- Edits in batches: api.customer_update_many applies several edits (of any
-- callers) in one transaction, each through api.customer_update (the same
-- checks, the same audit event) inside a subtransaction of its own. An edit
-- that fails rolls back its own change and event and nothing else; the others
-- commit together, with one WAL flush, before any of them is answered. Under
-- load this saves each edit a transaction, a round trip and a flush of its own.
SET LOCAL ROLE cims_owner;

-- p_edits: a JSON array of {sub, name, roles, scopes, requestId, clientAddress,
-- appVersion, orgId, expectedVersion, changes, reason}. Returns an array in the
-- same order: {"detail": <customer detail>} for an applied edit, or
-- {"code": <SQLSTATE>, "message": ..., "constraint": ...} for one that failed.
CREATE FUNCTION api.customer_update_many(p_edits jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  e record;
  outcome jsonb;
  outcomes jsonb := '{}';
  err_state text;
  err_message text;
  err_constraint text;
BEGIN
  PERFORM core.begin_batch(p_edits);
  -- Rows are locked in organization id order, so two batches never wait on each other in a
  -- cycle; edits of one customer keep their order of arrival.
  FOR e IN SELECT x.i, x.r FROM jsonb_array_elements(p_edits) WITH ORDINALITY AS x(r, i) ORDER BY x.r ->> 'orgId', x.i LOOP
    BEGIN
      outcome := jsonb_build_object('detail', api.customer_update(
        e.r ->> 'sub', e.r ->> 'name', core.jsonb_text_array(e.r -> 'roles'), core.jsonb_text_array(e.r -> 'scopes'),
        e.r ->> 'requestId', e.r ->> 'clientAddress', e.r ->> 'appVersion',
        e.r ->> 'orgId', (e.r ->> 'expectedVersion')::integer, e.r -> 'changes', e.r ->> 'reason'));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT, err_constraint = CONSTRAINT_NAME;
      outcome := jsonb_build_object('code', err_state, 'message', err_message, 'constraint', nullif(err_constraint, ''));
    END;
    outcomes := outcomes || jsonb_build_object(e.i::text, outcome);
  END LOOP;
  RETURN (SELECT jsonb_agg(outcomes -> i::text ORDER BY i) FROM generate_series(1, jsonb_array_length(p_edits)) i);
END
$$;

REVOKE ALL ON FUNCTION api.customer_update_many(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.customer_update_many(jsonb) TO cims_api;
-- The API edits through batches only.
REVOKE EXECUTE ON FUNCTION api.customer_update(text, text, text[], text[], text, text, text, text, integer, jsonb, text) FROM cims_api;
