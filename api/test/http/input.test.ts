// Bad input: wrong types, unknown fields (mass assignment), malformed and
// oversize bodies. Each is a 4xx problem+json, never a 5xx, and nothing is
// written. SQL and HTML in values are stored and returned literally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerDetail, CustomerListPage } from '../../../shared/api';
import { customerFields, customerRow, seedCustomer } from '../../../testing/db';
import { dbState, expectProblem, startHarness, versionOf, type Harness, type Principal } from './harness';

let h: Harness;
const ORG = 'ORG-000030';

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Initech' });
});
afterAll(() => h?.close());

const newCustomer = (overrides: Record<string, unknown> = {}) => ({
  customer: { orgId: 'ORG-000031', ...customerFields(), ...overrides },
  reason: 'New customer',
});
const validPatch = { changes: { userCount: 7 }, reason: 'Seats changed' };

interface BadRequest {
  name: string;
  who?: Principal;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  body?: unknown;
  payload?: string;
  contentType?: string;
  status: number;
  /** A path the problem's `errors` must name. */
  errorPath?: string;
}

const BAD: BadRequest[] = [
  { name: 'a string for a number', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { userCount: '12' }, reason: 'Typing' }, status: 400, errorPath: 'body.changes.userCount' },
  { name: 'a fractional number of users', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { userCount: 1.5 }, reason: 'Typing' }, status: 400, errorPath: 'body.changes.userCount' },
  { name: 'a negative contract value', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { contractValueCents: -1 }, reason: 'Typing' }, status: 400, errorPath: 'body.changes.contractValueCents' },
  { name: 'an impossible date', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { renewalDate: '2027-02-30' }, reason: 'Typing' }, status: 400, errorPath: 'body.changes.renewalDate' },
  { name: 'a bad email', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { contactEmail: 'not-an-email' }, reason: 'Typing' }, status: 400, errorPath: 'body.changes.contactEmail' },
  { name: 'no reason', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { userCount: 3 } }, status: 400, errorPath: 'body.reason' },
  { name: 'a blank reason', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { userCount: 3 }, reason: '   ' }, status: 400, errorPath: 'body.reason' },
  { name: 'no changes', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: {}, reason: 'Nothing' }, status: 400, errorPath: 'body.changes' },
  { name: 'the owner (mass assignment)', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { ownerSub: 'alice2' }, reason: 'Take over' }, status: 400, errorPath: 'body.changes' },
  { name: 'the version (mass assignment)', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { userCount: 3, version: 99 }, reason: 'Bump' }, status: 400, errorPath: 'body.changes' },
  { name: 'the status (mass assignment)', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { status: 'archived' }, reason: 'Hide' }, status: 400, errorPath: 'body.changes' },
  { name: 'an unknown top-level field', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { ...validPatch, approvedBy: 'bob' }, status: 400, errorPath: 'body' },
  { name: 'a prototype-polluting key', method: 'PATCH', url: `/v1/customers/${ORG}`, payload: '{"changes":{"userCount":3,"__proto__":{"admin":true}},"reason":"Proto"}', status: 400 },
  { name: 'an array body', method: 'PATCH', url: `/v1/customers/${ORG}`, body: [validPatch], status: 400 },
  { name: 'a null body', method: 'PATCH', url: `/v1/customers/${ORG}`, payload: 'null', status: 400 },
  { name: 'invalid JSON', method: 'PATCH', url: `/v1/customers/${ORG}`, payload: '{"changes": {', status: 400 },
  { name: 'an empty JSON body', method: 'PATCH', url: `/v1/customers/${ORG}`, payload: '', contentType: 'application/json', status: 400 },
  { name: 'a form instead of JSON', method: 'PATCH', url: `/v1/customers/${ORG}`, payload: 'userCount=3', contentType: 'application/x-www-form-urlencoded', status: 415 },
  { name: 'a body over 64 KiB', method: 'PATCH', url: `/v1/customers/${ORG}`, body: { changes: { orgName: 'x'.repeat(70_000) }, reason: 'Big' }, status: 413 },
  { name: 'a malformed organization id', method: 'PATCH', url: '/v1/customers/ORG-1%27%20OR%201=1', body: validPatch, status: 400, errorPath: 'params.orgId' },
  { name: 'an org name over 200 characters', method: 'POST', url: '/v1/customers', body: newCustomer({ orgName: 'x'.repeat(201) }), status: 400, errorPath: 'body.customer.orgName' },
  { name: 'a created customer with an owner', method: 'POST', url: '/v1/customers', body: newCustomer({ ownerSub: 'carol' }), status: 400, errorPath: 'body.customer' },
  { name: 'a created customer without a field', method: 'POST', url: '/v1/customers', body: { customer: { orgId: 'ORG-000031', orgName: 'Half' }, reason: 'Half' }, status: 400 },
  { name: 'a duplicate organization id', method: 'POST', url: '/v1/customers', body: newCustomer({ orgId: ORG }), status: 409 },
  { name: 'a lowercase currency', method: 'POST', url: '/v1/customers', body: newCustomer({ currency: 'eur' }), status: 400, errorPath: 'body.customer.currency' },
  { name: 'an unknown query parameter', method: 'GET', url: '/v1/customers?q=a&admin=true', status: 400, errorPath: 'querystring' },
  { name: 'a limit out of range', method: 'GET', url: '/v1/customers?limit=100000', status: 400, errorPath: 'querystring.limit' },
  { name: 'an unknown sort', method: 'GET', url: '/v1/customers?sort=ownerSub', status: 400, errorPath: 'querystring.sort' },
  { name: 'a churn risk above 1', method: 'GET', url: '/v1/customers?minChurnRisk=2', status: 400, errorPath: 'querystring.minChurnRisk' },
  { name: 'a forged search cursor', method: 'GET', url: '/v1/customers?cursor=eyJzIjoibmFtZSJ9', status: 400 },
  { name: 'a usage range backwards', method: 'GET', url: `/v1/customers/${ORG}/usage?from=2026-05-01&to=2026-01-01`, status: 400 },
  { name: 'a usage date that is not a date', method: 'GET', url: `/v1/customers/${ORG}/usage?from=yesterday`, status: 400, errorPath: 'querystring.from' },
  { name: 'an unknown customer', method: 'GET', url: '/v1/customers/ORG-999999', status: 404 },
  { name: 'an audit search by a bad time', method: 'GET', url: '/v1/audit/events?from=2026-13-01', who: 'lead', status: 400, errorPath: 'querystring.from' },
  { name: 'a prediction score above 1', method: 'PUT', url: '/v1/predictions', who: 'service', body: { predictions: [{ orgId: ORG, kind: 'churn_risk', modelName: 'm', modelVersion: '1', score: 1.5, topFactors: [], scoredAt: '2026-01-01T00:00:00Z' }] }, status: 400, errorPath: 'body.predictions.0.score' },
  { name: 'a prediction for an unknown customer', method: 'PUT', url: '/v1/predictions', who: 'service', body: { predictions: [{ orgId: 'ORG-999999', kind: 'churn_risk', modelName: 'm', modelVersion: '1', score: 0.5, topFactors: [], scoredAt: '2026-01-01T00:00:00Z' }] }, status: 400 },
  { name: 'an empty prediction batch', method: 'PUT', url: '/v1/predictions', who: 'service', body: { predictions: [] }, status: 400, errorPath: 'body.predictions' },
];

describe.each(BAD)('$name', (bad) => {
  it(`→ ${bad.status}, problem+json, nothing written`, async () => {
    const before = await dbState(h.db);
    const headers: Record<string, string> = { 'if-match': `"${await versionOf(h.db, ORG)}"` };
    if (bad.contentType) headers['content-type'] = bad.contentType;
    else if (bad.payload !== undefined) headers['content-type'] = 'application/json';
    const res = await h.call(bad.who ?? 'owner', bad.method, bad.url, {
      headers,
      ...(bad.body !== undefined ? { body: bad.body } : {}),
      ...(bad.payload !== undefined ? { payload: bad.payload } : {}),
    });
    const problem = expectProblem(res, bad.status);
    if (bad.errorPath) {
      const errors = problem.errors as { path: string; message: string }[];
      expect(errors.map((e) => e.path)).toContain(bad.errorPath);
      expect(errors.every((e) => e.message.length > 0)).toBe(true);
    }
    expect(await dbState(h.db)).toBe(before);
  });
});

describe('payloads that look like code are data', () => {
  const SQL = "Robert'); DROP TABLE core.customers; --";
  const HTML = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>';

  it('stores SQL and HTML literally and returns them as JSON text', async () => {
    const res = await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
      body: { changes: { orgName: SQL, contactName: HTML }, reason: "'; SELECT pg_sleep(10); --" },
      headers: { 'if-match': `"${await versionOf(h.db, ORG)}"` },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await customerRow(h.db.admin, ORG)).toMatchObject({ org_name: SQL, contact_name: HTML });

    const read = await h.call('otherCrm', 'GET', `/v1/customers/${ORG}`);
    expect(read.headers['content-type']).toMatch(/^application\/json/);
    expect(read.headers['x-content-type-options']).toBe('nosniff');
    expect((read.json() as CustomerDetail).customer).toMatchObject({ orgName: SQL, contactName: HTML });
  });

  it('searches for SQL and LIKE metacharacters literally', async () => {
    const find = async (q: string) =>
      ((await h.call('lead', 'GET', `/v1/customers?q=${encodeURIComponent(q)}`)).json() as CustomerListPage).items.map((i) => i.orgId);
    expect(await find("'); DROP TABLE")).toEqual([ORG]);
    expect(await find("' OR '1'='1")).toEqual([]);
    expect(await find('%')).toEqual([]);
    expect(await find('_')).toEqual([]);
  });
});
