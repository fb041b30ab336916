// A real OpenID issuer for API tests: an HTTP server on 127.0.0.1 that serves
// discovery and a JWKS with a freshly generated key, and signs access tokens
// (RFC 9068: `typ: at+jwt`) with that key. The API verifies these tokens exactly
// as it verifies the production IdP's: nothing in the API is switched off for
// tests. Keys can be rotated, to test what the API does when one leaves the JWKS.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

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
  /** Issued at, seconds since the epoch; defaults to now; `null` leaves it out. */
  iat?: number | null;
  /** The OAuth client the token was issued to (RFC 9068 `client_id`). */
  client_id?: string;
  /** Authorized party, as some providers name the client. */
  azp?: string;
  /** Confirmation (RFC 9449 6.1): `{ jkt }` binds the token to a DPoP key (`dpopKey().jkt`). */
  cnf?: { jkt: string };
  /** A customer contact's organization (portal tokens; api/src/auth.ts CUSTOMER_ORG_CLAIM). */
  org_id?: unknown;
}

export interface SignOptions {
  /** The JWT header's `typ`; defaults to `at+jwt`, `null` leaves it out (an ID token has `JWT` or none). */
  typ?: string | null;
}

export interface TestIssuer {
  /** The issuer URL, as the API is configured with (`ISSUER`). */
  url: string;
  sign(claims: TokenClaims, options?: SignOptions): Promise<string>;
  /** A new signing key; the old one leaves the JWKS unless `keepPrevious`. */
  rotateKey(options?: { keepPrevious?: boolean }): Promise<void>;
  /** JWKS requests served so far. */
  readonly jwksRequests: number;
  close(): Promise<void>;
}

export type SigningAlg = 'RS256' | 'ES256';

export async function startTestIssuer(alg: SigningAlg = 'ES256'): Promise<TestIssuer> {
  const newKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    return { privateKey, kid, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } as JWK };
  };
  let current = await newKey();
  let published: JWK[] = [current.jwk];
  let jwksRequests = 0;

  let url = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/.well-known/openid-configuration') {
      return json(res, { issuer: url, jwks_uri: `${url}/jwks`, id_token_signing_alg_values_supported: [alg] });
    }
    if (path === '/jwks') {
      jwksRequests += 1;
      return json(res, { keys: published });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    sign: (claims, options) => signWith(current.privateKey, alg, current.kid, url, claims, options),
    async rotateKey(options = {}) {
      current = await newKey();
      published = options.keepPrevious ? [...published, current.jwk] : [current.jwk];
    },
    get jwksRequests() {
      return jwksRequests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function signWith(key: CryptoKey, alg: SigningAlg, kid: string, issuer: string, claims: TokenClaims, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { sub, aud, iss, exp, iat, ...rest } = claims;
  const typ = options.typ === undefined ? 'at+jwt' : options.typ;
  const jwt = new SignJWT({ ...rest })
    .setProtectedHeader({ alg, kid, ...(typ === null ? {} : { typ }) })
    .setSubject(sub)
    .setIssuer(iss ?? issuer)
    .setAudience(aud ?? API_AUDIENCE)
    .setExpirationTime(exp ?? now + 300)
    .setJti(randomUUID());
  if (iat !== null) jwt.setIssuedAt(iat ?? now);
  return jwt.sign(key);
}

function json(res: import('node:http').ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A client's DPoP key (RFC 9449), written independently of the console's (electron/core/dpop.ts). */
export interface DpopKey {
  privateKey: CryptoKey;
  jwk: JWK;
  /** Its RFC 7638 thumbprint: what `cnf.jkt` of a token bound to it says. */
  jkt: string;
}

export async function dpopKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

export interface ProofClaims {
  htm: string;
  htu: string;
  /** Hashed into `ath`; leave out for a token request. */
  accessToken?: string;
  nonce?: string;
  jti?: string;
  /** Seconds since the epoch; defaults to now. */
  iat?: number;
  /** Replaces `ath` (a proof for another token). */
  ath?: string;
}

/** A DPoP proof JWT signed with `key`; `header` overrides the header's typ, alg or jwk (for refused proofs). */
export async function dpopProof(key: DpopKey, claims: ProofClaims, header: { typ?: string; jwk?: JWK } = {}): Promise<string> {
  const { accessToken, iat, jti, ath, ...rest } = claims;
  const alg = key.jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  return new SignJWT({
    ...rest,
    jti: jti ?? randomUUID(),
    iat: iat ?? Math.floor(Date.now() / 1000),
    ...(ath !== undefined ? { ath } : accessToken !== undefined ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
  })
    .setProtectedHeader({ alg, typ: header.typ ?? 'dpop+jwt', jwk: header.jwk ?? key.jwk })
    .sign(key.privateKey);
}
