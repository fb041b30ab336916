// /v1/self over HTTP: a customer's contact, with a portal token, reads and
// changes their own organization's contact and card; ETag and If-Match as on
// every write; card numbers refused with a clear problem and never logged; the
// rate limit counted per organization, not per person.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventsFor, seedBilling, seedCustomer } from '../../../testing/db';
import { CUSTOMER_ORG, customerToken, expectProblem, OTHER_CUSTOMER_ORG, startHarness, type Harness } from './harness';

const lines: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ logger: { level: 'info', sink: { write: (l) => void lines.push(l) } } });
  await seedCustomer(h.db.admin, { orgId: CUSTOMER_ORG, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Northwind Traders' });
  await seedCustomer(h.db.admin, { orgId: OTHER_CUSTOMER_ORG, ownerSub: 'carol', ownerName: 'Carol Chen', orgName: 'Tailspin Toys' });
  await seedBilling(h.db.admin, CUSTOMER_ORG, { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 });
});
afterAll(() => h?.close());

const json = { 'content-type': 'application/json' };

describe('GET /v1/self/organization', () => {
  it('answers the contact and masked billing with an ETag, nothing more', async () => {
    const res = await h.call('customer', 'GET', '/v1/self/organization');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['billing', 'contactEmail', 'contactName', 'contactPhone', 'orgId', 'version']);
    expect(body).toMatchObject({ orgId: CUSTOMER_ORG, billing: [{ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 }] });
    expect(res.headers.etag).toBe(`"${body.version}"`);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('PATCH /v1/self/organization', () => {
  it('changes the phone; the CRM sees it, and a history row naming the contact, via the portal', async () => {
    const read = await h.call('customer', 'GET', '/v1/self/organization');
    const res = await h.call('customer', 'PATCH', '/v1/self/organization', {
      headers: { 'if-match': read.headers.etag as string },
      body: { changes: { contactPhone: '+1 (555) 010-2030' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ contactPhone: '+1 (555) 010-2030', version: read.json().version + 1 });
    expect(res.headers.etag).toBe(`"${read.json().version + 1}"`);

    const record = await h.call('owner', 'GET', `/v1/customers/${CUSTOMER_ORG}`);
    expect(record.json().customer.contactPhone).toBe('+1 (555) 010-2030');
    const history = await h.call('owner', 'GET', `/v1/customers/${CUSTOMER_ORG}/audit`);
    expect(history.statusCode, history.body).toBe(200);
    expect(history.json().items[0]).toMatchObject({
      actorSub: 'contact-000003',
      actorName: 'Contact 000003',
      actorRoles: ['customer'],
      action: 'customer.update',
      via: 'portal',
      changes: [{ field: 'contactPhone', after: '+1 (555) 010-2030' }],
    });
  });

  it('needs If-Match (428) and a current one (412)', async () => {
    const body = { changes: { contactName: 'Someone Else' } };
    expectProblem(await h.call('customer', 'PATCH', '/v1/self/organization', { body }), 428);
    expectProblem(await h.call('customer', 'PATCH', '/v1/self/organization', { body, headers: { 'if-match': '"1"' } }), 412);
  });

  it.each([
    ['a contract field', { changes: { contractValueCents: 1 } }],
    ['the organization name', { changes: { orgName: 'Renamed' } }],
    ['the organization id', { changes: { contactName: 'Pat' }, orgId: OTHER_CUSTOMER_ORG }],
    ['no change at all', { changes: {} }],
    ['a malformed email', { changes: { contactEmail: 'not-an-email' } }],
  ])('refuses %s with 400, changing nothing', async (_what, body) => {
    const read = await h.call('customer', 'GET', '/v1/self/organization');
    const before = await auditEventsFor(h.db.admin, CUSTOMER_ORG);
    const res = await h.call('customer', 'PATCH', '/v1/self/organization', { body, headers: { 'if-match': read.headers.etag as string } });
    expectProblem(res, 400);
    expect(await auditEventsFor(h.db.admin, CUSTOMER_ORG)).toEqual(before);
  });
});

describe('PUT /v1/self/billing-method', () => {
  it('replaces the card: the record shows only the new brand and last four, the history both labels', async () => {
    const res = await h.call('customer', 'PUT', '/v1/self/billing-method', {
      body: { processorToken: 'tok_http_replace_01', brand: 'mastercard', last4: '4444', expMonth: 4, expYear: 2032 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().billing).toEqual([{ brand: 'mastercard', last4: '4444', expMonth: 4, expYear: 2032 }]);
    const record = await h.call('owner', 'GET', `/v1/customers/${CUSTOMER_ORG}`);
    expect(record.json().billing).toEqual([{ brand: 'mastercard', last4: '4444', expMonth: 4, expYear: 2032 }]);
    expect(record.body).not.toContain('tok_http_replace_01');
    const history = await h.call('owner', 'GET', `/v1/customers/${CUSTOMER_ORG}/audit`);
    expect(history.json().items[0]).toMatchObject({
      actorRoles: ['customer'],
      via: 'portal',
      changes: [{ field: 'billingMethod', before: 'visa ending 4242, expires 12/2030', after: 'mastercard ending 4444, expires 04/2032' }],
    });
  });

  it('refuses an expired card with 400', async () => {
    const res = await h.call('customer', 'PUT', '/v1/self/billing-method', {
      body: { processorToken: 'tok_http_expired_1', brand: 'visa', last4: '1111', expMonth: 1, expYear: 2021 },
    });
    expect(expectProblem(res, 400).detail).toMatch(/expired/);
  });
});

describe('card numbers', () => {
  const PAN = '4111111111111111';
  const cases: [string, string, string, Record<string, string>, string][] = [
    ['as the processor token', 'PUT', '/v1/self/billing-method', json, JSON.stringify({ processorToken: PAN, brand: 'visa', last4: '1111', expMonth: 1, expYear: 2031 })],
    ['grouped, in the phone', 'PATCH', '/v1/self/organization', { ...json, 'if-match': '"1"' }, JSON.stringify({ changes: { contactPhone: '4111 1111 1111 1111' } })],
    ['in a field the schema does not know', 'PUT', '/v1/self/billing-method', json, JSON.stringify({ cardNumber: '4111-1111-1111-1111' })],
    ['as a JSON number', 'PUT', '/v1/self/billing-method', json, `{"pan": ${PAN}}`],
    ['as an object key', 'PUT', '/v1/self/billing-method', json, `{"${PAN}": 1}`],
    ['in a body that is not JSON', 'PUT', '/v1/self/billing-method', json, `{"card": ${PAN}`],
    ['in a text body', 'PUT', '/v1/self/billing-method', { 'content-type': 'text/plain' }, `my card is ${PAN}`],
    ['escaped in a JSON string', 'PUT', '/v1/self/billing-method', json, '{"processorToken": "\\u0034111111111111111"}'],
  ];

  it.each(cases)('are refused %s, with a problem that names none of it, and logged nowhere', async (_where, method, url, headers, payload) => {
    lines.length = 0;
    const res = await h.call('customer', method as 'PUT', url, { headers, payload });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('urn:cims:problem:card-number');
    expect(problem.detail).toMatch(/card number/);
    expect(res.body).not.toMatch(/4111/);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toMatch(/4111|1111 1111|1111-1111/);
  });

  it('are refused in a query string before the search runs or is recorded', async () => {
    lines.length = 0;
    const { rows: before } = await h.db.admin.query('SELECT count(*)::int AS n FROM audit.access_events');
    const res = await h.call('owner', 'GET', `/v1/customers?q=${encodeURIComponent('5555 5555 5555 4444')}`);
    expect(expectProblem(res, 400).type).toBe('urn:cims:problem:card-number');
    const { rows: after } = await h.db.admin.query('SELECT count(*)::int AS n FROM audit.access_events');
    expect(after[0].n).toBe(before[0].n);
    expect(lines.join('\n')).not.toMatch(/5555/);
  });

  it('leave alone numbers that fail the Luhn check, and scores with many decimals', async () => {
    const res = await h.call('owner', 'GET', `/v1/customers?q=4111111111111112`);
    expect(res.statusCode, res.body).toBe(200);
    const put = await h.call('service', 'PUT', '/v1/predictions', {
      body: {
        predictions: [
          { orgId: CUSTOMER_ORG, kind: 'churn_risk', modelName: 'churn-gbm', modelVersion: '2.0.0', score: 0.4111111111111111, topFactors: [], scoredAt: '2026-01-01T00:00:00Z' },
        ],
      },
    });
    expect(put.statusCode, put.body).toBe(200);
  });
});

describe('the rate limit', () => {
  it('is counted per organization: two contacts of one share it, another organization has its own', async () => {
    const limited = await startHarness({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    try {
      await seedCustomer(limited.db.admin, { orgId: CUSTOMER_ORG, ownerSub: 'alice', ownerName: 'Alice Adams' });
      await seedCustomer(limited.db.admin, { orgId: OTHER_CUSTOMER_ORG, ownerSub: 'alice', ownerName: 'Alice Adams' });
      const first = await customerToken(limited.issuer, CUSTOMER_ORG, { sub: 'contact-a' });
      const second = await customerToken(limited.issuer, CUSTOMER_ORG, { sub: 'contact-b' });
      const other = await customerToken(limited.issuer, OTHER_CUSTOMER_ORG);
      const get = (token: string) => limited.app.inject({ method: 'GET', url: '/v1/self/organization', headers: { authorization: `Bearer ${token}` } });
      const statuses = [];
      for (const token of [first, second, first, second]) statuses.push((await get(token)).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await get(other)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
