// Fault 2: the identity provider down when the console needs a new access token.
// The real console core, signed in through the demo provider (short-lived access
// tokens, sessions kept in its data folder so it can come back as it was). With
// the provider down the console keeps working on the token it has until that
// token expires; then a call fails with a save-later code, the session says
// why, the unsaved edit changes nothing; when the provider is back the next
// call succeeds without a new interactive sign-in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startIdentityProvider, type IdentityProvider } from '../devstack/src/idp/provider';
import { SAVE_LATER_CODES } from '../shared/messages';
import { createTestAudit, type TestAudit } from '../testing/audit';
import { createScratchDatabase, seedCustomer, type ScratchDatabase } from '../testing/db';
import { freePort } from '../testing/processes';
import { killAllApis, startApiProcess, type ApiProcess } from './support/api-process';
import { customers } from './support/audit-rows';
import { sleep } from './support/client';
import { EXPIRY_SKEW_MS } from '../electron/core/session';
import { startSignedInConsole, type TestConsole } from './support/console';

const TTL_S = 12;
const ALICE = { username: 'alice', name: 'Alice Test', roles: ['crm'], password: `pw-${process.pid}-${Date.now()}` };
const ORG = 'ORG-700001';

let db: ScratchDatabase | undefined;
let admin: pg.Client | undefined;
let idp: IdentityProvider | undefined;
let idpDir: string | undefined;
let idpPort = 0;
let audit: TestAudit | undefined;
let api: ApiProcess | undefined;
let ui: TestConsole | undefined;

const startIdp = () =>
  startIdentityProvider({ port: idpPort, dataDir: idpDir!, accounts: [ALICE], persistSessions: true, accessTokenTtlSeconds: TTL_S });
const versionIn = async () => (await customers(admin!)).get(ORG)?.version ?? 0;

describe('the identity provider down when the console needs a new token', () => {
  beforeAll(async () => {
    db = await createScratchDatabase('cims_faults');
    admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    await seedCustomer(admin, { orgId: ORG, ownerSub: 'alice', ownerName: ALICE.name });
    idpDir = mkdtempSync(join(tmpdir(), 'cims-faults-idp-'));
    idpPort = await freePort();
    idp = await startIdp();
    audit = createTestAudit();
    api = await startApiProcess({ databaseUrl: db.apiUrl, issuer: idp.issuer, auditEnv: audit.env });
    ui = await startSignedInConsole({ issuer: idp.issuer, apiBaseUrl: api.url, username: ALICE.username, password: ALICE.password });
  }, 120_000);

  afterAll(async () => {
    ui?.core.dispose();
    await killAllApis();
    await idp?.close();
    if (idpDir) rmSync(idpDir, { recursive: true, force: true });
    audit?.cleanup();
    await admin?.end();
    await db?.drop();
  });

  it('keeps working until the token expires, then says so, loses nothing, and recovers by itself', async () => {
    const core = ui!.core;
    const edit = (version: number, contactName: string) =>
      core.invoke('customers:update', { orgId: ORG, version, changes: { contactName }, reason: `fault-2 ${contactName}` });

    // A token shorter-lived than the refresh margin: every call asks the provider for a new one.
    expect(await core.invoke('customers:get', { orgId: ORG })).toMatchObject({ ok: true });
    await idp!.close();
    const down = Date.now();

    // Provider down, token still valid: reads and saves go on.
    const read = await core.invoke('customers:get', { orgId: ORG });
    expect(read, JSON.stringify(read)).toMatchObject({ ok: true, data: { customer: { version: 1 } } });
    expect(await edit(1, 'Before Expiry')).toMatchObject({ ok: true, data: { customer: { version: 2, contactName: 'Before Expiry' } } });
    // And on, until shortly before the token's expiry (the core stops using it EXPIRY_SKEW_MS before).
    let reads = 1;
    while (Date.now() < down + TTL_S * 1000 - EXPIRY_SKEW_MS - 1_500) {
      const again = await core.invoke('customers:get', { orgId: ORG });
      expect(again, JSON.stringify(again)).toMatchObject({ ok: true, data: { customer: { version: 2 } } });
      reads++;
      await sleep(500);
    }
    expect(await core.invoke('session:get', {})).toMatchObject({ ok: true, data: { status: 'signedIn', message: null } });
    const workedFor = Date.now() - down;

    // The token has expired and no new one can be had: the save fails with a save-later code, nothing changes.
    await sleep(Math.max(0, down + TTL_S * 1000 + 1_000 - Date.now()));
    const refused = await edit(2, 'After Expiry');
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(SAVE_LATER_CODES, `code ${refused.error.code}`).toContain(refused.error.code);
    expect(refused.error.code).toBe('unavailable');
    const state = await core.invoke('session:get', {});
    expect(state).toMatchObject({ ok: true, data: { status: 'signedIn', user: { sub: 'alice' } } });
    expect(state.ok && state.data.message).toMatch(/identity provider/i);
    expect(await versionIn()).toBe(2);

    // The provider is back on its address with its sessions: the same unsaved edit goes through, no new sign-in.
    idp = await startIdp();
    const signInsBefore = ui!.signIns;
    const saved = await edit(2, 'After Expiry');
    expect(saved, JSON.stringify(saved)).toMatchObject({ ok: true, data: { customer: { version: 3, contactName: 'After Expiry' } } });
    expect(ui!.signIns).toBe(signInsBefore);
    expect(await core.invoke('session:get', {})).toMatchObject({ ok: true, data: { status: 'signedIn', message: null } });
    expect(await versionIn()).toBe(3);
    console.log(
      `fault 2 (identity provider down): access tokens of ${TTL_S} s; with the provider down the console saved once and read ${reads} times over ${workedFor} ms on its token, ` +
        `refused the save after expiry with '${refused.error.code}' and the session message "${state.ok ? state.data.message : ''}", ` +
        `and saved it once the provider was back, with ${ui!.signIns} interactive sign-in in all`,
    );
  });
});
