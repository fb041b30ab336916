// api.customer_update_many applies the edits it can in one statement and sends
// the rest through core.customer_update one by one: every edit must come out as
// it does alone (outcome, audit event, access event), and an edit that fails
// takes nothing else with it, whichever path it took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { accessEventsFor, auditEventsFor, createTestDatabase, seedCustomer, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
let api: pg.Client;
beforeAll(async () => {
  // Seeded rules: userCount needs a second person, so an edit of it becomes a change request.
  t = await createTestDatabase({ approvalRules: 'seeded' });
  api = new pg.Client({ connectionString: t.apiUrl });
  await api.connect();
});
afterAll(async () => {
  await api?.end();
  await t?.drop();
});

interface Edit {
  sub: string;
  name: string;
  roles: string[];
  scopes: string[];
  requestId: string;
  clientRequestId: string | null;
  clientAddress: string;
  appVersion: string;
  orgId: string;
  expectedVersion: number;
  changes: Record<string, unknown>;
  reason: string;
}

const alice = { sub: 'alice', name: 'Alice Adams', roles: ['crm'], scopes: ['openid'] };
let counter = 0;
const edit = (orgId: string, changes: Record<string, unknown>, over: Partial<Edit> = {}): Edit => ({
  ...alice,
  requestId: `batch-${++counter}`,
  clientRequestId: `client-${counter}`,
  clientAddress: '127.0.0.1',
  appVersion: '0.1.0-test',
  orgId,
  expectedVersion: 1,
  changes,
  reason: 'Batch check',
  ...over,
});

const batch = async (edits: Edit[]): Promise<Record<string, unknown>[]> =>
  (await api.query<{ r: Record<string, unknown>[] }>('SELECT api.customer_update_many($1::jsonb) AS r', [JSON.stringify(edits)])).rows[0]!.r;

/** The same edit alone, through core.customer_update in a transaction of its own (as the owner may). */
async function alone(e: Edit): Promise<Record<string, unknown>> {
  try {
    const { rows } = await t.admin.query<{ r: Record<string, unknown> }>(
      'SELECT core.customer_update($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12) AS r',
      [e.sub, e.name, e.roles, e.scopes, e.requestId, e.clientAddress, e.appVersion, e.orgId, e.expectedVersion, JSON.stringify(e.changes), e.reason, e.clientRequestId],
    );
    const r = rows[0]!.r;
    return 'changeRequest' in r ? r : { detail: r };
  } catch (err) {
    const { code, message, constraint } = err as { code: string; message: string; constraint?: string };
    return { code, message, constraint: constraint ?? null };
  }
}

const VOLATILE = new Set(['createdAt', 'updatedAt', 'id', 'expiresAt', 'requestedAt', 'occurred_at', 'xid', 'decidedAt', 'changeRequestId']);
/** Outcomes and rows of the two copies, comparable: B's ids read as A's, times and generated ids left out. */
function comparable(value: unknown, from: string, to: string): unknown {
  return JSON.parse(JSON.stringify(value).replaceAll(from, to), (k, v: unknown) => (VOLATILE.has(k) ? undefined : v));
}

const EVENT_COLUMNS = ['actor_sub', 'actor_name', 'actor_roles', 'action', 'entity_type', 'entity_id', 'changes', 'reason', 'request_id',
  'client_address', 'app_version', 'client_request_id', 'revert_of', 'detail'];
const eventsOf = async (orgId: string) =>
  (await auditEventsFor(t.admin, orgId)).map((e) => Object.fromEntries(EVENT_COLUMNS.map((c) => [c, e[c]])));

describe('a batch of edits', () => {
  // Two copies of the same customers: A edited in one batch, B by the same edits one at a time.
  const cases: [string, (org: string) => Edit | Edit[]][] = [
    ['applies', (o) => edit(o, { contactName: 'Dana Cruz' })],
    ['stale version', (o) => edit(o, { contactName: 'Dana Cruz' }, { expectedVersion: 5 })],
    ['another CRM’s customer', (o) => edit(o, { contactName: 'Dana Cruz' })],
    ['needs approval', (o) => edit(o, { userCount: 999 })],
    ['changes nothing', (o) => edit(o, { contactName: 'Jordan Lee' })],
    ['two edits of one customer', (o) => [edit(o, { contactName: 'First' }), edit(o, { contactName: 'Second' })]],
    ['two edits in turn', (o) => [edit(o, { contactName: 'First' }), edit(o, { orgName: 'Second Org' }, { expectedVersion: 2 })]],
    ['reason trimmed', (o) => edit(o, { contactEmail: 'dana@acme.example', contactPhone: '+1 555 0199' }, { reason: '   New contact   ' })],
    ['archived', (o) => edit(o, { contactName: 'Dana Cruz' })],
    ['unknown field', (o) => edit(o, { ownerSub: 'carol' })],
    ['no such customer', () => edit('ORG-009999', { contactName: 'Dana Cruz' })],
    ['invalid actor', (o) => edit(o, { contactName: 'Dana Cruz' }, { sub: '' })],
    ['short reason', (o) => edit(o, { contactName: 'Dana Cruz' }, { reason: 'x' })],
    ['several fields', (o) => edit(o, { orgName: 'Acme Freight', renewalDate: '2028-01-31', contractValueCents: 4_800_000 })],
  ];
  const orgA = (i: number) => `ORG-0011${String(i).padStart(2, '0')}`;
  const orgB = (i: number) => `ORG-0022${String(i).padStart(2, '0')}`;

  beforeAll(async () => {
    for (const [i, [label]] of cases.entries()) {
      for (const orgId of [orgA(i), orgB(i)]) {
        await seedCustomer(t.admin, {
          orgId,
          ownerSub: label === 'another CRM’s customer' ? 'carol' : 'alice',
          status: label === 'archived' ? 'archived' : 'active',
        });
      }
    }
  });

  it('every edit comes out as it does alone: the same outcome, audit event and access event', async () => {
    const editsA = cases.flatMap(([, make], i) => [make(orgA(i))].flat().map((e) => ({ e, i })));
    // Shuffled so that the batch's order of arrival is not its order of organization ids.
    const shuffled = editsA.map((_, k) => editsA[(k * 7) % editsA.length]!);
    expect(new Set(shuffled).size).toBe(editsA.length);
    const outcomesA = await batch(shuffled.map((x) => x.e));
    const byEdit = new Map(shuffled.map((x, k) => [x, outcomesA[k]]));
    // The same edits of the B copy, with the same request ids, each alone, in the order of the cases.
    const outcomesB: unknown[] = [];
    for (const { e, i } of editsA) outcomesB.push(await alone({ ...e, orgId: e.orgId === 'ORG-009999' ? e.orgId : orgB(i) }));
    expect(comparable(editsA.map((x) => byEdit.get(x)), 'ORG-0011', 'ORG-0011')).toEqual(comparable(outcomesB, 'ORG-0022', 'ORG-0011'));
    // Not vacuous: some applied, some failed, one waits for approval.
    expect(outcomesA.filter((o) => 'detail' in o).length).toBeGreaterThanOrEqual(5);
    expect(outcomesA.filter((o) => 'code' in o).length).toBeGreaterThanOrEqual(5);
    expect(outcomesA.filter((o) => 'changeRequest' in o)).toHaveLength(1);

    for (const i of cases.keys()) {
      const [label] = cases[i]!;
      expect(comparable(await eventsOf(orgA(i)), 'ORG-0011', 'ORG-0011'), label).toEqual(comparable(await eventsOf(orgB(i)), 'ORG-0022', 'ORG-0011'));
      expect((await accessEventsFor(t.admin, orgA(i))).length, label).toBe((await accessEventsFor(t.admin, orgB(i))).length);
    }
    expect((await eventsOf(orgA(0)))[0]).toMatchObject({ action: 'customer.update', request_id: editsA[0]!.e.requestId, reason: 'Batch check' });
    expect((await eventsOf(orgA(7)))[0]).toMatchObject({ reason: 'New contact' });
  });

  it('a value the table refuses fails that edit alone: the others apply, each with its event', async () => {
    for (const orgId of ['ORG-003301', 'ORG-003302', 'ORG-003303']) await seedCustomer(t.admin, { orgId, ownerSub: 'alice' });
    const [first, refused, last] = await batch([
      edit('ORG-003301', { contactName: 'Dana Cruz' }),
      edit('ORG-003302', { contactName: 'Card 4111 1111 1111 1111' }),
      edit('ORG-003303', { contactPhone: '+1 555 0142' }),
    ]);
    expect(first).toMatchObject({ detail: { customer: { orgId: 'ORG-003301', contactName: 'Dana Cruz', version: 2 } } });
    expect(refused).toEqual({ code: 'CV422', message: 'a card number cannot be stored in customer data', constraint: null });
    expect(last).toMatchObject({ detail: { customer: { orgId: 'ORG-003303', contactPhone: '+1 555 0142', version: 2 } } });
    expect(await eventsOf('ORG-003301')).toHaveLength(1);
    expect(await eventsOf('ORG-003302')).toHaveLength(0);
    expect(await eventsOf('ORG-003303')).toHaveLength(1);
    const { rows } = await t.admin.query<{ version: number }>(`SELECT version FROM core.customers WHERE org_id = 'ORG-003302'`);
    expect(rows[0]?.version).toBe(1);
  });

  it('queues every applied edit’s event for sealing', async () => {
    for (const orgId of ['ORG-004401', 'ORG-004402']) await seedCustomer(t.admin, { orgId, ownerSub: 'alice' });
    await batch([edit('ORG-004401', { contactName: 'Dana Cruz' }), edit('ORG-004402', { contactName: 'Dana Cruz' })]);
    const { rows } = await t.admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit.unsealed u JOIN audit.events e ON e.id = u.event_id WHERE e.entity_id IN ('ORG-004401', 'ORG-004402')`,
    );
    expect(Number(rows[0]?.n)).toBe(2);
  });
});
