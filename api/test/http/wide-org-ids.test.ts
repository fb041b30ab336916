// Organization ids past a million customers: ORG- and 6 to 12 digits. A 7- and a
// 12-digit id are created, read, edited, searched and paged like any other; 5 and
// 13 digits are refused by the API and, for a caller that gets past it, by the
// database itself (its CHECK and the api.* functions' own checks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerDetail, CustomerListPage } from '../../../shared/api';
import { accessEventsFor, actors, auditEventsFor, customerFields, seedCustomer, testContext } from '../../../testing/db';
import { expectProblem, startHarness, type Harness } from './harness';

let h: Harness;
const SEVEN = 'ORG-1000000';
const TWELVE = 'ORG-999999999999';

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: 'ORG-999999', ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Wideco Six' });
});
afterAll(() => h?.close());

describe.each([SEVEN, TWELVE])('%s', (orgId) => {
  it('is created, read with its access event, edited with its audit event', async () => {
    const created = await h.call('owner', 'POST', '/v1/customers', {
      body: { customer: { orgId, ...customerFields({ orgName: `Wideco ${orgId.length - 4}` }) }, reason: 'Customer number one million and on' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe(`/v1/customers/${orgId}`);

    const read = await h.call('owner', 'GET', `/v1/customers/${orgId}`);
    expect(read.statusCode, read.body).toBe(200);
    expect((read.json() as CustomerDetail).customer.orgId).toBe(orgId);
    expect((await accessEventsFor(h.db.admin, orgId)).length).toBeGreaterThanOrEqual(1);

    const edited = await h.call('owner', 'PATCH', `/v1/customers/${orgId}`, {
      body: { changes: { userCount: 77 }, reason: 'Seats changed' },
      headers: { 'if-match': String(read.headers.etag) },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect((edited.json() as CustomerDetail).customer.userCount).toBe(77);
    expect((await auditEventsFor(h.db.admin, orgId)).map((e) => e.action)).toEqual(['customer.create', 'customer.update']);
  });
});

it('searches and pages across ids of 6, 7 and 12 digits', async () => {
  const found = await h.call('owner', 'GET', '/v1/customers?q=Wideco&limit=50');
  expect(found.statusCode, found.body).toBe(200);
  expect((found.json() as CustomerListPage).items.map((i) => i.orgId).sort()).toEqual([SEVEN, 'ORG-999999', TWELVE].sort());

  // One row a page: every cursor names an id of another width, and each row comes once.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const url = `/v1/customers?q=Wideco&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await h.call('owner', 'GET', url);
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json() as CustomerListPage;
    seen.push(...body.items.map((i) => i.orgId));
    cursor = body.nextCursor;
  } while (cursor && seen.length < 10);
  expect(seen.sort()).toEqual([SEVEN, 'ORG-999999', TWELVE].sort());
});

describe.each(['ORG-12345', 'ORG-1234567890123'])('%s', (orgId) => {
  it('is refused by the API, on create and on read', async () => {
    const created = await h.call('owner', 'POST', '/v1/customers', {
      body: { customer: { orgId, ...customerFields() }, reason: 'Bad id' },
    });
    const problem = expectProblem(created, 400);
    expect((problem.errors as { path: string }[]).map((e) => e.path)).toContain('body.customer.orgId');
    expectProblem(await h.call('owner', 'GET', `/v1/customers/${orgId}`), 400);
  });

  it('is refused by the database: api.customer_create as cims_api, and the table CHECK even to its owner', async () => {
    // The store sends what it is given: this is a caller past the API's own check.
    await expect(
      h.db.store.createCustomer(actors.alice, testContext(), { customer: { orgId, ...customerFields() }, reason: 'Bad id' }),
    ).rejects.toMatchObject({ kind: 'validation' });
    await expect(seedCustomer(h.db.admin, { orgId, ownerSub: 'alice' })).rejects.toMatchObject({ code: '23514' });
  });
});
