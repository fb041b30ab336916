// DPoP (RFC 9449): checks that the caller holds the key its access token is
// bound to. A proof is a JWT the client signs for one request: its header
// carries the public key, its payload the method (htm) and URL (htu) of that
// request, when it was made (iat), a unique id (jti), the hash of the access
// token (ath) and, when the API asks for one, the API's nonce. The token's
// `cnf.jkt` must be the thumbprint of that key (RFC 7638).
//
// Replay: a proof is accepted once. The jti cache lives in this process only;
// behind a load balancer a replay can be sent to another API process within the
// iat window. A multi-process deployment needs one shared cache (a PostgreSQL
// table with a unique key and the expiry, or Redis SET NX PX) or server nonces
// from a secret all processes share (docs/http-contract.md).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';

/** Proof algorithms accepted (asymmetric only). The console signs with ES256. */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'PS256'] as const;
/** A proof's iat may be this far from the API's clock, either way. */
export const DPOP_IAT_WINDOW_S = 60;
/** A nonce is valid for the window it was issued in and the one after. */
export const DPOP_NONCE_WINDOW_S = 120;
const MAX_PROOF_CHARS = 4_096;
const MAX_JTI_CHARS = 200;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** Why a DPoP check failed; sent as 401 with `WWW-Authenticate: DPoP error=...` (and `DPoP-Nonce` for use_dpop_nonce). */
export class DpopError extends Error {
  constructor(
    readonly code: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token',
    message: string,
    /** For use_dpop_nonce: the nonce to put in the next proof. */
    readonly nonce?: string,
  ) {
    super(message);
    this.name = 'DpopError';
  }
}

/** The replay cache is full: fail closed (a replay must never pass because the cache made room). */
export class DpopCacheFullError extends Error {
  override name = 'DpopCacheFullError';
}

export interface DpopOptions {
  /** IT's policy: people must present DPoP-bound tokens (service paths are exempt, see plugins/auth.ts). A function is asked per request. */
  required?: boolean | (() => boolean);
  /** Ask every proof for a nonce from this API (use_dpop_nonce). */
  requireNonce?: boolean;
  /** Secret for stateless nonces; every process behind one load balancer needs the same one. Default: random per process. */
  nonceSecret?: Uint8Array;
  /** Bound on remembered jtis. Default 200,000. */
  replayCacheSize?: number;
  now?: () => number;
}

export interface ProofInput {
  /** The DPoP header as received (several headers arrive joined with commas, or as an array). */
  proof: string | string[] | undefined;
  method: string;
  /** The URL the client sent the request to. Query and fragment are ignored (RFC 9449 4.3). */
  url: string;
  accessToken: string;
  /** The access token's `cnf.jkt`. */
  jkt: string;
}

export interface DpopVerifier {
  readonly required: boolean;
  readonly requireNonce: boolean;
  /** Resolves when the proof is valid for this request and token, and records its jti; throws DpopError otherwise. */
  verify(input: ProofInput): Promise<void>;
  /** The nonce to hand out now (sent as `DPoP-Nonce`). */
  nonce(): string;
  readonly replayEntries: number;
}

export function createDpopVerifier(options: DpopOptions = {}): DpopVerifier {
  const now = options.now ?? Date.now;
  const secret = options.nonceSecret ?? randomBytes(32);
  const requireNonce = options.requireNonce ?? false;
  const replay = createReplayCache(options.replayCacheSize ?? 200_000, now);

  const nonceFor = (window: number): string => {
    const w = Buffer.alloc(8);
    w.writeBigUInt64BE(BigInt(window));
    const mac = createHmac('sha256', secret).update(w).digest().subarray(0, 16);
    return Buffer.concat([w, mac]).toString('base64url');
  };
  const currentWindow = () => Math.floor(now() / 1000 / DPOP_NONCE_WINDOW_S);
  const nonceValid = (value: unknown): boolean => {
    if (typeof value !== 'string' || value.length > 64) return false;
    const w = currentWindow();
    const given = Buffer.from(value);
    return [w, w - 1].some((candidate) => {
      const expected = Buffer.from(nonceFor(candidate));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  };

  return {
    get required() {
      return typeof options.required === 'function' ? options.required() : (options.required ?? false);
    },
    requireNonce,
    get replayEntries() {
      return replay.size;
    },
    nonce: () => nonceFor(currentWindow()),
    async verify(input) {
      const proof = singleProof(input.proof);
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(proof);
      } catch {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof is not a JWT.');
      }
      const jwk = header.jwk as JWK | undefined;
      if (header.typ !== 'dpop+jwt') throw new DpopError('invalid_dpop_proof', 'The DPoP proof must have typ dpop+jwt.');
      if (!(DPOP_ALGORITHMS as readonly string[]).includes(String(header.alg))) {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof uses an algorithm this API does not accept.');
      }
      if (!jwk || typeof jwk !== 'object' || PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof must carry a public key.');
      }
      let payload: Record<string, unknown>;
      try {
        // The signature with the key in the header; times are checked below, both ways.
        const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS] });
        payload = verified.payload;
      } catch (err) {
        throw new DpopError('invalid_dpop_proof', err instanceof joseErrors.JOSEError ? 'The DPoP proof signature is not valid.' : 'The DPoP proof could not be checked.');
      }
      const { jti, htm, htu, iat, ath } = payload;
      if (typeof jti !== 'string' || !jti || jti.length > MAX_JTI_CHARS) throw new DpopError('invalid_dpop_proof', 'The DPoP proof has no usable jti.');
      if (htm !== input.method) throw new DpopError('invalid_dpop_proof', 'The DPoP proof was made for another HTTP method.');
      if (typeof htu !== 'string' || normalizedUrl(htu) === null || normalizedUrl(htu) !== normalizedUrl(input.url)) {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof was made for another URL.');
      }
      const nowS = now() / 1000;
      if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(nowS - iat) > DPOP_IAT_WINDOW_S) {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof is too old or from the future.');
      }
      if (ath !== sha256(input.accessToken)) throw new DpopError('invalid_dpop_proof', 'The DPoP proof was made for another access token.');
      let thumbprint: string;
      try {
        thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
      } catch {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof key is not usable.');
      }
      if (thumbprint !== input.jkt) throw new DpopError('invalid_token', 'The access token is bound to another key.');
      if (requireNonce && !nonceValid(payload.nonce)) {
        throw new DpopError('use_dpop_nonce', 'The DPoP proof must carry the nonce this API gave.', nonceFor(currentWindow()));
      }
      // Last, and synchronously after every check: only a proof that passed is remembered, and two
      // requests with the same proof cannot both pass.
      if (!replay.add(`${thumbprint}.${jti}`, (iat + DPOP_IAT_WINDOW_S + 1) * 1000)) {
        throw new DpopError('invalid_dpop_proof', 'The DPoP proof has already been used.');
      }
    },
  };
}

function singleProof(value: string | string[] | undefined): string {
  if (value === undefined || value === '') throw new DpopError('invalid_dpop_proof', 'A DPoP proof is required with a DPoP-bound token.');
  // Several DPoP headers (an array, or joined with commas by Node): refused (RFC 9449 4.3, item 1).
  if (Array.isArray(value) || value.includes(',')) throw new DpopError('invalid_dpop_proof', 'Send exactly one DPoP proof.');
  if (value.length > MAX_PROOF_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)) {
    throw new DpopError('invalid_dpop_proof', 'The DPoP proof is not a compact JWT.');
  }
  return value;
}

/** Scheme, host, port and path, syntax-normalized (URL does it); query and fragment dropped. */
function normalizedUrl(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return `${url.origin}${url.pathname}`;
  } catch {
    return null;
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * jtis with their expiry, oldest first. Entries leave when their proof could no longer pass the
 * iat check anyway; when the cache is full of live entries, new proofs are refused (DpopCacheFullError).
 */
function createReplayCache(maxEntries: number, now: () => number) {
  const seen = new Map<string, number>();
  const sweep = () => {
    const t = now();
    // Insertion order is close to expiry order (iat is within the window); one pass from the front.
    for (const [key, expiresAt] of seen) {
      if (expiresAt > t) break;
      seen.delete(key);
    }
  };
  return {
    get size() {
      return seen.size;
    },
    /** false when the key is already there. */
    add(key: string, expiresAt: number): boolean {
      sweep();
      const existing = seen.get(key);
      if (existing !== undefined && existing > now()) return false;
      if (seen.size >= maxEntries) throw new DpopCacheFullError('the DPoP replay cache is full');
      seen.delete(key);
      seen.set(key, expiresAt);
      return true;
    },
  };
}
