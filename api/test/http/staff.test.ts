// The staff directory, assignments and reverts over HTTP: the real app, a real
// issuer's tokens and a real database. The directory learns who called from
// the requests themselves (after their responses); an admin moves a leaving
// CRM's customers and the new owner's portfolio shows them; a revert records
// the event it reverts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssignmentResult, AuditPage, StaffList } from '../../../shared/api';
import { StaffSightings } from '../../src/staff-seen';
import { auditEventsFor, seedCustomer } from '../../../testing/db';
import { dbState, expectProblem, startHarness, versionOf, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ staffSightings: { flushMs: 10 } });
  for (const orgId of ['ORG-000801', 'ORG-000802', 'ORG-000803']) await seedCustomer(h.db.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
  await seedCustomer(h.db.admin, { orgId: 'ORG-000804', ownerSub: 'carol', ownerName: 'Carol Chen', contactEmail: 'first@tailspin.test' });
});
afterAll(() => h?.close());

async function staff(): Promise<StaffList> {
  const res = await h.call('admin', 'GET', '/v1/staff');
  expect(res.statusCode, res.body).toBe(200);
  return StaffList.parse(res.json());
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return read();
}

describe('GET /v1/staff', () => {
  it('lists the people who called, with roles, first and last seen and their customer counts', async () => {
    for (const who of ['owner', 'otherCrm', 'lead', 'service'] as const) await h.call(who, 'GET', '/v1/me');
    const list = await eventually(staff, (l) => ['alice', 'carol', 'bob'].every((s) => l.items.some((i) => i.sub === s)));
    const bySub = Object.fromEntries(list.items.map((s) => [s.sub, s]));
    expect(bySub.alice).toMatchObject({ name: 'Alice Adams', roles: ['crm'], customers: 3, lastSeenAt: expect.any(String) });
    expect(bySub.carol).toMatchObject({ roles: ['crm'], customers: 1 });
    expect(bySub.bob).toMatchObject({ roles: ['support_lead'], customers: 0 });
    // The admin's own calls are seen too; the model runner is not staff.
    expect(Object.keys(bySub)).not.toContain('cims-model-runner');
    expect(sortedByName(list)).toBe(true);
  });
});

/** Names are sorted for a person (case-insensitive), whatever order they were seen in. */
function sortedByName(list: StaffList): boolean {
  const names = list.items.map((i) => i.name.toLowerCase());
  return names.every((n, i) => i === 0 || (names[i - 1] ?? '') <= n);
}

describe('POST /v1/assignments', () => {
  it('moves every customer of a CRM to another in one call, one event each; the new owner sees them in their portfolio', async () => {
    const before = await h.call('otherCrm', 'GET', '/v1/portfolio/summary');
    expect(before.json()).toMatchObject({ customers: 1 });
    const res = await h.call('admin', 'POST', '/v1/assignments', { body: { fromOwner: 'alice', toOwner: 'carol', reason: 'Alice moves to another team' } });
    expect(res.statusCode, res.body).toBe(200);
    const r = AssignmentResult.parse(res.json());
    expect(r.moved.map((m) => m.orgId)).toEqual(['ORG-000801', 'ORG-000802', 'ORG-000803']);
    for (const m of r.moved) {
      const events = await auditEventsFor(h.db.admin, m.orgId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_sub: 'erin', reason: 'Alice moves to another team', request_id: res.headers['x-request-id'] });
    }
    const after = await h.call('otherCrm', 'GET', '/v1/portfolio/summary');
    expect(after.json()).toMatchObject({ customers: 4 });
    const mine = await h.call('otherCrm', 'GET', '/v1/customers?owner=me');
    expect((mine.json() as { items: { orgId: string }[] }).items.map((i) => i.orgId)).toEqual(
      expect.arrayContaining(['ORG-000801', 'ORG-000802', 'ORG-000803', 'ORG-000804']),
    );
    expect((await h.call('owner', 'GET', '/v1/portfolio/summary')).json()).toMatchObject({ customers: 0 });
  });

  it('moves one listed customer back', async () => {
    const res = await h.call('admin', 'POST', '/v1/assignments', { body: { orgIds: ['ORG-000802'], toOwner: 'alice', reason: 'Alice keeps this one' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ toOwner: { sub: 'alice', name: 'Alice Adams' }, moved: [{ orgId: 'ORG-000802', fromOwnerSub: 'carol', version: 3 }], unchanged: [] });
  });

  it.each([
    ['both customers and an owner', { orgIds: ['ORG-000801'], fromOwner: 'carol', toOwner: 'alice', reason: 'Both' }, 400],
    ['a customer twice', { orgIds: ['ORG-000801', 'ORG-000801'], toOwner: 'alice', reason: 'Twice' }, 400],
    ['no reason', { orgIds: ['ORG-000801'], toOwner: 'alice' }, 400],
    ['the same owner on both sides', { fromOwner: 'carol', toOwner: 'carol', reason: 'Same person' }, 400],
    ['a new owner who is not a CRM of the directory', { orgIds: ['ORG-000801'], toOwner: 'bob', reason: 'A support lead' }, 400],
    ['an unknown customer', { orgIds: ['ORG-000801', 'ORG-000899'], toOwner: 'alice', reason: 'One is unknown' }, 404],
  ])('refuses %s, changing nothing', async (_name, body, status) => {
    const before = await dbState(h.db);
    expectProblem(await h.call('admin', 'POST', '/v1/assignments', { body }), status);
    expect(await dbState(h.db)).toBe(before);
  });

  it('refuses to move more than 10,000 customers in one call with a problem that says so (not a busy answer), changing nothing', async () => {
    await h.db.admin.query(
      `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count, contract_value_cents, currency, renewal_date, owner_sub, owner_name)
       SELECT 'ORG-' || g, 'Bulk ' || g, 'Contact', 'c@bulk.test', '+1 555 0100', 1, 100, 'EUR', '2027-01-01', 'hank', 'Hank Many'
         FROM generate_series(9000000, 9010000) g`,
    );
    const before = await dbState(h.db);
    const problem = expectProblem(await h.call('admin', 'POST', '/v1/assignments', { body: { fromOwner: 'hank', toOwner: 'alice', reason: 'Hank left' } }), 400);
    expect(problem.detail).toMatch(/hank owns 10001 customers; at most 10,000 move in one assignment/);
    expect(await dbState(h.db)).toBe(before);
  }, 60_000);
});

describe('PATCH /v1/customers/:orgId with revertOf', () => {
  it('restores the email an edit changed; the new event and the history name the reverted event', async () => {
    const v1 = await versionOf(h.db, 'ORG-000804');
    const edit = await h.call('otherCrm', 'PATCH', '/v1/customers/ORG-000804', {
      headers: { 'if-match': `"${v1}"` },
      body: { changes: { contactEmail: 'wrong@tailspin.test' }, reason: 'New contact' },
    });
    expect(edit.statusCode, edit.body).toBe(200);
    const changed = String((await auditEventsFor(h.db.admin, 'ORG-000804')).at(-1)?.id);
    const revert = await h.call('otherCrm', 'PATCH', '/v1/customers/ORG-000804', {
      headers: { 'if-match': edit.headers.etag as string },
      body: { changes: { contactEmail: 'first@tailspin.test' }, reason: `Revert of change #${changed}`, revertOf: changed },
    });
    expect(revert.statusCode, revert.body).toBe(200);
    expect(revert.json()).toMatchObject({ customer: { contactEmail: 'first@tailspin.test' } });
    expect((await auditEventsFor(h.db.admin, 'ORG-000804')).at(-1)).toMatchObject({ revert_of: changed });
    const history = AuditPage.parse((await h.call('otherCrm', 'GET', '/v1/customers/ORG-000804/audit')).json());
    expect(history.items[0]).toMatchObject({ revertOf: changed, changes: [{ field: 'contactEmail', before: 'wrong@tailspin.test', after: 'first@tailspin.test' }] });
  });

  it.each([['not a number', 'abc'], ['zero', '0'], ['another customer’s event', 'OTHER']])('refuses a revertOf that is %s, changing nothing', async (_n, given) => {
    const other = String((await auditEventsFor(h.db.admin, 'ORG-000801'))[0]?.id);
    const before = await dbState(h.db);
    const res = await h.call('otherCrm', 'PATCH', '/v1/customers/ORG-000804', {
      headers: { 'if-match': `"${await versionOf(h.db, 'ORG-000804')}"` },
      body: { changes: { contactEmail: 'x@tailspin.test' }, reason: 'Revert of something', revertOf: given === 'OTHER' ? other : given },
    });
    expectProblem(res, 400);
    expect(await dbState(h.db)).toBe(before);
  });
});

describe('staff sightings', () => {
  it('note a person once per interval, and a failed recording neither throws nor keeps them from being noted again', async () => {
    const calls: string[][] = [];
    let fail = true;
    const s = new StaffSightings(
      async (people) => {
        calls.push(people.map((p) => p.sub));
        if (fail) throw new Error('database away');
        return people.length;
      },
      { everyMs: 60_000, flushMs: 60_000, onError: () => undefined },
    );
    const alice = { sub: 'alice', name: 'Alice', roles: ['crm'], scopes: [] };
    s.note(alice, 1000);
    s.note(alice, 2000);
    s.note({ sub: 'svc', name: 'svc', roles: [], scopes: ['predictions:write'] }, 2000);
    await s.flush();
    expect(calls).toEqual([['alice']]);
    fail = false;
    s.note(alice, 3000); // the failed recording forgot her: noted again
    s.note({ ...alice, roles: ['crm', 'admin'] }, 3001); // roles changed: noted again at once
    await s.flush();
    expect(calls).toEqual([['alice'], ['alice']]);
    s.note(alice, 4000);
    s.note(alice, 70_000);
    await s.close();
    expect(calls).toEqual([['alice'], ['alice'], ['alice']]);
  });
});
