// Demo records for looking at screens and for component tests: every object is
// parsed with the shared schemas, so what the stand-in bridges return has the
// shape the real main process returns. Not shipped.
import {
  AccessEvent,
  ApprovalRules,
  AuditEvent,
  ChangeRequest,
  CustomerDetail,
  CustomerListItem,
  HIGH_CHURN_RISK,
  PortfolioSummary,
  Prediction,
  RENEWAL_SOON_DAYS,
  UsageDay,
  type AccessEvent as AccessEventT,
  type ApprovalRules as ApprovalRulesT,
  type ChangeRequest as ChangeRequestT,
  type AuditEvent as AuditEventT,
  type AuditVerifyResult as AuditVerifyResultT,
  type CustomerDetail as CustomerDetailT,
  type CustomerListItem as CustomerListItemT,
  type PortfolioSummary as PortfolioSummaryT,
} from '../../shared/api';
import {
  AuditVerifyOutcome,
  SessionState,
  type AuditVerifyOutcome as AuditVerifyOutcomeT,
  type AuditWitnessReport as AuditWitnessReportT,
  type SessionState as SessionStateT,
} from '../../shared/ipc';

export const ISSUER = 'http://127.0.0.1:4800';
export const ALICE = { sub: 'alice', name: 'Alice Martin', roles: ['crm' as const] };
export const BOB = { sub: 'bob', name: 'Bob Keller', roles: ['support_lead' as const] };
export const CAROL = { sub: 'carol', name: 'Carol Nguyen', roles: ['crm' as const] };

export const signedIn = (user: typeof ALICE | typeof BOB): SessionStateT =>
  SessionState.parse({ status: 'signedIn', issuer: ISSUER, user, message: null, signInUrl: null, signInDeadline: null });

const NAMES = ['Northwind Traders', 'Contoso Health', 'Fabrikam Logistics', 'Tailspin Aviation', 'Litware Finance', 'Adatum Retail', 'Proseware Labs', 'Wingtip Energy', 'Lucerne Publishing', 'Margie Travel'];
const PEOPLE = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Frances Allen'];

const pad = (n: number) => String(n).padStart(6, '0');
const dayOffset = (days: number, from = new Date()) => new Date(from.getTime() + days * 86_400_000).toISOString().slice(0, 10);

/** Deterministic list rows; number 7 carries markup in its name to show it stays text. */
export function listItem(i: number, ownerSub = i % 3 === 0 ? 'carol' : 'alice'): CustomerListItemT {
  const person = PEOPLE[i % PEOPLE.length]!;
  return CustomerListItem.parse({
    orgId: `ORG-${pad(i)}`,
    orgName: i === 7 ? '<img src=x onerror=alert(1)>' : `${NAMES[i % NAMES.length]} ${Math.floor(i / NAMES.length) || ''}`.trim(),
    contactName: person,
    contactEmail: `${person.split(' ')[0]!.toLowerCase()}@example.com`,
    contactPhone: `+49 30 ${1000000 + i * 37}`,
    renewalDate: dayOffset(((i * 37) % 400) - 20),
    contractValueCents: 1_200_000 + ((i * 7919) % 90) * 100_000,
    currency: i % 4 === 0 ? 'USD' : 'EUR',
    ownerSub,
    ownerName: ownerSub === 'alice' ? 'Alice Martin' : 'Carol Nguyen',
    status: 'active',
    churnRisk: i % 11 === 0 ? null : ((i * 37) % 100) / 100,
  });
}

/** What the API would count over these rows (its `portfolio:summary`), with the same thresholds. */
export function portfolioSummary(items: readonly CustomerListItemT[]): PortfolioSummaryT {
  const today = dayOffset(0);
  const soonUntil = dayOffset(RENEWAL_SOON_DAYS);
  return PortfolioSummary.parse({
    customers: items.length,
    highChurnRisk: items.filter((c) => (c.churnRisk ?? 0) >= HIGH_CHURN_RISK).length,
    renewingWithin30Days: items.filter((c) => c.renewalDate >= today && c.renewalDate <= soonUntil).length,
    asOf: today,
  });
}

export function detail(orgId: string, overrides: Partial<CustomerDetailT['customer']> = {}): CustomerDetailT {
  const i = Number(orgId.slice(4));
  const item = listItem(i);
  const now = new Date();
  const prediction = (kind: 'churn_risk' | 'upsell_propensity', score: number, ageDays: number) =>
    Prediction.parse({
      orgId,
      kind,
      // As the model job (models/job.ts) publishes them: log-odds contributions with the feature's value.
      modelName: kind === 'churn_risk' ? 'churn-logreg' : 'upsell-logreg',
      modelVersion: '2026.11.20-9b4ed27519f4',
      score,
      topFactors:
        kind === 'churn_risk'
          ? [
              { factor: 'active_users_trend_4w', weight: 1.21, value: -0.32 },
              { factor: 'seat_utilization', weight: 0.64, value: 0.38 },
              { factor: 'tenure_years', weight: -0.35, value: 3.4 },
              { factor: 'seat_price', weight: 0.12, value: 71 },
              { factor: 'log_seats', weight: 0.03, value: 4.6 },
              { factor: 'sessions_per_active_user', weight: -0.01, value: 2.1 },
            ]
          : [
              { factor: 'seat_utilization', weight: -0.52, value: 0.38 },
              { factor: 'tenure_years', weight: -0.3, value: 3.4 },
              { factor: 'seat_price', weight: -0.11, value: 71 },
              { factor: 'active_users_trend_4w', weight: 0.02, value: -0.32 },
            ],
      scoredAt: new Date(now.getTime() - ageDays * 86_400_000).toISOString(),
    });
  return CustomerDetail.parse({
    customer: {
      orgId,
      orgName: item.orgName,
      contactName: item.contactName,
      contactEmail: item.contactEmail,
      contactPhone: item.contactPhone,
      userCount: 120 + i,
      contractValueCents: item.contractValueCents,
      currency: item.currency,
      renewalDate: item.renewalDate,
      ownerSub: item.ownerSub,
      ownerName: item.ownerName,
      status: 'active',
      version: 3,
      createdAt: '2025-02-03T09:00:00.000Z',
      updatedAt: '2026-11-02T14:12:00.000Z',
      ...overrides,
    },
    billing: [{ brand: 'Visa', last4: '4242', expMonth: 8, expYear: 2028 }],
    usage: { days: 180, activeUsersLatest: 96, activeUsersAvg30: 101.5, trend30: -0.12 },
    predictions: [prediction('churn_risk', item.churnRisk ?? 0.5, 2), prediction('upsell_propensity', 0.31, 12)],
  });
}

export function usage(days: number): UsageDay[] {
  return Array.from({ length: days }, (_, d) =>
    UsageDay.parse({
      day: dayOffset(d - days),
      activeUsers: Math.round(110 - d * 0.08 + 12 * Math.sin(d / 4)),
      sessions: Math.round(260 - d * 0.2 + 30 * Math.sin(d / 3)),
      featureEvents: 900 + d,
    }),
  );
}

export function auditEvent(n: number, over: Partial<AuditEventT> = {}): AuditEventT {
  return AuditEvent.parse({
    id: String(1000 - n),
    occurredAt: new Date(Date.UTC(2026, 10, 21, 16, 0) - n * 3_600_000).toISOString(),
    actorSub: n % 2 ? 'alice' : 'carol',
    actorName: n % 2 ? 'Alice Martin' : 'Carol Nguyen',
    actorRoles: ['crm'],
    action: n % 5 === 4 ? 'customer.create' : 'customer.update',
    entityType: 'customer',
    entityId: `ORG-${pad(n + 1)}`,
    changes:
      n % 5 === 4
        ? [{ field: 'orgName', before: null, after: NAMES[n % NAMES.length]! }]
        : [
            { field: 'contactEmail', before: 'old@example.com', after: 'ada@example.com' },
            ...(n % 2 ? [{ field: 'contractValueCents', before: 1_200_000, after: 1_450_000 }] : []),
          ],
    reason: n % 5 === 4 ? 'New customer signed' : 'Customer asked to update the billing contact',
    requestId: `req-${n}`,
    clientAddress: '10.20.0.' + (10 + n),
    appVersion: '0.1.0',
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    ...over,
  });
}

const ACCESS_KINDS = ['customer.read', 'customer.search', 'customer.usage', 'customer.history', 'customer.predictions'] as const;

/** An access event: who was shown which customer, n hours before the demo's "now". */
export function accessEvent(n: number, over: Partial<AccessEventT> = {}): AccessEventT {
  const kind = ACCESS_KINDS[n % ACCESS_KINDS.length]!;
  const orgId = `ORG-${pad((n % 7) + 1)}`;
  return AccessEvent.parse({
    id: String(5000 - n),
    occurredAt: new Date(Date.UTC(2026, 10, 21, 16, 0) - n * 1_800_000).toISOString(),
    actorSub: n % 3 === 0 ? 'carol' : 'alice',
    actorName: n % 3 === 0 ? 'Carol Nguyen' : 'Alice Martin',
    actorRoles: ['crm'],
    kind,
    orgId: kind === 'customer.search' ? null : orgId,
    detail:
      kind === 'customer.search'
        ? { query: { q: NAMES[n % NAMES.length]!.split(' ')[0], sort: 'name' }, orgIds: [orgId, `ORG-${pad(n + 20)}`] }
        : kind === 'customer.usage'
          ? { from: '2026-08-24', to: '2026-11-21' }
          : {},
    requestId: `req-a${n}`,
    clientAddress: '10.20.0.' + (10 + (n % 5)),
    appVersion: '0.1.0',
    ...over,
  });
}

export const DEMO_KEY_ID = '5f1c0e7a9b2d4c6e8a0b1c2d3e4f5a6b';

/** What "Verify integrity" answers: the API's result (ok by default, newest checkpoint #412) and the console's own check. */
export function verifyOutcome(
  trail: Partial<Omit<Extract<AuditVerifyResultT, { ok: false }>, 'ok'>> & { ok?: boolean } = {},
  witness: AuditWitnessReportT = {
    status: 'ok',
    remembered: { seq: 412, signedAt: '2026-11-21T15:59:00.000Z', keyId: DEMO_KEY_ID, verifiedAt: '2026-11-21T16:00:04.000Z' },
  },
): AuditVerifyOutcomeT {
  return AuditVerifyOutcome.parse({
    trail: {
      ok: true,
      checked: 18_342,
      accessChecked: 96_210,
      unsealed: 0,
      accessUnsealed: 0,
      checkpoint: { seq: 412, signedAt: '2026-11-21T15:59:00.000Z', keyId: DEMO_KEY_ID },
      ...trail,
    },
    witness,
  });
}

/** A change request: by default alice's pending edit of a contract value and a phone on ORG-000002 (based on version 3, its demo version). */
export function changeRequest(n: number, over: Partial<ChangeRequestT> = {}): ChangeRequestT {
  const orgId = over.orgId ?? `ORG-${pad(n + 2)}`;
  const c = detail(orgId).customer;
  return ChangeRequest.parse({
    id: String(40 - n),
    orgId,
    orgName: c.orgName,
    kind: 'edit',
    baseVersion: c.version,
    changes: [
      { field: 'contactPhone', before: c.contactPhone, after: '+49 30 5550199' },
      { field: 'contractValueCents', before: c.contractValueCents, after: c.contractValueCents + 2_500_000 },
    ],
    reason: 'Renewal signed at the enterprise tier (order form 2026-114)',
    maker: { sub: 'alice', name: 'Alice Martin' },
    createdAt: new Date(Date.UTC(2026, 10, 21, 15, 0) - n * 3_600_000).toISOString(),
    expiresAt: new Date(Date.UTC(2026, 11, 5, 15, 0) - n * 3_600_000).toISOString(),
    status: 'pending',
    checker: null,
    checkerReason: null,
    decidedAt: null,
    version: 1,
    ...over,
  });
}

/** The approval rules migration 008 seeds. */
export const approvalRules = (): ApprovalRulesT =>
  ApprovalRules.parse({ fields: ['userCount', 'contractValueCents', 'currency'], actions: ['archive', 'unarchive'], requestExpiryDays: 14 });
