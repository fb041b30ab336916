// Fault 1: PostgreSQL stopped with `pg_ctl stop -m immediate` while edits and
// reads are in flight, then started again, under one API process that is never
// restarted. A private cluster (support/cluster.ts): the shared one on 5432 is
// never stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../api/src/db/migrate';
import { createTestAudit, type TestAudit } from '../testing/audit';
import { seedCustomer } from '../testing/db';
import { startTestIssuer, type TestIssuer } from '../testing/issuer';
import { killAllApis, startApiProcess, type ApiProcess } from './support/api-process';
import { accessRequestIds, customers, events, withClient } from './support/audit-rows';
import { call, sleep, versionOf, type Answer } from './support/client';
import { createDatabase, folderExists, startPrivateCluster, type PrivateCluster } from './support/cluster';

const CLIENTS = 8;
/** Load before the stop, time the database stays down, load after the restart (ms). */
const BEFORE_MS = 1_500;
const DOWN_MS = 3_000;
const AFTER_MS = 3_000;
/** Each client stays under the API's per-subject rate limit (600 a minute). */
const PAUSE_MS = 40;
const MAX_ATTEMPTS = 400;

let cluster: PrivateCluster | undefined;
let issuer: TestIssuer | undefined;
let audit: TestAudit | undefined;
let api: ApiProcess | undefined;

const orgOf = (i: number) => `ORG-${String(100_001 + i).padStart(6, '0')}`;
const crm = (i: number) => ({ sub: `crm-${i}`, name: `CRM ${i}`, roles: ['crm'], scope: 'openid api' });

interface Attempt {
  client: number;
  kind: 'edit' | 'read';
  answer: Answer;
  /** The edit's reason and new contact name: unique, so its event can be found. */
  reason?: string;
  contactName?: string;
  at: number;
}

describe('PostgreSQL stopped (immediate) under load, then started again', () => {
  beforeAll(async () => {
    cluster = await startPrivateCluster();
    await createDatabase(cluster, 'cims');
    await migrate(cluster.url('cims'));
    await withClient(cluster.url('cims'), async (admin) => {
      for (let i = 0; i < CLIENTS; i++) await seedCustomer(admin, { orgId: orgOf(i), ownerSub: crm(i).sub, ownerName: crm(i).name });
    });
    issuer = await startTestIssuer();
    audit = createTestAudit();
    api = await startApiProcess({ databaseUrl: cluster.url('cims', 'cims_api'), issuer: issuer.url, auditEnv: audit.env });
  }, 120_000);

  afterAll(async () => {
    await killAllApis();
    const dir = cluster?.dir;
    cluster?.destroy();
    await issuer?.close();
    audit?.cleanup();
    if (dir) expect(folderExists(dir), 'the private cluster folder is removed').toBe(false);
  });

  it('keeps every acknowledged edit and read with its audit, says it is not ready while down, and recovers without a restart', async () => {
    const base = api!.url;
    const tokens = await Promise.all(Array.from({ length: CLIENTS }, (_v, i) => issuer!.sign(crm(i))));
    const lead = await issuer!.sign({ sub: 'lead', name: 'Lead', roles: ['support_lead'], scope: 'openid api' });
    const started = Date.now();
    const attempts: Attempt[] = [];
    const ready: { at: number; status: number }[] = [];
    let stopped = { from: Infinity, to: Infinity };
    let loadEnds = Infinity;

    const client = async (i: number) => {
      let known = 1;
      for (let n = 0; n < MAX_ATTEMPTS && Date.now() < loadEnds; n++) {
        if (n % 2 === 0) {
          const reason = `fault-1 edit ${i}-${n}`;
          const contactName = `Contact ${i}-${n}`;
          const answer = await call(base, `/v1/customers/${orgOf(i)}`, {
            method: 'PATCH',
            token: tokens[i],
            ifMatch: known,
            body: { changes: { contactName }, reason },
          });
          attempts.push({ client: i, kind: 'edit', answer, reason, contactName, at: Date.now() });
          if (answer.status === 200) known = versionOf(answer.body);
        } else {
          const answer = await call(base, `/v1/customers/${orgOf(i)}`, { token: tokens[i] });
          attempts.push({ client: i, kind: 'read', answer, at: Date.now() });
          if (answer.status === 200) known = versionOf(answer.body);
        }
        await sleep(PAUSE_MS);
      }
    };
    const poller = async () => {
      while (Date.now() < loadEnds + 500) {
        const r = await call(base, '/readyz', { timeoutMs: 5_000 });
        ready.push({ at: Date.now(), status: r.status });
        await sleep(100);
      }
    };

    const fault = (async () => {
      await sleep(BEFORE_MS);
      const from = Date.now();
      cluster!.stopImmediate();
      const down = Date.now();
      await sleep(DOWN_MS);
      const to = Date.now();
      cluster!.start();
      stopped = { from: down, to };
      loadEnds = Date.now() + AFTER_MS;
      return { stopMs: down - from, startMs: Date.now() - to };
    })();
    loadEnds = Date.now() + BEFORE_MS + DOWN_MS + 30_000; // replaced once the database is back
    const [{ stopMs, startMs }] = await Promise.all([fault, poller(), ...Array.from({ length: CLIENTS }, (_v, i) => client(i))]);

    // The same process served before, during and after.
    if (!api!.alive()) console.error(api!.output().split('\n').filter((l) => !l.startsWith('{')).slice(0, 40).join('\n'));
    expect(api!.alive(), 'the API process is still running').toBe(true);

    const byStatus = new Map<number, number>();
    for (const a of attempts) byStatus.set(a.answer.status, (byStatus.get(a.answer.status) ?? 0) + 1);
    const acked = attempts.filter((a) => a.answer.status === 200);
    const edits = attempts.filter((a) => a.kind === 'edit');
    const unknown = edits.filter((a) => a.answer.status === 0 || a.answer.status >= 500);
    // A refused edit is a conflict after an unknown outcome, or the database being away: never a client error of ours.
    const unexpected = attempts.filter((a) => ![0, 200, 412, 503].includes(a.answer.status) && !(a.answer.status >= 500));
    expect(unexpected.map((a) => `${a.kind} ${a.answer.status} ${JSON.stringify(a.answer.body).slice(0, 200)}`)).toEqual([]);

    await withClient(cluster!.url('cims'), async (c) => {
      const rows = await customers(c);
      const all = await events(c);
      const accessIds = await accessRequestIds(c);
      const byReason = new Map<string, number>();
      for (const e of all) if (e.reason) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
      let landedUnacked = 0;
      for (let i = 0; i < CLIENTS; i++) {
        const mine = edits.filter((a) => a.client === i);
        const ackedEdits = mine.filter((a) => a.answer.status === 200);
        // Every acknowledged edit has exactly one event.
        for (const a of ackedEdits) expect(byReason.get(a.reason!), a.reason).toBe(1);
        // Every event is an edit this client sent, acknowledged or with an unknown outcome (the answer was lost with the database).
        const evs = all.filter((e) => e.entity_id === orgOf(i) && e.action === 'customer.update');
        for (const e of evs) {
          const a = mine.find((x) => x.reason === e.reason);
          expect(a, `event ${e.id} matches an edit that was sent`).toBeDefined();
          if (a!.answer.status !== 200) {
            expect(unknown, `event ${e.id} without an acknowledgement belongs to an edit whose outcome was unknown`).toContain(a);
            landedUnacked++;
          }
        }
        // Nothing half-written: the version counts the events, and the row holds the last event's change.
        const row = rows.get(orgOf(i))!;
        expect(row.version, orgOf(i)).toBe(1 + evs.length);
        expect(evs.length).toBeGreaterThanOrEqual(ackedEdits.length);
        const last = evs.at(-1);
        if (last) expect(row.contactName).toBe(mine.find((x) => x.reason === last.reason)!.contactName);
      }
      // No acknowledged read without its access event.
      const ackedReads = acked.filter((a) => a.kind === 'read');
      expect(ackedReads.filter((a) => !accessIds.has(a.answer.requestId)).map((a) => a.answer.requestId)).toEqual([]);

      // /readyz: never 200 while the database was down, 200 again after.
      const whileDown = ready.filter((r) => r.at > stopped.from + 200 && r.at < stopped.to);
      expect(whileDown.length).toBeGreaterThanOrEqual(3);
      expect(whileDown.filter((r) => r.status === 200)).toEqual([]);
      const lastReady = ready.at(-1);
      expect(lastReady?.status).toBe(200);

      // Recovered without a restart: every client had edits and reads acknowledged after the restart.
      for (let i = 0; i < CLIENTS; i++) {
        const after = acked.filter((a) => a.client === i && a.at > stopped.to);
        expect(after.filter((a) => a.kind === 'edit').length, `client ${i} edits after the restart`).toBeGreaterThan(0);
        expect(after.filter((a) => a.kind === 'read').length, `client ${i} reads after the restart`).toBeGreaterThan(0);
      }

      const firstReady = ready.find((r) => r.at > stopped.to && r.status === 200);
      console.log(
        `fault 1 (database stopped): ${attempts.length} requests (${[...byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ')}), ` +
          `edits acknowledged ${acked.filter((a) => a.kind === 'edit').length}, reads acknowledged ${ackedReads.length}, ` +
          `edits refused 503 or unanswered ${unknown.length} (of which landed anyway ${landedUnacked}), events ${all.length}; ` +
          `stop took ${stopMs} ms, down ${DOWN_MS} ms, start took ${startMs} ms, /readyz non-200 while down ${whileDown.length}/${whileDown.length}, ` +
          `ready again ${firstReady ? firstReady.at - stopped.to : 'never'} ms after the start, total ${Date.now() - started} ms`,
      );
    });

    // The trail verifies after the crash (the API seals and signs before it verifies).
    const verify = await call(base, '/v1/audit/verify', { token: lead });
    expect(verify.status, JSON.stringify(verify.body)).toBe(200);
    expect(verify.body).toMatchObject({ ok: true });
  });
});
