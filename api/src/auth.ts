// Bearer token verification: JWTs signed by the identity provider, checked with
// jose against the JWKS the issuer publishes (found through OIDC discovery).
// Verified tokens are cached by their SHA-256 until they expire, so a busy
// client pays for one signature check per token, not one per request.
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { Role } from '../../shared/api';
import type { Actor } from './db/store';

export const API_AUDIENCE = 'urn:cims:api';
export const PREDICTIONS_WRITE_SCOPE = 'predictions:write';
const ALGORITHMS = ['RS256', 'ES256'];
const CLOCK_TOLERANCE_S = 30;

/** Why a request carries no usable identity; sent as 401 with `WWW-Authenticate`. */
export class AuthError extends Error {
  constructor(
    readonly code: 'missing_token' | 'invalid_token',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** The issuer could not be reached (discovery or JWKS): a server-side problem, not the caller's. */
export class IssuerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerUnavailableError';
  }
}

export interface TokenVerifierOptions {
  issuer: string;
  audience?: string;
  /** Bound on cached verified tokens (oldest evicted first). */
  cacheSize?: number;
  /** Injected clock for tests of expiry; milliseconds. */
  now?: () => number;
}

export interface TokenVerifier {
  /** Verifies a raw bearer token and returns who it speaks for. Throws AuthError or IssuerUnavailableError. */
  verify(token: string): Promise<Actor>;
  readonly cacheEntries: number;
}

interface CachedActor {
  actor: Actor;
  expiresAtMs: number;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issuer = options.issuer;
  const audience = options.audience ?? API_AUDIENCE;
  const cacheSize = options.cacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CachedActor>();
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  const keySet = () => {
    // Discovery is retried on the next request when it fails, never cached as a failure.
    jwks ??= discoverJwks(issuer).catch((err: unknown) => {
      jwks = null;
      throw err;
    });
    return jwks;
  };

  return {
    get cacheEntries() {
      return cache.size;
    },
    async verify(token) {
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = cache.get(key);
      if (hit) {
        if (now() < hit.expiresAtMs) return hit.actor;
        cache.delete(key);
      }

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await keySet(), {
          issuer,
          audience,
          algorithms: ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['exp', 'sub'],
          currentDate: new Date(now()),
        }));
      } catch (err) {
        throw classify(err);
      }

      const actor = actorFromClaims(payload);
      // Cached until the token's own expiry (without the tolerance), never longer.
      const expiresAtMs = (payload.exp as number) * 1000;
      if (cache.size >= cacheSize) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(key, { actor, expiresAtMs });
      return actor;
    },
  };
}

/** Extracts the bearer token from an Authorization header, or explains why there is none. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new AuthError('missing_token', 'A bearer token is required.');
  const match = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(header);
  if (!match?.[1]) throw new AuthError('invalid_token', 'The Authorization header must be "Bearer <token>".');
  return match[1];
}

/** Who the token speaks for. Unknown roles are dropped; scopes come from the space-separated `scope`. */
export function actorFromClaims(payload: JWTPayload): Actor {
  const sub = payload.sub as string;
  const name = typeof payload.name === 'string' && payload.name.trim() ? payload.name : sub;
  const rawRoles: unknown[] = Array.isArray(payload.roles) ? payload.roles : [];
  const roles = [...new Set(rawRoles.filter((r): r is Role => Role.safeParse(r).success))];
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  return { sub, name, roles, scopes };
}

/** A service account (model job) holds `predictions:write`; such tokens may do nothing else. */
export function isServiceAccount(actor: Actor): boolean {
  return actor.scopes.includes(PREDICTIONS_WRITE_SCOPE);
}

async function discoverJwks(issuer: string): Promise<ReturnType<typeof createRemoteJWKSet>> {
  const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let metadata: unknown;
  try {
    const res = await fetch(discoveryUrl, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    metadata = await res.json();
  } catch (err) {
    throw new IssuerUnavailableError(`OpenID discovery failed: ${(err as Error).message}`);
  }
  const m = metadata as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer we asked.
  if (m.issuer !== issuer) throw new IssuerUnavailableError('OpenID discovery returned a different issuer.');
  if (typeof m.jwks_uri !== 'string') throw new IssuerUnavailableError('OpenID discovery has no jwks_uri.');
  const jwksUrl = new URL(m.jwks_uri);
  if (jwksUrl.protocol !== 'https:' && !isLoopbackHost(jwksUrl.hostname)) {
    throw new IssuerUnavailableError('The JWKS must be served over HTTPS (plain HTTP only on loopback).');
  }
  return createRemoteJWKSet(jwksUrl, { timeoutDuration: 5_000, cooldownDuration: 30_000 });
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function classify(err: unknown): Error {
  if (err instanceof IssuerUnavailableError) return err;
  if (err instanceof joseErrors.JWKSTimeout) return new IssuerUnavailableError('The issuer JWKS timed out.');
  if (err instanceof joseErrors.JOSEError) {
    if (err instanceof joseErrors.JWTExpired) return new AuthError('invalid_token', 'The token has expired.');
    return new AuthError('invalid_token', 'The token is not valid for this API.');
  }
  // fetch failures while loading the JWKS are plain errors (TypeError), not JOSE errors.
  return new IssuerUnavailableError('The issuer JWKS could not be loaded.');
}
