-- Model scores: reading a customer's history of scores, and ingestion by the
-- model runner (a service account, authorized by scope rather than role).

CREATE FUNCTION core.prediction_json(p core.predictions) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'orgId', p.org_id, 'kind', p.kind, 'modelName', p.model_name, 'modelVersion', p.model_version,
    'score', p.score, 'topFactors', p.top_factors, 'scoredAt', core.iso(p.scored_at));
END
$$;

CREATE FUNCTION api.customer_predictions(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm', 'support_lead', 'admin'], 'read predictions');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  PERFORM core.require_customer(p_org_id);
  PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                            'customer.predictions', p_org_id, NULL, p_client_request_id);
  RETURN coalesce((SELECT jsonb_agg(core.prediction_json(p) ORDER BY p.scored_at DESC, p.id DESC)
                     FROM (SELECT * FROM core.predictions WHERE org_id = p_org_id ORDER BY scored_at DESC, id DESC LIMIT 500) p), '[]');
END
$$;

-- A batch of scores; the ones already known (same organization, model, version,
-- kind and time) are counted as duplicates. One audit event per batch that
-- added anything; the customers' latest churn risk follows the newest score.
CREATE FUNCTION api.predictions_ingest(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_predictions jsonb, p_client_request_id text DEFAULT NULL
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
      NULL, p_client_request_id);
  END IF;
  RETURN jsonb_build_object('accepted', accepted, 'duplicates', total - accepted);
END
$$;

-- A CRM's "looks wrong" on one of a customer's predictions (named by its kind,
-- model, version and time, as the console shows it), with a reason. Kept with
-- what the model said, shown to analysts without the CRM's identity
-- (analytics.prediction_feedback), and audited in the same transaction.
CREATE FUNCTION api.prediction_feedback(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_feedback jsonb, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  pred core.predictions;
  v_reason text;
  f core.prediction_feedback;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['crm'], 'give feedback on predictions');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF p_feedback IS NULL OR jsonb_typeof(p_feedback) <> 'object' OR p_feedback->>'verdict' IS DISTINCT FROM 'looks_wrong' THEN
    RAISE EXCEPTION 'feedback needs the verdict looks_wrong' USING ERRCODE = 'CV422';
  END IF;
  v_reason := btrim(p_feedback->>'reason');
  IF v_reason IS NULL OR length(v_reason) NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION 'a reason of 1 to 500 characters is required' USING ERRCODE = 'CV422';
  END IF;
  PERFORM core.require_customer(p_org_id);
  SELECT * INTO pred FROM core.predictions
   WHERE org_id = p_org_id AND kind = p_feedback->>'kind' AND model_name = p_feedback->>'modelName'
     AND model_version = p_feedback->>'modelVersion' AND scored_at = (p_feedback->>'scoredAt')::timestamptz;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such prediction for %', p_org_id USING ERRCODE = 'CN404';
  END IF;

  INSERT INTO core.prediction_feedback (prediction_id, org_id, model_name, model_version, kind, score, verdict, reason, actor_sub, actor_name)
  VALUES (pred.id, pred.org_id, pred.model_name, pred.model_version, pred.kind, pred.score, 'looks_wrong', v_reason, p_sub, p_name)
  RETURNING * INTO f;
  PERFORM core.write_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
    'prediction.feedback', 'customer', p_org_id,
    jsonb_build_array(jsonb_build_object('field', 'prediction', 'before', NULL, 'after', pred.kind || ' ' || pred.model_name || '@' || pred.model_version),
                      jsonb_build_object('field', 'verdict', 'before', NULL, 'after', 'looks_wrong')),
    v_reason, p_client_request_id);
  RETURN jsonb_build_object('id', f.id::text, 'orgId', f.org_id, 'kind', f.kind, 'modelName', f.model_name,
                            'modelVersion', f.model_version, 'verdict', f.verdict, 'reason', f.reason, 'createdAt', core.iso(f.created_at));
END
$$;
