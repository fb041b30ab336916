// The console's DPoP key and proofs, checked with jose (an implementation that is not ours):
// the signature, the header's public key and its RFC 7638 thumbprint, the claims, and a
// private key that cannot leave the process. The API's verifier is tested in api/test/http/dpop.test.ts,
// and the whole path against the real provider and API in electron/test/dpop.integration.ts.
import { createHash, webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { DpopKey } from './dpop';

describe('DpopKey', () => {
  it('signs ES256 proofs that verify with the key in their header, whose thumbprint is the key\'s', async () => {
    const key = await DpopKey.generate();
    const proof = await key.proof({ method: 'PATCH', url: 'https://api.example.test/v1/customers/ORG-1?x=1#f', accessToken: 'at-1' });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    expect(protectedHeader).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(Object.keys(protectedHeader.jwk as JWK).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256')).toBe(key.thumbprint);
    expect(payload).toMatchObject({
      htm: 'PATCH',
      htu: 'https://api.example.test/v1/customers/ORG-1',
      ath: createHash('sha256').update('at-1').digest('base64url'),
    });
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    const again = await key.proof({ method: 'PATCH', url: 'https://api.example.test/v1/customers/ORG-1', accessToken: 'at-1' });
    expect((await jwtVerify(again, EmbeddedJWK)).payload.jti).not.toBe(payload.jti);
  });

  it('keeps its private key inside WebCrypto: it cannot be exported', async () => {
    const key = await DpopKey.generate();
    expect(key.keyPair.privateKey.extractable).toBe(false);
    await expect(webcrypto.subtle.exportKey('jwk', key.keyPair.privateKey)).rejects.toThrow();
    expect(JSON.stringify(key)).not.toMatch(/"d"/);
  });

  it('makes a new key each time', async () => {
    const [a, b] = await Promise.all([DpopKey.generate(), DpopKey.generate()]);
    expect(a.thumbprint).not.toBe(b.thumbprint);
  });

  it('remembers a nonce per origin, puts it in the next proofs there, and says when to repeat a request', async () => {
    const key = await DpopKey.generate();
    const asked = new Response(null, {
      status: 401,
      headers: { 'WWW-Authenticate': 'DPoP algs="ES256", error="use_dpop_nonce", error_description="x"', 'DPoP-Nonce': 'n-1' },
    });
    expect(key.noteNonce('https://api.example.test/v1/me', asked)).toBe(true);
    const there = await key.proof({ method: 'GET', url: 'https://api.example.test/v1/staff' });
    const elsewhere = await key.proof({ method: 'GET', url: 'https://other.example.test/v1/staff' });
    expect((await jwtVerify(there, EmbeddedJWK)).payload.nonce).toBe('n-1');
    expect((await jwtVerify(elsewhere, EmbeddedJWK)).payload).not.toHaveProperty('nonce');

    // A fresh nonce on a success replaces it; a 401 for another reason is not a retry.
    expect(key.noteNonce('https://api.example.test/v1/me', new Response('{}', { status: 200, headers: { 'DPoP-Nonce': 'n-2' } }))).toBe(false);
    expect(decodeProtectedHeader(await key.proof({ method: 'GET', url: 'https://api.example.test/' })).typ).toBe('dpop+jwt');
    expect((await jwtVerify(await key.proof({ method: 'GET', url: 'https://api.example.test/' }), EmbeddedJWK)).payload.nonce).toBe('n-2');
    const refused = new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'DPoP error="invalid_token"', 'DPoP-Nonce': 'n-3' } });
    expect(key.noteNonce('https://api.example.test/v1/me', refused)).toBe(false);
  });
});
