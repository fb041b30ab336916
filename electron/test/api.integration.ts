// The core's API client against the real API (startApi over the demo stack's
// embedded PGlite, the same migrations and role as production) and the real OpenID provider,
// signed in through Chromium: every customer and audit channel the console
// uses, with the shapes, ETags and error codes the API really sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import { Policy } from '../../shared/config';
import type { EventPayload } from '../../shared/ipc';
import { createHandlers, type CimsCore } from '../core/handlers';
import { ChunkedSecret, keytarSecretStore } from '../core/secret-store';
import { startTestApi, type TestApi } from '../../testing/api';
import { ALICE, BOB, launchChromium, signInInBrowser, startIdp, waitFor, type TestAccount } from './harness';

const KEYCHAIN_READY = Boolean(process.env.CIMS_KEYRING_READY);
const SERVICE = `CIMS Console api test ${process.pid}`;

let idp: Awaited<ReturnType<typeof startIdp>>;
let api: TestApi;
let browser: Browser;
let policy: Policy;
let saveDir: string;

async function signedInCore(who: TestAccount): Promise<{ core: CimsCore; progress: EventPayload<'audit:exportProgress'>[] }> {
  const progress: EventPayload<'audit:exportProgress'>[] = [];
  const core = createHandlers({
    policy,
    fetch: (input, init) => fetch(input, init),
    // The browser stand-in signs in on authorization URLs; other pages (end-session) are only opened.
    openExternal: async (url) => {
      if (new URL(url).pathname.endsWith('/auth')) void signInInBrowser(browser, url, who).catch(() => undefined);
    },
    secrets: keytarSecretStore(SERVICE),
    chooseSavePath: async ({ defaultName }) => join(saveDir, defaultName),
  });
  core.on('audit:exportProgress', (p) => progress.push(p));
  // Each role starts from a clean keychain, so no earlier session is restored.
  await new ChunkedSecret(keytarSecretStore(SERVICE), 'refresh-token').clear();
  await core.start();
  await core.invoke('session:signIn', {});
  const state = await waitFor(core, 'signedIn');
  expect(state.user?.sub).toBe(who.username);
  return { core, progress };
}

const customer = {
  orgId: 'ORG-900001',
  orgName: 'Testfirma Nord GmbH',
  contactName: 'Jana Test',
  contactEmail: 'jana@testfirma.example',
  contactPhone: '+49 40 1234567',
  userCount: 40,
  contractValueCents: 2_500_000,
  currency: 'EUR',
  renewalDate: '2027-06-30',
};

describe.skipIf(!KEYCHAIN_READY)('core against the real API (run under scripts/with-keyring.sh)', () => {
  beforeAll(async () => {
    idp = await startIdp();
    api = await startTestApi(idp.issuer);
    browser = await launchChromium();
    saveDir = mkdtempSync(join(tmpdir(), 'cims-save-'));
    policy = Policy.parse({ issuer: idp.issuer, clientId: 'cims-console', apiBaseUrl: api.url, apiAudience: 'urn:cims:api' });
  }, 120_000);

  afterAll(async () => {
    await new ChunkedSecret(keytarSecretStore(SERVICE), 'refresh-token').clear().catch(() => undefined);
    await browser?.close();
    await api?.close();
    await idp?.close();
    if (saveDir) rmSync(saveDir, { recursive: true, force: true });
  });

  it('a CRM creates, reads, edits with If-Match, meets a conflict, searches, and is refused the audit review', async () => {
    const { core } = await signedInCore(ALICE);
    try {
      const created = await core.invoke('customers:create', { customer, reason: 'New contract signed' });
      expect(created).toMatchObject({ ok: true, data: { customer: { orgId: 'ORG-900001', ownerSub: 'alice', version: 1 } } });

      const updated = await core.invoke('customers:update', {
        orgId: 'ORG-900001',
        version: 1,
        changes: { contactPhone: '+49 40 7654321' },
        reason: 'Customer called with a new number',
      });
      expect(updated).toMatchObject({ ok: true, data: { customer: { contactPhone: '+49 40 7654321', version: 2 } } });

      const stale = await core.invoke('customers:update', {
        orgId: 'ORG-900001',
        version: 1,
        changes: { userCount: 41 },
        reason: 'Edited from an old screen',
      });
      expect(stale).toMatchObject({ ok: false, error: { code: 'conflict', status: 412 } });
      const reread = await core.invoke('customers:get', { orgId: 'ORG-900001' });
      expect(reread, JSON.stringify(reread.ok ? null : reread.error)).toMatchObject({ ok: true, data: { customer: { userCount: 40, version: 2 } } });

      const bad = await core.invoke('customers:update', { orgId: 'ORG-900001', version: 2, changes: { contactEmail: 'not-an-email' }, reason: 'typo' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'validation', fieldErrors: [{ path: 'changes.contactEmail' }] } });

      const list = await core.invoke('customers:list', { q: 'Testfirma', owner: 'me' });
      expect(list.ok && list.data.items.map((i) => i.orgId)).toEqual(['ORG-900001']);
      expect(await core.invoke('customers:usage', { orgId: 'ORG-900001', days: 90 })).toMatchObject({ ok: true, data: [] });
      expect(await core.invoke('customers:predictions', { orgId: 'ORG-900001' })).toMatchObject({ ok: true, data: [] });
      const history = await core.invoke('customers:audit', { orgId: 'ORG-900001' });
      expect(history.ok && history.data.items.map((e) => e.action).sort()).toEqual(['customer.create', 'customer.update']);

      expect(await core.invoke('customers:get', { orgId: 'ORG-000999' })).toMatchObject({ ok: false, error: { code: 'not_found', status: 404 } });
      expect(await core.invoke('audit:events', {})).toMatchObject({ ok: false, error: { code: 'forbidden', status: 403 } });
      await core.invoke('session:signOut', {});
    } finally {
      core.dispose();
    }
  });

  it('a support lead reviews, exports (streamed to the chosen file) and verifies the audit trail, and archives', async () => {
    const { core, progress } = await signedInCore(BOB);
    try {
      const events = await core.invoke('audit:events', { orgId: 'ORG-900001' });
      expect(events.ok && events.data.items.length).toBe(2);

      const exported = await core.invoke('audit:exportCsv', { orgId: 'ORG-900001' });
      expect(exported.ok).toBe(true);
      const path = exported.ok ? exported.data.path! : '';
      expect(existsSync(path)).toBe(true);
      const csv = readFileSync(path, 'utf8');
      // One row per changed field: the create's fields and the one phone change.
      const expectedRows = events.ok ? events.data.items.reduce((n, e) => n + Math.max(e.changes.length, 1), 0) : -1;
      expect(csv.trimEnd().split('\r\n').length - 1).toBe(expectedRows);
      expect(exported).toMatchObject({ ok: true, data: { rows: expectedRows } });
      expect(csv).toContain('+49 40 7654321');
      expect(progress.at(-1)).toEqual({ rows: expectedRows, done: true, bytes: Buffer.byteLength(csv) });

      // The evidence bundle goes the same way: a file chosen in the dialog, its records counted.
      const evidence = await core.invoke('audit:exportEvidence', {});
      expect(evidence).toMatchObject({ ok: true, data: { path: expect.stringMatching(/audit-evidence-.+\.ndjson$/) } });
      const bundle = readFileSync(evidence.ok ? evidence.data.path! : '', 'utf8').trimEnd().split('\n');
      expect(JSON.parse(bundle[0]!)).toMatchObject({ type: 'header', format: 'cims-audit-evidence' });
      expect(JSON.parse(bundle.at(-1)!)).toMatchObject({ type: 'end' });
      expect(evidence.ok && evidence.data.rows).toBe(bundle.length - 2);

      expect(await core.invoke('audit:verify', {})).toMatchObject({ ok: true, data: { trail: { ok: true }, witness: { status: 'not_configured' } } });
      // Archiving waits for a second person (the approval rules of migration 008): a request, the record unchanged.
      const archived = await core.invoke('customers:archive', { orgId: 'ORG-900001', version: 2, reason: 'Contract ended' });
      expect(archived).toMatchObject({ ok: true, data: { changeRequest: { orgId: 'ORG-900001', kind: 'archive', status: 'pending', maker: { sub: 'bob' } } } });
      await core.invoke('session:signOut', {});
    } finally {
      core.dispose();
    }
  });
});
