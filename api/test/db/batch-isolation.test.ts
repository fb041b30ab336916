// The record batches, over a stand-in connection that refuses a whole batch
// when one item is bad (as PostgreSQL does for input it cannot cast): each
// other item is still answered, from a call of its own.
import { describe, expect, it } from 'vitest';
import { PgStore, type Db } from '../../src/db/pg-store';
import { StoreError } from '../../src/db/store';
import { actors, customerFields, testContext } from '../../../testing/db';

const detail = (orgId: string) => ({
  customer: {
    ...customerFields(),
    orgId,
    ownerSub: 'carol',
    ownerName: 'Carol Chen',
    status: 'active',
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  },
  billing: [],
  usage: { days: 0, activeUsersLatest: null, activeUsersAvg30: null, trend30: null },
  predictions: [],
});

/** Answers each read with its record, unless the batch holds ORG-000666: then the call fails as a whole. */
function refusingDb(): Db & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    call(_name, _text, values) {
      const items = JSON.parse(String(values[0])) as { orgId: string }[];
      calls.push(items.map((i) => i.orgId));
      if (items.some((i) => i.orgId === 'ORG-000666')) {
        return Promise.reject(Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' }));
      }
      return Promise.resolve(items.map((i) => ({ detail: detail(i.orgId) })));
    },
    close: () => Promise.resolve(),
  };
}

describe('record batches', () => {
  it('a batch refused for one item’s input answers every other item from a call of its own', async () => {
    const db = refusingDb();
    const store = new PgStore(db, 'stand-in', { sealIntervalMs: 0 });
    const [first, bad, good] = await Promise.allSettled([
      store.getCustomer(actors.alice, testContext(), 'ORG-000001'),
      store.getCustomer(actors.alice, testContext(), 'ORG-000666'),
      store.getCustomer(actors.carol, testContext(), 'ORG-000002'),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
    expect(good.status).toBe('fulfilled');
    expect((good as PromiseFulfilledResult<{ customer: { orgId: string } }>).value.customer.orgId).toBe('ORG-000002');
    expect(db.calls).toEqual([['ORG-000001'], ['ORG-000666', 'ORG-000002'], ['ORG-000666'], ['ORG-000002']]);
    await store.close();
  });

  it('an item with text the database cannot store is refused before any call, alone', async () => {
    const db = refusingDb();
    const store = new PgStore(db, 'stand-in', { sealIntervalMs: 0 });
    const [first, bad, good] = await Promise.allSettled([
      store.getCustomer(actors.alice, testContext(), 'ORG-000001'),
      store.getCustomer(actors.alice, testContext({ appVersion: '1\u0000' }), 'ORG-000003'),
      store.getCustomer(actors.carol, testContext(), 'ORG-000002'),
    ]);
    expect([first.status, bad.status, good.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.calls).toEqual([['ORG-000001'], ['ORG-000002']]);
    await store.close();
  });
});
