// Fault 3: the API killed with SIGKILL during a save from the real console core,
// then started again. The save fails with a code after which the console keeps
// the draft (shared/messages.ts SAVE_LATER_CODES); saving the draft again
// with the same If-Match version is safe whatever happened: a 412 if the first
// attempt landed, a success if it did not, and in both cases exactly one event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startIdentityProvider, type IdentityProvider } from '../devstack/src/idp/provider';
import { SAVE_LATER_CODES } from '../shared/messages';
import { createTestAudit, type TestAudit } from '../testing/audit';
import { createScratchDatabase, seedCustomer, type ScratchDatabase } from '../testing/db';
import { killAllApis, startApiProcess, type ApiProcess } from './support/api-process';
import { customers, events } from './support/audit-rows';
import { sleep } from './support/client';
import { startSignedInConsole, type TestConsole } from './support/console';
import { startRelay, type Relay } from './support/relay';

const ALICE = { username: 'alice', name: 'Alice Test', roles: ['crm'], password: `pw-${process.pid}-${Date.now()}` };
const RANDOM_ROUNDS = 3;
const IN_FLIGHT = 8;

let db: ScratchDatabase | undefined;
let idp: IdentityProvider | undefined;
let idpDir: string | undefined;
let audit: TestAudit | undefined;
let relay: Relay | undefined;
let api: ApiProcess | undefined;
let ui: TestConsole | undefined;

const orgOf = (n: number) => `ORG-${String(500_001 + n).padStart(6, '0')}`;
const startApi = () => startApiProcess({ databaseUrl: db!.apiUrl, issuer: idp!.issuer, auditEnv: audit!.env });

async function restartApi(): Promise<void> {
  api = await startApi();
  relay!.setTargets([api.url]);
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const ends = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > ends) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(25);
  }
}

// One connection for looking (a new one per poll would load the server more than the test does).
let admin: pg.Client | undefined;
const versionIn = async (orgId: string) => (await customers(admin!)).get(orgId)?.version ?? 0;
const eventsFor = async (orgId: string, reason: string) => (await events(admin!)).filter((e) => e.entity_id === orgId && e.reason === reason).length;

describe('the API killed with SIGKILL during a save', () => {
  beforeAll(async () => {
    db = await createScratchDatabase('cims_faults');
    admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    for (let n = 0; n < 2 + RANDOM_ROUNDS * IN_FLIGHT; n++) await seedCustomer(admin, { orgId: orgOf(n), ownerSub: 'alice', ownerName: ALICE.name });
    idpDir = mkdtempSync(join(tmpdir(), 'cims-faults-idp-'));
    idp = await startIdentityProvider({ port: 0, dataDir: idpDir, accounts: [ALICE] });
    audit = createTestAudit();
    api = await startApi();
    relay = await startRelay([api.url]);
    ui = await startSignedInConsole({ issuer: idp.issuer, apiBaseUrl: relay.url, username: ALICE.username, password: ALICE.password });
  }, 120_000);

  afterAll(async () => {
    ui?.core.dispose();
    await relay?.close();
    await killAllApis();
    await idp?.close();
    if (idpDir) rmSync(idpDir, { recursive: true, force: true });
    audit?.cleanup();
    await admin?.end();
    await db?.drop();
  });

  beforeEach(() => {
    relay!.holdAnswers = false;
    relay!.holdRequests = false;
  });

  // A phone no seed has: every first save is a real change.
  const save = (n: number, reason: string) =>
    ui!.core.invoke('customers:update', { orgId: orgOf(n), version: 1, changes: { contactPhone: `+1 555 9${String(n).padStart(3, '0')}` }, reason });

  it('after the save landed but its answer was lost: the draft is kept, saving it again is a 412, one event', async () => {
    const reason = 'fault-3 landed, answer lost';
    relay!.holdAnswers = true;
    const first = save(0, reason);
    await waitUntil('the edit commits', async () => (await versionIn(orgOf(0))) === 2);
    await api!.kill('SIGKILL');
    relay!.dropConnections();
    relay!.holdAnswers = false;
    const failed = await first;
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(SAVE_LATER_CODES, `code ${failed.error.code}`).toContain(failed.error.code);

    await restartApi();
    const again = await save(0, reason);
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict', status: 412 } });
    expect(await versionIn(orgOf(0))).toBe(2);
    expect(await eventsFor(orgOf(0), reason)).toBe(1);
  });

  it('before the save reached the API: the draft is kept, saving it again succeeds, one event', async () => {
    const reason = 'fault-3 never arrived';
    relay!.holdRequests = true;
    const before = relay!.bytesIn;
    const first = save(1, reason);
    await waitUntil('the request reaches the relay', async () => relay!.bytesIn > before);
    await api!.kill('SIGKILL');
    relay!.dropConnections();
    relay!.holdRequests = false;
    const failed = await first;
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(SAVE_LATER_CODES, `code ${failed.error.code}`).toContain(failed.error.code);
    expect(await versionIn(orgOf(1))).toBe(1);

    await restartApi();
    const again = await save(1, reason);
    expect(again, JSON.stringify(again)).toMatchObject({ ok: true, data: { customer: { version: 2 } } });
    expect(await eventsFor(orgOf(1), reason)).toBe(1);
  });

  it(`killed at a random moment with ${IN_FLIGHT} saves in flight (${RANDOM_ROUNDS} rounds): every draft saved exactly once`, async () => {
    let landed = 0;
    let notLanded = 0;
    let answered = 0;
    for (let round = 0; round < RANDOM_ROUNDS; round++) {
      const ns = Array.from({ length: IN_FLIGHT }, (_v, k) => 2 + round * IN_FLIGHT + k);
      const reason = `fault-3 round ${round}`;
      const firsts = ns.map((n) => save(n, reason));
      await sleep(5 + ((round * 37) % 40));
      await api!.kill('SIGKILL');
      relay!.dropConnections();
      const outcomes = await Promise.all(firsts);
      await restartApi();
      for (const [k, n] of ns.entries()) {
        const o = outcomes[k]!;
        if (o.ok) {
          answered++;
          continue;
        }
        expect(SAVE_LATER_CODES, `code ${o.error.code}`).toContain(o.error.code);
        const again = await save(n, reason);
        if (again.ok) notLanded++;
        else {
          expect(again, 'the only refusal of a replay is the If-Match conflict').toMatchObject({ ok: false, error: { code: 'conflict', status: 412 } });
          landed++;
        }
      }
      for (const n of ns) {
        expect(await versionIn(orgOf(n)), orgOf(n)).toBe(2);
        expect(await eventsFor(orgOf(n), reason), orgOf(n)).toBe(1);
      }
    }
    console.log(
      `fault 3 (API killed mid-save): ${RANDOM_ROUNDS * IN_FLIGHT} saves in flight at SIGKILL: ${answered} answered before the kill, ` +
        `${landed} landed without an answer (replay 412), ${notLanded} did not land (replay 200); each exactly one event; ` +
        `plus one landed-answer-lost and one never-arrived save, both saved once`,
    );
  });
});
