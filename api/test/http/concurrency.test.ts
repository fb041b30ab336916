// Optimistic concurrency: two CRMs' edits of the same version race; exactly one
// wins, the other gets 412 and nothing of it is written; no update is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerDetail } from '../../../shared/api';
import { auditEventsFor, customerRow, seedCustomer } from '../../../testing/db';
import { expectProblem, startHarness, versionOf, type Harness } from './harness';

let h: Harness;
const ORG = 'ORG-000020';

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams' });
});
afterAll(() => h?.close());

const patch = (etag: string, changes: Record<string, unknown>) =>
  h.call('owner', 'PATCH', `/v1/customers/${ORG}`, { body: { changes, reason: 'Racing edit' }, headers: { 'if-match': etag } });

describe('two writers with the same ETag', () => {
  it.each([1, 2, 3, 4, 5])('round %i: exactly one 200 and one 412, and the winner’s change is what is stored', async () => {
    const version = await versionOf(h.db, ORG);
    const etag = `"${version}"`;
    const eventsBefore = (await auditEventsFor(h.db.admin, ORG)).length;
    const [a, b] = await Promise.all([
      patch(etag, { contactName: `Writer A ${version}` }),
      patch(etag, { contactName: `Writer B ${version}`, userCount: 1000 + version }),
    ]);
    const statuses = [a.statusCode, b.statusCode].sort();
    expect(statuses).toEqual([200, 412]);
    const winner = a.statusCode === 200 ? a : b;
    const loser = a.statusCode === 200 ? b : a;
    expectProblem(loser, 412);

    const stored = await customerRow(h.db.admin, ORG);
    const won = (winner.json() as CustomerDetail).customer;
    expect(stored).toMatchObject({ version: version + 1, contact_name: won.contactName, user_count: won.userCount });
    expect(winner.headers.etag).toBe(`"${version + 1}"`);
    const events = await auditEventsFor(h.db.admin, ORG);
    expect(events).toHaveLength(eventsBefore + 1);
    expect(events.at(-1)?.request_id).toBe(winner.headers['x-request-id']);
  });

  it('the loser succeeds after reading the new version, keeping the winner’s other change', async () => {
    const first = await patch(`"${await versionOf(h.db, ORG)}"`, { userCount: 4242 });
    expect(first.statusCode).toBe(200);
    const stale = await patch(`"${(first.json() as CustomerDetail).customer.version - 1}"`, { contactName: 'Late writer' });
    expectProblem(stale, 412);
    const fresh = await patch(String(first.headers.etag), { contactName: 'Late writer' });
    expect(fresh.statusCode).toBe(200);
    expect(await customerRow(h.db.admin, ORG)).toMatchObject({ user_count: 4242, contact_name: 'Late writer' });
  });
});

describe('If-Match', () => {
  it.each([
    ['missing', undefined, 428],
    ['a wildcard (a blind overwrite)', '*', 428],
    ['a weak ETag', 'W/"1"', 412],
    ['not an ETag', '1', 412],
    ['a version that never existed', '"99999"', 412],
    ['beyond any version', '"99999999999"', 412],
  ])('%s → %i, nothing written', async (_name, ifMatch, status) => {
    const before = await customerRow(h.db.admin, ORG);
    const events = (await auditEventsFor(h.db.admin, ORG)).length;
    const res = await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
      body: { changes: { userCount: 1 }, reason: 'No precondition' },
      headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
    });
    expectProblem(res, status);
    expect(await customerRow(h.db.admin, ORG)).toEqual(before);
    expect(await auditEventsFor(h.db.admin, ORG)).toHaveLength(events);
  });

  it('archive needs If-Match too', async () => {
    const res = await h.call('lead', 'POST', `/v1/customers/${ORG}/archive`, { body: { reason: 'Closing' } });
    expectProblem(res, 428);
    expect(await customerRow(h.db.admin, ORG)).toMatchObject({ status: 'active' });
  });
});
