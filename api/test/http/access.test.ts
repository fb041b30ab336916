// The access log through the API: every response that carries a customer's
// personal or contract data has written its access event(s) when it arrives
// (committed: visible to another connection at once), with who, what kind,
// which customers and from where; a refused read writes none; support leads
// review the log per record and across customers (JSON and CSV), and reviewing
// it writes nothing.
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessPage, type CustomerListPage } from '../../../shared/api';
import { seedCustomer, seedPrediction, seedUsage } from '../../../testing/db';
import { expectProblem, startHarness, versionOf, type Harness, type Principal } from './harness';

let h: Harness;
const ORG = 'ORG-000020';
const OTHER = 'ORG-000021';
const ARCHIVED = 'ORG-000022';
const APP_VERSION = { 'x-cims-app-version': '0.1.0-test' };

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Zephyr Access One' });
  await seedCustomer(h.db.admin, { orgId: OTHER, ownerSub: 'carol', ownerName: 'Carol Chen', orgName: 'Zephyr Access Two' });
  await seedCustomer(h.db.admin, { orgId: ARCHIVED, ownerSub: 'alice', orgName: 'Zephyr Gone', status: 'archived' });
  await seedUsage(h.db.admin, ORG, 5);
  await seedPrediction(h.db.admin, { orgId: ORG, score: 0.3 });
});
afterAll(() => h?.close());

/** The access events one request wrote, read over the admin's own connection (so: committed). */
async function accessOf(res: LightMyRequestResponse): Promise<Record<string, unknown>[]> {
  const { rows } = await h.db.admin.query<Record<string, unknown>>(
    'SELECT * FROM audit.access_events WHERE request_id = $1 ORDER BY id',
    [String(res.headers['x-request-id'])],
  );
  return rows;
}

async function accessCount(): Promise<number> {
  const { rows } = await h.db.admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.access_events');
  return Number(rows[0]?.n);
}

const who = { actor_sub: 'alice', actor_name: 'Alice Adams', actor_roles: ['crm'], client_address: '127.0.0.1', app_version: '0.1.0-test' };

describe('each read of personal or contract data writes its access event before it is answered', () => {
  it('a search page: one event with the query and the org ids it shows', async () => {
    const res = await h.call('owner', 'GET', '/v1/customers?q=Zephyr%20Access&limit=1', { headers: APP_VERSION });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as CustomerListPage;
    expect(page.items.map((c) => c.orgId)).toEqual([ORG]);
    expect(await accessOf(res)).toEqual([
      expect.objectContaining({
        ...who,
        kind: 'customer.search',
        entity_type: null,
        entity_id: null,
        detail: { query: { q: 'Zephyr Access', ownerMe: false, includeArchived: false, sort: 'name' }, orgIds: [ORG] },
      }),
    ]);
    const second = await h.call('owner', 'GET', `/v1/customers?q=Zephyr%20Access&limit=1&cursor=${page.nextCursor ?? ''}`);
    expect((await accessOf(second))[0]?.detail).toMatchObject({ query: { afterId: ORG }, orgIds: [OTHER] });
    // A search that finds nothing shows no one and writes nothing.
    const none = await h.call('owner', 'GET', '/v1/customers?q=no-such-customer-anywhere');
    expect(none.statusCode).toBe(200);
    expect(await accessOf(none)).toEqual([]);
  });

  it('the record (kind customer.read)', async () => {
    const res = await h.call('owner', 'GET', `/v1/customers/${ORG}`, { headers: APP_VERSION });
    expect(res.statusCode).toBe(200);
    expect(await accessOf(res)).toEqual([expect.objectContaining({ ...who, kind: 'customer.read', entity_type: 'customer', entity_id: ORG })]);
  });

  it('record history, usage and predictions', async () => {
    const cases = [
      [`/v1/customers/${ORG}/audit`, 'customer.history', { events: 0 }],
      [`/v1/customers/${ORG}/usage?from=2026-01-01&to=2026-01-31`, 'customer.usage', { from: '2026-01-01', to: '2026-01-31' }],
      [`/v1/customers/${ORG}/predictions`, 'customer.predictions', null],
    ] as const;
    for (const [url, kind, detail] of cases) {
      const res = await h.call('owner', 'GET', url, { headers: APP_VERSION });
      expect(res.statusCode, url).toBe(200);
      expect(await accessOf(res), url).toEqual([expect.objectContaining({ ...who, kind, entity_id: ORG, detail })]);
    }
  });

  it('the audit CSV export: one event with the filter and the counts, written before the first byte', async () => {
    // Two audited changes to export.
    await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
      body: { changes: { userCount: 77, contactName: 'Vera Export' }, reason: 'Seats and contact' },
      headers: { 'if-match': `"${await versionOf(h.db, ORG)}"` },
    });
    const res = await h.call('lead', 'GET', `/v1/audit/events.csv?orgId=${ORG}`);
    expect(res.statusCode, res.body).toBe(200);
    const lines = res.body.trim().split('\r\n');
    expect(lines).toHaveLength(1 + 2); // header + one row per changed field
    expect(await accessOf(res)).toEqual([
      expect.objectContaining({
        actor_sub: 'bob',
        kind: 'audit.export',
        entity_id: ORG,
        // beforeId: where the export's pages start (api.audit_export_page reads it from here)
        detail: { filter: { orgId: ORG }, events: 1, rows: 2, beforeId: expect.stringMatching(/^[0-9]+$/) },
      }),
    ]);
  });

  it('an audit review page: one event with the filter and the customers it shows; an export page adds none', async () => {
    const res = await h.call('lead', 'GET', `/v1/audit/events?orgId=${ORG}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(await accessOf(res)).toEqual([
      expect.objectContaining({ actor_sub: 'bob', kind: 'audit.review', entity_id: ORG, detail: { filter: { orgId: ORG }, events: 1, orgIds: [ORG] } }),
    ]);
    const across = await h.call('lead', 'GET', '/v1/audit/events');
    expect((await accessOf(across))[0]).toMatchObject({ kind: 'audit.review', entity_id: null, detail: { filter: {}, orgIds: [ORG] } });
  });

  it("an export's pages are read only through its own access event: another user's, or none, is refused", async () => {
    const { rows } = await h.db.admin.query<{ id: string }>("SELECT id FROM audit.access_events WHERE kind = 'audit.export' ORDER BY id DESC LIMIT 1");
    const exportId = rows[0]!.id;
    const api = new pg.Client({ connectionString: h.db.apiUrl });
    await api.connect();
    try {
      const page = (sub: string, id: string) =>
        api.query('SELECT api.audit_export_page($1, $2, $3, $4, $5::bigint, NULL, 10) AS r', [sub, sub, ['support_lead'], [], id]);
      await expect(page('bob', exportId)).resolves.toMatchObject({ rows: [{ r: { items: [expect.objectContaining({ entityId: ORG })] } }] });
      await expect(page('someone-else', exportId)).rejects.toMatchObject({ code: 'CF403' });
      const { rows: read } = await h.db.admin.query<{ id: string }>("SELECT id FROM audit.access_events WHERE kind = 'customer.read' LIMIT 1");
      await expect(page('alice', read[0]!.id)).rejects.toMatchObject({ code: 'CF403' });
    } finally {
      await api.end();
    }
  });

  it('archiving a customer that is archived already shows the record: an access event, no audit event', async () => {
    const res = await h.call('lead', 'POST', `/v1/customers/${ARCHIVED}/archive`, {
      body: { reason: 'Tidying up' },
      headers: { 'if-match': '"1"' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await accessOf(res)).toEqual([
      expect.objectContaining({ actor_sub: 'bob', kind: 'customer.read', entity_id: ARCHIVED, detail: { via: 'archive' } }),
    ]);
    const { rows } = await h.db.admin.query('SELECT 1 FROM audit.events WHERE entity_id = $1', [ARCHIVED]);
    expect(rows).toEqual([]);
  });

  it('a PATCH that changes nothing shows the record: an access event', async () => {
    const res = await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
      body: { changes: { userCount: 77 }, reason: 'No change really' },
      headers: { 'if-match': `"${await versionOf(h.db, ORG)}"` },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await accessOf(res)).toEqual([expect.objectContaining({ kind: 'customer.read', entity_id: ORG, detail: { via: 'update' } })]);
  });
});

describe('a refused read writes no access event', () => {
  // Each refusal is paired with the same read allowed, which must write (so the refusal's
  // "nothing written" is not just a path that never writes).
  const cases: [allowed: Principal, refused: Principal, url: string, status: number][] = [
    ['lead', 'admin', `/v1/customers/${ORG}/audit`, 403],
    ['lead', 'owner', '/v1/audit/events.csv', 403],
    ['owner', 'owner', '/v1/customers/ORG-999999/usage', 404],
    ['owner', 'owner', '/v1/customers/ORG-999999/predictions', 404],
    ['owner', 'owner', '/v1/customers/ORG-999999/audit', 404],
    ['owner', 'owner', '/v1/customers/ORG-999999', 404],
    ['owner', 'service', '/v1/customers?q=Zephyr', 403],
    ['owner', 'none', `/v1/customers/${ORG}/usage`, 401],
  ];
  it.each(cases)('allowed as %s, refused as %s: GET %s (%i)', async (allowed, refused, url, status) => {
    const before = await accessCount();
    expectProblem(await h.call(refused, 'GET', url), status);
    expect(await accessCount()).toBe(before);
    const ok = await h.call(allowed, 'GET', url.replace('ORG-999999', ORG));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await accessCount()).toBe(before + 1);
  });

  it('an archive refused for a stale version writes none; the same archive with the current version writes one', async () => {
    const before = await accessCount();
    const archive = (version: string) =>
      h.call('lead', 'POST', `/v1/customers/${ARCHIVED}/archive`, { body: { reason: 'Once more' }, headers: { 'if-match': version } });
    expectProblem(await archive('"9"'), 412);
    expect(await accessCount()).toBe(before);
    expect((await archive('"1"')).statusCode).toBe(200);
    expect(await accessCount()).toBe(before + 1);
  });
});

describe('support leads review the access log', () => {
  it('"who viewed this record": its reads and the search pages that listed it, newest first, paginated', async () => {
    const read = await h.call('otherCrm', 'GET', `/v1/customers/${OTHER}`, { headers: APP_VERSION });
    expect(read.statusCode).toBe(200);
    const res = await h.call('lead', 'GET', `/v1/customers/${OTHER}/access?limit=1`);
    expect(res.statusCode, res.body).toBe(200);
    const page = AccessPage.parse(res.json());
    expect(page.items).toEqual([
      expect.objectContaining({ actorSub: 'carol', actorName: 'Carol Chen', kind: 'customer.read', orgId: OTHER, clientAddress: '127.0.0.1', requestId: read.headers['x-request-id'] }),
    ]);
    expect(page.nextCursor).not.toBeNull();
    const rest = AccessPage.parse((await h.call('lead', 'GET', `/v1/customers/${OTHER}/access?cursor=${page.nextCursor ?? ''}`)).json());
    // Alice's second search page listed it.
    expect(rest.items).toContainEqual(expect.objectContaining({ actorSub: 'alice', kind: 'customer.search', orgId: null }));
    expect(rest.items.every((a) => a.orgId === OTHER || (a.detail.orgIds as string[]).includes(OTHER))).toBe(true);
  });

  it('the record access list is for support leads only, and 404 for an unknown customer', async () => {
    for (const p of ['owner', 'otherCrm', 'admin'] as const) expectProblem(await h.call(p, 'GET', `/v1/customers/${ORG}/access`), 403);
    expectProblem(await h.call('lead', 'GET', '/v1/customers/ORG-999999/access'), 404);
  });

  it('the access review filters by user, customer and time, and reviewing writes no access event', async () => {
    const before = await accessCount();
    const byUser = AccessPage.parse((await h.call('lead', 'GET', '/v1/audit/access?user=carol')).json());
    expect(byUser.items.length).toBeGreaterThan(0);
    expect(byUser.items.every((a) => a.actorSub === 'carol')).toBe(true);
    const byOrg = AccessPage.parse((await h.call('lead', 'GET', `/v1/audit/access?orgId=${ARCHIVED}`)).json());
    // The two archives of an archived customer above: newest first.
    expect(byOrg.items.map((a) => [a.actorSub, a.kind, a.detail])).toEqual([
      ['bob', 'customer.read', { via: 'archive' }],
      ['bob', 'customer.read', { via: 'archive' }],
    ]);
    expect(Number(byOrg.items[0]?.id)).toBeGreaterThan(Number(byOrg.items[1]?.id));
    const future = AccessPage.parse((await h.call('lead', 'GET', '/v1/audit/access?from=2999-01-01T00:00:00Z')).json());
    expect(future.items).toEqual([]);
    const past = AccessPage.parse((await h.call('lead', 'GET', '/v1/audit/access?to=2000-01-01T00:00:00Z')).json());
    expect(past.items).toEqual([]);
    const csv = await h.call('lead', 'GET', `/v1/audit/access.csv?orgId=${ARCHIVED}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="access-/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('accessId,occurredAt,actorSub,actorName,actorRoles,kind,orgId,detail,requestId,clientAddress,appVersion');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`bob,Bob Brown,support_lead,customer.read,${ARCHIVED},"{""via"":""archive""}"`);
    expect(await accessCount()).toBe(before);
  });

  it('the access review and its CSV are for support leads only', async () => {
    for (const p of ['owner', 'admin'] as const) {
      expectProblem(await h.call(p, 'GET', '/v1/audit/access'), 403);
      expectProblem(await h.call(p, 'GET', '/v1/audit/access.csv'), 403);
    }
  });
});
