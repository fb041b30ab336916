// DPoP (RFC 9449) at the API: a captured access token is useless without the
// key it is bound to. Tokens come from the real test issuer with `cnf.jkt`;
// proofs are signed with keys made here (testing/issuer.ts), independently of
// the console's own proof code. Real PostgreSQL behind the API, as everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors } from '../../../testing/db';
import { dpopKey, dpopProof, type DpopKey } from '../../../testing/issuer';
import { createDpopVerifier } from '../../src/dpop';
import { CONSOLE_CLIENT_ID, expectProblem, startHarness, type Harness } from './harness';

const ME = 'http://localhost/v1/me';
let h: Harness;
let key: DpopKey;
let bound: string;

beforeAll(async () => {
  h = await startHarness({ dpop: { required: true } });
  key = await dpopKey();
  bound = await h.issuer.sign({ ...actors.alice, scope: 'openid profile', client_id: CONSOLE_CLIENT_ID, cnf: { jkt: key.jkt } });
});
afterAll(() => h?.close());

const get = (url: string, headers: Record<string, string>) => h.app.inject({ method: 'GET', url, headers });
const dpopGet = async (token: string, proof: string, url = '/v1/me') => get(url, { authorization: `DPoP ${token}`, dpop: proof });

/** A 401 with the DPoP challenge naming `error`. */
function expectDpopRefusal(res: Awaited<ReturnType<typeof get>>, error: string) {
  expectProblem(res, 401);
  expect(res.headers['www-authenticate']).toMatch(new RegExp(`^DPoP algs="[^"]*ES256[^"]*", error="${error}"`));
}

describe('a DPoP-bound access token', () => {
  it('works with a fresh proof from its key, for this method, URL and token', async () => {
    const res = await dpopGet(bound, await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ sub: actors.alice.sub });
  });

  it('is refused without the key: as a bearer token, or under the DPoP scheme with no proof', async () => {
    expectDpopRefusal(await get('/v1/me', { authorization: `Bearer ${bound}` }), 'invalid_token');
    expectDpopRefusal(await get('/v1/me', { authorization: `DPoP ${bound}` }), 'invalid_dpop_proof');
  });

  it('is refused with a proof from another key', async () => {
    const other = await dpopKey();
    expectDpopRefusal(await dpopGet(bound, await dpopProof(other, { htm: 'GET', htu: ME, accessToken: bound })), 'invalid_token');
  });

  it('is refused when the proof names another key than the one that signed it', async () => {
    const other = await dpopKey();
    // Signed by `other` but claiming the bound key: the signature check fails.
    const forged = await dpopProof(other, { htm: 'GET', htu: ME, accessToken: bound }, { jwk: key.jwk });
    expectDpopRefusal(await dpopGet(bound, forged), 'invalid_dpop_proof');
  });

  it('is refused with a proof made for another URL or another method', async () => {
    const otherUrl = await dpopProof(key, { htm: 'GET', htu: 'http://localhost/v1/portfolio/summary', accessToken: bound });
    expectDpopRefusal(await dpopGet(bound, otherUrl), 'invalid_dpop_proof');
    const otherHost = await dpopProof(key, { htm: 'GET', htu: 'http://api.elsewhere.test/v1/me', accessToken: bound });
    expectDpopRefusal(await dpopGet(bound, otherHost), 'invalid_dpop_proof');
    const otherMethod = await dpopProof(key, { htm: 'POST', htu: ME, accessToken: bound });
    expectDpopRefusal(await dpopGet(bound, otherMethod), 'invalid_dpop_proof');
  });

  it('ignores the query of the URL, as RFC 9449 asks', async () => {
    const res = await dpopGet(bound, await dpopProof(key, { htm: 'GET', htu: `${ME}?x=1`, accessToken: bound }), '/v1/me?y=2');
    // /v1/me takes no query: a 400 from validation means the proof itself passed.
    expect(res.statusCode).not.toBe(401);
  });

  it('is refused when one proof is sent twice, and when two requests race with it', async () => {
    const proof = await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound });
    expect((await dpopGet(bound, proof)).statusCode).toBe(200);
    const replay = await dpopGet(bound, proof);
    expectDpopRefusal(replay, 'invalid_dpop_proof');
    expect(replay.json()).toMatchObject({ detail: expect.stringMatching(/already been used/) });

    const racing = await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound });
    const statuses = (await Promise.all([dpopGet(bound, racing), dpopGet(bound, racing), dpopGet(bound, racing)])).map((r) => r.statusCode);
    expect(statuses.sort()).toEqual([200, 401, 401]);
  });

  it('is refused with a proof for another access token (ath), or with no ath', async () => {
    const another = await h.issuer.sign({ ...actors.alice, scope: 'openid', client_id: CONSOLE_CLIENT_ID, cnf: { jkt: key.jkt } });
    expectDpopRefusal(await dpopGet(bound, await dpopProof(key, { htm: 'GET', htu: ME, accessToken: another })), 'invalid_dpop_proof');
    expectDpopRefusal(await dpopGet(bound, await dpopProof(key, { htm: 'GET', htu: ME })), 'invalid_dpop_proof');
  });

  it('is refused with a proof too old, from the future, of the wrong type, or two proofs at once', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [now - 120, now + 120]) {
      expectDpopRefusal(await dpopGet(bound, await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound, iat })), 'invalid_dpop_proof');
    }
    expectDpopRefusal(await dpopGet(bound, await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound }, { typ: 'JWT' })), 'invalid_dpop_proof');
    const one = await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound });
    const two = await dpopProof(key, { htm: 'GET', htu: ME, accessToken: bound });
    expectDpopRefusal(await dpopGet(bound, `${one}, ${two}`), 'invalid_dpop_proof');
  });
});

describe("IT's requireDpop", () => {
  it("refuses a person's bearer token with a DPoP challenge", async () => {
    const res = await h.call('owner', 'GET', '/v1/me');
    expectDpopRefusal(res, 'invalid_token');
    expect(res.json()).toMatchObject({ detail: expect.stringMatching(/requires DPoP/) });
  });

  it("still takes the model runner's client-credentials token as a bearer token (a service path)", async () => {
    const res = await h.call('service', 'POST', '/v1/predictions', { body: { predictions: [] } });
    expect(res.statusCode).not.toBe(401);
  });

  it('refuses an unbound token sent under the DPoP scheme', async () => {
    const unbound = h.tokens.owner!;
    expectDpopRefusal(await dpopGet(unbound, await dpopProof(key, { htm: 'GET', htu: ME, accessToken: unbound })), 'invalid_token');
  });

  it('without requireDpop, a bearer token works and a bound token still needs its proof', async () => {
    const open = await startHarness({ dpop: { required: false } });
    try {
      expect((await open.call('owner', 'GET', '/v1/me')).statusCode).toBe(200);
      const token = await open.issuer.sign({ ...actors.alice, scope: 'openid', client_id: CONSOLE_CLIENT_ID, cnf: { jkt: key.jkt } });
      expectDpopRefusal(await open.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } }), 'invalid_token');
    } finally {
      await open.close();
    }
  });
});

describe('server nonces (use_dpop_nonce)', () => {
  it('asks for a nonce with DPoP-Nonce, then accepts a proof that carries it', async () => {
    const withNonce = await startHarness({ dpop: createDpopVerifier({ required: true, requireNonce: true }) });
    try {
      const token = await withNonce.issuer.sign({ ...actors.alice, scope: 'openid', client_id: CONSOLE_CLIENT_ID, cnf: { jkt: key.jkt } });
      const first = await withNonce.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: ME, accessToken: token }) },
      });
      expectDpopRefusal(first, 'use_dpop_nonce');
      const nonce = first.headers['dpop-nonce'];
      expect(nonce).toEqual(expect.any(String));
      const wrong = await withNonce.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: ME, accessToken: token, nonce: 'made-up' }) },
      });
      expectDpopRefusal(wrong, 'use_dpop_nonce');
      const second = await withNonce.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: ME, accessToken: token, nonce: String(nonce) }) },
      });
      expect(second.statusCode, second.body).toBe(200);
    } finally {
      await withNonce.close();
    }
  });
});

describe('nonces behind a load balancer', () => {
  it('one process accepts the nonce another gave when both share the secret, and not otherwise', async () => {
    const secret = new Uint8Array(32).fill(9);
    const a = createDpopVerifier({ requireNonce: true, nonceSecret: secret });
    const b = createDpopVerifier({ requireNonce: true, nonceSecret: secret });
    const c = createDpopVerifier({ requireNonce: true });
    const token = 'the-access-token';
    const proof = async () => dpopProof(key, { htm: 'GET', htu: ME, accessToken: token, nonce: a.nonce() });
    await expect(b.verify({ proof: await proof(), method: 'GET', url: ME, accessToken: token, jkt: key.jkt })).resolves.toBeUndefined();
    await expect(c.verify({ proof: await proof(), method: 'GET', url: ME, accessToken: token, jkt: key.jkt })).rejects.toMatchObject({ code: 'use_dpop_nonce' });
  });
});
