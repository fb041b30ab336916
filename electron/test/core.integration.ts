// The core against the real local OpenID provider, the real keychain
// (gnome-keyring's Secret Service under scripts/with-keyring.sh) and Debian's
// Chromium as the system browser. Nothing of ours is replaced: the only
// stand-ins are at the OS edge (the browser launcher, one throwing SecretStore
// for a locked keychain, and a manual clock where wall-clock time matters).
// The tests run in order and share one identity provider; at most one core
// holds the session at a time, as in the app.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import type { Browser } from '@playwright/test';
import { Policy } from '../../shared/config';
import type { SessionState } from '../../shared/ipc';
import type { Clock, SecretStore } from '../core/deps';
import { createHandlers, type CimsCore } from '../core/handlers';
import { createRotatingLog } from '../core/log';
import { ChunkedSecret, keytarSecretStore, refreshTokenAccount } from '../core/secret-store';
import { ALICE, BOB, launchChromium, signInInBrowser, startIdp, startResourceServer, waitFor, type TestAccount } from './harness';

const KEYCHAIN_READY = Boolean(process.env.CIMS_KEYRING_READY);
const SERVICE = `CIMS Console test ${process.pid}`;
const AUDIENCE = 'urn:cims:api';

let idp: Awaited<ReturnType<typeof startIdp>>;
let api: Awaited<ReturnType<typeof startResourceServer>>;
let browser: Browser;
let policy: Policy;
let logDir: string;
const cores: CimsCore[] = [];
// The refresh token's keychain account is named by the policy's issuer and client id.
const account = () => refreshTokenAccount(policy.issuer, policy.clientId);
const vault = () => new ChunkedSecret(keytarSecretStore(SERVICE), account());

class ManualClock implements Clock {
  private offset = 0;
  now = () => Date.now() + this.offset;
  advance(ms: number) {
    this.offset += ms;
  }
}

interface MakeOptions {
  openExternal?: (url: string) => Promise<void>;
  clock?: Clock;
  secrets?: SecretStore;
  signInTimeoutMs?: number;
}

/** The browser stand-in signs in as `who`; openExternal does not wait for it, like a real browser. */
const browserAs = (who: TestAccount, pages: string[] = []) => async (url: string) => {
  void signInInBrowser(browser, url, who).then((text) => pages.push(text));
};

/** What the app and the e2e harness do: build the core from capabilities, then start it. */
function makeCore(options: MakeOptions = {}) {
  const opened: string[] = [];
  const states: SessionState[] = [];
  const core = createHandlers({
    policy,
    fetch: (input, init) => fetch(input, init),
    openExternal: async (url) => {
      opened.push(url);
      await options.openExternal?.(url);
    },
    secrets: options.secrets ?? keytarSecretStore(SERVICE),
    chooseSavePath: async () => null,
    log: createRotatingLog({ dir: logDir }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.signInTimeoutMs ? { signInTimeoutMs: options.signInTimeoutMs } : {}),
  });
  cores.push(core);
  core.on('session:changed', (s) => states.push(s));
  return { core, opened, states };
}

async function discovery(): Promise<{ token_endpoint: string; revocation_endpoint: string; end_session_endpoint: string }> {
  return (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
}

/** Asks the provider directly whether a refresh token still works (without using up a live one when it does not matter). */
async function refreshStatus(refreshToken: string): Promise<{ status: number; error?: string }> {
  const { token_endpoint } = await discovery();
  const res = await fetch(token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: policy.clientId }),
  });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, ...(body.error ? { error: body.error } : {}) };
}

async function revokeAtProvider(refreshToken: string): Promise<void> {
  const { revocation_endpoint } = await discovery();
  const res = await fetch(revocation_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: policy.clientId }),
  });
  expect(res.status).toBe(200);
}

const disposeAll = () => cores.splice(0).forEach((c) => c.dispose());

describe.skipIf(!KEYCHAIN_READY)('core against the real OpenID provider, keychain and Chromium (run under scripts/with-keyring.sh)', () => {
  beforeAll(async () => {
    idp = await startIdp();
    api = await startResourceServer(idp.issuer, AUDIENCE);
    browser = await launchChromium();
    logDir = mkdtempSync(join(tmpdir(), 'cims-core-log-'));
    // The keychain's saved sign-in across restarts is the rotation binding; DPoP's flows are in dpop.integration.ts.
    policy = Policy.parse({ issuer: idp.issuer, clientId: 'cims-console', apiBaseUrl: api.url, apiAudience: AUDIENCE, tokenBinding: 'rotation' });
  }, 60_000);

  afterAll(async () => {
    disposeAll();
    await vault().clear().catch(() => undefined);
    await keytar.deletePassword(SERVICE, 'session-locked').catch(() => false);
    await browser?.close();
    await api?.close();
    await idp?.close();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  describe('a session from sign-in to sign-out', () => {
    afterEach(disposeAll);
    const clock = new ManualClock();

    it('signs in through the provider page in Chromium, keeps the refresh token in the keychain only, and calls the API', async () => {
      const pages: string[] = [];
      const { core } = makeCore({ openExternal: browserAs(ALICE, pages) });
      await core.start();
      const started = await core.invoke('session:signIn', {});
      expect(started.ok && started.data.status).toBe('signingIn');
      const authUrl = new URL(started.ok ? started.data.signInUrl! : '');
      expect(authUrl.origin).toBe(new URL(idp.issuer).origin);
      expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authUrl.searchParams.get('resource')).toBe(AUDIENCE);
      expect(authUrl.searchParams.get('state')).toBeTruthy();
      expect(authUrl.searchParams.get('nonce')).toBeTruthy();
      expect(authUrl.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

      const state = await waitFor(core, 'signedIn');
      expect(state.user).toEqual({ sub: 'alice', name: 'Alice Test', roles: ['crm'] });
      expect(state.signInUrl).toBeNull();
      await expect.poll(() => pages[0]).toContain('You are signed in');

      const refreshToken = await vault().read();
      expect(refreshToken).toBeTruthy();
      // The keychain's main entry is the manifest, not the token.
      expect(await keytar.getPassword(SERVICE, account())).not.toContain(refreshToken!);

      const verified = await core.invoke('audit:verify', {});
      expect(verified).toMatchObject({ ok: true, data: { trail: { ok: true }, witness: { status: 'not_configured' } } });
      const last = api.seen.at(-1)!;
      expect(last).toMatchObject({ status: 200, claims: { sub: 'alice', aud: AUDIENCE, roles: ['crm'] } });

      const logText = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('');
      expect(logText).toContain('signIn.ok');
      expect(logText).not.toContain(last.token);
      expect(logText).not.toContain(refreshToken!);
      expect(logText).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    });

    it('restores the session in a new core from the keychain, without the browser, and stores the rotated refresh token', async () => {
      const before = await vault().read();
      const { core, opened } = makeCore({ clock });
      await core.start();
      const state = await core.invoke('session:get', {});
      expect(state).toMatchObject({ ok: true, data: { status: 'signedIn', user: { sub: 'alice' } } });
      expect(opened).toEqual([]);
      const after = await vault().read();
      expect(after).toBeTruthy();
      expect(after).not.toBe(before);
    });

    it('refreshes an access token the API finds expired during a request and replays the request', async () => {
      const { core } = makeCore({ clock });
      await core.start();
      expect((await core.invoke('audit:verify', {})).ok).toBe(true);
      const firstToken = api.seen.at(-1)!.token;
      api.expireSeenTokens();
      const seenBefore = api.seen.length;
      const result = await core.invoke('audit:verify', {});
      expect(result.ok).toBe(true);
      const calls = api.seen.slice(seenBefore);
      expect(calls.map((c) => c.status)).toEqual([401, 200]);
      expect(calls[0]!.token).toBe(firstToken);
      expect(calls[1]!.token).not.toBe(firstToken);
    });

    it('refreshes by wall-clock time before requests, one refresh at a time for concurrent calls', async () => {
      const { core } = makeCore({ clock });
      await core.start();
      expect((await core.invoke('audit:verify', {})).ok).toBe(true);
      const oldToken = api.seen.at(-1)!.token;
      const rotatedFrom = await vault().read();
      clock.advance(5 * 60_000); // past expiry by the wall clock; timers never fired
      const seenBefore = api.seen.length;
      const results = await Promise.all([1, 2, 3].map(() => core.invoke('audit:verify', {})));
      expect(results.every((r) => r.ok)).toBe(true);
      const tokens = new Set(api.seen.slice(seenBefore).map((s) => s.token));
      expect(api.seen.slice(seenBefore).map((s) => s.status)).toEqual([200, 200, 200]);
      expect(tokens.size).toBe(1);
      expect(tokens.has(oldToken)).toBe(false);
      // Had two refreshes raced with the same refresh token, the provider would have revoked the grant.
      expect(await vault().read()).not.toBe(rotatedFrom);
    });

    it('after a refused refresh signs out, parks the request and replays it once the same user signs in again', async () => {
      const { core } = makeCore({ clock, openExternal: browserAs(ALICE) });
      await core.start();
      await revokeAtProvider((await vault().read())!);
      clock.advance(5 * 60_000);
      const seenBefore = api.seen.length;
      const pending = core.invoke('audit:verify', {});
      const signedOut = await waitFor(core, 'signedOut');
      expect(signedOut.message).toMatch(/session has ended/i);
      expect(await keytar.getPassword(SERVICE, account())).toBeNull();
      expect(api.seen.length).toBe(seenBefore);

      await core.invoke('session:signIn', {});
      await waitFor(core, 'signedIn');
      expect(await pending).toMatchObject({ ok: true, data: { trail: { ok: true } } });
      expect(api.seen.slice(seenBefore).map((s) => [s.status, s.claims?.sub])).toEqual([[200, 'alice']]);
    });

    it('locks after the inactivity timeout, stays locked across a restart, and unlocks for the same user with their session', async () => {
      const a = makeCore({ clock });
      await a.core.start();
      await a.core.invoke('session:activity', {});
      clock.advance(policy.inactivityTimeoutMinutes * 60_000 + 1000);
      // Activity reported after a long sleep (before any timer fired) must not undo the lock.
      await a.core.invoke('session:activity', {});
      expect(await a.core.invoke('audit:verify', {})).toMatchObject({ ok: false, error: { code: 'locked' } });
      expect(await waitFor(a.core, 'locked')).toMatchObject({ user: { sub: 'alice' } });
      a.core.dispose();

      const pages: string[] = [];
      const b = makeCore({ clock, openExternal: browserAs(ALICE, pages) });
      await b.core.start();
      expect(await b.core.invoke('session:get', {})).toMatchObject({ ok: true, data: { status: 'locked' } });
      expect(await b.core.invoke('customers:list', {})).toMatchObject({ ok: false, error: { code: 'locked' } });
      const started = await b.core.invoke('session:signIn', {});
      expect(started.ok && new URL(started.data.signInUrl!).searchParams.get('prompt')).toBe('login');
      const state = await waitFor(b.core, 'signedIn');
      expect(state.user?.sub).toBe('alice');
      expect((await b.core.invoke('audit:verify', {})).ok).toBe(true);
    });

    it('when a different user unlocks, the locked user session ends and its refresh token is revoked', async () => {
      const { core } = makeCore({ clock, openExternal: browserAs(BOB) });
      await core.start();
      const alicesToken = (await vault().read())!;
      clock.advance(policy.inactivityTimeoutMinutes * 60_000 + 1000);
      await core.hooks.resume();
      await waitFor(core, 'locked');
      await core.invoke('session:signIn', {});
      const state = await waitFor(core, 'signedIn');
      expect(state.user).toEqual({ sub: 'bob', name: 'Bob Test', roles: ['support_lead'] });
      expect(await refreshStatus(alicesToken)).toMatchObject({ status: 400, error: 'invalid_grant' });
      expect((await core.invoke('audit:verify', {})).ok).toBe(true);
      expect(api.seen.at(-1)!.claims?.sub).toBe('bob');
    });

    it('signs out: revokes the refresh token, deletes the keychain entry and opens end-session in the browser', async () => {
      const { core, opened } = makeCore({ clock });
      await core.start();
      const refreshToken = (await vault().read())!;
      const result = await core.invoke('session:signOut', {});
      expect(result).toMatchObject({ ok: true, data: { status: 'signedOut', user: null } });
      expect(await keytar.getPassword(SERVICE, account())).toBeNull();
      expect(await keytar.getPassword(SERVICE, `${account()}.0`)).toBeNull();
      expect(await refreshStatus(refreshToken)).toMatchObject({ status: 400, error: 'invalid_grant' });
      const { end_session_endpoint } = await discovery();
      expect(opened.at(-1)!.startsWith(end_session_endpoint)).toBe(true);
      expect(new URL(opened.at(-1)!).searchParams.get('id_token_hint')).toBeTruthy();
      expect(await core.invoke('audit:verify', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    });
  });

  describe('the loopback listener in a real sign-in', () => {
    afterEach(disposeAll);

    it('answers a callback with the wrong state with 400, ignores it and still takes the real callback', async () => {
      const { core } = makeCore({
        openExternal: async (url) => {
          const redirect = new URL(url).searchParams.get('redirect_uri')!;
          for (const query of ['?code=forged&state=not-the-state', '?error=access_denied&state=not-the-state']) {
            const res = await fetch(`${redirect}${query}`);
            expect(res.status).toBe(400);
            expect(await res.text()).toContain('was ignored');
          }
          // Still waiting: the forged callbacks ended nothing.
          expect(await core.invoke('session:get', {})).toMatchObject({ ok: true, data: { status: 'signingIn' } });
          await browserAs(ALICE)(url);
        },
      });
      await core.invoke('session:signIn', {});
      const state = await waitFor(core, 'signedIn');
      expect(state.user?.sub).toBe('alice');
      await core.invoke('session:signOut', {});
    });

    it('answers a stray request on another path with 404 and still takes the real callback after it', async () => {
      const { core } = makeCore({
        openExternal: async (url) => {
          const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!);
          expect((await fetch(new URL('/favicon.ico', redirect))).status).toBe(404);
          expect((await fetch(redirect, { method: 'POST' })).status).toBe(404);
          await browserAs(ALICE)(url);
        },
      });
      await core.invoke('session:signIn', {});
      expect((await waitFor(core, 'signedIn')).user?.sub).toBe('alice');
      await core.invoke('session:signOut', {});
    });

    it('times out cleanly, closing the listener and saying so', async () => {
      let url = '';
      const { core } = makeCore({ signInTimeoutMs: 500, openExternal: async (u) => void (url = u) });
      const started = await core.invoke('session:signIn', {});
      expect(started.ok && started.data.signInDeadline).toBeTruthy();
      const state = await waitFor(core, 'signedOut', 5000);
      expect(state.message).toMatch(/timed out/);
      expect(state.signInUrl).toBeNull();
      await expect(fetch(new URL(url).searchParams.get('redirect_uri')!)).rejects.toThrow();
    });

    it('keeps the sign-in link to copy when the browser does not open, and cancel ends the attempt', async () => {
      const { core } = makeCore({
        openExternal: async () => {
          throw new Error('no browser');
        },
      });
      const started = await core.invoke('session:signIn', {});
      expect(started).toMatchObject({ ok: true, data: { status: 'signingIn', message: expect.stringMatching(/did not open/) } });
      expect(started.ok && started.data.signInUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
      const cancelled = await core.invoke('session:cancelSignIn', {});
      expect(cancelled).toMatchObject({ ok: true, data: { status: 'signedOut', signInUrl: null, message: null } });
    });
  });

  describe('the keychain and the page bridge', () => {
    afterEach(disposeAll);

    it('keeps a refresh token longer than the Windows credential limit in the real keychain, in chunks', async () => {
      const service = `${SERVICE} chunks`;
      const big = new ChunkedSecret(keytarSecretStore(service), 'refresh-token');
      const token = 'r'.repeat(6100);
      await big.write(token);
      expect(await big.read()).toBe(token);
      const entries = await keytar.findCredentials(service);
      expect(entries.length).toBe(1 + 7);
      for (const e of entries) expect(Buffer.byteLength(e.password, 'utf16le')).toBeLessThan(2560);
      await big.clear();
      expect(await keytar.findCredentials(service)).toEqual([]);
    });

    it('exposes the core to a Chromium page as window.cims with the contract allow-lists', async () => {
      const { exposeCoreToPage } = await import('../../testing/page-bridge');
      const { core } = makeCore();
      await core.start();
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await exposeCoreToPage(page, core);
        await page.goto('data:text/html,<p>renderer stand-in</p>');
        const got = await page.evaluate(async () => {
          const cims = (window as unknown as { cims: import('../../shared/ipc').CimsBridge }).cims;
          const events: string[] = [];
          (window as unknown as { seen: string[] }).seen = events;
          cims.on('session:changed', (s) => events.push(s.status));
          const state = await cims.invoke('session:get', {});
          const refused = await cims.invoke('shell:exec' as 'session:get', {}).then(() => 'answered', () => 'refused');
          const badEvent = (() => {
            try {
              cims.on('ipc:raw' as 'session:changed', () => {});
              return 'subscribed';
            } catch {
              return 'refused';
            }
          })();
          const invalid = await cims.invoke('customers:get', { orgId: 'nope' });
          return { state, refused, badEvent, invalid, keys: Object.keys(cims).sort() };
        });
        expect(got.keys).toEqual(['invoke', 'on']);
        expect(got.state).toMatchObject({ ok: true, data: { status: 'signedOut' } });
        expect(got.refused).toBe('refused');
        expect(got.badEvent).toBe('refused');
        expect(got.invalid).toMatchObject({ ok: false, error: { code: 'validation' } });
        // Events reach the page: start and cancel a sign-in.
        await core.invoke('session:signIn', {});
        await core.invoke('session:cancelSignIn', {});
        await expect
          .poll(() => page.evaluate(() => (window as unknown as { seen: string[] }).seen))
          .toEqual(['signingIn', 'signedOut']);
      } finally {
        await context.close();
      }
    });
  });

  describe('an unreadable keychain', () => {
    afterEach(disposeAll);

    it('means signed out with a reason, not a crash (a SecretStore that throws stands in for a locked keychain)', async () => {
      const locked: SecretStore = {
        get: async () => {
          throw new Error('org.freedesktop.Secret.Error.IsLocked');
        },
        set: async () => {
          throw new Error('locked');
        },
        delete: async () => {
          throw new Error('locked');
        },
      };
      const { core } = makeCore({ secrets: locked });
      await core.start();
      const state = await core.invoke('session:get', {});
      expect(state).toMatchObject({ ok: true, data: { status: 'signedOut', message: expect.stringMatching(/keychain/) } });
      expect(await core.invoke('customers:list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    });

    it('cleans up a damaged entry in the real keychain and asks to sign in again', async () => {
      await keytar.setPassword(SERVICE, account(), '{"v":1,"chunks":2,"sha256":"00"}');
      await keytar.setPassword(SERVICE, `${account()}.0`, 'half-a-token');
      const { core } = makeCore();
      await core.start();
      expect(await core.invoke('session:get', {})).toMatchObject({ ok: true, data: { status: 'signedOut', message: expect.stringMatching(/keychain/) } });
      expect(await keytar.getPassword(SERVICE, account())).toBeNull();
      expect(await keytar.getPassword(SERVICE, `${account()}.0`)).toBeNull();
    });
  });
});
