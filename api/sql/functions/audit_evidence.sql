-- The evidence bundle for auditors (GET /v1/audit/evidence, shared/evidence.ts):
-- which part of the trail it holds, and its checkpoints page by page. Links and
-- access rows are read through api.audit_verify_links / api.audit_verify_access,
-- like a verification; the API computes every hash itself.

-- The start of a bundle for the events that occurred in [p_from, p_to] (either
-- end open when null): the segment from the last checkpoint before the range's
-- first sealed event (the anchor, null at the start of the trail) to the first
-- checkpoint at or after its last one, so every event of the range sits between
-- two signatures. Only links the newest checkpoint covers count (the API has
-- just checkpointed). Writes the export's access event with its filter and
-- counts before the first byte is sent, in this transaction (flushed on commit).
-- Returns {anchor, chainFrom, chainTo, checkpointTo, events, checkpoints, accessEvents}.
CREATE FUNCTION api.audit_evidence(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_from timestamptz, p_to timestamptz, p_client_request_id text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  newest audit.checkpoints;
  anchor audit.checkpoints;
  finish audit.checkpoints;
  first_seq bigint;
  last_seq bigint;
  chain_from bigint;
  chain_to bigint;
  n_events bigint;
  n_checkpoints bigint;
  n_access bigint;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'export audit evidence');
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  SELECT * INTO newest FROM audit.checkpoints k ORDER BY k.seq DESC LIMIT 1;
  IF newest.seq IS NOT NULL THEN
    SELECT min(c.seq), max(c.seq) INTO first_seq, last_seq
      FROM audit.events e JOIN audit.chain c ON c.event_id = e.id
     WHERE (p_from IS NULL OR e.occurred_at >= p_from) AND (p_to IS NULL OR e.occurred_at <= p_to)
       AND c.seq <= (newest.body ->> 'chainSeq')::bigint;
  END IF;
  IF first_seq IS NULL THEN
    -- No sealed event in the range: the newest checkpoint alone, so the file still says what was signed.
    anchor := newest;
    finish := newest;
  ELSE
    SELECT * INTO anchor FROM audit.checkpoints k WHERE (k.body ->> 'chainSeq')::bigint < first_seq ORDER BY k.seq DESC LIMIT 1;
    SELECT * INTO finish FROM audit.checkpoints k WHERE (k.body ->> 'chainSeq')::bigint >= last_seq ORDER BY k.seq LIMIT 1;
  END IF;
  chain_from := coalesce((anchor.body ->> 'chainSeq')::bigint, 0) + 1;
  chain_to := coalesce((finish.body ->> 'chainSeq')::bigint, 0);
  SELECT count(*) INTO n_events FROM audit.chain c WHERE c.seq BETWEEN chain_from AND chain_to;
  n_checkpoints := coalesce(finish.seq, 0) - coalesce(anchor.seq, 0);
  n_access := coalesce((finish.body ->> 'accessCount')::bigint, 0) - coalesce((anchor.body ->> 'accessCount')::bigint, 0);
  PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, 'audit.evidence', NULL,
    jsonb_build_object('filter', jsonb_strip_nulls(jsonb_build_object('from', core.iso(p_from), 'to', core.iso(p_to))),
                       'events', n_events, 'checkpoints', n_checkpoints, 'accessEvents', n_access,
                       'chainFrom', chain_from, 'chainTo', chain_to),
    p_client_request_id);
  RETURN jsonb_build_object(
    'anchor', CASE WHEN anchor.seq IS NOT NULL THEN jsonb_build_object('checkpoint', anchor.body, 'signature', anchor.signature) END,
    'chainFrom', chain_from, 'chainTo', chain_to, 'checkpointTo', coalesce(finish.seq, 0),
    'events', n_events, 'checkpoints', n_checkpoints, 'accessEvents', n_access);
END
$$;

-- A page of stored checkpoints after p_after_seq up to p_to_seq, ascending, with the access events each covers.
CREATE FUNCTION api.audit_evidence_checkpoints(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_after_seq bigint, p_to_seq bigint, p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['support_lead'], 'export audit evidence');
  RETURN coalesce((
    SELECT jsonb_agg(core.checkpoint_json(k) ORDER BY k.seq)
      FROM (SELECT * FROM audit.checkpoints c WHERE c.seq > p_after_seq AND c.seq <= p_to_seq ORDER BY c.seq LIMIT p_limit) k), '[]');
END
$$;
