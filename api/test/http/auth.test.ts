// Token verification against a real issuer (discovery + JWKS over HTTP, keys
// generated per run): what is accepted, what is refused, and the cache.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { AuthError, IssuerUnavailableError, actorFromClaims, bearerToken, createTokenVerifier } from '../../src/auth';
import { startTestIssuer, type TestIssuer } from '../../../testing/issuer';

let issuer: TestIssuer;
let rsIssuer: TestIssuer;
let evil: TestIssuer;

beforeAll(async () => {
  [issuer, rsIssuer, evil] = await Promise.all([startTestIssuer('ES256'), startTestIssuer('RS256'), startTestIssuer('ES256')]);
});
afterAll(async () => {
  await Promise.all([issuer.close(), rsIssuer.close(), evil.close()]);
});

const now = () => Math.floor(Date.now() / 1000);

describe('createTokenVerifier', () => {
  it('accepts a token from the issuer and reads the actor from its claims', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.url });
    const token = await issuer.sign({ sub: 'alice', name: 'Alice Example', roles: ['crm', 'root', 'crm'], scope: 'openid customers' });
    expect(await verifier.verify(token)).toEqual({ sub: 'alice', name: 'Alice Example', roles: ['crm'], scopes: ['openid', 'customers'] });
  });

  it('accepts RS256 as well as ES256', async () => {
    const verifier = createTokenVerifier({ issuer: rsIssuer.url });
    const actor = await verifier.verify(await rsIssuer.sign({ sub: 'bob', roles: ['support_lead'] }));
    expect(actor).toMatchObject({ sub: 'bob', name: 'bob', roles: ['support_lead'] });
  });

  const refusals: [string, (t: TestIssuer) => Promise<string>][] = [
    ['expired beyond the tolerance', (t) => t.sign({ sub: 'alice', roles: ['crm'], iat: now() - 400, exp: now() - 60 })],
    ['another audience', (t) => t.sign({ sub: 'alice', roles: ['crm'], aud: 'urn:other:api' })],
    ['another issuer name', (t) => t.sign({ sub: 'alice', roles: ['crm'], iss: 'https://idp.example' })],
    ['signed by another issuer', () => evil.sign({ sub: 'alice', roles: ['crm'] })],
    ['signed by another key under our issuer name', (t) => evil.sign({ sub: 'alice', roles: ['crm'], iss: t.url })],
    ['unsigned (alg none)', (t) => Promise.resolve(new UnsecuredJWT({ roles: ['crm'] }).setSubject('alice').setIssuer(t.url).setAudience('urn:cims:api').setExpirationTime('5m').encode())],
    [
      'HMAC-signed with a guessable secret',
      (t) =>
        new SignJWT({ roles: ['crm'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setIssuer(t.url)
          .setAudience('urn:cims:api')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('secret-secret-secret-secret-secret')),
    ],
    ['tampered payload', async (t) => {
      const [h, , s] = (await t.sign({ sub: 'carol', roles: ['crm'] })).split('.');
      const forged = Buffer.from(JSON.stringify({ sub: 'carol', roles: ['admin'], iss: t.url, aud: 'urn:cims:api', exp: now() + 300 })).toString('base64url');
      return `${h}.${forged}.${s}`;
    }],
    ['not a JWT', () => Promise.resolve('not-a-token')],
    // RFC 9068: an ID token (typ JWT or none) whose audience happens to be the API's is not an access token.
    ['typed JWT, as an ID token is', (t) => t.sign({ sub: 'alice', roles: ['crm'] }, { typ: 'JWT' })],
    ['without a typ', (t) => t.sign({ sub: 'alice', roles: ['crm'] }, { typ: null })],
    ['typed as a logout token', (t) => t.sign({ sub: 'alice', roles: ['crm'] }, { typ: 'logout+jwt' })],
    ['without iat', (t) => t.sign({ sub: 'alice', roles: ['crm'], iat: null })],
    ['issued more than an hour ago', (t) => t.sign({ sub: 'alice', roles: ['crm'], iat: now() - 3_700, exp: now() + 300 })],
    ['issued in the future beyond the clock skew', (t) => t.sign({ sub: 'alice', roles: ['crm'], iat: now() + 120, exp: now() + 400 })],
    // Signed, but naming someone the audit trail could not record (PostgreSQL stores no NUL or lone surrogate).
    ['whose name holds NUL', (t) => t.sign({ sub: 'alice', name: 'Alice\u0000Admin', roles: ['crm'] })],
    ['whose subject holds a lone surrogate', (t) => t.sign({ sub: 'alice\ud800', roles: ['crm'] })],
  ];

  it.each(refusals)('refuses a token %s with invalid_token', async (_name, make) => {
    const verifier = createTokenVerifier({ issuer: issuer.url });
    const token = await make(issuer);
    await expect(verifier.verify(token)).rejects.toMatchObject({ name: 'AuthError', code: 'invalid_token' });
    expect(verifier.cacheEntries).toBe(0);
  });

  it('accepts the media-type spelling application/at+jwt and an iat a little in the future', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.url });
    await expect(verifier.verify(await issuer.sign({ sub: 'alice' }, { typ: 'application/at+jwt' }))).resolves.toMatchObject({ sub: 'alice' });
    await expect(verifier.verify(await issuer.sign({ sub: 'alice', iat: now() + 10 }))).resolves.toMatchObject({ sub: 'alice' });
  });

  it('takes the maximum token age from its options', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.url, maxTokenAgeSeconds: 60 });
    await expect(verifier.verify(await issuer.sign({ sub: 'alice', iat: now() - 120 }))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(verifier.verify(await issuer.sign({ sub: 'alice', iat: now() - 20 }))).resolves.toMatchObject({ sub: 'alice' });
  });

  it('stops accepting tokens, cached ones included, once their key has left the JWKS', async () => {
    const rotating = await startTestIssuer('ES256');
    try {
      let clock = Date.now();
      const verifier = createTokenVerifier({ issuer: rotating.url, jwksMaxAgeSeconds: 60, now: () => clock });
      const old = await rotating.sign({ sub: 'alice', roles: ['crm'], exp: Math.floor(clock / 1000) + 600 });
      await expect(verifier.verify(old)).resolves.toMatchObject({ sub: 'alice' });
      expect(verifier.cacheEntries).toBe(1);

      await rotating.rotateKey(); // the old key is gone from the JWKS
      // Until the JWKS is due again (jwksMaxAgeSeconds), the cached token still stands: the window is bounded.
      await expect(verifier.verify(old)).resolves.toMatchObject({ sub: 'alice' });
      clock += 61_000;
      await expect(verifier.verify(old)).rejects.toMatchObject({ name: 'AuthError', code: 'invalid_token' });
      expect(verifier.cacheEntries).toBe(0);
      const fresh = await rotating.sign({ sub: 'bob', roles: ['support_lead'], exp: Math.floor(clock / 1000) + 600 });
      await expect(verifier.verify(fresh)).resolves.toMatchObject({ sub: 'bob' });

      // Kept alongside the new one (a planned rotation), the previous key still verifies.
      await rotating.rotateKey({ keepPrevious: true });
      clock += 61_000;
      await expect(verifier.verify(fresh)).resolves.toMatchObject({ sub: 'bob' });
      expect(verifier.cacheEntries).toBe(1);

      // A token with a new key id fetches the JWKS (after the cooldown), and the keys it no longer lists take their cached tokens along.
      await rotating.rotateKey();
      const newer = await rotating.sign({ sub: 'carol', roles: ['crm'], exp: Math.floor(clock / 1000) + 600 });
      clock += 31_000;
      await expect(verifier.verify(newer)).resolves.toMatchObject({ sub: 'carol' });
      await expect(verifier.verify(fresh)).rejects.toMatchObject({ name: 'AuthError', code: 'invalid_token' });
    } finally {
      await rotating.close();
    }
  });

  it('does not refetch the JWKS for every unknown key id (cooldown), and keeps serving cached tokens while the issuer is down', async () => {
    const flaky = await startTestIssuer('ES256');
    let clock = Date.now();
    const verifier = createTokenVerifier({ issuer: flaky.url, jwksMaxAgeSeconds: 60, now: () => clock });
    const token = await flaky.sign({ sub: 'alice', exp: Math.floor(clock / 1000) + 600 });
    await verifier.verify(token);
    const fetched = flaky.jwksRequests;
    for (let i = 0; i < 5; i++) await expect(verifier.verify(await evil.sign({ sub: 'x', iss: flaky.url }))).rejects.toBeInstanceOf(AuthError);
    expect(flaky.jwksRequests - fetched).toBeLessThanOrEqual(1);
    await flaky.close();
    clock += 61_000;
    // The key set cannot be refreshed: the last one known still stands, so the signed-in user keeps working.
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('tolerates a little clock skew (expired 10 s ago is still accepted)', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.url });
    const token = await issuer.sign({ sub: 'alice', roles: ['crm'], iat: now() - 300, exp: now() - 10 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('caches a verified token only until it expires', async () => {
    let clock = Date.now();
    const verifier = createTokenVerifier({ issuer: issuer.url, now: () => clock });
    const token = await issuer.sign({ sub: 'alice', roles: ['crm'], exp: Math.floor(clock / 1000) + 60 });
    await verifier.verify(token);
    expect(verifier.cacheEntries).toBe(1);
    clock += 50_000;
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'alice' });
    clock += 60_000; // 110 s after issue: past exp and past the tolerance
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthError);
    expect(verifier.cacheEntries).toBe(0);
  });

  it('bounds the cache, evicting the oldest entries', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.url, cacheSize: 2 });
    for (const sub of ['a', 'b', 'c']) await verifier.verify(await issuer.sign({ sub, roles: ['crm'] }));
    expect(verifier.cacheEntries).toBe(2);
  });

  it('makes a repeated token much cheaper than a new one', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.url });
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => issuer.sign({ sub: `u${i}`, roles: ['crm'] })));
    await verifier.verify(await issuer.sign({ sub: 'warm-up' }));
    let t0 = performance.now();
    for (const token of tokens) await verifier.verify(token);
    const fresh = performance.now() - t0;
    t0 = performance.now();
    for (const token of tokens) await verifier.verify(token);
    const cached = performance.now() - t0;
    expect(cached).toBeLessThan(fresh / 5);
  });

  it('reports an unreachable issuer as unavailable, not as a bad token', async () => {
    const gone = await startTestIssuer();
    const verifier = createTokenVerifier({ issuer: gone.url });
    const token = await gone.sign({ sub: 'alice' });
    await gone.close();
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(IssuerUnavailableError);
  });
});

describe('bearerToken', () => {
  it('takes the token from "Bearer <token>"', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
  });
  it.each([['Basic dXNlcjpwYXNz'], ['Bearer'], ['Bearer a b'], ['Bearer <script>']])('refuses %j', (header) => {
    expect(() => bearerToken(header)).toThrow(AuthError);
  });
  it('says a token is missing when there is no header', () => {
    expect(() => bearerToken(undefined)).toThrow(expect.objectContaining({ code: 'missing_token' }));
  });
});

describe('actorFromClaims', () => {
  it('drops unknown roles and ignores a roles claim that is not a list', () => {
    expect(actorFromClaims({ sub: 'x', roles: ['admin', 'superuser'] }).roles).toEqual(['admin']);
    expect(actorFromClaims({ sub: 'x', roles: 'admin' }).roles).toEqual([]);
  });
  const services = { modelRunnerClientId: 'cims-model-runner' };
  it('keeps the service scope for the model runner, by client_id or azp', () => {
    for (const client of [{ client_id: 'cims-model-runner' }, { azp: 'cims-model-runner' }]) {
      expect(actorFromClaims({ sub: 'cims-model-runner', scope: 'openid predictions:write', ...client }, services)).toEqual({
        sub: 'cims-model-runner',
        name: 'cims-model-runner',
        roles: [],
        scopes: ['openid', 'predictions:write'],
      });
    }
  });
  it('drops the service scope from any other client, and from every client when no model runner is configured', () => {
    expect(actorFromClaims({ sub: 'alice', roles: ['crm'], scope: 'api predictions:write', client_id: 'cims-console' }, services).scopes).toEqual(['api']);
    expect(actorFromClaims({ sub: 'svc', scope: 'predictions:write', client_id: 'cims-demo-seeder' }, services).scopes).toEqual([]);
    expect(actorFromClaims({ sub: 'cims-model-runner', scope: 'predictions:write' }, services).scopes).toEqual([]);
    expect(actorFromClaims({ sub: 'cims-model-runner', scope: 'predictions:write', client_id: 'cims-model-runner', azp: 'other' }, services).scopes).toEqual([]);
    expect(actorFromClaims({ sub: 'cims-model-runner', scope: 'predictions:write', client_id: 'cims-model-runner' }, {}).scopes).toEqual([]);
  });
  it('refuses a token of the model runner client that lacks its scope, rather than take it for a person', () => {
    expect(() => actorFromClaims({ sub: 'cims-model-runner', scope: 'openid', client_id: 'cims-model-runner' }, services)).toThrow(AuthError);
  });
});
