// Change notifications: no writing transaction notifies (NOTIFY's database-wide
// commit lock would make writers take turns at the WAL flush); the store queues
// the request id of every write call that returned, and api.announce_changes
// announces those requests' committed events on cims_changes, with ids and a
// version only. api.live_events and api.live_events_after tell the API what each
// one means and whom it concerns.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeRequestQuery } from '../../../shared/api';
import type { Actor } from '../../src/db/store';
import { LiveRows } from '../../src/live/hub';
import { actors, createTestDatabase, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
let listener: pg.Client;
const heard: { channel: string; payload: string }[] = [];

beforeAll(async () => {
  // The seeded rules: a change of the number of users waits for approval (the expiry test).
  t = await createTestDatabase({ approvalRules: 'seeded' });
  for (const orgId of ['ORG-000901', 'ORG-000902', 'ORG-000903', 'ORG-000904', 'ORG-000905'])
    await seedCustomer(t.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
  listener = new pg.Client({ connectionString: t.apiUrl });
  await listener.connect();
  listener.on('notification', (m) => heard.push({ channel: m.channel, payload: m.payload ?? '' }));
  await listener.query('LISTEN cims_changes');
});
afterAll(async () => {
  await listener?.end();
  await t?.drop();
});

/** Waits until `n` more notifications arrived after `from`, or a short while. */
async function next(from: number, n = 1, ms = 2_000): Promise<unknown[]> {
  const until = Date.now() + ms;
  while (heard.length < from + n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return heard.slice(from).map((h) => JSON.parse(h.payload) as unknown);
}

const lookup = async (ids: string[]) => LiveRows.parse(await t.store.audit.call('live_events', 'SELECT api.live_events($1::bigint[]) AS r', [ids]));
const announce = async (requestIds: string[]) => Number(await t.store.audit.call('announce', 'SELECT api.announce_changes($1::text[]) AS r', [requestIds]));
/** An event written by the superuser as a writing function writes it, under request id `requestId`. */
const writeEvent = (db: pg.Client, requestId: string, orgId: string) =>
  db.query(`SELECT core.write_event('alice', 'Alice Adams', ARRAY['crm'], $1, NULL, NULL, 'customer.update', 'customer', $2, '[]'::jsonb, 'x')`, [requestId, orgId]);

describe('writing transactions', () => {
  it('do not notify: core.write_event committed announces nothing by itself', async () => {
    const from = heard.length;
    await writeEvent(t.admin, 'r-unannounced', 'ORG-000905');
    expect(await next(from, 1, 500)).toEqual([]);
  });

  it('an edit through the store is announced after its commit: the event, the customer and its version, nothing personal', async () => {
    const from = heard.length;
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 1, { contactPhone: '+1 555 0199' }, 'Number changed');
    const [notice] = await next(from);
    expect(notice).toEqual({ id: expect.stringMatching(/^[0-9]+$/), type: 'customer', entity: 'ORG-000901', version: 2 });
    expect(heard[from]!.payload).not.toMatch(/555|Alice|alice|Number changed/);
  });

  it('a batch announces the edits that applied and none of the one that failed', async () => {
    const from = heard.length;
    const results = await Promise.allSettled([
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000902', 1, { contactName: 'Sam Ortiz' }, 'New contact'),
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000903', 7, { contactName: 'Kim Park' }, 'Stale version'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    const notices = await next(from, 2, 500);
    expect(notices).toEqual([expect.objectContaining({ entity: 'ORG-000902', version: 2 })]);
  });

  it('a reassignment announces each customer moved; the event concerns the new owner and the previous one', async () => {
    await t.store.staffSeen([actors.carol]);
    const from = heard.length;
    await t.store.applyAssignment(actors.erin, testContext(), { orgIds: ['ORG-000903'], toOwner: 'carol', reason: 'Portfolio rebalanced' });
    const [notice] = (await next(from)) as { id: string }[];
    const [row] = await lookup([notice!.id]);
    expect(row).toMatchObject({ type: 'customer', entity: 'ORG-000903', version: 2, actorSub: 'erin', actorName: 'Erin Evans' });
    expect(row!.owners.sort()).toEqual(['alice', 'carol']);
    expect(row!.fields).toEqual(expect.arrayContaining(['ownerSub']));
  });

  it("a customer's own change through the portal is announced", async () => {
    const contact: Actor = { sub: 'contact-000904', name: 'Pat Doe', roles: ['customer'], scopes: [], org: 'ORG-000904' };
    const from = heard.length;
    await t.store.updateSelfOrganization(contact, testContext(), 1, { contactPhone: '+44 20 7946 0999' });
    const [notice] = (await next(from)) as { id: string }[];
    expect(notice).toEqual({ id: expect.any(String), type: 'customer', entity: 'ORG-000904', version: 2 });
    expect(await lookup([notice!.id])).toEqual([expect.objectContaining({ action: 'customer.update', actorSub: 'contact-000904' })]);
  });

  it('a change request that expires when a list is read is announced by that read', async () => {
    const outcome = await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000905', 1, { userCount: 5 }, 'Fewer seats');
    if (!('changeRequest' in outcome)) throw new Error('the edit should wait for approval');
    await t.admin.query(`UPDATE core.change_requests SET created_at = now() - interval '20 days', expires_at = now() - interval '6 days' WHERE id = $1`, [
      outcome.changeRequest.id,
    ]);
    await next(heard.length, 1, 200); // the request's own announcement, if still on its way
    const from = heard.length;
    await t.store.changeRequests(actors.bob, testContext(), ChangeRequestQuery.parse({ orgId: 'ORG-000905' }));
    const [notice] = (await next(from)) as { id: string }[];
    expect(await lookup([notice!.id])).toEqual([expect.objectContaining({ action: 'change.expired', changeRequest: outcome.changeRequest.id })]);
  });
});

describe('api.announce_changes', () => {
  it("announces the committed events of the requests named, each with today's payload, and nothing else", async () => {
    await writeEvent(t.admin, 'r-mine-1', 'ORG-000901');
    await writeEvent(t.admin, 'r-mine-1', 'ORG-000902');
    await writeEvent(t.admin, 'r-someone-else', 'ORG-000903');
    // Another request still in its transaction: not committed, so not announced.
    const open = new pg.Client({ connectionString: t.adminUrl });
    await open.connect();
    try {
      await open.query('BEGIN');
      await writeEvent(open, 'r-mine-2', 'ORG-000904');
      const ids = (
        await t.admin.query<{ id: string }>(`SELECT id::text FROM audit.events WHERE request_id = 'r-mine-1' ORDER BY id`)
      ).rows.map((r) => r.id);
      const from = heard.length;
      expect(await announce(['r-mine-1', 'r-mine-2', 'r-nobody'])).toBe(2);
      const notices = await next(from, 3, 500);
      const version = async (orgId: string) =>
        (await t.admin.query<{ version: number }>('SELECT version FROM core.customers WHERE org_id = $1', [orgId])).rows[0]!.version;
      expect(notices).toEqual([
        { id: ids[0], type: 'customer', entity: 'ORG-000901', version: await version('ORG-000901') },
        { id: ids[1], type: 'customer', entity: 'ORG-000902', version: await version('ORG-000902') },
      ]);
    } finally {
      await open.query('ROLLBACK');
      await open.end();
    }
  });

  it('never announces an event whose transaction rolled back', async () => {
    await t.admin.query('BEGIN');
    await writeEvent(t.admin, 'r-rolled-back', 'ORG-000902');
    await t.admin.query('ROLLBACK');
    const from = heard.length;
    expect(await announce(['r-rolled-back'])).toBe(0);
    expect(await next(from, 1, 300)).toEqual([]);
  });

  it('commits without waiting for a flush (synchronous_commit off for its own transaction only)', async () => {
    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      await api.query('BEGIN');
      await api.query('SELECT api.announce_changes($1::text[])', [['r-nobody']]);
      expect((await api.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit).toBe('off');
      await api.query('COMMIT');
      expect((await api.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit).not.toBe('off');
    } finally {
      await api.end();
    }
  });

  it('refuses more than 1000 requests at once', async () => {
    await expect(announce(Array.from({ length: 1001 }, (_v, i) => `r-${i}`))).rejects.toMatchObject({ name: 'StoreError', kind: 'validation' });
  });
});

describe('what the API looks up', () => {
  it('api.live_events names the action, the actor, the changed fields (names only) and the owner', async () => {
    const from = heard.length;
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 2, { contactEmail: 'new@acme.example', contactName: 'Rae Kim' }, 'Update');
    const [notice] = (await next(from)) as { id: string }[];
    const rows = await lookup([notice!.id, '999999999']);
    expect(rows).toEqual([
      {
        id: notice!.id,
        action: 'customer.update',
        type: 'customer',
        entity: 'ORG-000901',
        version: 3,
        actorSub: 'alice',
        actorName: 'Alice Adams',
        fields: ['contactName', 'contactEmail'],
        changeRequest: null,
        owners: ['alice'],
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain('new@acme.example');
  });

  it('api.live_events_after resumes after an event, and says null for one it does not know', async () => {
    const [{ first }] = (await t.admin.query<{ first: string }>('SELECT min(id)::text AS first FROM audit.events')).rows as [{ first: string }];
    const after = LiveRows.parse(await t.store.audit.call('live_events_after', 'SELECT api.live_events_after($1::bigint, $2::integer) AS r', [first, 100]));
    const all = (await t.admin.query<{ id: string }>('SELECT e.id::text AS id FROM audit.events e ORDER BY e.id')).rows.map((r) => r.id);
    expect(after.map((r) => r.id)).toEqual(all.filter((id) => id !== first));
    expect(await t.store.audit.call('live_events_after', 'SELECT api.live_events_after($1::bigint, $2::integer) AS r', ['987654321', 100])).toBeNull();
    // More due than the limit: null too (the stream resets instead of replaying)
    expect(await t.store.audit.call('live_events_after', 'SELECT api.live_events_after($1::bigint, $2::integer) AS r', [first, 1])).toBeNull();
  });

  it('the API role may call the api functions only, not the helper', async () => {
    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      await expect(api.query('SELECT core.live_event_json(e) FROM audit.events e LIMIT 1')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await api.end();
    }
  });
});
