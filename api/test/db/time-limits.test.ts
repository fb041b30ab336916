// Time limits in the database: the API's role has a statement, lock and
// idle-in-transaction timeout of its own (migration 006), a statement or lock
// wait past them is a 503 busy (never a 500, never a hung request), and a
// search that would match most customers is answered at once as too broad
// instead of materializing and sorting them all.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_MAX_MATCHES } from '../../../shared/api';
import { actors, createTestDatabase, testContext, type TestDatabase } from '../../../testing/db';
import { StoreError } from '../../src/db/store';

const CUSTOMERS = 60_000;
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  // Fixtures straight into the table as its owner: every contact email ends in .com.
  await t.admin.query('BEGIN');
  await t.admin.query('SET LOCAL ROLE cims_owner');
  await t.admin.query(
    `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
       contract_value_cents, currency, renewal_date, owner_sub, owner_name)
     SELECT 'ORG-' || lpad(i::text, 6, '0'), 'Company ' || i, 'Contact ' || i, 'contact' || i || '@company' || i || '.com',
            '+1 555 ' || lpad(i::text, 6, '0'), 10, 100000, 'EUR', DATE '2027-01-01' + (i % 365),
            CASE WHEN i % 2 = 0 THEN 'alice' ELSE 'carol' END, 'Owner'
       FROM generate_series(1, $1::integer) i`,
    [CUSTOMERS],
  );
  await t.admin.query('COMMIT');
  await t.admin.query('ANALYZE core.customers');
}, 120_000);
afterAll(() => t?.drop());

async function asApi<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: t.apiUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('the API role', () => {
  it('logs in with a statement, lock and idle-in-transaction timeout', async () => {
    const settings = await asApi(async (c) => {
      const show = async (name: string) => (await c.query<{ v: string }>('SELECT current_setting($1) AS v', [name])).rows[0]?.v;
      return {
        statement: await show('statement_timeout'),
        lock: await show('lock_timeout'),
        idle: await show('idle_in_transaction_session_timeout'),
      };
    });
    expect(settings).toEqual({ statement: '5s', lock: '2s', idle: '10s' });
  });

  it('has a statement that runs past the limit cancelled (57014)', async () => {
    const started = Date.now();
    const err = await asApi((c) => c.query('SELECT pg_sleep(30)').then(() => null, (e: unknown) => e));
    expect(err).toMatchObject({ code: '57014' });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('gives up waiting for a lock, and the store answers busy', async () => {
    const holder = new pg.Client({ connectionString: t.adminUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT 1 FROM core.customers WHERE org_id = 'ORG-000002' FOR UPDATE");
      const started = Date.now();
      const err = await t.store
        .updateCustomer(actors.alice, testContext(), 'ORG-000002', 1, { userCount: 11 }, 'Waiting for a lock')
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ kind: 'busy', message: expect.stringMatching(/locked/) });
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  }, 20_000);
});

describe('a broad search', () => {
  it(`is answered at once as too broad when it matches more than ${SEARCH_MAX_MATCHES} customers, showing and logging no one`, async () => {
    const accessBefore = Number((await t.admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.access_events')).rows[0]?.n);
    const started = Date.now();
    const page = await t.store.searchCustomers(actors.bob, testContext(), { q: '.com', sort: 'name', limit: 50 });
    const ms = Date.now() - started;
    expect(page).toEqual({ items: [], nextCursor: null, tooBroad: true });
    expect(ms).toBeLessThan(2_000);
    const accessAfter = Number((await t.admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.access_events')).rows[0]?.n);
    expect(accessAfter).toBe(accessBefore);
  });

  it('still answers a narrow one, and a broad one narrowed by filters', async () => {
    const one = await t.store.searchCustomers(actors.bob, testContext(), { q: 'company12345.com', sort: 'name', limit: 50 });
    expect(one.items.map((c) => c.orgId)).toEqual(['ORG-012345']);
    expect(one.tooBroad).toBeUndefined();
    // Browsing without a query walks the sort order's index: never too broad.
    const browse = await t.store.searchCustomers(actors.bob, testContext(), { sort: 'renewal', limit: 50 });
    expect(browse.items).toHaveLength(50);
    expect(browse.tooBroad).toBeUndefined();
  });
});
