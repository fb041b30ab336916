// The local OpenID provider, driven over HTTP as the console and a browser
// would: authorization code + PKCE through its own login page, JWT access
// tokens for the API, refresh rotation, revocation, end-session, client
// credentials for the model runner, and the standards' error behaviour.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityProvider, type IdentityProvider } from '../../src/idp/provider';
import { DataDirError, SECRETS_FILE } from '../../src/idp/secrets';
import { signInAs } from '../../src/seed/api-client';
import { DEMO_ACCOUNTS } from '../../src/seed/demo-accounts';
import { Browser, authorizationUrl, discover, pkcePair, signIn, startLoopback, tokenRequest, type Discovery, type Loopback } from '../../../testing/browser';

const alice = DEMO_ACCOUNTS.find((a) => a.username === 'alice')!;
const bob = DEMO_ACCOUNTS.find((a) => a.username === 'bob')!;

let dataDir: string;
let idp: IdentityProvider;
let discovery: Discovery;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cims-idp-'));
  idp = await startIdentityProvider({ port: 0, dataDir });
  discovery = await discover(idp.issuer);
});

afterAll(async () => {
  await idp?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const verifyAccessToken = async (token: string) => {
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  return jwtVerify(token, jwks, { issuer: idp.issuer, audience: 'urn:cims:api', algorithms: ['RS256', 'ES256'] });
};

describe('authorization code + PKCE sign-in', () => {
  it('gives a JWT access token for the API with roles, name and scope, a refresh token and an ID token', async () => {
    const { tokens } = await signIn(idp.issuer, alice.username, alice.password);
    expect(tokens.error).toBeUndefined();
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.id_token).toBeTruthy();

    const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token!);
    expect(protectedHeader.alg).toBe('RS256');
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'alice', name: alice.name, roles: ['crm'], aud: 'urn:cims:api', client_id: 'cims-console' });
    expect(String(payload.scope).split(' ')).toContain('api');
    expect(payload.exp! - payload.iat!).toBe(300);

    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken).toMatchObject({ sub: 'alice', aud: 'cims-console', iss: idp.issuer, name: alice.name, roles: ['crm'] });
  });

  it('gives each user their own roles', async () => {
    const { tokens } = await signIn(idp.issuer, bob.username, bob.password);
    const { payload } = await verifyAccessToken(tokens.access_token!);
    expect(payload).toMatchObject({ sub: 'bob', roles: ['support_lead'] });
  });

  it('serves a plain login page under a strict CSP, with username/password inputs and a submit button', async () => {
    const loopback = await startLoopback();
    try {
      const { challenge } = pkcePair();
      const res = await fetch(
        authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid api', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }),
        { redirect: 'manual' },
      );
      expect(res.status).toBe(303);
      const browser = new Browser(idp.issuer, loopback);
      const login = await browser.go(authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid api', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }));
      const html = login.page!.html;
      expect(html).toMatch(/<input[^>]+name="username"/);
      expect(html).toMatch(/<input[^>]+name="password"[^>]*type="password"|<input[^>]+type="password"[^>]*name="password"/);
      expect(html).toMatch(/<button type="submit"/);
      expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
      const page = await fetch(login.page!.url, { headers: { cookie: browser.jar.header() } });
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
    } finally {
      await loopback.close();
    }
  });
});

describe('wrong password', () => {
  it('shows an error without naming which part was wrong, escapes what was typed, and lets the user retry', async () => {
    const loopback = await startLoopback();
    try {
      const browser = new Browser(idp.issuer, loopback);
      const { verifier, challenge } = pkcePair();
      const login = await browser.go(
        authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid profile offline_access api', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' }),
      );
      const wrong = await browser.submit(login, { username: 'alice', password: 'not-her-password' });
      expect(wrong.callback).toBeUndefined();
      expect(wrong.page!.status).toBe(200);
      expect(wrong.page!.html).toContain('Wrong username or password');

      const unknown = await browser.submit(wrong, { username: '<script>alert(1)</script>', password: 'x' });
      expect(unknown.page!.html).toContain('Wrong username or password');
      expect(unknown.page!.html).not.toContain('<script>');
      expect(unknown.page!.html).toContain('&#60;script&#62;');

      const right = await browser.submit(unknown, { username: 'alice', password: alice.password });
      expect(right.callback?.get('state')).toBe('st');
      const { body } = await tokenRequest(discovery.token_endpoint, {
        grant_type: 'authorization_code',
        code: right.callback!.get('code')!,
        redirect_uri: loopback.redirectUri,
        client_id: 'cims-console',
        code_verifier: verifier,
      });
      expect(decodeJwt(body.access_token!).sub).toBe('alice');
    } finally {
      await loopback.close();
    }
  });
});

describe('lockout after failed passwords', () => {
  const dave = { username: 'dave', name: 'Dave Demo', roles: ['crm'], password: 'correct horse battery staple' };
  let lockIdp: IdentityProvider;
  let lockDir: string;
  let lockDiscovery: Discovery;
  beforeAll(async () => {
    lockDir = mkdtempSync(join(tmpdir(), 'cims-idp-lock-'));
    lockIdp = await startIdentityProvider({ port: 0, dataDir: lockDir, accounts: [dave], lockout: { maxTracked: 25 } });
    lockDiscovery = await discover(lockIdp.issuer);
  });
  afterAll(async () => {
    await lockIdp?.close();
    rmSync(lockDir, { recursive: true, force: true });
  });

  /** The provider's login page for a new authorization request of the console. */
  const loginPage = (browser: Browser, loopback: Loopback) => {
    const { challenge } = pkcePair();
    return browser.go(
      authorizationUrl(lockDiscovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid api', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' }),
    );
  };

  /** One sign-in attempt (a new interaction): the login page, then each password in turn until the provider answers with a callback. */
  const attempt = async (username: string, passwords: string[]) => {
    const loopback = await startLoopback();
    try {
      const browser = new Browser(lockIdp.issuer, loopback);
      let step = await loginPage(browser, loopback);
      for (const password of passwords) {
        step = await browser.submit(step, { username, password });
        if (step.callback) return step.callback;
      }
      return undefined;
    } finally {
      await loopback.close();
    }
  };

  it('counts failures per account across sign-in attempts, and a locked account refuses even the right password', async () => {
    // Ten failures spread over three sign-in attempts (each a new interaction) lock the account.
    expect(await attempt('dave', Array(4).fill('wrong'))).toBeUndefined();
    expect(await attempt('DAVE', Array(4).fill('wrong'))).toBeUndefined();
    const last = await attempt('dave', ['wrong', 'wrong']);
    expect(last?.get('error')).toBe('access_denied');
    const locked = await attempt('dave', [dave.password]);
    expect(locked?.get('error')).toBe('access_denied');
    expect(locked?.get('code')).toBeNull();
    // The password grant meets the same lock.
    const grant = await tokenRequest(
      lockDiscovery.token_endpoint,
      { grant_type: 'password', username: 'dave', password: dave.password, scope: 'api' },
      { id: lockIdp.demoSeeder.clientId, secret: lockIdp.demoSeeder.clientSecret },
    );
    expect(grant.body.error).toBe('invalid_grant');
  });

  it('keeps at most its bound of accounts, however many unknown usernames are tried', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `nobody-${i}`);
    const loopback = await startLoopback();
    try {
      const browser = new Browser(lockIdp.issuer, loopback);
      let step = await loginPage(browser, loopback);
      for (const username of names) {
        step = await browser.submit(step, { username, password: 'x' });
        expect(step.callback).toBeUndefined();
        expect(lockIdp.lockoutEntries).toBeLessThanOrEqual(25);
      }
      expect(lockIdp.lockoutEntries).toBe(25);
    } finally {
      await loopback.close();
    }
    // The flood did not evict the locked account to unlock it.
    expect((await attempt('dave', [dave.password]))?.get('error')).toBe('access_denied');
  });
});

describe('refresh tokens', () => {
  it('rotate: the new one works, the used one is refused, and reusing it revokes the grant', async () => {
    const { tokens } = await signIn(idp.issuer, alice.username, alice.password);
    const first = await tokenRequest(discovery.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'cims-console' });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).toBeTruthy();
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    const { payload } = await verifyAccessToken(first.body.access_token!);
    expect(payload).toMatchObject({ sub: 'alice', roles: ['crm'] });

    const reuse = await tokenRequest(discovery.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'cims-console' });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');

    // The reuse revoked the whole grant: the rotated token is dead too.
    const after = await tokenRequest(discovery.token_endpoint, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, client_id: 'cims-console' });
    expect(after.body.error).toBe('invalid_grant');
  });

  it('can be revoked (RFC 7009) and are refused afterwards', async () => {
    const { tokens } = await signIn(idp.issuer, alice.username, alice.password);
    const res = await fetch(discovery.revocation_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: 'cims-console' }),
    });
    expect(res.status).toBe(200);
    const refused = await tokenRequest(discovery.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'cims-console' });
    expect(refused.body.error).toBe('invalid_grant');
  });
});

describe('requests the standards refuse', () => {
  it('never redirects to an unregistered redirect URI', async () => {
    const { challenge } = pkcePair();
    for (const redirectUri of ['http://evil.example/callback', 'http://127.0.0.1:5555/elsewhere', 'https://127.0.0.1/callback']) {
      const res = await fetch(
        authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: redirectUri, scope: 'openid api', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }),
        { redirect: 'manual' },
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('redirect_uri');
    }
  });

  it('refuses an authorization request without PKCE or with the plain method', async () => {
    const loopback = await startLoopback();
    try {
      const browser = new Browser(idp.issuer, loopback);
      const missing = await browser.go(authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid api', state: 's1' }));
      expect(missing.callback?.get('error')).toBe('invalid_request');
      expect(missing.callback?.get('error_description')).toMatch(/PKCE/);
      expect(missing.callback?.get('state')).toBe('s1');

      const plain = await browser.go(authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid api', state: 's2', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }));
      expect(plain.callback?.get('error')).toBe('invalid_request');
    } finally {
      await loopback.close();
    }
  });

  it('refuses a code exchanged with the wrong verifier', async () => {
    const loopback = await startLoopback();
    try {
      const browser = new Browser(idp.issuer, loopback);
      const { challenge } = pkcePair();
      const login = await browser.go(authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: loopback.redirectUri, scope: 'openid api', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }));
      const done = await browser.submit(login, { username: 'alice', password: alice.password });
      const res = await tokenRequest(discovery.token_endpoint, {
        grant_type: 'authorization_code',
        code: done.callback!.get('code')!,
        redirect_uri: loopback.redirectUri,
        client_id: 'cims-console',
        code_verifier: pkcePair().verifier,
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    } finally {
      await loopback.close();
    }
  });
});

describe('end session (RP-initiated logout)', () => {
  it('asks for confirmation, ends the session and returns to the registered loopback URI', async () => {
    const loopback = await startLoopback('/signed-out');
    try {
      const browser = new Browser(idp.issuer, loopback);
      const { tokens } = await signIn(idp.issuer, alice.username, alice.password, { browser });
      const url = new URL(discovery.end_session_endpoint);
      url.searchParams.set('id_token_hint', tokens.id_token!);
      url.searchParams.set('post_logout_redirect_uri', loopback.redirectUri);
      url.searchParams.set('state', 'bye');
      const confirm = await browser.go(url.href);
      expect(confirm.page!.html).toContain('Sign out of CIMS?');
      const done = await browser.submit(confirm, { logout: 'yes' });
      expect(done.callback?.get('state')).toBe('bye');
      // The browser's session is gone: the next authorization asks for the password again.
      const { challenge } = pkcePair();
      const again = await browser.go(authorizationUrl(discovery, { client_id: 'cims-console', response_type: 'code', redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid api', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }));
      expect(again.page?.html).toMatch(/name="password"/);
    } finally {
      await loopback.close();
    }
  });
});

describe('client credentials for the model runner', () => {
  it('issues a JWT for the API that carries predictions:write and nothing else', async () => {
    const { status, body } = await tokenRequest(discovery.token_endpoint, { grant_type: 'client_credentials', scope: 'predictions:write' }, { id: idp.modelRunner.clientId, secret: idp.modelRunner.clientSecret });
    expect(status).toBe(200);
    expect(body.refresh_token).toBeUndefined();
    const { payload } = await verifyAccessToken(body.access_token!);
    expect(payload.scope).toBe('predictions:write');
    expect(payload.sub).toBe('cims-model-runner');
    expect(payload.roles).toBeUndefined();
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('refuses other scopes and a wrong secret', async () => {
    const creds = { id: idp.modelRunner.clientId, secret: idp.modelRunner.clientSecret };
    const api = await tokenRequest(discovery.token_endpoint, { grant_type: 'client_credentials', scope: 'api' }, creds);
    expect(api.body.error).toBe('invalid_scope');
    const wrong = await tokenRequest(discovery.token_endpoint, { grant_type: 'client_credentials', scope: 'predictions:write' }, { ...creds, secret: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });

  it('is not available to the console', async () => {
    const res = await tokenRequest(discovery.token_endpoint, { grant_type: 'client_credentials', client_id: 'cims-console', scope: 'predictions:write' });
    expect(res.status).toBe(400);
    expect(res.body.access_token).toBeUndefined();
    expect(res.body.error).toMatch(/unauthorized_client|invalid_request/);
  });
});

describe("the demo seeder's password grant", () => {
  const grant = (params: Record<string, string>, creds = { id: idp.demoSeeder.clientId, secret: idp.demoSeeder.clientSecret }) =>
    tokenRequest(discovery.token_endpoint, { grant_type: 'password', ...params }, creds);

  it('gives the seeder (through openid-client) an API token for a demo user, with that user\'s roles and nothing more', async () => {
    const token = await signInAs(idp.issuer, idp.demoSeeder, 'bob', bob.password);
    const { payload } = await verifyAccessToken(token);
    expect(payload).toMatchObject({ sub: 'bob', roles: ['support_lead'], scope: 'api', client_id: 'cims-demo-seeder', aud: 'urn:cims:api' });
    const raw = await grant({ username: 'alice', password: alice.password, scope: 'api' });
    expect(raw.status).toBe(200);
    expect(raw.body.refresh_token).toBeUndefined();
    expect(raw.body.id_token).toBeUndefined();
  });

  it('refuses a wrong password and an unknown user alike, other scopes, and a wrong client secret', async () => {
    const wrong = await grant({ username: 'alice', password: 'not-her-password' });
    const unknown = await grant({ username: 'mallory', password: 'x' });
    expect([wrong.status, wrong.body.error]).toEqual([400, 'invalid_grant']);
    expect(unknown.body).toEqual(wrong.body);
    await expect(signInAs(idp.issuer, idp.demoSeeder, 'alice', 'not-her-password')).rejects.toThrow(/alice was refused: invalid_grant/);
    expect((await grant({ username: 'alice', password: alice.password, scope: 'api predictions:write' })).body.error).toBe('invalid_scope');
    const badSecret = await grant({ username: 'alice', password: alice.password }, { id: idp.demoSeeder.clientId, secret: 'wrong' });
    expect([badSecret.status, badSecret.body.error]).toEqual([401, 'invalid_client']);
  });

  it('is not available to the console or the model runner', async () => {
    const fromConsole = await tokenRequest(discovery.token_endpoint, { grant_type: 'password', client_id: 'cims-console', username: 'alice', password: alice.password });
    expect(fromConsole.body.access_token).toBeUndefined();
    expect(fromConsole.body.error).toMatch(/unauthorized_client|invalid_request/);
    const runner = await grant({ username: 'alice', password: alice.password }, { id: idp.modelRunner.clientId, secret: idp.modelRunner.clientSecret });
    expect(runner.body.access_token).toBeUndefined();
    expect(runner.body.error).toMatch(/unauthorized_client|invalid_request/);
  });
});

describe('keys in the data folder', () => {
  it('are created once with mode 0600 and reused at the next start', async () => {
    const file = join(dataDir, SECRETS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { tokens } = await signIn(idp.issuer, alice.username, alice.password);
    const kid = decodeProtectedHeader(tokens.access_token!).kid;
    const again = await startIdentityProvider({ port: 0, dataDir, accounts: [{ username: 'zed', name: 'Zed', roles: ['admin'], password: 'pw-zed-1234' }] });
    try {
      const jwks = (await (await fetch(`${again.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; d?: string }> };
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
      expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
      expect(again.modelRunner.clientSecret).toBe(idp.modelRunner.clientSecret);
    } finally {
      await again.close();
    }
  });

  it('keeps sign-ins across a restart when asked to (the stack does), and only then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cims-idp-persist-'));
    try {
      const refreshAfterRestart = async (persistSessions: boolean) => {
        const first = await startIdentityProvider({ port: 0, dataDir: dir, persistSessions });
        const { tokens } = await signIn(first.issuer, alice.username, alice.password);
        await first.close();
        const second = await startIdentityProvider({ port: 0, dataDir: dir, persistSessions });
        try {
          const d = await discover(second.issuer);
          return await tokenRequest(d.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'cims-console' });
        } finally {
          await second.close();
        }
      };
      const kept = await refreshAfterRestart(true);
      expect(kept.status).toBe(200);
      expect(decodeJwt(kept.body.access_token!)).toMatchObject({ sub: 'alice', roles: ['crm'] });
      expect(statSync(join(dir, 'idp-state.json')).mode & 0o777).toBe(0o600);
      rmSync(join(dir, 'idp-state.json'));
      const lost = await refreshAfterRestart(false);
      expect(lost.body.error).toBe('invalid_grant');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a damaged key file with a message that says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cims-idp-bad-'));
    try {
      writeFileSync(join(dir, SECRETS_FILE), '{"version":1,"signingKeys":[');
      await expect(startIdentityProvider({ port: 0, dataDir: dir })).rejects.toThrow(DataDirError);
      await expect(startIdentityProvider({ port: 0, dataDir: dir })).rejects.toThrow(/--reset/);
      expect(readFileSync(join(dir, SECRETS_FILE), 'utf8')).toBe('{"version":1,"signingKeys":[');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
