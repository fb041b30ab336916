// Fault 5: three API processes on one PostgreSQL behind a round-robin relay,
// under mixed load (reads, searches, history, edits, creations, audit review
// and verification) for CIMS_FAULTS_DURATION_S seconds (60 by default). All
// three sign checkpoints with the same key into the same sink, as a deployment
// would. Afterwards: the chain verifies, its sequence numbers are dense, and
// every acknowledged write has exactly one event and every event an
// acknowledged write: none duplicated, none lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAudit, type TestAudit } from '../testing/audit';
import { createScratchDatabase, customerFields, seedCustomer, type ScratchDatabase } from '../testing/db';
import { startTestIssuer, type TestIssuer } from '../testing/issuer';
import { killAllApis, startApiProcess, type ApiProcess } from './support/api-process';
import { chainState, customers, events, withClient } from './support/audit-rows';
import { call, sleep, versionOf, type Answer } from './support/client';
import { startRelay, type Relay } from './support/relay';

const DURATION_MS = Number(process.env.CIMS_FAULTS_DURATION_S ?? 60) * 1000;
const APIS = 3;
const CRMS = 12;
const PER_CRM = 5;
/** Two consoles per CRM, so edits of the same customers race through different processes. */
const CONSOLES_PER_CRM = 2;
/** Pause between one console's requests: keeps each subject under the per-process rate limit (600 a minute). */
const PAUSE_MS = 20;
/** Bounds each client's loop whatever the duration. */
const MAX_OPS = 5_000;

let db: ScratchDatabase | undefined;
let issuer: TestIssuer | undefined;
let audit: TestAudit | undefined;
let relay: Relay | undefined;
const apis: ApiProcess[] = [];

const orgOf = (crm: number, k: number) => `ORG-${String(300_001 + crm * PER_CRM + k).padStart(6, '0')}`;
const crm = (i: number) => ({ sub: `crm-${i}`, name: `CRM ${i}`, roles: ['crm'], scope: 'openid api' });

type Op = 'read' | 'search' | 'history' | 'edit' | 'create' | 'review' | 'verify';
interface Done {
  op: Op;
  answer: Answer;
  reason?: string;
  orgId?: string;
}

describe('three API processes behind a round-robin relay', () => {
  beforeAll(async () => {
    db = await createScratchDatabase('cims_faults');
    await withClient(db.adminUrl, async (admin) => {
      for (let i = 0; i < CRMS; i++) for (let k = 0; k < PER_CRM; k++) await seedCustomer(admin, { orgId: orgOf(i, k), ownerSub: crm(i).sub, ownerName: crm(i).name });
    });
    issuer = await startTestIssuer();
    audit = createTestAudit();
    const env = { CIMS_AUDIT_CHECKPOINT_SECONDS: '5' };
    apis.push(...(await Promise.all(Array.from({ length: APIS }, () => startApiProcess({ databaseUrl: db!.apiUrl, issuer: issuer!.url, auditEnv: audit!.env, env })))));
    relay = await startRelay(apis.map((a) => a.url));
  }, 120_000);

  afterAll(async () => {
    await relay?.close();
    await killAllApis();
    await issuer?.close();
    audit?.cleanup();
    await db?.drop();
  });

  it('keeps a dense, verifying chain with exactly one event per acknowledged write', async () => {
    const base = relay!.url;
    const tokens = await Promise.all(Array.from({ length: CRMS }, (_v, i) => issuer!.sign(crm(i))));
    const lead = await issuer!.sign({ sub: 'lead', name: 'Lead', roles: ['support_lead'], scope: 'openid api' });
    const done: Done[] = [];
    const started = Date.now();
    const ends = started + DURATION_MS;
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

    const crmClient = async (i: number, screen: number) => {
      const known = new Map<string, number>();
      let created = 0;
      for (let n = 0; n < MAX_OPS && Date.now() < ends; n++) {
        const orgId = orgOf(i, Math.floor(random() * PER_CRM));
        const path = `/v1/customers/${orgId}`;
        const r = random();
        if (r < 0.35) {
          const answer = await call(base, path, { token: tokens[i] });
          if (answer.status === 200) known.set(orgId, versionOf(answer.body));
          done.push({ op: 'read', answer });
        } else if (r < 0.5) {
          done.push({ op: 'search', answer: await call(base, `/v1/customers?owner=me&q=Acme&limit=20`, { token: tokens[i] }) });
        } else if (r < 0.6) {
          done.push({ op: 'history', answer: await call(base, `${path}/audit`, { token: tokens[i] }) });
        } else if (r < 0.95) {
          const reason = `fault-5 crm ${i} console ${screen} op ${n}`;
          const answer = await call(base, path, {
            method: 'PATCH',
            token: tokens[i],
            ifMatch: known.get(orgId) ?? 1,
            body: { changes: { contactPhone: `+1 555 ${String((i * CONSOLES_PER_CRM + screen) * MAX_OPS + n).padStart(7, '0')}` }, reason },
          });
          if (answer.status === 200) known.set(orgId, versionOf(answer.body));
          else if (answer.status === 412) known.delete(orgId);
          done.push({ op: 'edit', answer, reason, orgId });
          if (answer.status === 412) {
            const again = await call(base, path, { token: tokens[i] });
            if (again.status === 200) known.set(orgId, versionOf(again.body));
            done.push({ op: 'read', answer: again });
          }
        } else {
          const newOrg = `ORG-${String(600_000 + (i * CONSOLES_PER_CRM + screen) * 1_000 + created++).padStart(6, '0')}`;
          const reason = `fault-5 crm ${i} create ${newOrg}`;
          const answer = await call(base, '/v1/customers', {
            method: 'POST',
            token: tokens[i],
            body: { customer: { orgId: newOrg, ...customerFields({ orgName: `Acme Branch ${newOrg}` }) }, reason },
          });
          done.push({ op: 'create', answer, reason, orgId: newOrg });
        }
        await sleep(PAUSE_MS);
      }
    };
    const leadClient = async () => {
      for (let n = 0; n < MAX_OPS && Date.now() < ends; n++) {
        if (n % 10 === 9) {
          const answer = await call(base, '/v1/audit/verify', { token: lead, timeoutMs: 60_000 });
          done.push({ op: 'verify', answer });
          expect(answer.body, 'the chain verifies while it grows').toMatchObject({ ok: true });
        } else {
          done.push({ op: 'review', answer: await call(base, '/v1/audit/events?limit=50', { token: lead }) });
        }
        await sleep(200);
      }
    };
    await Promise.all([leadClient(), ...Array.from({ length: CRMS * CONSOLES_PER_CRM }, (_v, k) => crmClient(k % CRMS, Math.floor(k / CRMS)))]);
    const ms = Date.now() - started;

    for (const a of apis) expect(a.alive()).toBe(true);
    const statuses = new Map<string, number>();
    for (const d of done) statuses.set(`${d.op} ${d.answer.status}`, (statuses.get(`${d.op} ${d.answer.status}`) ?? 0) + 1);
    // Refusals are conflicts (an edit on a version another edit replaced) or the rate limit: never a 5xx, never no answer.
    const bad = done.filter((d) => !(d.answer.status === 200 || d.answer.status === 201 || (d.op === 'edit' && d.answer.status === 412) || d.answer.status === 429));
    expect(bad.map((d) => `${d.op} ${d.answer.status} ${JSON.stringify(d.answer.body).slice(0, 200)}`)).toEqual([]);

    // Every process seals and signs; a final verification through each one, then the rows.
    for (const a of apis) {
      const v = await call(a.url, '/v1/audit/verify', { token: lead, timeoutMs: 60_000 });
      expect(v.status).toBe(200);
      expect(v.body, JSON.stringify(v.body)).toMatchObject({ ok: true });
    }

    await withClient(db!.adminUrl, async (c) => {
      const chain = await chainState(c);
      expect(chain.unlinked, 'every event is linked').toBe(0);
      expect(chain.duplicateLinks, 'no event is linked twice').toBe(0);
      expect(chain.seqs.length).toBe(chain.events);
      expect(chain.seqs.every((s, i) => s === i + 1), 'sequence numbers are 1..N without gaps').toBe(true);

      const all = await events(c);
      const byReason = new Map<string, number>();
      for (const e of all) if (e.reason) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
      const writes = done.filter((d) => d.op === 'edit' || d.op === 'create');
      const acked = writes.filter((d) => d.answer.status === 200 || d.answer.status === 201);
      const lost = acked.filter((d) => byReason.get(d.reason!) === undefined);
      const duplicated = acked.filter((d) => (byReason.get(d.reason!) ?? 0) > 1);
      const refusedButWritten = writes.filter((d) => !acked.includes(d) && byReason.has(d.reason!));
      const ackedReasons = new Set(acked.map((d) => d.reason));
      const unexplained = all.filter((e) => !ackedReasons.has(e.reason ?? ''));
      expect(lost.map((d) => d.reason), 'no acknowledged write is lost').toEqual([]);
      expect(duplicated.map((d) => d.reason), 'none is recorded twice').toEqual([]);
      expect(refusedButWritten.map((d) => d.reason), 'a refused write left nothing').toEqual([]);
      expect(unexplained.map((e) => e.id), 'every event is an acknowledged write').toEqual([]);
      const rows = await customers(c);
      for (const [orgId, row] of rows) {
        expect(row.version, orgId).toBe(1 + all.filter((e) => e.entity_id === orgId && e.action === 'customer.update').length);
      }
      const checkpoints = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM audit.checkpoints')).rows[0]!.n);
      console.log(
        `fault 5 (three APIs behind a relay): ${done.length} requests in ${ms} ms (${Math.round(done.length / (ms / 1000))}/s): ` +
          `${[...statuses].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}; ` +
          `acknowledged writes ${acked.length} = events ${all.length}, chain 1..${chain.seqs.length} dense, ${checkpoints} signed checkpoints, verified ok`,
      );
    });
  });
});
