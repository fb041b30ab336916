-- Staff: the directory of people the API has seen, and assignments (admins
-- move customers from one CRM to another).

-- Sightings in batches: the API notes each person at most once every few
-- minutes per process (api/src/staff-seen.ts) and sends what it noted in one
-- call. p_staff: a JSON array of {sub, name, roles}; roles outside CIMS's are
-- dropped, and a person with none of CIMS's roles is not staff. The first
-- sighting sets first_seen_at; later ones move last_seen_at, name and roles.
-- Returns how many people were recorded.
CREATE FUNCTION api.staff_seen(p_staff jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  IF p_staff IS NULL OR jsonb_typeof(p_staff) <> 'array' OR jsonb_array_length(p_staff) NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'sightings are an array of 1 to 1000 people' USING ERRCODE = 'CV422';
  END IF;
  WITH given AS (
    SELECT x.i, x.p ->> 'sub' AS sub, x.p ->> 'name' AS name,
           ARRAY(SELECT DISTINCT r FROM unnest(core.jsonb_text_array(x.p -> 'roles')) r
                  WHERE r IN ('crm', 'support_lead', 'admin') ORDER BY r) AS roles
      FROM jsonb_array_elements(p_staff) WITH ORDINALITY AS x(p, i)
  ), latest AS (
    -- One row per subject (ON CONFLICT may touch a row once per statement): the last sighting.
    SELECT DISTINCT ON (sub) sub, name, roles FROM given
     WHERE core.actor_valid(sub, name, roles, '{}') AND cardinality(roles) > 0
     ORDER BY sub, i DESC
  ), upserted AS (
    INSERT INTO core.staff AS s (sub, name, roles)
    SELECT sub, name, roles FROM latest
    ON CONFLICT (sub) DO UPDATE
      SET name = excluded.name, roles = excluded.roles, last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at)
    RETURNING 1
  )
  SELECT count(*) INTO n FROM upserted;
  RETURN n;
END
$$;

-- The directory for admins: everyone seen, and everyone who owns customers
-- without having been seen since the directory began (roles empty, never seen),
-- each with their active and archived customers, by name. Counts name no
-- customer, so no access event.
CREATE FUNCTION api.staff_list(p_sub text, p_name text, p_roles text[], p_scopes text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  items jsonb;
BEGIN
  PERFORM core.check_reader(p_sub, p_name, p_roles, p_scopes, ARRAY['admin'], 'read the staff directory');
  WITH owners AS (
    SELECT c.owner_sub, max(c.owner_name) AS owner_name,
           count(*) FILTER (WHERE c.status = 'active') AS active,
           count(*) FILTER (WHERE c.status = 'archived') AS archived
      FROM core.customers c GROUP BY c.owner_sub
  ), people AS (
    SELECT coalesce(s.sub, o.owner_sub) AS sub, coalesce(s.name, o.owner_name) AS name, coalesce(s.roles, '{}') AS roles,
           s.first_seen_at, s.last_seen_at, coalesce(o.active, 0) AS active, coalesce(o.archived, 0) AS archived
      FROM core.staff s FULL JOIN owners o ON o.owner_sub = s.sub
  )
  SELECT jsonb_agg(jsonb_build_object(
           'sub', p.sub, 'name', p.name, 'roles', to_jsonb(p.roles),
           'firstSeenAt', core.iso(p.first_seen_at), 'lastSeenAt', core.iso(p.last_seen_at),
           'customers', p.active, 'archivedCustomers', p.archived) ORDER BY lower(p.name), p.sub)
    INTO items FROM people p;
  RETURN jsonb_build_object('items', coalesce(items, '[]'));
END
$$;

-- Admins move customers to another CRM: the listed ones (p_org_ids), or every
-- customer, archived ones included, of p_from_owner (a CRM who leaves). The new
-- owner must be a CRM in the staff directory; their name is taken from it. All
-- in this one transaction: if a listed customer is missing, nothing moves. Each
-- customer moved gets its own audit event (a customer.update of ownerSub and
-- ownerName, with the reason); one already with the new owner gets none.
-- Rows are locked in organization id order, as edit batches lock them, so the
-- two never wait on each other in a cycle.
-- At most 10,000 customers move in one call (measured on a busy two-core test
-- machine: 8,000 in about 1 s, 20,000 in 3.2 to 4 s, too close to the API role's
-- 5 s statement limit, most of it the rows' new index entries): a CRM who owns more is
-- refused with that said, instead of a statement cancelled half way as "busy".
CREATE FUNCTION api.assignments_apply(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_ids text[], p_from_owner text, p_to_owner text, p_reason text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  reason text;
  target core.staff;
  ids text[];
  from_subs text[];
  from_names text[];
  versions integer[];
  moved jsonb;
  unchanged text[];
  missing text;
  owned bigint;
BEGIN
  reason := core.check_editor(p_sub, p_name, p_roles, p_scopes, ARRAY['admin'], 'assign customers',
                              p_request_id, p_client_address, p_app_version, p_reason);
  IF (p_org_ids IS NULL) = (p_from_owner IS NULL) THEN
    RAISE EXCEPTION 'name either the customers or their current owner' USING ERRCODE = 'CV422';
  END IF;
  IF p_org_ids IS NOT NULL AND (cardinality(p_org_ids) NOT BETWEEN 1 AND 500
       OR EXISTS (SELECT 1 FROM unnest(p_org_ids) o WHERE o IS NULL OR o !~ '^ORG-[0-9]{6,12}$')
       OR (SELECT count(DISTINCT o) FROM unnest(p_org_ids) o) <> cardinality(p_org_ids)) THEN
    RAISE EXCEPTION 'list 1 to 500 different organization ids' USING ERRCODE = 'CV422';
  END IF;
  SELECT * INTO target FROM core.staff s WHERE s.sub = p_to_owner;
  IF NOT FOUND OR NOT ('crm' = ANY (target.roles)) THEN
    RAISE EXCEPTION 'the new owner must be a relationship manager in the staff directory' USING ERRCODE = 'CV422';
  END IF;
  IF p_from_owner = p_to_owner THEN
    RAISE EXCEPTION 'the new owner is the current one' USING ERRCODE = 'CV422';
  END IF;
  SELECT count(*) INTO owned FROM core.customers x WHERE x.owner_sub = p_from_owner;
  IF owned > 10000 THEN
    RAISE EXCEPTION '% owns % customers; at most 10,000 move in one assignment: move them by lists of organization ids, or ask a database administrator to',
      p_from_owner, owned USING ERRCODE = 'CV422';
  END IF;
  -- Customers are never deleted, so one found now is there when its row is locked below.
  SELECT o INTO missing FROM unnest(p_org_ids) o WHERE NOT EXISTS (SELECT 1 FROM core.customers x WHERE x.org_id = o) ORDER BY o LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'customer % not found', missing USING ERRCODE = 'CN404';
  END IF;

  -- Set-based (one UPDATE, the events from its result, written by one INSERT): a row at a time took
  -- 2.3 s for 1,000 customers, and an event at a time 6.1 to 6.6 s for 20,000 (3.2 to 4 s now).
  PERFORM 1 FROM core.customers x
    WHERE (p_org_ids IS NOT NULL AND x.org_id = ANY (p_org_ids)) OR x.owner_sub = p_from_owner
    ORDER BY x.org_id FOR UPDATE;
  unchanged := ARRAY(SELECT x.org_id FROM core.customers x
                      WHERE x.org_id = ANY (coalesce(p_org_ids, '{}')) AND x.owner_sub = target.sub ORDER BY x.org_id);
  WITH old AS (
    SELECT x.org_id, x.owner_sub, x.owner_name FROM core.customers x
     WHERE ((p_org_ids IS NOT NULL AND x.org_id = ANY (p_org_ids)) OR x.owner_sub = p_from_owner) AND x.owner_sub <> target.sub
  ), upd AS (
    UPDATE core.customers c SET owner_sub = target.sub, owner_name = target.name, version = c.version + 1, updated_at = now()
      FROM old WHERE c.org_id = old.org_id
    RETURNING c.org_id, old.owner_sub AS from_sub, old.owner_name AS from_name, c.version
  )
  SELECT array_agg(u.org_id ORDER BY u.org_id), array_agg(u.from_sub ORDER BY u.org_id),
         array_agg(u.from_name ORDER BY u.org_id), array_agg(u.version ORDER BY u.org_id)
    INTO ids, from_subs, from_names, versions FROM upd u;
  -- One event per customer moved, in organization id order, written in one statement.
  PERFORM core.write_events(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
            'customer.update', 'customer', coalesce(ids, '{}'),
            ARRAY(SELECT jsonb_build_array(jsonb_build_object('field', 'ownerSub', 'before', m.from_sub, 'after', target.sub),
                                           jsonb_build_object('field', 'ownerName', 'before', m.from_name, 'after', target.name))
                    FROM unnest(ids, from_subs, from_names) WITH ORDINALITY AS m(org_id, from_sub, from_name, i) ORDER BY m.i),
            reason, p_client_request_id);
  SELECT coalesce(jsonb_agg(jsonb_build_object('orgId', m.org_id, 'fromOwnerSub', m.from_sub, 'version', m.version) ORDER BY m.i), '[]')
    INTO moved FROM unnest(ids, from_subs, versions) WITH ORDINALITY AS m(org_id, from_sub, version, i);
  RETURN jsonb_build_object('toOwner', jsonb_build_object('sub', target.sub, 'name', target.name),
                            'moved', moved, 'unchanged', to_jsonb(unchanged));
END
$$;
