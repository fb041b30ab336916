// Four eyes over HTTP, on a database with the seeded approval rules: the
// authorization matrix of the change-request endpoints (every endpoint × every
// kind of caller, the owner's request against another CRM's), each refused call
// checked against the database (no row changed, no audit or access event), the
// 202 answer of an edit or archive that waits for approval, and the stale case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeRequest, ChangeRequestAccepted, ChangeRequestPage, CustomerDetail } from '../../../shared/api';
import { auditEventCount, seedCustomer } from '../../../testing/db';
import { expectProblem, HUMANS, PRINCIPALS, startHarness, versionOf, type Harness, type Principal, type ValidPrincipal } from './harness';

let h: Harness;
/** Alice's customers (the harness's owner); carol's is another CRM's. */
const ORGS = { approve: 'ORG-000011', reject: 'ORG-000012', withdraw: 'ORG-000013', read: 'ORG-000014', patch: 'ORG-000015', stale: 'ORG-000016' };
const ARCHIVE_OWN = 'ORG-000017';
const ARCHIVE_BY_LEAD = 'ORG-000018';
const CAROLS = 'ORG-000019';
const requests: Record<string, ChangeRequest> = {};

/** Everything a refused call must leave as it was. */
async function state(): Promise<string> {
  const { rows } = await h.db.admin.query(
    `SELECT (SELECT coalesce(json_agg(c ORDER BY org_id), '[]') FROM core.customers c) AS customers,
            (SELECT coalesce(json_agg(r ORDER BY id), '[]') FROM core.change_requests r) AS requests,
            (SELECT count(*) FROM audit.events) AS events,
            (SELECT count(*) FROM audit.access_events) AS access`,
  );
  return JSON.stringify(rows[0]);
}

async function propose(orgId: string, changes: Record<string, unknown>, who: Principal = 'owner'): Promise<ChangeRequest> {
  const res = await h.call(who, 'PATCH', `/v1/customers/${orgId}`, {
    headers: { 'if-match': `"${await versionOf(h.db, orgId)}"` },
    body: { changes, reason: 'Renewal at a new price' },
  });
  expect(res.statusCode, res.body).toBe(202);
  return ChangeRequestAccepted.parse(res.json()).changeRequest;
}

beforeAll(async () => {
  h = await startHarness({}, { approvalRules: 'seeded' });
  for (const orgId of [...Object.values(ORGS), ARCHIVE_OWN, ARCHIVE_BY_LEAD]) await seedCustomer(h.db.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
  await seedCustomer(h.db.admin, { orgId: CAROLS, ownerSub: 'carol', ownerName: 'Carol Chen' });
  requests.approve = await propose(ORGS.approve, { contractValueCents: 7_000_000, contactPhone: '+1 555 0142' });
  requests.reject = await propose(ORGS.reject, { currency: 'GBP' });
  requests.withdraw = await propose(ORGS.withdraw, { userCount: 12 });
  requests.read = await propose(ORGS.read, { userCount: 13 });
  requests.carols = await propose(CAROLS, { userCount: 14 }, 'otherCrm');
});
afterAll(() => h?.close());

interface Row {
  name: string;
  method: 'GET' | 'POST' | 'PATCH';
  url: (who: Principal) => string;
  allowed: readonly ValidPrincipal[];
  status?: number;
  write?: boolean;
  body?: () => unknown;
  /** If-Match: a customer's version (org id) or a change request's (its key in `requests`). */
  ifMatch?: { org: (who: Principal) => string } | { request: string };
}

const decision = () => ({ reason: 'Checked against the signed order form' });
const ROWS: Row[] = [
  { name: 'GET /v1/approval-rules', method: 'GET', url: () => '/v1/approval-rules', allowed: HUMANS },
  { name: 'GET /v1/change-requests', method: 'GET', url: () => '/v1/change-requests?status=pending', allowed: ['owner', 'otherCrm', 'lead'] },
  { name: "GET /v1/change-requests/:id (the owner's)", method: 'GET', url: () => `/v1/change-requests/${requests.read!.id}`, allowed: ['owner', 'lead'] },
  { name: "GET /v1/change-requests/:id (another CRM's)", method: 'GET', url: () => `/v1/change-requests/${requests.carols!.id}`, allowed: ['otherCrm', 'lead'] },
  {
    name: 'PATCH /v1/customers/:orgId touching a rule field (202)',
    method: 'PATCH',
    url: () => `/v1/customers/${ORGS.patch}`,
    allowed: ['owner'],
    status: 202,
    write: true,
    ifMatch: { org: () => ORGS.patch },
    body: () => ({ changes: { contractValueCents: 123_400, contactName: 'Renata Price' }, reason: 'Price and contact' }),
  },
  {
    name: 'POST /v1/customers/:orgId/archive (202)',
    method: 'POST',
    url: (who) => `/v1/customers/${who === 'lead' ? ARCHIVE_BY_LEAD : ARCHIVE_OWN}/archive`,
    allowed: ['owner', 'lead'],
    status: 202,
    write: true,
    ifMatch: { org: (who) => (who === 'lead' ? ARCHIVE_BY_LEAD : ARCHIVE_OWN) },
    body: () => ({ reason: 'Account closed' }),
  },
  {
    name: 'POST /v1/change-requests/:id/approve',
    method: 'POST',
    url: () => `/v1/change-requests/${requests.approve!.id}/approve`,
    allowed: ['lead'],
    write: true,
    ifMatch: { request: 'approve' },
    body: decision,
  },
  {
    name: 'POST /v1/change-requests/:id/reject',
    method: 'POST',
    url: () => `/v1/change-requests/${requests.reject!.id}/reject`,
    allowed: ['lead'],
    write: true,
    ifMatch: { request: 'reject' },
    body: decision,
  },
  {
    name: 'POST /v1/change-requests/:id/withdraw',
    method: 'POST',
    url: () => `/v1/change-requests/${requests.withdraw!.id}/withdraw`,
    allowed: ['owner'],
    write: true,
    body: () => ({ reason: 'Sent too early' }),
  },
];

async function currentVersion(key: string): Promise<number> {
  const { rows } = await h.db.admin.query<{ version: number }>('SELECT version FROM core.change_requests WHERE id = $1', [requests[key]!.id]);
  return rows[0]!.version;
}

describe.each(ROWS)('$name', (row) => {
  it.each(PRINCIPALS)('as %s', async (who) => {
    const headers: Record<string, string> = {};
    if (row.ifMatch) {
      headers['if-match'] = `"${'org' in row.ifMatch ? await versionOf(h.db, row.ifMatch.org(who)) : await currentVersion(row.ifMatch.request)}"`;
    }
    const before = await state();
    const events = await auditEventCount(h.db.admin);
    const res = await h.call(who, row.method, row.url(who), { headers, ...(row.body ? { body: row.body() } : {}) });
    const valid = !['none', 'expired', 'wrongAudience', 'wrongIssuer'].includes(who);
    if (valid && row.allowed.includes(who as ValidPrincipal)) {
      expect(res.statusCode, res.body).toBe(row.status ?? 200);
      if (row.write) expect(await auditEventCount(h.db.admin)).toBe(events + 1);
      return;
    }
    expectProblem(res, valid ? 403 : 401);
    // Refused: no customer, request, audit event or access event changed.
    expect(await state()).toBe(before);
  });
});

describe('what the matrix relies on, and what it does not show', () => {
  it('the allowed steps happened: applied, rejected, withdrawn, and two archive requests waiting', async () => {
    const { rows } = await h.db.admin.query<{ id: string; status: string; checker_sub: string | null }>(
      'SELECT id::text, status, checker_sub FROM core.change_requests WHERE id = ANY ($1) ORDER BY id',
      [[requests.approve!.id, requests.reject!.id, requests.withdraw!.id]],
    );
    expect(rows.map((r) => [r.status, r.checker_sub])).toEqual([['approved', 'bob'], ['rejected', 'bob'], ['withdrawn', null]]);
    expect(await versionOf(h.db, ORGS.approve)).toBe(2);
    const detail = CustomerDetail.parse((await h.call('owner', 'GET', `/v1/customers/${ORGS.approve}`)).json());
    expect(detail.customer).toMatchObject({ contractValueCents: 7_000_000, contactPhone: '+1 555 0142' });
    const page = ChangeRequestPage.parse((await h.call('lead', 'GET', '/v1/change-requests?status=pending')).json());
    expect(page.items.filter((r) => r.kind === 'archive').map((r) => r.orgId).sort()).toEqual([ARCHIVE_OWN, ARCHIVE_BY_LEAD]);
  });

  it('a CRM sees only their own requests and those on their customers', async () => {
    const carols = ChangeRequestPage.parse((await h.call('otherCrm', 'GET', '/v1/change-requests')).json());
    expect(carols.items.map((r) => r.orgId)).toEqual([CAROLS]);
  });

  it('the history names maker, checker and request on the applied change', async () => {
    const res = await h.call('lead', 'GET', `/v1/customers/${ORGS.approve}/audit`);
    const applied = (res.json() as { items: { action: string; detail?: unknown; actorSub: string }[] }).items[0];
    expect(applied).toMatchObject({
      action: 'customer.update',
      actorSub: 'bob',
      detail: { changeRequestId: requests.approve!.id, maker: { sub: 'alice' }, checker: { sub: 'bob' } },
    });
  });

  it('stale: a change lands before approval; approval answers the stale request and applies nothing; the maker re-submits', async () => {
    const r = await propose(ORGS.stale, { contractValueCents: 5_000 });
    const direct = await h.call('owner', 'PATCH', `/v1/customers/${ORGS.stale}`, {
      headers: { 'if-match': '"1"' },
      body: { changes: { contactEmail: 'first@in.example' }, reason: 'Email changed' },
    });
    expect(direct.statusCode, direct.body).toBe(200);
    const approve = await h.call('lead', 'POST', `/v1/change-requests/${r.id}/approve`, { headers: { 'if-match': '"1"' }, body: decision() });
    expect(approve.statusCode, approve.body).toBe(200);
    expect(ChangeRequest.parse(approve.json())).toMatchObject({ status: 'stale' });
    expect(await versionOf(h.db, ORGS.stale)).toBe(2);
    const again = await propose(ORGS.stale, { contractValueCents: 5_000 });
    expect(again).toMatchObject({ baseVersion: 2, status: 'pending' });
  });

  it('a second request while one waits is a 409; a stale If-Match on a decision is a 412; both change nothing', async () => {
    const before = await state();
    const second = await h.call('owner', 'PATCH', `/v1/customers/${ORGS.stale}`, {
      headers: { 'if-match': '"2"' },
      body: { changes: { userCount: 999 }, reason: 'More seats' },
    });
    expectProblem(second, 409);
    const pending = ChangeRequestPage.parse((await h.call('lead', 'GET', `/v1/change-requests?orgId=${ORGS.stale}&status=pending`)).json()).items[0]!;
    const afterList = await state();
    const stale = await h.call('lead', 'POST', `/v1/change-requests/${pending.id}/approve`, { headers: { 'if-match': '"9"' }, body: decision() });
    expectProblem(stale, 412);
    const missing = await h.call('lead', 'POST', `/v1/change-requests/${pending.id}/approve`, { body: decision() });
    expectProblem(missing, 428);
    expect(await state()).toBe(afterList);
    expect(before).not.toBe(afterList); // the list page itself is an access event
  });
});
