// GET /v1/portfolio/summary: a CRM's own counts over their whole portfolio,
// not over the pages a screen happens to have loaded. The portfolio here is
// larger than one page of the list, and the high-risk and renewing customers
// reach past that page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCustomer } from '../../../testing/db';
import { expectProblem, startHarness, type Harness } from './harness';

let h: Harness;
let today: string;

const org = (n: number) => `ORG-${String(n).padStart(6, '0')}`;
/** The database's date plus `days`, as YYYY-MM-DD. */
async function dayFromToday(days: number): Promise<string> {
  const { rows } = await h.db.admin.query<{ d: string }>(`SELECT to_char(current_date + $1::integer, 'YYYY-MM-DD') AS d`, [days]);
  return rows[0]!.d;
}

// Alice's 150 active customers: 1..120 at high churn risk (so 20 of them lie past a first page of
// 100 sorted riskiest first); every tenth renews within 30 days, most of those past the first page.
const ALICE_ACTIVE = 150;
const HIGH_RISK = 120;
const RENEWING = 15;

beforeAll(async () => {
  h = await startHarness();
  today = await dayFromToday(0);
  const soon = await dayFromToday(12);
  const later = await dayFromToday(200);
  for (let i = 1; i <= ALICE_ACTIVE; i++) {
    await seedCustomer(h.db.admin, {
      orgId: org(i),
      ownerSub: 'alice',
      orgName: `Alice Customer ${i}`,
      latestChurnRisk: i <= HIGH_RISK ? 0.95 - i / 1000 : 0.2,
      renewalDate: i % 10 === 0 ? soon : later,
    });
  }
  // Not counted: archived ones of hers, and someone else's, however risky or close to renewal.
  await seedCustomer(h.db.admin, { orgId: org(501), ownerSub: 'alice', status: 'archived', latestChurnRisk: 0.99, renewalDate: today });
  await seedCustomer(h.db.admin, { orgId: org(502), ownerSub: 'carol', latestChurnRisk: 0.99, renewalDate: today });
});
afterAll(() => h?.close());

async function summaryAs(who: 'owner' | 'otherCrm') {
  const res = await h.call(who, 'GET', '/v1/portfolio/summary');
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Record<string, unknown>;
}

describe('GET /v1/portfolio/summary', () => {
  it('counts the whole portfolio, past the first page of the list', async () => {
    const page = await h.call('owner', 'GET', '/v1/customers?owner=me&sort=churnRisk&limit=100');
    const first = page.json() as { items: { churnRisk: number | null }[]; nextCursor: string | null };
    expect(first.items).toHaveLength(100);
    expect(first.nextCursor).not.toBeNull();
    expect(first.items.filter((c) => (c.churnRisk ?? 0) >= 0.7)).toHaveLength(100);

    expect(await summaryAs('owner')).toEqual({ customers: ALICE_ACTIVE, highChurnRisk: HIGH_RISK, renewingWithin30Days: RENEWING, asOf: today });
  });

  it('counts a churn risk of exactly 0.7 as high, and renewals from today through day 30 as soon', async () => {
    await seedCustomer(h.db.admin, { orgId: org(601), ownerSub: 'carol', latestChurnRisk: 0.7, renewalDate: today });
    await seedCustomer(h.db.admin, { orgId: org(602), ownerSub: 'carol', latestChurnRisk: 0.69, renewalDate: await dayFromToday(30) });
    await seedCustomer(h.db.admin, { orgId: org(603), ownerSub: 'carol', latestChurnRisk: null, renewalDate: await dayFromToday(31) });
    await seedCustomer(h.db.admin, { orgId: org(604), ownerSub: 'carol', latestChurnRisk: 0.1, renewalDate: await dayFromToday(-1) });
    // 502 (0.99, today) and 601 are high; 502, 601 and 602 renew within 30 days.
    expect(await summaryAs('otherCrm')).toEqual({ customers: 5, highChurnRisk: 2, renewingWithin30Days: 3, asOf: today });
  });

  it('records no access event and no audit event: counts carry no personal data', async () => {
    const count = async () => {
      const { rows } = await h.db.admin.query<{ a: string; e: string }>(
        'SELECT (SELECT count(*) FROM audit.access_events) AS a, (SELECT count(*) FROM audit.events) AS e',
      );
      return rows[0];
    };
    const before = await count();
    await summaryAs('owner');
    expect(await count()).toEqual(before);
  });

  it('is for CRMs only: a support lead or an admin has no portfolio of their own', async () => {
    expectProblem(await h.call('lead', 'GET', '/v1/portfolio/summary'), 403);
    expectProblem(await h.call('admin', 'GET', '/v1/portfolio/summary'), 403);
    expectProblem(await h.call('none', 'GET', '/v1/portfolio/summary'), 401);
  });
});
