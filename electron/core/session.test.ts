// The session when the keychain or the identity provider fails at the wrong moment.
// Two stand-ins at the OS edge, said plainly: the keychain is an in-memory
// SecretStore that refuses chosen writes (as a locked or broken Secret Service
// does), and the identity provider is answered inside the fetch the core is given
// (discovery, JWKS, token and revocation endpoints, ID tokens signed with a real
// key), because unit tests run without services. The sign-in itself is real:
// openid-client checks every response, and the "browser" calls the core's
// loopback listener over HTTP. The same flows against the real provider and
// keychain are in electron/test.
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Policy } from '../../shared/config';
import type { SessionState } from '../../shared/ipc';
import type { Clock, LogFields, LogSink, SecretStore } from './deps';
import { EventHub } from './events';
import { ChunkedSecret } from './secret-store';
import { EXPIRY_SKEW_MS, PROVIDER_UNREACHABLE_MESSAGE, Session } from './session';

const ISSUER = 'http://127.0.0.1:9/idp';
const CLIENT_ID = 'cims-console';
const policy = Policy.parse({ issuer: ISSUER, clientId: CLIENT_ID, apiBaseUrl: 'http://127.0.0.1:9', apiAudience: 'urn:cims:api' });
const LOCK_AFTER_MS = policy.inactivityTimeoutMinutes * 60_000;

class ManualClock implements Clock {
  private t = Date.now();
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Line {
  level: string;
  event: string;
  fields: LogFields;
}
class MemoryLog implements LogSink {
  readonly lines: Line[] = [];
  write(level: 'info' | 'warn' | 'error', event: string, fields: LogFields): void {
    this.lines.push({ level, event, fields });
  }
  events(): string[] {
    return this.lines.map((l) => l.event);
  }
  text(): string {
    return JSON.stringify(this.lines);
  }
}

/** The keychain: a map, with writes (or deletes) refused for the accounts `refuse` names. */
function keychain(refuse: { set?: (account: string) => boolean; delete?: (account: string) => boolean } = {}) {
  const entries = new Map<string, string>();
  const store: SecretStore = {
    get: async (account) => entries.get(account) ?? null,
    set: async (account, value) => {
      if (refuse.set?.(account)) throw new Error('org.freedesktop.Secret.Error.IsLocked');
      entries.set(account, value);
    },
    delete: async (account) => {
      if (refuse.delete?.(account)) throw new Error('org.freedesktop.Secret.Error.IsLocked');
      return entries.delete(account);
    },
  };
  return { store, entries };
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An access token shaped like the provider's JWT (the core reads its claims only to show who is signed in). */
const accessTokenFor = (sub: string, n: number) => `${b64({ alg: 'none' })}.${b64({ sub, roles: ['crm'], n })}.sig`;

/** The identity provider's endpoints, answered inside the core's fetch. */
async function standInProvider(clock: Clock) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { sub: string; nonce: string }>();
  const refreshTokens = new Map<string, string>(); // token -> sub
  const revoked: string[] = [];
  const issued: string[] = [];
  let revocationAnswers = 200;
  let n = 0;

  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const tokens = async (sub: string, nonce: string | null) => {
    n += 1;
    const refresh = `rt-${sub}-${n}-${'x'.repeat(40)}`;
    refreshTokens.set(refresh, sub);
    const access = accessTokenFor(sub, n);
    issued.push(refresh, access);
    const now = Math.floor(clock.now() / 1000);
    const idToken = nonce
      ? await new SignJWT({ sub, nonce, name: sub })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuer(ISSUER)
          .setAudience(CLIENT_ID)
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .sign(privateKey)
      : undefined;
    return { access_token: access, token_type: 'Bearer', expires_in: 300, refresh_token: refresh, ...(idToken ? { id_token: idToken } : {}) };
  };

  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const form = new URLSearchParams(typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : '');
    switch (url.pathname) {
      case '/idp/.well-known/openid-configuration':
        return json({
          issuer: ISSUER,
          authorization_endpoint: `${ISSUER}/auth`,
          token_endpoint: `${ISSUER}/token`,
          jwks_uri: `${ISSUER}/jwks`,
          revocation_endpoint: `${ISSUER}/revoke`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['ES256'],
          code_challenge_methods_supported: ['S256'],
        });
      case '/idp/jwks':
        return json({ keys: [jwk] });
      case '/idp/token': {
        if (form.get('grant_type') === 'authorization_code') {
          const code = codes.get(form.get('code') ?? '');
          if (!code) return json({ error: 'invalid_grant' }, 400);
          codes.delete(form.get('code') ?? '');
          return json(await tokens(code.sub, code.nonce));
        }
        const sub = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!sub) return json({ error: 'invalid_grant' }, 400);
        const answer = await tokens(sub, null);
        // No rotation here: the client keeps the refresh token it has.
        refreshTokens.delete(answer.refresh_token);
        return json({ ...answer, refresh_token: undefined });
      }
      case '/idp/revoke': {
        if (revocationAnswers !== 200) return json({ error: 'temporarily_unavailable' }, revocationAnswers);
        const token = form.get('token') ?? '';
        revoked.push(token);
        refreshTokens.delete(token);
        return new Response(null, { status: 200 });
      }
      default:
        return new Response('not found', { status: 404 });
    }
  };

  /** The system browser: the provider signs `sub` in and redirects to the core's loopback listener. */
  const browserAs = (sub: string) => async (authorizationUrl: string) => {
    const auth = new URL(authorizationUrl);
    const code = `code-${sub}-${codes.size + 1}`;
    codes.set(code, { sub, nonce: auth.searchParams.get('nonce') ?? '' });
    const redirect = new URL(auth.searchParams.get('redirect_uri') ?? '');
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', auth.searchParams.get('state') ?? '');
    redirect.searchParams.set('iss', ISSUER);
    void globalThis.fetch(redirect).catch(() => undefined);
  };

  return {
    fetch,
    browserAs,
    revoked,
    issued,
    refreshTokens,
    /** A refresh token the provider accepts, as a previous run of the app would have saved it. */
    seedRefreshToken(sub: string): string {
      const token = `rt-${sub}-seed-${'y'.repeat(40)}`;
      refreshTokens.set(token, sub);
      issued.push(token);
      return token;
    },
    failRevocation(status: number) {
      revocationAnswers = status;
    },
  };
}

type Provider = Awaited<ReturnType<typeof standInProvider>>;

const sessions: Session[] = [];
afterEach(() => sessions.splice(0).forEach((s) => s.dispose()));

function makeSession(provider: Provider, secrets: SecretStore, clock: Clock, log: MemoryLog, browser: (url: string) => Promise<void> = async () => {}) {
  const hub = new EventHub();
  const session = new Session({ policy, fetch: provider.fetch, secrets, clock, log, hub, openExternal: browser, signInTimeoutMs: 10_000 });
  sessions.push(session);
  const until = (status: SessionState['status']) =>
    new Promise<SessionState>((resolve) => {
      if (session.getState().status === status) return resolve(session.getState());
      const off = hub.on('session:changed', (state) => {
        if (state.status === status) {
          off();
          resolve(state);
        }
      });
    });
  return { session, until };
}

async function savedSignIn(provider: Provider, secrets: SecretStore, sub: string): Promise<string> {
  const token = provider.seedRefreshToken(sub);
  await new ChunkedSecret(secrets, 'refresh-token').write(token);
  return token;
}

describe('a lock the keychain refuses to record', () => {
  it('keeps the console locked, logs it, and a restart comes back signed out instead of skipping the lock', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store } = keychain({ set: (account) => account === 'session-locked' });
    await savedSignIn(provider, store, 'alice');
    const log = new MemoryLog();
    const { session } = makeSession(provider, store, clock, log);
    expect((await session.restore()).status).toBe('signedIn');

    clock.advance(LOCK_AFTER_MS + 1000);
    session.checkLock();
    await vi.waitFor(() => expect(log.events()).toContain('session.lock.savedSignInRemoved'));
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'error', event: 'session.lock.notRecorded' }));
    expect(session.getState().status).toBe('locked');
    await expect(session.accessToken()).rejects.toMatchObject({ error: { code: 'locked' } });
    session.activity();
    expect(session.getState().status).toBe('locked');

    // The app restarts: it must not come back signed in past the lock.
    const restarted = makeSession(provider, store, clock, new MemoryLog());
    expect((await restarted.session.restore()).status).toBe('signedOut');
    for (const token of provider.issued) expect(log.text()).not.toContain(token);
  });

  it('revokes the refresh token when the keychain refuses every write, so a restart cannot restore the session', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const writable = { yes: true };
    const { store } = keychain({ set: () => !writable.yes, delete: () => !writable.yes });
    const token = await savedSignIn(provider, store, 'alice');
    const log = new MemoryLog();
    const { session } = makeSession(provider, store, clock, log);
    expect((await session.restore()).status).toBe('signedIn');
    writable.yes = false;

    clock.advance(LOCK_AFTER_MS + 1000);
    session.checkLock();
    await vi.waitFor(() => expect(log.events()).toContain('session.lock.refreshRevoked'));
    expect(log.events()).toEqual(expect.arrayContaining(['session.lock.notRecorded', 'session.lock.savedSignInNotRemoved']));
    expect(provider.revoked).toEqual([token]);
    expect(session.getState().status).toBe('locked');

    const restarted = makeSession(provider, store, clock, new MemoryLog());
    expect((await restarted.session.restore()).status).toBe('signedOut');
    for (const t of provider.issued) expect(log.text()).not.toContain(t);
  });

  it('still records the lock when the keychain works (a restart stays locked)', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store, entries } = keychain();
    await savedSignIn(provider, store, 'alice');
    const { session } = makeSession(provider, store, clock, new MemoryLog());
    await session.restore();
    clock.advance(LOCK_AFTER_MS + 1000);
    session.checkLock();
    await vi.waitFor(() => expect(entries.get('session-locked')).toBe('1'));
    const restarted = makeSession(provider, store, clock, new MemoryLog());
    expect((await restarted.session.restore()).status).toBe('locked');
  });
});

describe('a different user unlocks', () => {
  it('logs a failed revocation of the previous user\'s refresh token (without the token), and the new user is signed in', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store } = keychain();
    const log = new MemoryLog();
    const browser = { as: provider.browserAs('alice') };
    const { session, until } = makeSession(provider, store, clock, log, (url) => browser.as(url));
    await session.signIn();
    expect(await until('signedIn')).toMatchObject({ user: { sub: 'alice' } });

    clock.advance(LOCK_AFTER_MS + 1000);
    session.checkLock();
    expect(session.getState().status).toBe('locked');

    provider.failRevocation(503);
    browser.as = provider.browserAs('bob');
    await session.signIn();
    expect(await until('signedIn')).toMatchObject({ user: { sub: 'bob' } });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', event: 'session.previousUser.revoke.failed', fields: { error: expect.any(String) } }),
    );
    for (const token of provider.issued) expect(log.text()).not.toContain(token);
  });

  it('logs the revocation when it works', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store } = keychain();
    const log = new MemoryLog();
    const browser = { as: provider.browserAs('alice') };
    const { session, until } = makeSession(provider, store, clock, log, (url) => browser.as(url));
    await session.signIn();
    await until('signedIn');
    clock.advance(LOCK_AFTER_MS + 1000);
    session.checkLock();
    browser.as = provider.browserAs('bob');
    await session.signIn();
    await until('signedIn');
    expect(log.events()).toContain('session.previousUser.revoked');
    expect(provider.revoked).toHaveLength(1);
    expect(provider.revoked[0]).toMatch(/^rt-alice-/);
  });
});

describe('the identity provider unreachable when a refresh is due', () => {
  async function signedInWithFlakyProvider() {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const down = { on: false };
    const fetch: typeof provider.fetch = (input, init) => (down.on ? Promise.reject(new TypeError('fetch failed')) : provider.fetch(input, init));
    const { store } = keychain();
    await savedSignIn(provider, store, 'alice');
    const log = new MemoryLog();
    const { session } = makeSession({ ...provider, fetch }, store, clock, log);
    await session.restore();
    return { clock, down, session, log, first: await session.accessToken() };
  }

  it('goes on with the token it has until shortly before it expires, then says the provider is unreachable, and recovers by itself', async () => {
    const { clock, down, session, log, first } = await signedInWithFlakyProvider();
    down.on = true;
    clock.advance(250_000); // the stand-in's tokens live 300 s: inside the refresh margin
    await expect(session.accessToken()).resolves.toBe(first);
    expect(session.getState()).toMatchObject({ status: 'signedIn', message: null });
    expect(log.events()).toContain('token.refresh.deferred');

    clock.advance(300_000 - 250_000 - EXPIRY_SKEW_MS + 1); // too close to the expiry to send it
    await expect(session.accessToken()).rejects.toMatchObject({ error: { code: 'unavailable' } });
    expect(session.getState()).toMatchObject({ status: 'signedIn', user: { sub: 'alice' }, message: PROVIDER_UNREACHABLE_MESSAGE });

    down.on = false;
    const fresh = await session.accessToken();
    expect(fresh).not.toBe(first);
    expect(session.getState()).toMatchObject({ status: 'signedIn', message: null });
  });

  it('never keeps a token the API refused (after a 401), even while it has not expired', async () => {
    const { clock, down, session, first } = await signedInWithFlakyProvider();
    down.on = true;
    clock.advance(10_000);
    await expect(session.accessToken(first)).rejects.toMatchObject({ error: { code: 'unavailable' } });
  });
});
