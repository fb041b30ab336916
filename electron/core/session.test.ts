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
import { ChunkedSecret, LEGACY_REFRESH_ACCOUNT, refreshTokenAccount } from './secret-store';
import { EXPIRY_SKEW_MS, PROVIDER_UNREACHABLE_MESSAGE, Session, SIGN_IN_AFTER_RESTART_MESSAGE } from './session';

const ISSUER = 'http://127.0.0.1:9/idp';
const CLIENT_ID = 'cims-console';
const base = { issuer: ISSUER, clientId: CLIENT_ID, apiBaseUrl: 'http://127.0.0.1:9', apiAudience: 'urn:cims:api' };
// Most tests here are about the keychain's saved sign-in surviving a restart: the rotation binding.
const policy = Policy.parse({ ...base, tokenBinding: 'rotation' });
const dpopPolicy = Policy.parse(base);
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
  /** The DPoP proofs the token endpoint received, in order (null: a request without one). */
  const tokenProofs: (string | null)[] = [];
  let revocationAnswers = 200;
  let n = 0;

  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const tokens = async (sub: string, nonce: string | null, tokenType = 'Bearer') => {
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
    return { access_token: access, token_type: tokenType, expires_in: 300, refresh_token: refresh, ...(idToken ? { id_token: idToken } : {}) };
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
        // A provider that supports DPoP answers a request with a proof with a DPoP token (RFC 9449 5.1).
        const proof = new Headers(init?.headers).get('dpop');
        tokenProofs.push(proof);
        const tokenType = proof ? 'DPoP' : 'Bearer';
        if (form.get('grant_type') === 'authorization_code') {
          const code = codes.get(form.get('code') ?? '');
          if (!code) return json({ error: 'invalid_grant' }, 400);
          codes.delete(form.get('code') ?? '');
          return json(await tokens(code.sub, code.nonce, tokenType));
        }
        const sub = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!sub) return json({ error: 'invalid_grant' }, 400);
        const answer = await tokens(sub, null, tokenType);
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

  const authorizationUrls: URL[] = [];
  /** The system browser: the provider signs `sub` in and redirects to the core's loopback listener. */
  const browserAs = (sub: string) => async (authorizationUrl: string) => {
    const auth = new URL(authorizationUrl);
    authorizationUrls.push(auth);
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
    tokenProofs,
    authorizationUrls,
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

function makeSession(
  provider: Provider,
  secrets: SecretStore,
  clock: Clock,
  log: MemoryLog,
  browser: (url: string) => Promise<void> = async () => {},
  sessionPolicy: Policy = policy,
) {
  const hub = new EventHub();
  const session = new Session({ policy: sessionPolicy, fetch: provider.fetch, secrets, clock, log, hub, openExternal: browser, signInTimeoutMs: 10_000 });
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
  await new ChunkedSecret(secrets, refreshTokenAccount(ISSUER, CLIENT_ID)).write(token);
  return token;
}

describe('keychain entries named by provider', () => {
  it('a policy naming another provider or client never reads, nor sends anywhere, the first one\'s refresh token', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store, entries } = keychain();
    const saved = await savedSignIn(provider, store, 'alice');
    expect(entries.get(`${refreshTokenAccount(ISSUER, CLIENT_ID)}.0`)).toBe(saved);
    for (const other of [{ issuer: 'http://127.0.0.1:9/other-idp' }, { clientId: 'another-console' }]) {
      const requests: string[] = [];
      const watching = { ...provider, fetch: (input: string | URL | Request, init?: RequestInit) => (requests.push(String(init?.body ?? '')), provider.fetch(input, init)) };
      const { session } = makeSession(watching, store, clock, new MemoryLog(), undefined, Policy.parse({ ...base, tokenBinding: 'rotation', ...other }));
      expect(await session.restore()).toMatchObject({ status: 'signedOut', user: null });
      expect(requests.filter((body) => body.includes(saved))).toEqual([]);
    }
    // The first provider's sign-in is still there for a policy that names it again.
    const { session } = makeSession(provider, store, clock, new MemoryLog());
    expect((await session.restore()).status).toBe('signedIn');
  });

  it('an entry from before the names (whose provider nobody knows) is deleted unread', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store, entries } = keychain();
    const old = provider.seedRefreshToken('alice');
    await new ChunkedSecret(store, LEGACY_REFRESH_ACCOUNT).write(old);
    const requests: string[] = [];
    const watching = { ...provider, fetch: (input: string | URL | Request, init?: RequestInit) => (requests.push(String(init?.body ?? '')), provider.fetch(input, init)) };
    const { session } = makeSession(watching, store, clock, new MemoryLog());
    expect(await session.restore()).toMatchObject({ status: 'signedOut' });
    expect(requests.filter((body) => body.includes(old))).toEqual([]);
    expect([...entries.keys()]).toEqual([]);
  });
});

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

/** The payload and header of a JWT, unverified (the proofs' signatures are checked in dpop.test.ts). */
const partsOf = (jwt: string) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>);

describe('tokens bound with DPoP (tokenBinding: dpop, the default)', () => {
  it('makes a new key for every sign-in, binds the code and every token request to it, and offers it for DPoP tokens only', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store } = keychain();
    const { session, until } = makeSession(provider, store, clock, new MemoryLog(), provider.browserAs('alice'), dpopPolicy);
    await session.signIn();
    await until('signedIn');
    const first = session.proofKey();
    expect(first).not.toBeNull();
    expect(provider.authorizationUrls[0]?.searchParams.get('dpop_jkt')).toBe(first!.thumbprint);
    const [header, payload] = partsOf(provider.tokenProofs[0]!);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(header!.jwk).not.toHaveProperty('d');
    expect(payload).toMatchObject({ htm: 'POST', htu: `${ISSUER}/token` });

    // A refresh is signed by the same key.
    clock.advance(5 * 60_000);
    await session.accessToken();
    expect(provider.tokenProofs).toHaveLength(2);
    expect(partsOf(provider.tokenProofs[1]!)[0]!.jwk).toEqual(header!.jwk);

    // Signed out and in again: another key.
    await session.signOut();
    expect(session.proofKey()).toBeNull();
    await session.signIn();
    await until('signedIn');
    expect(session.proofKey()!.thumbprint).not.toBe(first!.thumbprint);
  });

  it('with rotation, sends no proof and offers no key', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { session, until } = makeSession(provider, keychain().store, clock, new MemoryLog(), provider.browserAs('alice'));
    await session.signIn();
    await until('signedIn');
    expect(provider.tokenProofs).toEqual([null]);
    expect(session.proofKey()).toBeNull();
    expect(provider.authorizationUrls[0]?.searchParams.has('dpop_jkt')).toBe(false);
  });

  it('after a restart, says in one line to sign in again, revokes the saved refresh token and removes it', async () => {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const { store, entries } = keychain();
    const saved = await savedSignIn(provider, store, 'alice');
    const { session } = makeSession(provider, store, clock, new MemoryLog(), undefined, dpopPolicy);
    const state = await session.restore();
    expect(state).toMatchObject({ status: 'signedOut', user: null, message: SIGN_IN_AFTER_RESTART_MESSAGE });
    expect(SIGN_IN_AFTER_RESTART_MESSAGE).not.toMatch(/\n/);
    expect(provider.tokenProofs).toEqual([]);
    await vi.waitFor(() => expect(provider.revoked).toEqual([saved]));
    expect([...entries.keys()]).toEqual([]);
  });
});

describe('locking with the workstation', () => {
  async function signedIn(sessionPolicy: Policy) {
    const clock = new ManualClock();
    const provider = await standInProvider(clock);
    const log = new MemoryLog();
    const made = makeSession(provider, keychain().store, clock, log, provider.browserAs('alice'), sessionPolicy);
    await made.session.signIn();
    await made.until('signedIn');
    return { ...made, log };
  }

  it.each(['lock-screen', 'suspend', 'user-switch'] as const)('locks at once on %s, long before the inactivity timeout', async (reason) => {
    const { session, log } = await signedIn(dpopPolicy);
    session.lockWithWorkstation(reason);
    expect(session.getState()).toMatchObject({ status: 'locked', user: { sub: 'alice' } });
    await expect(session.accessToken()).rejects.toMatchObject({ error: { code: 'locked' } });
    expect(log.lines).toContainEqual(expect.objectContaining({ event: 'session.locked', fields: { workstation: reason } }));
  });

  it('does nothing when IT turned it off (lockOnScreenLock: false), or when not signed in', async () => {
    const { session } = await signedIn(Policy.parse({ ...base, lockOnScreenLock: false }));
    session.lockWithWorkstation('lock-screen');
    expect(session.getState().status).toBe('signedIn');
    await session.signOut();
    session.lockWithWorkstation('suspend');
    expect(session.getState().status).toBe('signedOut');
  });
});
