// What the database holds, read as its superuser: audit events and access
// events by customer, the chain's sequence numbers, and rows.
import pg from 'pg';

export interface EventRow {
  id: string;
  entity_id: string;
  action: string;
  reason: string | null;
  request_id: string;
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function events(c: pg.Client): Promise<EventRow[]> {
  return (await c.query<EventRow>('SELECT id::text, entity_id, action, reason, request_id FROM audit.events e ORDER BY e.id')).rows;
}

/** The callers' own request ids (x-request-id) of the access events: the API records its own id as request_id. */
export async function accessRequestIds(c: pg.Client): Promise<Set<string>> {
  const r = await c.query<{ id: string }>('SELECT client_request_id AS id FROM audit.access_events WHERE client_request_id IS NOT NULL');
  return new Set(r.rows.map((x) => x.id));
}

export async function customers(c: pg.Client): Promise<Map<string, { version: number; contactName: string }>> {
  const r = await c.query<{ org_id: string; version: number; contact_name: string }>('SELECT org_id, version, contact_name FROM core.customers');
  return new Map(r.rows.map((x) => [x.org_id, { version: Number(x.version), contactName: x.contact_name }]));
}

/** The chain's sequence numbers, ascending, and how many events have no link. */
export async function chainState(c: pg.Client): Promise<{ seqs: number[]; events: number; unlinked: number; duplicateLinks: number }> {
  const seqs = (await c.query<{ seq: string }>('SELECT seq::text FROM audit.chain c ORDER BY c.seq')).rows.map((r) => Number(r.seq));
  const n = await c.query<{ events: string; unlinked: string; dup: string }>(
    `SELECT (SELECT count(*) FROM audit.events) AS events,
            (SELECT count(*) FROM audit.events e WHERE NOT EXISTS (SELECT 1 FROM audit.chain l WHERE l.event_id = e.id)) AS unlinked,
            (SELECT count(*) - count(DISTINCT event_id) FROM audit.chain) AS dup`,
  );
  const row = n.rows[0]!;
  return { seqs, events: Number(row.events), unlinked: Number(row.unlinked), duplicateLinks: Number(row.dup) };
}
