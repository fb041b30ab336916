// A real OpenID issuer for API tests: an HTTP server on 127.0.0.1 that serves
// discovery and a JWKS with a freshly generated key, and signs access tokens
// with that key. The API verifies these tokens exactly as it verifies the
// production IdP's: nothing in the API is switched off for tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const API_AUDIENCE = 'urn:cims:api';

export interface TokenClaims {
  sub: string;
  name?: string;
  roles?: string[];
  scope?: string;
  /** Defaults to the API's audience. */
  aud?: string | string[];
  /** Defaults to this issuer. */
  iss?: string;
  /** Expiry, seconds since the epoch; defaults to 5 minutes from now. */
  exp?: number;
  /** Issued at, seconds since the epoch; defaults to now. */
  iat?: number;
}

export interface TestIssuer {
  /** The issuer URL, as the API is configured with (`ISSUER`). */
  url: string;
  sign(claims: TokenClaims): Promise<string>;
  close(): Promise<void>;
}

export type SigningAlg = 'RS256' | 'ES256';

export async function startTestIssuer(alg: SigningAlg = 'ES256'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };

  let url = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/.well-known/openid-configuration') {
      return json(res, { issuer: url, jwks_uri: `${url}/jwks`, id_token_signing_alg_values_supported: [alg] });
    }
    if (path === '/jwks') return json(res, { keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    sign: (claims) => signWith(privateKey, alg, kid, url, claims),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function signWith(key: CryptoKey, alg: SigningAlg, kid: string, issuer: string, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { sub, aud, iss, exp, iat, ...rest } = claims;
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setSubject(sub)
    .setIssuer(iss ?? issuer)
    .setAudience(aud ?? API_AUDIENCE)
    .setIssuedAt(iat ?? now)
    .setExpirationTime(exp ?? now + 300)
    .setJti(randomUUID())
    .sign(key);
}

function json(res: import('node:http').ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
