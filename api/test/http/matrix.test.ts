// The authorization matrix: every endpoint × every kind of caller, each allowed
// or refused as the issue specifies. A refused write must leave the database
// exactly as it was: no changed row, no audit event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventCount, seedBilling, seedCustomer, seedPrediction, seedUsage } from '../../../testing/db';
import {
  CUSTOMER_ORG,
  CUSTOMERS,
  customerToken,
  dbState,
  expectProblem,
  HUMANS,
  OTHER_CUSTOMER_ORG,
  PORTAL_CLIENT_ID,
  PRINCIPALS,
  startHarness,
  versionOf,
  type Harness,
  type Principal,
  type ValidPrincipal,
} from './harness';

let h: Harness;
const OWNED = 'ORG-000001';
const TO_ARCHIVE = 'ORG-000002';
/** Archived by the support lead (the owning CRM archives TO_ARCHIVE), then un-archived by the owner and the lead in turn. */
const LEADS_ARCHIVE = 'ORG-000005';

beforeAll(async () => {
  // Change streams end after a moment here, so that inject (which waits for the whole body) returns.
  h = await startHarness({ live: { maxStreamMs: 100 } });
  await seedCustomer(h.db.admin, { orgId: OWNED, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Acme Logistics' });
  await seedCustomer(h.db.admin, { orgId: TO_ARCHIVE, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Acme Archive' });
  await seedCustomer(h.db.admin, { orgId: LEADS_ARCHIVE, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Acme Second Archive' });
  await seedBilling(h.db.admin, OWNED);
  await seedUsage(h.db.admin, OWNED, 10);
  await seedPrediction(h.db.admin, { orgId: OWNED, score: 0.4 });
  // The prediction CRMs give feedback on.
  await seedPrediction(h.db.admin, { orgId: OWNED, kind: 'upsell_propensity', score: 0.3, scoredAt: FEEDBACK_ON.scoredAt, modelName: FEEDBACK_ON.modelName, modelVersion: FEEDBACK_ON.modelVersion });
  // The organizations the two customers' tokens name.
  await seedCustomer(h.db.admin, { orgId: CUSTOMER_ORG, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Northwind Traders' });
  await seedCustomer(h.db.admin, { orgId: OTHER_CUSTOMER_ORG, ownerSub: 'carol', ownerName: 'Carol Chen', orgName: 'Tailspin Toys' });
  await seedBilling(h.db.admin, CUSTOMER_ORG);
  await seedBilling(h.db.admin, OTHER_CUSTOMER_ORG);
  // Assignments: a customer of alice's for every caller to try moving, and carol in the staff directory.
  for (let i = 0; i < PRINCIPALS.length; i++) await seedCustomer(h.db.admin, { orgId: toAssign(i), ownerSub: 'alice', ownerName: 'Alice Adams' });
  await h.db.store.staffSeen([{ sub: 'carol', name: 'Carol Chen', roles: ['crm'] }]);
});
afterAll(() => h?.close());

async function accessEventCount(): Promise<number> {
  const { rows } = await h.db.admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.access_events');
  return Number(rows[0]?.n);
}

let counter = 0;
const next = () => ++counter;
const FEEDBACK_ON = { kind: 'upsell_propensity', modelName: 'upsell-logreg', modelVersion: '2026.11.20-0123456789ab', scoredAt: '2026-11-20T06:00:00.000Z' } as const;
const toAssign = (i: number) => `ORG-${String(900 + i).padStart(6, '0')}`;
let assignments = 0;

interface Endpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  /** The URL a caller uses, when it is not `url` for everyone (each allowed caller changes its own record). */
  urlFor?: (who: Principal) => string;
  /** `public`: anyone, with or without a token. Otherwise the callers that succeed. */
  allowed: 'public' | readonly ValidPrincipal[];
  status?: number;
  write?: boolean;
  body?: () => unknown;
  /** The organization whose current version is sent as If-Match (per caller for /v1/self). */
  ifMatch?: string | ((who: Principal) => string);
}

/** A customer's own organization: the one their token names. */
const ownOrg = (who: Principal) => (who === 'otherCustomer' ? OTHER_CUSTOMER_ORG : CUSTOMER_ORG);

const ENDPOINTS: Endpoint[] = [
  { method: 'GET', url: '/healthz', allowed: 'public' },
  { method: 'GET', url: '/readyz', allowed: 'public' },
  { method: 'GET', url: '/v1/openapi.json', allowed: 'public' },
  { method: 'GET', url: '/v1/me', allowed: HUMANS },
  { method: 'GET', url: '/v1/customers?q=Acme', allowed: HUMANS },
  { method: 'GET', url: `/v1/customers/${OWNED}`, allowed: HUMANS },
  {
    method: 'POST',
    url: '/v1/customers',
    allowed: ['owner', 'otherCrm'],
    status: 201,
    write: true,
    body: () => ({
      customer: {
        orgId: `ORG-${String(100 + next()).padStart(6, '0')}`,
        orgName: 'New Co',
        contactName: 'Pat Doe',
        contactEmail: 'pat@new.example',
        contactPhone: '+44 20 7946 0000',
        userCount: 5,
        contractValueCents: 100_000,
        currency: 'GBP',
        renewalDate: '2027-06-30',
      },
      reason: 'Signed last week',
    }),
  },
  {
    method: 'PATCH',
    url: `/v1/customers/${OWNED}`,
    allowed: ['owner'],
    write: true,
    ifMatch: OWNED,
    body: () => ({ changes: { userCount: 200 + next() }, reason: 'Customer added seats' }),
  },
  {
    method: 'POST',
    url: `/v1/customers/${TO_ARCHIVE}/archive`,
    urlFor: (who) => `/v1/customers/${who === 'lead' ? LEADS_ARCHIVE : TO_ARCHIVE}/archive`,
    // The owning CRM and any support lead (the database's approval rules are empty here: see change-requests.test.ts).
    allowed: ['owner', 'lead'],
    write: true,
    ifMatch: (who) => (who === 'lead' ? LEADS_ARCHIVE : TO_ARCHIVE),
    body: () => ({ reason: 'Contract ended' }),
  },
  {
    method: 'POST',
    url: `/v1/customers/${TO_ARCHIVE}/unarchive`,
    urlFor: (who) => `/v1/customers/${who === 'lead' ? TO_ARCHIVE : LEADS_ARCHIVE}/unarchive`,
    allowed: ['owner', 'lead'],
    write: true,
    ifMatch: (who) => (who === 'lead' ? TO_ARCHIVE : LEADS_ARCHIVE),
    body: () => ({ reason: 'Customer came back' }),
  },
  { method: 'GET', url: `/v1/customers/${OWNED}/usage`, allowed: HUMANS },
  { method: 'GET', url: `/v1/customers/${OWNED}/predictions`, allowed: HUMANS },
  {
    method: 'POST',
    url: `/v1/customers/${OWNED}/predictions/feedback`,
    // Any CRM may say a prediction they are shown looks wrong; support leads and admins give none.
    allowed: ['owner', 'otherCrm'],
    status: 201,
    write: true,
    body: () => ({ ...FEEDBACK_ON, verdict: 'looks_wrong', reason: `They signed a three-year renewal last week (${next()})` }),
  },
  { method: 'GET', url: `/v1/customers/${OWNED}/audit`, allowed: ['owner', 'otherCrm', 'lead'] },
  { method: 'GET', url: `/v1/customers/${OWNED}/access`, allowed: ['lead'] },
  { method: 'GET', url: '/v1/portfolio/summary', allowed: ['owner', 'otherCrm'] },
  { method: 'GET', url: '/v1/audit/events', allowed: ['lead'] },
  { method: 'GET', url: '/v1/audit/events.csv', allowed: ['lead'] },
  { method: 'GET', url: '/v1/audit/verify', allowed: ['lead'] },
  // Signed by the verify just above.
  { method: 'GET', url: '/v1/audit/checkpoints/1', allowed: ['lead'] },
  { method: 'GET', url: '/v1/audit/evidence', allowed: ['lead'] },
  { method: 'GET', url: '/v1/audit/access', allowed: ['lead'] },
  { method: 'GET', url: '/v1/audit/access.csv', allowed: ['lead'] },
  { method: 'GET', url: '/v1/events', allowed: HUMANS },
  { method: 'GET', url: '/v1/staff', allowed: ['admin'] },
  {
    method: 'POST',
    url: '/v1/assignments',
    allowed: ['admin'],
    write: true,
    // Each caller tries another of alice's customers, so the admin's call moves one (one event).
    body: () => ({ orgIds: [toAssign(assignments++)], toOwner: 'carol', reason: 'Territory change' }),
  },
  { method: 'GET', url: '/v1/self/organization', allowed: CUSTOMERS },
  {
    method: 'PATCH',
    url: '/v1/self/organization',
    allowed: CUSTOMERS,
    write: true,
    ifMatch: ownOrg,
    body: () => ({ changes: { contactPhone: `+1 555 01${String(next()).padStart(2, '0')}` } }),
  },
  {
    method: 'PUT',
    url: '/v1/self/billing-method',
    allowed: CUSTOMERS,
    write: true,
    body: () => ({ processorToken: `tok_matrix_${next()}_abcdef`, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2031 }),
  },
  {
    method: 'PUT',
    url: '/v1/predictions',
    allowed: ['service'],
    write: true,
    body: () => ({
      predictions: [
        {
          orgId: OWNED,
          kind: 'churn_risk',
          modelName: 'churn-gbm',
          modelVersion: '2.0.0',
          score: 0.5,
          topFactors: [{ factor: 'seats', weight: 0.3 }],
          scoredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, next())).toISOString(),
        },
      ],
    }),
  },
];

describe.each(ENDPOINTS)('$method $url', (endpoint) => {
  it.each(PRINCIPALS)('as %s', async (who) => {
    const headers: Record<string, string> = {};
    if (endpoint.ifMatch) {
      const org = typeof endpoint.ifMatch === 'function' ? endpoint.ifMatch(who) : endpoint.ifMatch;
      headers['if-match'] = `"${await versionOf(h.db, org)}"`;
    }
    const before = endpoint.write ? await dbState(h.db) : '';
    const eventsBefore = await auditEventCount(h.db.admin);
    const accessBefore = await accessEventCount();
    const res = await h.call(who, endpoint.method, endpoint.urlFor?.(who) ?? endpoint.url, {
      headers,
      ...(endpoint.body ? { body: endpoint.body() } : {}),
    });

    const validCaller = !['none', 'expired', 'wrongAudience', 'wrongIssuer'].includes(who);
    const allowed = endpoint.allowed === 'public' || (validCaller && endpoint.allowed.includes(who as ValidPrincipal));
    if (allowed) {
      expect(res.statusCode, res.body).toBe(endpoint.status ?? 200);
      if (endpoint.write) expect(await auditEventCount(h.db.admin)).toBe(eventsBefore + 1);
      return;
    }
    if (!validCaller) {
      const problem = expectProblem(res, 401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="cims"/);
      if (who === 'none') expect(res.headers['www-authenticate']).not.toContain('error=');
      else expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(problem.type).toBe('urn:cims:problem:unauthorized');
    } else {
      expectProblem(res, 403);
    }
    if (endpoint.write) expect(await dbState(h.db)).toBe(before);
    // A refused request shows nothing, so it logs no access either.
    expect(await accessEventCount()).toBe(accessBefore);
  });
});

describe('what the matrix relies on', () => {
  it('the allowed writes did happen (the refusals above were not vacuous)', async () => {
    expect(await versionOf(h.db, OWNED)).toBe(2);
    // Each customer's own contact edit and card replacement.
    expect(await versionOf(h.db, CUSTOMER_ORG)).toBe(3);
    expect(await versionOf(h.db, OTHER_CUSTOMER_ORG)).toBe(3);
    // Archived by the owner and by the lead, then each brought back by the other.
    const { rows } = await h.db.admin.query<{ status: string; version: number }>(
      'SELECT status, version FROM core.customers WHERE org_id = ANY ($1) ORDER BY org_id',
      [[TO_ARCHIVE, LEADS_ARCHIVE]],
    );
    expect(rows).toEqual([
      { status: 'active', version: 3 },
      { status: 'active', version: 3 },
    ]);
    // The admin's assignment moved exactly one of alice's customers; every other caller's stayed hers.
    const moved = await h.db.admin.query<{ n: string }>(`SELECT count(*) AS n FROM core.customers WHERE org_id LIKE 'ORG-0009%' AND owner_sub = 'carol'`);
    expect(Number(moved.rows[0]?.n)).toBe(1);
  });

  it('a service account token is refused on every human endpoint even with a role claim added', async () => {
    const token = await h.issuer.sign({ sub: 'cims-model-runner', roles: ['admin'], scope: 'predictions:write', client_id: 'cims-model-runner' });
    const res = await h.app.inject({ method: 'GET', url: '/v1/customers', headers: { authorization: `Bearer ${token}` } });
    expectProblem(res, 403);
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/predictions',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: '{"predictions":[]}',
    });
    expectProblem(put, 403);
  });

  // A service account is the model runner's client together with its scope, never the scope alone.
  const prediction = () => ({
    predictions: [
      {
        orgId: OWNED,
        kind: 'churn_risk',
        modelName: 'churn-gbm',
        modelVersion: '2.0.0',
        score: 0.7,
        topFactors: [{ factor: 'seats', weight: 0.3 }],
        scoredAt: new Date(Date.UTC(2026, 1, 1, 0, 0, next())).toISOString(),
      },
    ],
  });
  const notServiceAccounts: [string, () => Promise<string>, number][] = [
    ['a CRM whose token carries predictions:write', () => h.issuer.sign({ sub: 'alice', name: 'Alice Adams', roles: ['crm'], scope: 'openid api predictions:write', client_id: 'cims-console' }), 403],
    ['another client with predictions:write', () => h.issuer.sign({ sub: 'cims-demo-seeder', scope: 'predictions:write', client_id: 'cims-demo-seeder' }), 403],
    ['predictions:write with no client named', () => h.issuer.sign({ sub: 'cims-model-runner', scope: 'predictions:write' }), 403],
    ['the model runner named by client_id but another azp', () => h.issuer.sign({ sub: 'cims-model-runner', scope: 'predictions:write', client_id: 'cims-model-runner', azp: 'cims-console' }), 403],
    ['the model runner without its scope', () => h.issuer.sign({ sub: 'cims-model-runner', scope: 'openid', client_id: 'cims-model-runner' }), 401],
    ['the model runner with an ID token', () => h.issuer.sign({ sub: 'cims-model-runner', scope: 'predictions:write', client_id: 'cims-model-runner' }, { typ: 'JWT' }), 401],
  ];
  it.each(notServiceAccounts)('PUT /v1/predictions refuses %s, changing nothing', async (_name, make, status) => {
    const token = await make();
    const before = await dbState(h.db);
    const res = await h.app.inject({
      method: 'PUT',
      url: '/v1/predictions',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(prediction()),
    });
    expectProblem(res, status);
    expect(await dbState(h.db)).toBe(before);
  });

  it('a CRM whose token carries predictions:write is still the CRM (the scope is dropped, not the person)', async () => {
    const token = await h.issuer.sign({ sub: 'alice', name: 'Alice Adams', roles: ['crm'], scope: 'openid api predictions:write', client_id: 'cims-console' });
    const res = await h.app.inject({ method: 'GET', url: `/v1/customers/${OWNED}`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('the model runner, by client id and scope, may write predictions', async () => {
    const token = await h.issuer.sign({ sub: 'cims-model-runner', scope: 'predictions:write', client_id: 'cims-model-runner' });
    const res = await h.app.inject({
      method: 'PUT',
      url: '/v1/predictions',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(prediction()),
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  // The customer role is the portal's client's to give, and a portal token is a customer's and nothing more.
  const notCustomers: [string, () => Promise<string>, number][] = [
    ['the customer role from the console client', () => h.issuer.sign({ sub: 'mallory', name: 'M', roles: ['customer'], org_id: OWNED, client_id: 'cims-console' }), 403],
    ['the customer role with no client named', () => h.issuer.sign({ sub: 'mallory', name: 'M', roles: ['customer'], org_id: OWNED }), 403],
    ['the portal named by client_id but another azp', () => customerToken(h.issuer, OWNED, { azp: 'cims-console' }), 403],
    ['a portal token without an organization', () => customerToken(h.issuer, OWNED, { org_id: undefined }), 401],
    ['a portal token naming a malformed organization', () => customerToken(h.issuer, OWNED, { org_id: ['ORG-000001'] }), 401],
    ['a portal token without the customer role', () => h.issuer.sign({ sub: 'x', name: 'X', roles: ['crm'], org_id: OWNED, client_id: PORTAL_CLIENT_ID }), 401],
  ];
  it.each(notCustomers)('GET /v1/self/organization refuses %s', async (_name, make, status) => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/self/organization', headers: { authorization: `Bearer ${await make()}` } });
    expectProblem(res, status);
  });

  it('a portal token carrying staff roles and service scopes is still only a customer', async () => {
    const token = await customerToken(h.issuer, OWNED, { roles: ['customer', 'crm', 'support_lead', 'admin'], scope: 'openid predictions:write' });
    const auth = { authorization: `Bearer ${token}` };
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/customers/${OWNED}`, headers: auth }), 403);
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/audit/events', headers: auth }), 403);
    const own = await h.app.inject({ method: 'GET', url: '/v1/self/organization', headers: auth });
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toMatchObject({ orgId: OWNED });
  });

  it("each customer sees their own organization, never another's", async () => {
    const mine = await h.call('customer', 'GET', '/v1/self/organization');
    const theirs = await h.call('otherCustomer', 'GET', '/v1/self/organization');
    expect(mine.json()).toMatchObject({ orgId: CUSTOMER_ORG });
    expect(theirs.json()).toMatchObject({ orgId: OTHER_CUSTOMER_ORG });
  });

  it('a signed-in person without any role sees who they are and nothing else', async () => {
    const token = await h.issuer.sign({ sub: 'dana', name: 'Dana', roles: ['viewer'] });
    const me = await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toEqual({ sub: 'dana', name: 'Dana', roles: [] });
    const list = await h.app.inject({ method: 'GET', url: '/v1/customers', headers: { authorization: `Bearer ${token}` } });
    expectProblem(list, 403);
  });
});
