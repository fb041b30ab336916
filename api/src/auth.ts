// Bearer token verification: JWT access tokens (RFC 9068, `typ: at+jwt`) signed
// by the identity provider, checked with jose against the JWKS the issuer
// publishes (found through OIDC discovery). Verified tokens are cached by their
// SHA-256 until they expire, so a busy client pays for one signature check per
// token, not one per request; each entry is bound to its signing key, and the
// JWKS is fetched again when it is older than `jwksMaxAgeSeconds`, so a key the
// issuer withdrew stops working for cached tokens too.
import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  type FlattenedJWSInput,
} from 'jose';
import { isStorableText, OrgId, Role } from '../../shared/api';
import type { Actor } from './db/store';

export const API_AUDIENCE = 'urn:cims:api';
export const PREDICTIONS_WRITE_SCOPE = 'predictions:write';
/** The claim of a portal token naming the one organization its customer contact belongs to. */
export const CUSTOMER_ORG_CLAIM = 'org_id';
const CUSTOMER_ROLE: Role = 'customer';
const ALGORITHMS = ['RS256', 'ES256'];
const CLOCK_TOLERANCE_S = 30;
/** RFC 9068 2.1; jose also accepts the `application/at+jwt` spelling. */
const ACCESS_TOKEN_TYP = 'at+jwt';
/** Scopes only a configured service client may hold; stripped from every other token. */
const SERVICE_SCOPES: readonly string[] = [PREDICTIONS_WRITE_SCOPE];
/** Unknown key ids refetch the JWKS at most this often. */
const JWKS_COOLDOWN_MS = 30_000;

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
  /** Tokens issued longer ago than this are refused (`iat` is required). Default 1 hour. */
  maxTokenAgeSeconds?: number;
  /** The JWKS is fetched again when older than this, so withdrawn keys are noticed. Default 5 minutes. */
  jwksMaxAgeSeconds?: number;
  /** The model runner's OAuth client id: only its tokens may carry `predictions:write`. Unset: none may. */
  modelRunnerClientId?: string;
  /** The customer portal's OAuth client id: only its tokens may carry the `customer` role. Unset: none may. */
  portalClientId?: string;
  /** Injected clock for tests of expiry; milliseconds. */
  now?: () => number;
}

export interface TokenVerifier {
  /** Verifies a raw bearer token and returns who it speaks for. Throws AuthError or IssuerUnavailableError. */
  verify(token: string): Promise<Actor>;
  /** The same, with the key the token is bound to (DPoP, RFC 9449 6.1: `cnf.jkt`), or null for a bearer token. */
  verifyBound(token: string): Promise<VerifiedToken>;
  readonly cacheEntries: number;
}

export interface VerifiedToken {
  actor: Actor;
  /** The JWK SHA-256 thumbprint of the key the token is bound to; null when it is not bound. */
  jkt: string | null;
}

interface CachedActor extends VerifiedToken {
  expiresAtMs: number;
  /** The key that signed it: the entry dies when the JWKS no longer has it. */
  kid: string;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issuer = options.issuer;
  const audience = options.audience ?? API_AUDIENCE;
  const cacheSize = options.cacheSize ?? 10_000;
  const maxTokenAge = options.maxTokenAgeSeconds ?? 3_600;
  const now = options.now ?? Date.now;
  const claimsOptions: ActorOptions = {
    ...(options.modelRunnerClientId ? { modelRunnerClientId: options.modelRunnerClientId } : {}),
    ...(options.portalClientId ? { portalClientId: options.portalClientId } : {}),
  };
  const cache = new Map<string, CachedActor>();
  const keys = createKeyStore({
    issuer,
    maxAgeMs: (options.jwksMaxAgeSeconds ?? 300) * 1000,
    now,
    // A withdrawn key takes its cached tokens with it.
    onKeys: (kids) => {
      for (const [hash, entry] of cache) if (!kids.has(entry.kid)) cache.delete(hash);
    },
  });

  const getKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    const kid = header.kid;
    // Every key of the JWKS has an id, so every token must name one: the cache is bound to it.
    if (typeof kid !== 'string' || !kid) throw new AuthError('invalid_token', 'The token does not name its signing key.');
    let set = await keys.current();
    if (!set.kids.has(kid)) set = await keys.afterUnknownKid();
    return set.local(header, token);
  };

  const verifyBound = async (token: string): Promise<VerifiedToken> => {
    const hash = createHash('sha256').update(token).digest('base64url');
    const hit = cache.get(hash);
    if (hit) {
      // The key set is refreshed here when due, which may drop this entry.
      const set = await keys.current().catch(() => null);
      if (now() < hit.expiresAtMs && set?.kids.has(hit.kid) && cache.has(hash)) return { actor: hit.actor, jkt: hit.jkt };
      cache.delete(hash);
    }

    let payload: JWTPayload;
    let kid: string;
    try {
      const verified = await jwtVerify(token, getKey, {
        issuer,
        audience,
        algorithms: ALGORITHMS,
        typ: ACCESS_TOKEN_TYP,
        maxTokenAge,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'sub', 'iat'],
        currentDate: new Date(now()),
      });
      payload = verified.payload;
      kid = verified.protectedHeader.kid as string;
    } catch (err) {
      throw classify(err);
    }

    const actor = actorFromClaims(payload, claimsOptions);
    const jkt = boundKey(payload);
    // Cached until the token's own expiry (without the tolerance), never longer.
    const expiresAtMs = (payload.exp as number) * 1000;
    if (cache.size >= cacheSize) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(hash, { actor, jkt, expiresAtMs, kid });
    return { actor, jkt };
  };

  return {
    get cacheEntries() {
      return cache.size;
    },
    verify: async (token) => (await verifyBound(token)).actor,
    verifyBound,
  };
}

interface KeySet {
  kids: ReadonlySet<string>;
  local: ReturnType<typeof createLocalJWKSet>;
}

interface KeyStoreOptions {
  issuer: string;
  maxAgeMs: number;
  now: () => number;
  onKeys: (kids: ReadonlySet<string>) => void;
}

/**
 * The issuer's JWKS, fetched through discovery: again when older than `maxAgeMs`
 * (a failed refresh keeps the last set, so signed-in users keep working while
 * the issuer is down, and is retried after the cooldown), and on an unknown key
 * id at most once per cooldown.
 */
function createKeyStore(o: KeyStoreOptions) {
  let jwksUrl: URL | null = null;
  let set: KeySet | null = null;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inFlight: Promise<KeySet> | null = null;

  const refresh = (): Promise<KeySet> =>
    (inFlight ??= (async () => {
      attemptedAt = o.now();
      try {
        jwksUrl ??= await discoverJwksUrl(o.issuer);
        const jwks = await fetchJwks(jwksUrl);
        const kids = new Set(jwks.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string' && kid !== ''));
        set = { kids, local: createLocalJWKSet(jwks) };
        fetchedAt = o.now();
        o.onKeys(kids);
        return set;
      } finally {
        inFlight = null;
      }
    })());

  return {
    async current(): Promise<KeySet> {
      if (!set) return refresh();
      const t = o.now();
      if (t - fetchedAt >= o.maxAgeMs && t - attemptedAt >= JWKS_COOLDOWN_MS) {
        try {
          return await refresh();
        } catch {
          return set;
        }
      }
      return set;
    },
    async afterUnknownKid(): Promise<KeySet> {
      if (!set || o.now() - attemptedAt >= JWKS_COOLDOWN_MS) return refresh();
      return set;
    },
  };
}

/** Extracts the bearer token from an Authorization header, or explains why there is none. */
export function bearerToken(header: string | undefined): string {
  const credentials = accessCredentials(header);
  if (credentials.scheme !== 'Bearer') throw new AuthError('invalid_token', 'The Authorization header must be "Bearer <token>".');
  return credentials.token;
}

export type AuthScheme = 'Bearer' | 'DPoP';

/** The access token and how it was presented: `Bearer <token>` (RFC 6750) or `DPoP <token>` (RFC 9449 7.1). */
export function accessCredentials(header: string | undefined): { scheme: AuthScheme; token: string } {
  if (!header) throw new AuthError('missing_token', 'A bearer token is required.');
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(header);
  if (!match?.[1] || !match[2]) throw new AuthError('invalid_token', 'The Authorization header must be "Bearer <token>" or "DPoP <token>".');
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

/** RFC 9449 6.1: the `jkt` member of the `cnf` claim. A `cnf` without a usable one is a token this API cannot check. */
function boundKey(payload: JWTPayload): string | null {
  const cnf = payload.cnf;
  if (cnf === undefined) return null;
  const jkt = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) ? (cnf as Record<string, unknown>).jkt : undefined;
  if (typeof jkt !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(jkt)) {
    throw new AuthError('invalid_token', 'The token is bound to a key in a way this API does not support.');
  }
  return jkt;
}

export interface ActorOptions {
  modelRunnerClientId?: string;
  portalClientId?: string;
}

/**
 * Who the token speaks for. Unknown roles are dropped; scopes come from the
 * space-separated `scope`. A service scope is kept only when the token was
 * issued to the configured service client (`client_id`, RFC 9068, or `azp`;
 * both must agree when both are present): a person's token, or another
 * client's, that carries it is not a service account.
 */
export function actorFromClaims(payload: JWTPayload, options: ActorOptions = {}): Actor {
  const sub = payload.sub as string;
  const name = typeof payload.name === 'string' && payload.name.trim() ? payload.name : sub;
  // Who acted is written into every audit and access event: a name the database cannot store is refused here, as a bad token.
  if (!isStorableText(sub) || !isStorableText(name)) {
    throw new AuthError('invalid_token', 'The token names its subject with text that cannot be recorded.');
  }
  const rawRoles: unknown[] = Array.isArray(payload.roles) ? payload.roles : [];
  const roles = [...new Set(rawRoles.filter((r): r is Role => Role.safeParse(r).success))];
  const claimed = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  const clients = [payload.client_id, payload.azp].filter((c) => c !== undefined);
  const issuedTo = (clientId: string | undefined) => clientId !== undefined && clients.length > 0 && clients.every((c) => c === clientId);
  const isServiceClient = issuedTo(options.modelRunnerClientId);
  if (issuedTo(options.portalClientId)) return customerActor(payload, sub, name, roles);
  // The customer role counts only from the portal's client: on any other token it is dropped.
  const staffRoles = roles.filter((r) => r !== CUSTOMER_ROLE);
  const scopes = isServiceClient ? claimed : claimed.filter((scope) => !SERVICE_SCOPES.includes(scope));
  // The service client's token without its scope would pass for a person with no role: refused instead.
  if (isServiceClient && !scopes.some((scope) => SERVICE_SCOPES.includes(scope))) {
    throw new AuthError('invalid_token', 'A service client token must carry its service scope.');
  }
  return { sub, name, roles: staffRoles, scopes };
}

/**
 * A portal token speaks for one customer contact and nothing more: it must carry the customer role
 * and name its organization; any other role or scope it carries is dropped.
 */
function customerActor(payload: JWTPayload, sub: string, name: string, roles: Role[]): Actor {
  if (!roles.includes(CUSTOMER_ROLE)) throw new AuthError('invalid_token', 'A portal token must carry the customer role.');
  const org = OrgId.safeParse(payload[CUSTOMER_ORG_CLAIM]);
  if (!org.success) throw new AuthError('invalid_token', 'A customer token must name its organization.');
  return { sub, name, roles: [CUSTOMER_ROLE], scopes: [], org: org.data };
}

/** A customer's contact (through the portal): reaches the endpoints that name the customer role, and no other. */
export function isCustomer(actor: Actor): boolean {
  return actor.org !== undefined;
}

/** A service account (model job) holds `predictions:write`, which only its client keeps (above); such tokens may do nothing else. */
export function isServiceAccount(actor: Actor): boolean {
  return actor.scopes.includes(PREDICTIONS_WRITE_SCOPE);
}

async function discoverJwksUrl(issuer: string): Promise<URL> {
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
  return jwksUrl;
}

async function fetchJwks(url: URL): Promise<JSONWebKeySet> {
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`the JWKS answered ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new IssuerUnavailableError(`The issuer JWKS could not be loaded: ${(err as Error).message}`);
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))) {
    throw new IssuerUnavailableError('The issuer JWKS is not a key set.');
  }
  return { keys: keys as JSONWebKeySet['keys'] };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function classify(err: unknown): Error {
  if (err instanceof IssuerUnavailableError || err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWKSTimeout) return new IssuerUnavailableError('The issuer JWKS timed out.');
  if (err instanceof joseErrors.JOSEError) {
    if (err instanceof joseErrors.JWTExpired && err.claim === 'iat') return new AuthError('invalid_token', 'The token is too old.');
    if (err instanceof joseErrors.JWTExpired) return new AuthError('invalid_token', 'The token has expired.');
    return new AuthError('invalid_token', 'The token is not valid for this API.');
  }
  // fetch failures while loading the JWKS are plain errors (TypeError), not JOSE errors.
  return new IssuerUnavailableError('The issuer JWKS could not be loaded.');
}
