// The staff directory and assignments through the store (as cims_api): the
// database keeps who was seen, refuses anyone but an admin, refuses a new owner
// who is not a CRM of the directory, and moves customers in one transaction
// with one audit event per customer moved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/db/store';
import { actors, auditEventCount, auditEventsFor, createTestDatabase, customerRow, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const storeError = (kind: StoreError['kind']) => expect.objectContaining({ name: 'StoreError', kind });

async function staffRow(sub: string): Promise<Record<string, unknown> | undefined> {
  return (await t.admin.query<Record<string, unknown>>('SELECT * FROM core.staff WHERE sub = $1', [sub])).rows[0];
}

/** Everything an assignment could touch. */
async function state(): Promise<string> {
  const c = await t.admin.query('SELECT org_id, owner_sub, owner_name, version FROM core.customers ORDER BY org_id');
  return JSON.stringify({ customers: c.rows, events: await auditEventCount(t.admin) });
}

describe('staff directory', () => {
  it('records first and last sighting; a later one moves last seen, name and roles only', async () => {
    expect(await t.store.staffSeen([actors.alice, actors.carol])).toBe(2);
    const first = await staffRow('alice');
    expect(first).toMatchObject({ sub: 'alice', name: 'Alice Adams', roles: ['crm'] });
    await new Promise((r) => setTimeout(r, 20));
    await t.store.staffSeen([{ ...actors.alice, name: 'Alice Adams-Lee', roles: ['support_lead', 'crm'] }]);
    const later = await staffRow('alice');
    expect(later).toMatchObject({ name: 'Alice Adams-Lee', roles: ['crm', 'support_lead'], first_seen_at: first?.first_seen_at });
    expect((later?.last_seen_at as Date).getTime()).toBeGreaterThan((first?.last_seen_at as Date).getTime());
  });

  it('keeps the last of several sightings of one person in a batch, drops roles CIMS does not know and people without one', async () => {
    expect(
      await t.store.staffSeen([
        { sub: 'dan', name: 'Dan One', roles: ['crm'] },
        { sub: 'dan', name: 'Dan Two', roles: ['crm', 'viewer'] },
        { sub: 'viewer-only', name: 'Vic', roles: ['viewer'] },
        { sub: actors.modelRunner.sub, name: actors.modelRunner.name, roles: [] },
      ]),
    ).toBe(1);
    expect(await staffRow('dan')).toMatchObject({ name: 'Dan Two', roles: ['crm'] });
    expect(await staffRow('viewer-only')).toBeUndefined();
    expect(await staffRow(actors.modelRunner.sub)).toBeUndefined();
  });

  it('lists everyone seen and every owner of customers, with active and archived counts; admins only', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000501', ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedCustomer(t.admin, { orgId: 'ORG-000502', ownerSub: 'alice', ownerName: 'Alice Adams', status: 'archived' });
    await seedCustomer(t.admin, { orgId: 'ORG-000503', ownerSub: 'gone', ownerName: 'Gone Before' });
    const list = await t.store.staffList(actors.erin);
    const bySub = Object.fromEntries(list.items.map((s) => [s.sub, s]));
    expect(bySub.alice).toMatchObject({ customers: 1, archivedCustomers: 1, roles: ['crm', 'support_lead'] });
    expect(bySub.carol).toMatchObject({ customers: 0, archivedCustomers: 0, lastSeenAt: expect.any(String) });
    // Owns customers, never seen since the directory began.
    expect(bySub.gone).toEqual({ sub: 'gone', name: 'Gone Before', roles: [], firstSeenAt: null, lastSeenAt: null, customers: 1, archivedCustomers: 0 });
    for (const who of [actors.alice, actors.bob, actors.modelRunner]) {
      await expect(t.store.staffList(who)).rejects.toEqual(storeError('forbidden'));
    }
  });
});

describe('assignments', () => {
  beforeAll(async () => {
    await t.store.staffSeen([actors.alice, actors.carol, actors.bob, actors.erin]);
    for (const orgId of ['ORG-000601', 'ORG-000602', 'ORG-000603']) await seedCustomer(t.admin, { orgId, ownerSub: 'frank', ownerName: 'Frank Leaving' });
    await seedCustomer(t.admin, { orgId: 'ORG-000604', ownerSub: 'frank', ownerName: 'Frank Leaving', status: 'archived' });
    await seedCustomer(t.admin, { orgId: 'ORG-000605', ownerSub: 'carol', ownerName: 'Carol Chen' });
  });

  it('moves every customer of a leaving CRM, archived ones too, with one event each naming both owners and the reason', async () => {
    const r = await t.store.applyAssignment(actors.erin, testContext(), { fromOwner: 'frank', toOwner: 'carol', reason: 'Frank left the company' });
    expect(r.toOwner).toEqual({ sub: 'carol', name: 'Carol Chen' });
    expect(r.moved.map((m) => m.orgId)).toEqual(['ORG-000601', 'ORG-000602', 'ORG-000603', 'ORG-000604']);
    expect(r.moved.every((m) => m.fromOwnerSub === 'frank' && m.version === 2)).toBe(true);
    expect(r.unchanged).toEqual([]);
    for (const m of r.moved) {
      expect(await customerRow(t.admin, m.orgId)).toMatchObject({ owner_sub: 'carol', owner_name: 'Carol Chen', version: 2 });
      const events = await auditEventsFor(t.admin, m.orgId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'customer.update',
        actor_sub: 'erin',
        reason: 'Frank left the company',
        revert_of: null,
        changes: [
          { field: 'ownerSub', before: 'frank', after: 'carol' },
          { field: 'ownerName', before: 'Frank Leaving', after: 'Carol Chen' },
        ],
      });
    }
    // The new owner may edit them now.
    await expect(t.store.updateCustomer(actors.carol, testContext(), 'ORG-000601', 2, { contactName: 'Dana New' }, 'Mine now')).resolves.toBeDefined();
  });

  it('moves listed customers; one already with the new owner is unchanged and gets no event', async () => {
    const before = await auditEventCount(t.admin);
    const r = await t.store.applyAssignment(actors.erin, testContext(), { orgIds: ['ORG-000605', 'ORG-000602'], toOwner: 'alice', reason: 'Territory change' });
    expect(r.moved).toEqual([{ orgId: 'ORG-000602', fromOwnerSub: 'carol', version: 3 }, { orgId: 'ORG-000605', fromOwnerSub: 'carol', version: 2 }]);
    const again = await t.store.applyAssignment(actors.erin, testContext(), { orgIds: ['ORG-000605'], toOwner: 'alice', reason: 'Territory change' });
    expect(again).toMatchObject({ moved: [], unchanged: ['ORG-000605'] });
    expect(await auditEventCount(t.admin)).toBe(before + 2);
  });

  it('refuses anyone but an admin, and writes nothing', async () => {
    const before = await state();
    for (const who of [actors.alice, actors.carol, actors.bob, actors.modelRunner, { ...actors.bob, roles: ['support_lead', 'crm'] }]) {
      await expect(t.store.applyAssignment(who, testContext(), { fromOwner: 'alice', toOwner: who.sub, reason: 'Mine please' })).rejects.toEqual(storeError('forbidden'));
    }
    expect(await state()).toBe(before);
  });

  it('refuses a new owner who is not a CRM of the directory, the same owner, and an unknown customer, moving nothing', async () => {
    const before = await state();
    const cases = [
      { orgIds: ['ORG-000601'], toOwner: 'bob', reason: 'A support lead owns nothing' },
      { orgIds: ['ORG-000601'], toOwner: 'erin', reason: 'An admin owns nothing' },
      { orgIds: ['ORG-000601'], toOwner: 'nobody-seen', reason: 'Unknown subject' },
      { fromOwner: 'carol', toOwner: 'carol', reason: 'Same person' },
    ];
    for (const c of cases) await expect(t.store.applyAssignment(actors.erin, testContext(), c)).rejects.toEqual(storeError('validation'));
    // One unknown id among known ones: the known ones do not move either.
    await expect(
      t.store.applyAssignment(actors.erin, testContext(), { orgIds: ['ORG-000601', 'ORG-000699'], toOwner: 'alice', reason: 'Typo in the list' }),
    ).rejects.toEqual(storeError('not_found'));
    expect(await state()).toBe(before);
  });

  it('refuses a call that names both the customers and an owner, or neither (the database checks, whatever the API sends)', async () => {
    const api = t.store as unknown as { call(n: string, sql: string, v: unknown[]): Promise<unknown> };
    const sql = 'SELECT api.assignments_apply($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10, $11, $12) AS r';
    const erin = [actors.erin.sub, actors.erin.name, actors.erin.roles, actors.erin.scopes, 'req-both', '127.0.0.1', '0.1.0'];
    const before = await state();
    await expect(api.call('both', sql, [...erin, ['ORG-000601'], 'carol', 'alice', 'Both given', null])).rejects.toEqual(storeError('validation'));
    await expect(api.call('neither', sql, [...erin, null, null, 'alice', 'Neither given', null])).rejects.toEqual(storeError('validation'));
    await expect(api.call('dupes', sql, [...erin, ['ORG-000601', 'ORG-000601'], null, 'alice', 'Twice', null])).rejects.toEqual(storeError('validation'));
    expect(await state()).toBe(before);
  });

  it('moves 10,000 customers of a leaving CRM in one call, and refuses 10,001 saying so, moving nothing', async () => {
    const seed = (owner: string, from: number, n: number) =>
      t.admin.query(
        `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count, contract_value_cents, currency, renewal_date, owner_sub, owner_name)
         SELECT 'ORG-' || g, 'Bulk ' || g, 'Contact', 'c@bulk.test', '+1 555 0100', 1, 100, 'EUR', '2027-01-01', $1, 'Leaving Many'
           FROM generate_series($2::bigint, $2::bigint + $3 - 1) g`,
        [owner, from, n],
      );
    await seed('hank', 7_000_000, 10_000);
    await seed('ivan', 8_000_000, 10_001);
    const before = await state();
    const error = await t.store.applyAssignment(actors.erin, testContext(), { fromOwner: 'ivan', toOwner: 'carol', reason: 'Ivan left' }).catch((e: unknown) => e);
    expect(error).toEqual(storeError('validation'));
    expect((error as Error).message).toMatch(/ivan owns 10001 customers; at most 10,000 move in one assignment/);
    expect(await state()).toBe(before);
    const started = performance.now();
    const r = await t.store.applyAssignment(actors.erin, testContext(), { fromOwner: 'hank', toOwner: 'carol', reason: 'Hank left' });
    expect(r.moved).toHaveLength(10_000);
    // Well inside the API role's 5 s statement limit (about 1.5 s on a busy two-core machine).
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(await auditEventCount(t.admin)).toBe(JSON.parse(before).events + 10_000);
    expect((await auditEventsFor(t.admin, 'ORG-7009999'))[0]).toMatchObject({
      action: 'customer.update', actor_sub: 'erin', reason: 'Hank left',
      changes: [{ field: 'ownerSub', before: 'hank', after: 'carol' }, { field: 'ownerName', before: 'Leaving Many', after: 'Carol Chen' }],
    });
  }, 60_000);
});
