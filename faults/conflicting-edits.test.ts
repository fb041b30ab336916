// Fault 4: 1,000 conflicting edits of 10 customers from 50 clients at once, each
// edit pinned with If-Match to the version its client last saw. For each
// customer the final version is one plus its successful edits, each success has
// exactly one audit event, a refused edit left nothing, and every refusal is a
// 412 or 409: never lost, never a 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAudit, type TestAudit } from '../testing/audit';
import { createScratchDatabase, seedCustomer, type ScratchDatabase } from '../testing/db';
import { startTestIssuer, type TestIssuer } from '../testing/issuer';
import { killAllApis, startApiProcess, type ApiProcess } from './support/api-process';
import { customers, events, withClient } from './support/audit-rows';
import { call, versionOf, type Answer } from './support/client';

const CUSTOMERS = 10;
const CLIENTS = 50;
const EDITS = 1_000;
const PER_CLIENT = EDITS / CLIENTS;

let db: ScratchDatabase | undefined;
let issuer: TestIssuer | undefined;
let audit: TestAudit | undefined;
let api: ApiProcess | undefined;

const orgOf = (c: number) => `ORG-${String(200_001 + c).padStart(6, '0')}`;
// One owner per customer (only the assigned CRM may edit): five consoles of that CRM per customer.
const owner = (c: number) => ({ sub: `crm-${c}`, name: `CRM ${c}`, roles: ['crm'], scope: 'openid api' });

describe('1,000 concurrent conflicting edits', () => {
  beforeAll(async () => {
    db = await createScratchDatabase('cims_faults');
    await withClient(db.adminUrl, async (admin) => {
      for (let c = 0; c < CUSTOMERS; c++) await seedCustomer(admin, { orgId: orgOf(c), ownerSub: owner(c).sub, ownerName: owner(c).name });
    });
    issuer = await startTestIssuer();
    audit = createTestAudit();
    api = await startApiProcess({ databaseUrl: db.apiUrl, issuer: issuer.url, auditEnv: audit.env });
  }, 120_000);

  afterAll(async () => {
    await killAllApis();
    await issuer?.close();
    audit?.cleanup();
    await db?.drop();
  });

  it('counts every success once, and refuses the rest with 412 or 409', async () => {
    const tokens = await Promise.all(Array.from({ length: CUSTOMERS }, (_v, c) => issuer!.sign(owner(c))));
    const edits: { customer: number; reason: string; answer: Answer }[] = [];
    const rereads: Answer[] = [];
    const started = Date.now();

    await Promise.all(
      Array.from({ length: CLIENTS }, async (_v, k) => {
        const c = k % CUSTOMERS;
        const path = `/v1/customers/${orgOf(c)}`;
        const first = await call(api!.url, path, { token: tokens[c] });
        rereads.push(first);
        let known = first.status === 200 ? versionOf(first.body) : 1;
        for (let n = 0; n < PER_CLIENT; n++) {
          const reason = `fault-4 client ${k} edit ${n}`;
          const answer = await call(api!.url, path, {
            method: 'PATCH',
            token: tokens[c],
            ifMatch: known,
            // A value no other edit (nor the seed) sets: every success is a real change. A contact field,
            // which no approval rule names, so each success applies at once (migration 008).
            body: { changes: { contactName: `Writer ${k}-${n}` }, reason },
          });
          edits.push({ customer: c, reason, answer });
          if (answer.status === 200) known = versionOf(answer.body);
          else if (answer.status === 412) {
            // Someone else saved first: take their version, as the console's re-apply does.
            const again = await call(api!.url, path, { token: tokens[c] });
            rereads.push(again);
            if (again.status === 200) known = versionOf(again.body);
          }
        }
      }),
    );
    const ms = Date.now() - started;

    const count = (s: number) => edits.filter((e) => e.answer.status === s).length;
    const successes = count(200);
    const other = edits.filter((e) => ![200, 409, 412].includes(e.answer.status));
    expect(other.map((e) => `${e.answer.status} ${JSON.stringify(e.answer.body).slice(0, 200)}`)).toEqual([]);
    expect(rereads.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
    expect(edits).toHaveLength(EDITS);

    await withClient(db!.adminUrl, async (client) => {
      const rows = await customers(client);
      const all = await events(client);
      const byReason = new Map<string, number>();
      for (const e of all) if (e.reason) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
      for (let c = 0; c < CUSTOMERS; c++) {
        const mine = edits.filter((e) => e.customer === c);
        const ok = mine.filter((e) => e.answer.status === 200);
        expect(rows.get(orgOf(c))?.version, orgOf(c)).toBe(1 + ok.length);
        expect(all.filter((e) => e.entity_id === orgOf(c)).length, `${orgOf(c)} events`).toBe(ok.length);
        // Each success exactly once; each refusal nothing.
        for (const e of ok) expect(byReason.get(e.reason), e.reason).toBe(1);
        for (const e of mine.filter((x) => x.answer.status !== 200)) expect(byReason.has(e.reason), e.reason).toBe(false);
      }
      const perCustomer = Array.from({ length: CUSTOMERS }, (_v, c) => edits.filter((e) => e.customer === c && e.answer.status === 200).length);
      console.log(
        `fault 4 (conflicting edits): ${EDITS} edits of ${CUSTOMERS} customers from ${CLIENTS} clients in ${ms} ms ` +
          `(${Math.round((EDITS + rereads.length) / (ms / 1000))} requests/s with ${rereads.length} re-reads): ` +
          `${successes} succeeded, ${count(412)} refused 412, ${count(409)} refused 409, 0 other; ` +
          `successes per customer ${perCustomer.join('/')}; events ${all.length}`,
      );
    });
  });
});
