// Change notifications: core.write_event announces every audited change on
// cims_changes in the change's own transaction (at commit, never for a change
// that rolled back), with ids and a version only; api.live_events and
// api.live_events_after tell the API what each one means and whom it concerns.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveRows } from '../../src/live/hub';
import { actors, createTestDatabase, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
let listener: pg.Client;
const heard: { channel: string; payload: string }[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  for (const orgId of ['ORG-000901', 'ORG-000902', 'ORG-000903']) await seedCustomer(t.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
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

const lookup = async (ids: string[]) => LiveRows.parse((await t.store.audit.call('live_events', 'SELECT api.live_events($1::bigint[]) AS r', [ids])));

describe('notifications', () => {
  it('an edit announces its event, the customer and the new version: nothing personal', async () => {
    const from = heard.length;
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 1, { contactPhone: '+1 555 0199' }, 'Number changed');
    const [notice] = await next(from);
    expect(notice).toEqual({ id: expect.stringMatching(/^[0-9]+$/), type: 'customer', entity: 'ORG-000901', version: 2 });
    expect(heard[from]!.payload).not.toMatch(/555|Alice|alice|Number changed/);
  });

  it('is sent at commit: a transaction that rolls back announces nothing', async () => {
    const from = heard.length;
    await t.admin.query('BEGIN');
    await t.admin.query(
      `SELECT core.write_event('alice', 'Alice Adams', ARRAY['crm'], 'r-1', NULL, NULL, 'customer.update', 'customer', 'ORG-000902', '[]'::jsonb, 'x')`,
    );
    expect(await next(from, 1, 300)).toEqual([]);
    await t.admin.query('ROLLBACK');
    expect(await next(from, 1, 300)).toEqual([]);
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

  it('a reassignment concerns the new owner and the previous one', async () => {
    await t.store.staffSeen([actors.carol]);
    const from = heard.length;
    await t.store.applyAssignment(actors.erin, testContext(), { orgIds: ['ORG-000903'], toOwner: 'carol', reason: 'Portfolio rebalanced' });
    const [notice] = (await next(from)) as { id: string }[];
    const [row] = await lookup([notice!.id]);
    expect(row).toMatchObject({ type: 'customer', entity: 'ORG-000903', version: 2, actorSub: 'erin', actorName: 'Erin Evans' });
    expect(row!.owners.sort()).toEqual(['alice', 'carol']);
    expect(row!.fields).toEqual(expect.arrayContaining(['ownerSub']));
  });
});

describe('what the API looks up', () => {
  it('api.live_events names the action, the actor, the changed fields (names only) and the owner', async () => {
    const from = heard.length;
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 2, { contactEmail: 'new@acme.example', userCount: 121 }, 'Update');
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
        fields: ['contactEmail', 'userCount'],
        changeRequest: null,
        owners: ['alice'],
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain('new@acme.example');
  });

  it('api.live_events_after resumes after an event, and says null for one it does not know', async () => {
    const [{ first }] = (await t.admin.query<{ first: string }>('SELECT min(id)::text AS first FROM audit.events')).rows as [{ first: string }];
    const after = LiveRows.parse(await t.store.audit.call('live_events_after', 'SELECT api.live_events_after($1::bigint, $2::integer) AS r', [first, 100]));
    const all = (await t.admin.query<{ id: string }>('SELECT id::text FROM audit.events ORDER BY id')).rows.map((r) => r.id);
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
