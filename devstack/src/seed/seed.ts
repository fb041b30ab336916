// Demo data for the stack and the benchmarks, in two parts:
// 1. bulk rows (customers, billing methods, daily usage) loaded as the
//    database owner in batches (see load.ts for why not through the API);
// 2. a little audit history made through the API as the demo users: the real
//    editing path. Predictions come from the model job (models/run.ts), which the
//    stack runs on this data and which publishes through `PUT /v1/predictions`.
import type { ChangeRequestPage, CustomerListPage, CustomerDetail } from '../../../shared/api';
import type { SqlRunner } from '../../../api/src/db/migrate';
import { apiCall, signInAs } from './api-client';
import { DEMO_ACCOUNTS, type DemoAccount } from './demo-accounts';
import { DEFAULT_SEED, createGenerator, type GenerateOptions } from './generate';
import { loadBatch } from './load';
import { silentProgress, type Progress } from './progress';

export const DEFAULT_CUSTOMERS = 500;
/** Usage (180 rows a customer) is generated for at most this many customers unless told otherwise. */
export const DEFAULT_USAGE_CUSTOMERS = 20_000;

export interface DemoDataOptions {
  customers: number;
  seed?: number;
  /** ISO date; default today (UTC). */
  asOf?: string;
  usageCustomers?: number;
  batchSize?: number;
  progress?: Progress;
  /** Stops between batches (Ctrl+C while seeding). */
  signal?: AbortSignal;
}

export function generatorOptions(o: DemoDataOptions): GenerateOptions {
  return {
    customers: o.customers,
    seed: o.seed ?? DEFAULT_SEED,
    asOf: o.asOf ?? new Date().toISOString().slice(0, 10),
    usageCustomers: Math.min(o.customers, o.usageCustomers ?? DEFAULT_USAGE_CUSTOMERS),
  };
}

/** Part 1: bulk rows, as the database owner. `db` is the migrator's connection, never cims_api. */
export async function loadBulkData(db: SqlRunner, o: DemoDataOptions): Promise<{ customers: number; usageRows: number }> {
  const progress = o.progress ?? silentProgress;
  const gen = createGenerator(generatorOptions(o));
  let usageRows = 0;
  progress.start('Customers', o.customers);
  try {
    for (const batch of gen.batches(o.batchSize ?? 500)) {
      // Embedded PGlite answers without real I/O: yield so signals (Ctrl+C) are seen between batches.
      await new Promise((r) => setImmediate(r));
      o.signal?.throwIfAborted();
      usageRows += (await loadBatch(db, batch)).usageRows;
      progress.advance(batch.length);
    }
  } finally {
    progress.stop();
  }
  return { customers: o.customers, usageRows };
}

export interface ThroughApiOptions extends DemoDataOptions {
  apiUrl: string;
  issuer: string;
  modelRunner: { clientId: string; clientSecret: string; scope: string };
  /** The provider's demo seeder client: the demo users' tokens come from its password grant. */
  demoSeeder: { clientId: string; clientSecret: string };
  accounts?: readonly DemoAccount[];
  log?: (line: string) => void;
}

const accountOf = (accounts: readonly DemoAccount[], username: string): DemoAccount => {
  const account = accounts.find((a) => a.username === username);
  if (!account) throw new Error(`demo account ${username} is missing`);
  return account;
};

/** Edits one of the user's first customers through the API, with If-Match and a reason, as the console would. */
async function editOwnCustomer(o: ThroughApiOptions, token: string, pick: number, change: (d: CustomerDetail) => Record<string, unknown>, reason: string): Promise<string | null> {
  const list = await apiCall<CustomerListPage>(o.apiUrl, token, 'GET', '/v1/customers?owner=me&sort=name&limit=5');
  const item = list.body.items[pick];
  if (!item) return null;
  const detail = await apiCall<CustomerDetail>(o.apiUrl, token, 'GET', `/v1/customers/${item.orgId}`);
  await apiCall(o.apiUrl, token, 'PATCH', `/v1/customers/${item.orgId}`, { changes: change(detail.body), reason }, { headers: { 'if-match': detail.etag ?? `"${detail.body.customer.version}"` } });
  return item.orgId;
}

/** Part 2: a little audit history, made through the API as the demo users. */
export async function makeAuditHistory(o: ThroughApiOptions): Promise<number> {
  if (o.customers === 0) return 0;
  const accounts = o.accounts ?? DEMO_ACCOUNTS;
  let events = 0;
  const alice = await signInAs(o.issuer, o.demoSeeder, 'alice', accountOf(accounts, 'alice').password);
  if (await editOwnCustomer(o, alice, 0, (d) => ({ userCount: d.customer.userCount + 25 }), 'Customer added a team of 25 seats (signed order form)')) events++;
  if (await editOwnCustomer(o, alice, 1, () => ({ contactPhone: '+44 20 7946 0958' }), 'New direct line given by the contact on the quarterly call')) events++;
  const carol = await signInAs(o.issuer, o.demoSeeder, 'carol', accountOf(accounts, 'carol').password);
  if (await editOwnCustomer(o, carol, 0, (d) => ({ renewalDate: addDays(d.customer.renewalDate, 30) }), 'Renewal moved by 30 days, agreed with procurement')) events++;
  const bob = await signInAs(o.issuer, o.demoSeeder, 'bob', accountOf(accounts, 'bob').password);
  // Alice's seat change waited for approval (a rule names the number of users): bob approves it.
  const waiting = await apiCall<ChangeRequestPage>(o.apiUrl, bob, 'GET', '/v1/change-requests?status=pending&limit=50');
  const seats = waiting.body.items.find((r) => r.maker.sub === 'alice' && r.changes.some((c) => c.field === 'userCount'));
  if (seats) {
    await apiCall(o.apiUrl, bob, 'POST', `/v1/change-requests/${seats.id}/approve`, { reason: 'Order form for the 25 seats checked' }, { headers: { 'if-match': `"${seats.version}"` } });
    events++;
  }
  const list = await apiCall<CustomerListPage>(o.apiUrl, bob, 'GET', '/v1/customers?sort=name&limit=3');
  const last = list.body.items.at(-1);
  if (last && list.body.items.length > 1) {
    const detail = await apiCall<CustomerDetail>(o.apiUrl, bob, 'GET', `/v1/customers/${last.orgId}`);
    // Archiving needs a second person: this stays a pending request in the Approvals queue.
    await apiCall(o.apiUrl, bob, 'POST', `/v1/customers/${last.orgId}/archive`, { reason: 'Duplicate record of a merged account' }, { headers: { 'if-match': detail.etag ?? `"${detail.body.customer.version}"` } });
    events++;
  }
  o.log?.(`audit history: ${events} changes made through the API as alice, carol and bob`);
  return events;
}

function addDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
