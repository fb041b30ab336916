// Customer writes through the store (as cims_api): authorization re-checked in
// the database, one audit event per write with field-level before/after,
// optimistic concurrency, search and prediction ingestion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CustomerDetail, CustomerListPage, CustomerListQuery, AuditPage, AuditQuery } from '../../../shared/api';
import { StoreError } from '../../src/db/store';
import {
  accessEventsFor,
  actors,
  applied,
  auditEventCount,
  auditEventsFor,
  createTestDatabase,
  customerFields,
  customerRow,
  seedBilling,
  seedCustomer,
  seedPrediction,
  seedUsage,
  testContext,
  type TestDatabase,
} from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const storeError = (kind: StoreError['kind']) => expect.objectContaining({ name: 'StoreError', kind });

describe('create', () => {
  it('a CRM creates a customer they then own; one audit event lists every field', async () => {
    const detail = await t.store.createCustomer(actors.alice, testContext({ requestId: 'req-create-1' }), {
      customer: { orgId: 'ORG-000101', ...customerFields({ orgName: 'Bergström & Söhne <b>' }) },
      reason: 'New contract signed',
    });
    expect(CustomerDetail.parse(detail)).toEqual(detail);
    expect(detail.customer).toMatchObject({ orgId: 'ORG-000101', ownerSub: 'alice', ownerName: 'Alice Adams', version: 1, status: 'active' });
    expect(detail.customer.orgName).toBe('Bergström & Söhne <b>'); // stored and returned literally
    const events = await auditEventsFor(t.admin, 'ORG-000101');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'customer.create', actor_sub: 'alice', reason: 'New contract signed', request_id: 'req-create-1', client_address: '127.0.0.1' });
    expect(events[0]?.changes).toContainEqual({ field: 'contractValueCents', before: null, after: 4_800_000 });
    expect(events[0]?.changes).toHaveLength(8);
  });

  it('refuses a duplicate organization id, a support lead and a service account, leaving no event', async () => {
    const before = await auditEventCount(t.admin);
    const input = { customer: { orgId: 'ORG-000101', ...customerFields() }, reason: 'Again please' };
    await expect(t.store.createCustomer(actors.carol, testContext(), input)).rejects.toEqual(storeError('duplicate'));
    const fresh = { customer: { orgId: 'ORG-000102', ...customerFields() }, reason: 'Not mine to add' };
    await expect(t.store.createCustomer(actors.bob, testContext(), fresh)).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.createCustomer(actors.modelRunner, testContext(), fresh)).rejects.toEqual(storeError('forbidden'));
    expect(await customerRow(t.admin, 'ORG-000102')).toBeUndefined();
    expect(await auditEventCount(t.admin)).toBe(before);
  });

  it('refuses values the database does not accept as validation errors', async () => {
    const bad = { customer: { orgId: 'ORG-000103', ...customerFields({ contactPhone: "'; DROP TABLE x; --" }) }, reason: 'Bad phone' };
    await expect(t.store.createCustomer(actors.alice, testContext(), bad)).rejects.toEqual(storeError('validation'));
    const noReason = { customer: { orgId: 'ORG-000103', ...customerFields() }, reason: '  ' };
    await expect(t.store.createCustomer(actors.alice, testContext(), noReason)).rejects.toEqual(storeError('validation'));
    expect(await customerRow(t.admin, 'ORG-000103')).toBeUndefined();
  });
});

describe('update', () => {
  beforeAll(async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000201', ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedCustomer(t.admin, { orgId: 'ORG-000202', ownerSub: 'alice', ownerName: 'Alice Adams' });
  });

  it('the owning CRM updates with the current version: version + 1, one event with before/after of changed fields only', async () => {
    const detail = applied(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000201', 1, { userCount: 150, currency: 'EUR', contactName: 'Sam Poe' }, 'Headcount grew'));
    expect(detail.customer.version).toBe(2);
    expect(detail.customer.userCount).toBe(150);
    const events = await auditEventsFor(t.admin, 'ORG-000201');
    expect(events).toHaveLength(1);
    expect(events[0]?.action).toBe('customer.update');
    expect(events[0]?.changes).toEqual([
      { field: 'contactName', before: 'Jordan Lee', after: 'Sam Poe' },
      { field: 'userCount', before: 120, after: 150 },
    ]); // currency was sent unchanged: not listed
  });

  it('a patch that changes nothing changes nothing and records nothing', async () => {
    const detail = applied(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000201', 2, { userCount: 150 }, 'Same again'));
    expect(detail.customer.version).toBe(2);
    expect(await auditEventsFor(t.admin, 'ORG-000201')).toHaveLength(1);
  });

  it('another CRM, a support lead, an admin and a service account are refused; nothing changes, nothing is recorded', async () => {
    const before = await auditEventCount(t.admin);
    const row = await customerRow(t.admin, 'ORG-000201');
    for (const actor of [actors.carol, actors.bob, actors.erin, actors.modelRunner]) {
      await expect(t.store.updateCustomer(actor, testContext(), 'ORG-000201', 2, { userCount: 1 }, 'Not my customer')).rejects.toEqual(storeError('forbidden'));
    }
    expect(await customerRow(t.admin, 'ORG-000201')).toEqual(row);
    expect(await auditEventCount(t.admin)).toBe(before);
  });

  it('a stale version is a conflict; an unknown customer is not found; an unknown field is refused', async () => {
    await expect(t.store.updateCustomer(actors.alice, testContext(), 'ORG-000201', 1, { userCount: 9 }, 'Stale')).rejects.toEqual(storeError('conflict'));
    await expect(t.store.updateCustomer(actors.alice, testContext(), 'ORG-000299', 1, { userCount: 9 }, 'Ghost')).rejects.toEqual(storeError('not_found'));
    const sneaky = { userCount: 9, ownerSub: 'alice' } as unknown as { userCount: number };
    await expect(t.store.updateCustomer(actors.alice, testContext(), 'ORG-000201', 2, sneaky, 'Mass assignment')).rejects.toEqual(storeError('validation'));
    expect((await customerRow(t.admin, 'ORG-000201'))?.user_count).toBe(150);
  });

  it('in one batch, each edit gets its own outcome; a failed edit leaves no change and no event, the others commit', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000203', ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedCustomer(t.admin, { orgId: 'ORG-000204', ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedCustomer(t.admin, { orgId: 'ORG-000205', ownerSub: 'carol', ownerName: 'Carol Chen' });
    const edit = (actor: (typeof actors)['alice'], orgId: string, version: number, changes: object, reason = 'Batch edit') =>
      t.store.updateCustomer(actor, testContext(), orgId, version, changes as { userCount: number }, reason);
    // The first edit starts a batch of its own; the next five wait for it and share one batch.
    const settled = await Promise.allSettled([
      edit(actors.alice, 'ORG-000203', 1, { userCount: 11 }),
      edit(actors.alice, 'ORG-000204', 1, { userCount: 21 }),
      edit(actors.alice, 'ORG-000204', 1, { userCount: 22 }), // same version again: stale
      edit(actors.alice, 'ORG-000205', 1, { userCount: 31 }), // carol's customer
      edit(actors.alice, 'ORG-000203', 2, { userCount: -5 }), // refused by the table's check
      edit(actors.alice, 'ORG-000203', 2, { contactName: 'Robin Vale' }),
    ]);
    expect(settled.map((r) => (r.status === 'fulfilled' ? applied(r.value).customer.version : r.reason))).toEqual([
      2,
      2,
      storeError('conflict'),
      storeError('forbidden'),
      new StoreError('validation', 'userCount is not valid'),
      3,
    ]);
    expect((await customerRow(t.admin, 'ORG-000203'))).toMatchObject({ user_count: 11, contact_name: 'Robin Vale', version: 3 });
    expect((await customerRow(t.admin, 'ORG-000204'))).toMatchObject({ user_count: 21, version: 2 });
    expect((await customerRow(t.admin, 'ORG-000205'))).toMatchObject({ version: 1 });
    expect((await auditEventsFor(t.admin, 'ORG-000203')).map((e) => e.changes)).toEqual([
      [{ field: 'userCount', before: 120, after: 11 }],
      [{ field: 'contactName', before: 'Jordan Lee', after: 'Robin Vale' }],
    ]);
    expect(await auditEventsFor(t.admin, 'ORG-000204')).toHaveLength(1);
    expect(await auditEventsFor(t.admin, 'ORG-000205')).toHaveLength(0);
  });

  it('two writers with the same version: exactly one wins, the other gets a conflict, no update is lost', async () => {
    const results = await Promise.allSettled([
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000202', 1, { userCount: 300 }, 'Writer one'),
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000202', 1, { contractValueCents: 7 }, 'Writer two'),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toEqual(storeError('conflict'));
    const row = await customerRow(t.admin, 'ORG-000202');
    expect(row?.version).toBe(2);
    const events = await auditEventsFor(t.admin, 'ORG-000202');
    expect(events).toHaveLength(1);
    // The stored row is exactly the winner's change, and its event says so.
    const winner = (won[0] as PromiseFulfilledResult<CustomerDetail>).value.customer;
    expect(row?.user_count).toBe(winner.userCount);
    expect(Number(row?.contract_value_cents)).toBe(winner.contractValueCents);
    expect((events[0]?.changes as unknown[]).length).toBe(1);
  });

  it('an admin reassigns; the new owner may edit, the old one may not', async () => {
    await t.store.staffSeen([actors.carol]);
    const r = await t.store.applyAssignment(actors.erin, testContext(), { orgIds: ['ORG-000202'], toOwner: 'carol', reason: 'Territory change' });
    expect(r.moved).toEqual([{ orgId: 'ORG-000202', fromOwnerSub: 'alice', version: 3 }]);
    const events = await auditEventsFor(t.admin, 'ORG-000202');
    expect(events.at(-1)?.changes).toEqual([
      { field: 'ownerSub', before: 'alice', after: 'carol' },
      { field: 'ownerName', before: 'Alice Adams', after: 'Carol Chen' },
    ]);
    await expect(t.store.updateCustomer(actors.alice, testContext(), 'ORG-000202', 3, { userCount: 1 }, 'Still mine?')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.updateCustomer(actors.carol, testContext(), 'ORG-000202', 3, { userCount: 1 }, 'Mine now')).resolves.toBeDefined();
    await expect(t.store.applyAssignment(actors.alice, testContext(), { orgIds: ['ORG-000202'], toOwner: 'alice', reason: 'Take it back' })).rejects.toEqual(storeError('forbidden'));
  });
});

describe('archive', () => {
  it('support leads archive (one event), another CRM cannot; archived customers leave the default search and refuse edits', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000301', ownerSub: 'alice', orgName: 'Zebra Archive Co' });
    await expect(t.store.archiveCustomer(actors.carol, testContext(), 'ORG-000301', 1, 'Closing')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.archiveCustomer(actors.erin, testContext(), 'ORG-000301', 1, 'Closing')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.archiveCustomer(actors.bob, testContext(), 'ORG-000301', 7, 'Closing')).rejects.toEqual(storeError('conflict'));
    const d = applied(await t.store.archiveCustomer(actors.bob, testContext(), 'ORG-000301', 1, 'Customer left'));
    expect(d.customer).toMatchObject({ status: 'archived', version: 2 });
    const events = await auditEventsFor(t.admin, 'ORG-000301');
    expect(events.map((e) => e.action)).toEqual(['customer.archive']);
    expect(events[0]?.changes).toEqual([{ field: 'status', before: 'active', after: 'archived' }]);
    const q = (extra: object) => CustomerListQuery.parse({ q: 'Zebra Archive', ...extra });
    expect((await t.store.searchCustomers(actors.alice, testContext(), q({}))).items).toHaveLength(0);
    expect((await t.store.searchCustomers(actors.alice, testContext(), q({ includeArchived: 'true' }))).items).toHaveLength(1);
    await expect(t.store.updateCustomer(actors.alice, testContext(), 'ORG-000301', 2, { userCount: 1 }, 'Edit archived')).rejects.toEqual(storeError('conflict'));
  });
});

describe('read', () => {
  it('returns the whole record with masked billing, usage summary and latest predictions, and logs the access', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000401', ownerSub: 'carol' });
    await seedBilling(t.admin, 'ORG-000401', { brand: 'visa', last4: '4242' });
    await seedUsage(t.admin, 'ORG-000401', 45, 40);
    await seedPrediction(t.admin, { orgId: 'ORG-000401', score: 0.2, scoredAt: '2026-10-01T00:00:00Z' });
    await seedPrediction(t.admin, { orgId: 'ORG-000401', score: 0.7, scoredAt: '2026-11-01T00:00:00Z' });
    const d = await t.store.getCustomer(actors.alice, testContext({ requestId: 'req-read-1', clientAddress: '10.1.2.3' }), 'ORG-000401');
    expect(CustomerDetail.parse(d)).toEqual(d);
    expect(d.billing).toEqual([{ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 }]);
    expect(d.usage).toMatchObject({ days: 45, activeUsersLatest: 40, activeUsersAvg30: 40 });
    expect(d.predictions).toHaveLength(1);
    expect(d.predictions[0]?.score).toBe(0.7);
    const access = await accessEventsFor(t.admin, 'ORG-000401');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ actor_sub: 'alice', request_id: 'req-read-1', client_address: '10.1.2.3' });
  });

  it('a service account cannot read, and an unknown id is not found (neither is logged)', async () => {
    await expect(t.store.getCustomer(actors.modelRunner, testContext(), 'ORG-000401')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.getCustomer(actors.alice, testContext(), 'ORG-000499')).rejects.toEqual(storeError('not_found'));
    expect(await accessEventsFor(t.admin, 'ORG-000401')).toHaveLength(1);
    expect(await accessEventsFor(t.admin, 'ORG-000499')).toHaveLength(0);
  });

  it('many concurrent reads are all logged (they share batches)', async () => {
    await Promise.all(Array.from({ length: 25 }, () => t.store.getCustomer(actors.bob, testContext(), 'ORG-000401')));
    expect(await accessEventsFor(t.admin, 'ORG-000401')).toHaveLength(26);
  });

  it('in one batch, each read gets its own answer and only the records shown are logged', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000402', ownerSub: 'alice' });
    const reads = [
      t.store.getCustomer(actors.alice, testContext({ requestId: 'req-batch-1' }), 'ORG-000402'),
      t.store.getCustomer(actors.modelRunner, testContext(), 'ORG-000402'),
      t.store.getCustomer(actors.alice, testContext(), 'ORG-000498'),
      t.store.getCustomer(actors.alice, testContext({ requestId: 'x'.repeat(201) }), 'ORG-000402'),
      t.store.getCustomer(actors.bob, testContext({ requestId: 'req-batch-5' }), 'ORG-000402'),
    ];
    const settled = await Promise.allSettled(reads);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect(settled.map((s) => (s.status === 'rejected' ? s.reason : s.value.customer.orgId))).toEqual([
      'ORG-000402',
      storeError('forbidden'),
      storeError('not_found'),
      storeError('validation'),
      'ORG-000402',
    ]);
    const access = await accessEventsFor(t.admin, 'ORG-000402');
    expect(access.map((a) => [a.actor_sub, a.request_id])).toEqual([
      ['alice', 'req-batch-1'],
      ['bob', 'req-batch-5'],
    ]);
  });

  it('commits a batch of reads or edits with a WAL flush before answering it, whatever the session asks of commits', async () => {
    // A role (or database) set to commit without waiting for the flush must not weaken the guarantee.
    const who = { sub: 'alice', name: 'Alice', roles: ['crm'], scopes: [], requestId: 'req-sync-1', clientAddress: null, appVersion: null };
    const batches = [
      ['customer_read', [{ ...who, orgId: 'ORG-000402' }]],
      ['customer_update_many', [{ ...who, orgId: 'ORG-000402', expectedVersion: 1, changes: { userCount: 5 }, reason: 'Sync check' }]],
    ] as const;
    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      await api.query('SET synchronous_commit = off');
      for (const [fn, items] of batches) {
        await api.query('BEGIN');
        await api.query(`SELECT api.${fn}($1::jsonb)`, [JSON.stringify(items)]);
        const { rows } = await api.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s");
        expect(rows[0]?.s, fn).toBe('on');
        await api.query('COMMIT');
      }
    } finally {
      await api.end();
    }
  });

  it('commits every other read that writes access events with a WAL flush too, whatever the session asks', async () => {
    // The API answers when the function's transaction has committed; with the flush forced on,
    // that commit is durable. Each call below writes an access event.
    const actor = ['alice', 'Alice', ['crm'], []];
    const lead = ['bob', 'Bob', ['support_lead'], []];
    const ctx = ['req-sync-2', '127.0.0.1', '0.1.0'];
    const A = '$1::text, $2::text, $3::text[], $4::text[], $5::text, $6::text, $7::text';
    const calls: [string, unknown[]][] = [
      [`api.customer_search(${A}, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, [...actor, ...ctx, null, false, null, null, true, 'name', null, null, 10]],
      [`api.customer_usage(${A}, $8, $9::date, $10::date)`, [...actor, ...ctx, 'ORG-000402', '2026-01-01', '2026-01-31']],
      [`api.customer_predictions(${A}, $8)`, [...actor, ...ctx, 'ORG-000402']],
      [`api.customer_audit(${A}, $8, $9::bigint, $10)`, [...actor, ...ctx, 'ORG-000402', null, 10]],
      [`api.audit_export(${A}, $8, $9, $10, $11, $12::timestamptz, $13::timestamptz)`, [...lead, ...ctx, null, 'ORG-000402', null, null, null, null]],
      [`api.audit_events(${A}, $8, $9, $10, $11, $12::timestamptz, $13::timestamptz, $14::bigint, $15)`, [...lead, ...ctx, null, 'ORG-000402', null, null, null, null, null, 10]],
      [`api.customer_archive(${A}, $8, $9::integer, $10)`, [...lead, ...ctx, 'ORG-000403', null, 'Archived already']],
    ];
    await seedCustomer(t.admin, { orgId: 'ORG-000403', ownerSub: 'alice', status: 'archived' });
    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      await api.query('SET synchronous_commit = off');
      for (const [fn, values] of calls) {
        await api.query('BEGIN');
        await api.query(`SELECT ${fn}`, values);
        const { rows } = await api.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s");
        expect(rows[0]?.s, fn).toBe('on');
        await api.query('COMMIT');
        const logged = await t.admin.query("SELECT 1 FROM audit.access_events WHERE request_id = 'req-sync-2'");
        expect(logged.rowCount, fn).toBe(calls.findIndex(([f]) => f === fn) + 1);
      }
    } finally {
      await api.end();
    }
  });

  it('refuses a batch that is not an array of 1 to 1000 items', async () => {
    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      for (const items of ['{}', '[]', JSON.stringify(Array.from({ length: 1001 }, () => ({})))]) {
        await expect(api.query('SELECT api.customer_read($1::jsonb)', [items])).rejects.toMatchObject({ code: 'CV422' });
        await expect(api.query('SELECT api.customer_update_many($1::jsonb)', [items])).rejects.toMatchObject({ code: 'CV422' });
      }
    } finally {
      await api.end();
    }
  });
});

describe('search', () => {
  beforeAll(async () => {
    const names = ['Nimbus Freight', 'Atlas Dental', 'Orbit Foods', 'Kite Robotics', 'Delta Nimbus'];
    for (const [i, orgName] of names.entries()) {
      const orgId = `ORG-0005${String(i).padStart(2, '0')}`;
      await seedCustomer(t.admin, {
        orgId,
        ownerSub: i % 2 ? 'carol' : 'alice',
        orgName,
        contactEmail: `c${i}@search${i}.example`,
        contactPhone: `+44 20 7946 0${i}00`,
        renewalDate: `2026-12-0${i + 1}`,
        latestChurnRisk: i === 2 ? null : i / 10,
      });
    }
  });

  it('finds by organization name, id, email or phone, case-insensitively, treating % and _ literally', async () => {
    const find = async (q: string) => (await t.store.searchCustomers(actors.alice, testContext(), CustomerListQuery.parse({ q }))).items.map((c) => c.orgId);
    expect(await find('nimbus')).toEqual(['ORG-000504', 'ORG-000500']); // by name: Delta Nimbus, Nimbus Freight
    expect(await find('ORG-000503')).toEqual(['ORG-000503']);
    expect(await find('search2.example')).toEqual(['ORG-000502']);
    expect(await find('7946 0100')).toEqual(['ORG-000501']);
    expect(await find('ki')).toEqual(['ORG-000503']); // one or two characters: organization name prefix
    expect(await find('%')).toEqual([]);
    expect(await find("' OR 1=1 --")).toEqual([]);
  });

  it('pages with an opaque cursor in a stable order for each sort, without gaps or repeats', async () => {
    for (const sort of ['name', 'renewal', 'churnRisk'] as const) {
      const all = await t.store.searchCustomers(actors.bob, testContext(), CustomerListQuery.parse({ sort, limit: 200 }));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.store.searchCustomers(actors.bob, testContext(), CustomerListQuery.parse({ sort, limit: 2, ...(cursor ? { cursor } : {}) }));
        expect(CustomerListPage.parse(page)).toEqual(page);
        seen.push(...page.items.map((c) => c.orgId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.items.map((c) => c.orgId));
    }
    const byRisk = await t.store.searchCustomers(actors.bob, testContext(), CustomerListQuery.parse({ sort: 'churnRisk', q: 'search' }));
    expect(byRisk.items.map((c) => c.churnRisk)).toEqual([0.4, 0.3, 0.1, 0, null]);
  });

  it('filters by owner, renewal window and churn risk; rejects a tampered cursor', async () => {
    const mine = await t.store.searchCustomers(actors.carol, testContext(), CustomerListQuery.parse({ owner: 'me', q: 'search' }));
    expect(mine.items.every((c) => c.ownerSub === 'carol')).toBe(true);
    expect(mine.items).toHaveLength(2);
    const risky = await t.store.searchCustomers(actors.carol, testContext(), CustomerListQuery.parse({ minChurnRisk: 0.3, q: 'search' }));
    expect(risky.items.map((c) => c.orgId).sort()).toEqual(['ORG-000503', 'ORG-000504']);
    const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
    await seedCustomer(t.admin, { orgId: 'ORG-000590', ownerSub: 'carol', orgName: 'Window Soon', renewalDate: inDays(3) });
    await seedCustomer(t.admin, { orgId: 'ORG-000591', ownerSub: 'carol', orgName: 'Window Late', renewalDate: inDays(40) });
    const soon = await t.store.searchCustomers(actors.carol, testContext(), CustomerListQuery.parse({ q: 'Window', renewalWithinDays: 30 }));
    expect(soon.items.map((c) => c.orgId)).toEqual(['ORG-000590']);
    await expect(t.store.searchCustomers(actors.carol, testContext(), CustomerListQuery.parse({ cursor: 'not-a-cursor' }))).rejects.toEqual(storeError('validation'));
    await expect(t.store.searchCustomers(actors.modelRunner, testContext(), CustomerListQuery.parse({}))).rejects.toEqual(storeError('forbidden'));
  });
});

describe('predictions', () => {
  const batch = (score: number, scoredAt: string) => ({
    predictions: [
      { orgId: 'ORG-000601', kind: 'churn_risk' as const, modelName: 'churn-gbm', modelVersion: '2.1.0', score, topFactors: [{ factor: 'seats_drop', weight: 0.6 }], scoredAt },
      { orgId: 'ORG-000601', kind: 'upsell_propensity' as const, modelName: 'upsell-lr', modelVersion: '1.0.0', score: 0.5, topFactors: [], scoredAt },
    ],
  });

  it('ingestion is for the predictions:write scope only, idempotent, keeps history and updates the latest churn risk', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000601', ownerSub: 'alice' });
    await expect(t.store.ingestPredictions(actors.alice, testContext(), batch(0.3, '2026-11-01T00:00:00Z'))).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.ingestPredictions(actors.bob, testContext(), batch(0.3, '2026-11-01T00:00:00Z'))).rejects.toEqual(storeError('forbidden'));
    const before = await auditEventCount(t.admin);
    expect(await t.store.ingestPredictions(actors.modelRunner, testContext(), batch(0.3, '2026-11-01T00:00:00Z'))).toEqual({ accepted: 2, duplicates: 0 });
    expect(await t.store.ingestPredictions(actors.modelRunner, testContext(), batch(0.3, '2026-11-01T00:00:00Z'))).toEqual({ accepted: 0, duplicates: 2 });
    expect(await auditEventCount(t.admin)).toBe(before + 1); // the repeat changed nothing and recorded nothing
    await t.store.ingestPredictions(actors.modelRunner, testContext(), batch(0.8, '2026-11-10T00:00:00Z'));
    await t.store.ingestPredictions(actors.modelRunner, testContext(), batch(0.1, '2026-10-01T00:00:00Z')); // older: history only
    expect((await customerRow(t.admin, 'ORG-000601'))?.latest_churn_risk).toBe(0.8);
    const history = await t.store.predictions(actors.alice, testContext(), 'ORG-000601');
    expect(history.filter((p) => p.kind === 'churn_risk').map((p) => p.score)).toEqual([0.8, 0.3, 0.1]);
    // The service account can do nothing else.
    await expect(t.store.predictions(actors.modelRunner, testContext(), 'ORG-000601')).rejects.toEqual(storeError('forbidden'));
  });

  it('refuses a batch naming an unknown organization, writing nothing', async () => {
    const bad = { predictions: [{ ...batch(0.2, '2026-11-20T00:00:00Z').predictions[0]!, orgId: 'ORG-000699' }] };
    await expect(t.store.ingestPredictions(actors.modelRunner, testContext(), bad)).rejects.toEqual(storeError('validation'));
  });
});

describe('usage and audit reads', () => {
  it('returns usage days in range and the customer history; audit review is for support leads', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000701', ownerSub: 'alice' });
    await seedUsage(t.admin, 'ORG-000701', 10);
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    expect(await t.store.usage(actors.alice, testContext(), 'ORG-000701', weekAgo, today)).toHaveLength(7);
    for (let v = 1; v <= 3; v++) {
      await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000701', v, { userCount: 100 + v }, `Step ${v}`);
    }
    const page1 = await t.store.customerAudit(actors.alice, testContext(), 'ORG-000701', undefined, 2);
    expect(AuditPage.parse(page1)).toEqual(page1);
    expect(page1.items.map((e) => e.reason)).toEqual(['Step 3', 'Step 2']);
    const page2 = await t.store.customerAudit(actors.alice, testContext(), 'ORG-000701', page1.nextCursor ?? undefined, 2);
    expect(page2.items.map((e) => e.reason)).toEqual(['Step 1']);
    const byField = await t.store.auditEvents(actors.bob, testContext(), AuditQuery.parse({ orgId: 'ORG-000701', field: 'userCount', action: 'customer.update' }));
    expect(byField.items).toHaveLength(3);
    await expect(t.store.auditEvents(actors.alice, testContext(), AuditQuery.parse({}))).rejects.toEqual(storeError('forbidden'));
    await expect(t.trail.verify(actors.alice)).rejects.toEqual(storeError('forbidden'));
    await expect(t.trail.checkpoint(actors.alice, 1)).rejects.toEqual(storeError('forbidden'));
  });
});

describe('portfolio summary', () => {
  it('counts what an edit changed, and refuses thresholds out of range', async () => {
    const erinCrm = { ...actors.erin, sub: 'erin-crm', roles: ['crm'] };
    const { version } = await seedCustomer(t.admin, { orgId: 'ORG-000801', ownerSub: erinCrm.sub, latestChurnRisk: 0.8, renewalDate: '2099-01-01' });
    expect(await t.store.portfolioSummary(erinCrm)).toMatchObject({ customers: 1, highChurnRisk: 1, renewingWithin30Days: 0 });
    const { rows } = await t.admin.query<{ d: string }>(`SELECT to_char(current_date + 5, 'YYYY-MM-DD') AS d`);
    await t.store.updateCustomer(erinCrm, testContext(), 'ORG-000801', version, { renewalDate: rows[0]!.d }, 'Renewal moved up');
    expect(await t.store.portfolioSummary(erinCrm)).toMatchObject({ customers: 1, highChurnRisk: 1, renewingWithin30Days: 1 });

    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      for (const [risk, days] of [[1.5, 30], [0.7, -1], [null, 30], [0.7, null]]) {
        await expect(
          api.query('SELECT api.portfolio_summary($1, $2, $3, $4, $5::double precision, $6::integer)', [erinCrm.sub, erinCrm.name, ['crm'], [], risk, days]),
        ).rejects.toMatchObject({ code: 'CV422' });
      }
    } finally {
      await api.end();
    }
  });
});
