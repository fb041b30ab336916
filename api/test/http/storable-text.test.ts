// Text PostgreSQL cannot store (NUL, lone surrogates) is refused at the boundary
// with a field error, and no input of one request can change another request's
// answer: the record batches serialize and check each item on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerDetail } from '../../../shared/api';
import { actors, customerRow, seedCustomer, testContext } from '../../../testing/db';
import { StoreError } from '../../src/db/store';
import { dbState, expectProblem, startHarness, versionOf, type Harness } from './harness';

let h: Harness;
const MINE = 'ORG-000061';
const CAROLS = 'ORG-000062';
const OTHER = 'ORG-000063';

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: MINE, ownerSub: 'alice', ownerName: 'Alice Adams' });
  await seedCustomer(h.db.admin, { orgId: CAROLS, ownerSub: 'carol', ownerName: 'Carol Chen' });
  await seedCustomer(h.db.admin, { orgId: OTHER, ownerSub: 'alice', ownerName: 'Alice Adams' });
});
afterAll(() => h?.close());

const HOSTILE = { nul: 'Acme\u0000Corp', loneHigh: 'Acme \ud800', loneLow: '\udc00 Acme' } as const;

describe.each(Object.entries(HOSTILE))('a %s in user text', (_name, text) => {
  it('PATCH: 400 naming the field, nothing written', async () => {
    const before = await dbState(h.db);
    const res = await h.call('owner', 'PATCH', `/v1/customers/${MINE}`, {
      body: { changes: { orgName: text }, reason: 'Hostile name' },
      headers: { 'if-match': `"${await versionOf(h.db, MINE)}"` },
    });
    const problem = expectProblem(res, 400);
    expect((problem.errors as { path: string }[]).map((e) => e.path)).toContain('body.changes.orgName');
    expect(await dbState(h.db)).toBe(before);
  });

  it('in a reason: 400 naming the reason', async () => {
    const res = await h.call('owner', 'PATCH', `/v1/customers/${MINE}`, {
      body: { changes: { userCount: 9 }, reason: `Because ${text}` },
      headers: { 'if-match': `"${await versionOf(h.db, MINE)}"` },
    });
    expect((expectProblem(res, 400).errors as { path: string }[]).map((e) => e.path)).toContain('body.reason');
  });

});

// A URL cannot carry a lone surrogate (its UTF-8 bytes decode to U+FFFD), but it can carry a NUL.
it('a NUL in a search: 400 naming the query parameter', async () => {
  const res = await h.call('owner', 'GET', `/v1/customers?q=${encodeURIComponent(HOSTILE.nul)}`);
  expect((expectProblem(res, 400).errors as { path: string }[]).map((e) => e.path)).toContain('querystring.q');
});

it('keeps characters outside the BMP (a surrogate pair is not lone)', async () => {
  const res = await h.call('owner', 'PATCH', `/v1/customers/${MINE}`, {
    body: { changes: { contactName: 'Zoë 🚀' }, reason: 'Emoji are text' },
    headers: { 'if-match': `"${await versionOf(h.db, MINE)}"` },
  });
  expect(res.statusCode, res.body).toBe(200);
  expect((res.json() as CustomerDetail).customer.contactName).toBe('Zoë 🚀');
});

describe('one hostile item in a batch fails alone', () => {
  // The first submit starts a batch at once; the two after it wait and share the next one.
  it('edits: another CRM’s edit in the same batch is applied', async () => {
    const mine = await versionOf(h.db, MINE);
    const other = await versionOf(h.db, OTHER);
    const carols = await versionOf(h.db, CAROLS);
    const [first, hostile, good] = await Promise.allSettled([
      h.db.store.updateCustomer(actors.alice, testContext(), MINE, mine, { userCount: 11 }, 'First in line'),
      h.db.store.updateCustomer(actors.alice, testContext(), OTHER, other, { orgName: HOSTILE.nul }, 'Hostile edit'),
      h.db.store.updateCustomer(actors.carol, testContext(), CAROLS, carols, { userCount: 22 }, 'Carol’s edit'),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(hostile.status).toBe('rejected');
    expect((hostile as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
    expect(((hostile as PromiseRejectedResult).reason as StoreError).kind).toBe('validation');
    expect(good.status, good.status === 'rejected' ? String(good.reason) : '').toBe('fulfilled');
    expect(await customerRow(h.db.admin, CAROLS)).toMatchObject({ user_count: 22, version: carols + 1 });
    expect(await customerRow(h.db.admin, OTHER)).toMatchObject({ version: other });
  });

  it('edits: a lone surrogate in a reason takes nothing else with it', async () => {
    const mine = await versionOf(h.db, MINE);
    const carols = await versionOf(h.db, CAROLS);
    const [, hostile, good] = await Promise.allSettled([
      h.db.store.updateCustomer(actors.alice, testContext(), OTHER, await versionOf(h.db, OTHER), { userCount: 5 }, 'First in line'),
      h.db.store.updateCustomer(actors.alice, testContext(), MINE, mine, { userCount: 6 }, `Why ${HOSTILE.loneHigh}`),
      h.db.store.updateCustomer(actors.carol, testContext(), CAROLS, carols, { userCount: 23 }, 'Carol again'),
    ]);
    expect(hostile.status).toBe('rejected');
    expect(good.status, good.status === 'rejected' ? String(good.reason) : '').toBe('fulfilled');
  });

  it('reads: a record read beside a hostile one is answered', async () => {
    const [, hostile, good] = await Promise.allSettled([
      h.db.store.getCustomer(actors.alice, testContext(), MINE),
      h.db.store.getCustomer(actors.alice, testContext(), `ORG-\u00000001`),
      h.db.store.getCustomer(actors.carol, testContext({ appVersion: 'ok' }), CAROLS),
    ]);
    expect(hostile.status).toBe('rejected');
    expect(good.status, good.status === 'rejected' ? String(good.reason) : '').toBe('fulfilled');
  });

  it('reads: a hostile request context fails its own read only', async () => {
    const [, hostile, good] = await Promise.allSettled([
      h.db.store.getCustomer(actors.alice, testContext(), MINE),
      h.db.store.getCustomer(actors.alice, testContext({ appVersion: `1.0${HOSTILE.loneLow}` }), OTHER),
      h.db.store.getCustomer(actors.carol, testContext(), CAROLS),
    ]);
    expect(hostile.status).toBe('rejected');
    expect(good.status, good.status === 'rejected' ? String(good.reason) : '').toBe('fulfilled');
  });
});
