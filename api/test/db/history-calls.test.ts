// A customer's history page is one database call: api.customer_audit, which
// reads the page and writes its access event. It does not seal the hash chain
// first: a seal per page made every history request of the process wait behind
// the seals of all the others (one at a time), and the bench's history scenario
// answered 44-195 requests/s against the naive endpoint's 1,300-2,100. Events
// the background sealer has not linked yet show without prevHash/hash.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore, type Db } from '../../src/db/pg-store';
import { accessEventsFor, actors, createTestDatabase, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

/** The API's connection, noting the name of every call made through it. */
function countingDb(url: string): Db & { names: string[] } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const names: string[] = [];
  return {
    names,
    async call(name, text, values) {
      names.push(name);
      return (await pool.query<{ r: unknown }>({ text, values })).rows[0]?.r;
    },
    close: () => pool.end(),
  };
}

describe('a customer history page', () => {
  it('is one call of api.customer_audit, with its access event, and seals nothing', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000901', ownerSub: 'alice' });
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 1, { userCount: 901 }, 'History call count');
    const db = countingDb(t.apiUrl);
    const store = new PgStore(db, 'postgres', { sealIntervalMs: 0 });
    try {
      const page = await store.customerAudit(actors.alice, testContext({ requestId: 'req-history-calls' }), 'ORG-000901', undefined, 50);
      expect(db.names).toEqual(['customerAudit']);
      // Not sealed yet (background sealing is off here): shown, without its link.
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({ reason: 'History call count', prevHash: null, hash: null });
      expect((await accessEventsFor(t.admin, 'ORG-000901')).filter((a) => a.request_id === 'req-history-calls')).toHaveLength(1);
      // Once sealed, the same page shows the link.
      await t.store.sealAudit();
      const sealed = await store.customerAudit(actors.alice, testContext(), 'ORG-000901', undefined, 50);
      expect(sealed.items[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await store.close();
    }
  });
});
