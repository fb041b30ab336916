// The seed's way through the front door: OAuth tokens from the OpenID provider
// (openid-client) and calls to the real API, so predictions arrive on the
// ingestion path the model jobs use and the audit history is written by the
// API's functions as the demo users.
import * as oidc from 'openid-client';
import pRetry from 'p-retry';
import type { Prediction } from '../../../shared/api';
import { DEMO_PASSWORD_GRANT } from '../idp/provider';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A confidential client of the local provider (plain HTTP is allowed: it listens on loopback only). */
function clientOf(issuer: string, c: ClientCredentials): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), c.clientId, undefined, oidc.ClientSecretBasic(c.clientSecret), { execute: [oidc.allowInsecureRequests] });
}

/** A client-credentials token source that renews itself well before the 5-minute tokens expire. */
export function clientCredentials(issuer: string, c: ClientCredentials, scope: string) {
  let config: Promise<oidc.Configuration> | undefined;
  let cached: { token: string; until: number } | undefined;
  return async (force = false): Promise<string> => {
    if (!force && cached && Date.now() < cached.until) return cached.token;
    config ??= clientOf(issuer, c);
    const tokens = await oidc.clientCredentialsGrant(await config, { scope });
    cached = { token: tokens.access_token, until: Date.now() + 120_000 };
    return cached.token;
  };
}

/**
 * An API token for a demo user, from the local provider's demo-only password grant
 * (the demo seeder client, loopback only): the seeder never drives the login page,
 * which stays the console's, with authorization code and PKCE in a browser.
 */
export async function signInAs(issuer: string, seeder: ClientCredentials, username: string, password: string): Promise<string> {
  try {
    const tokens = await oidc.genericGrantRequest(await clientOf(issuer, seeder), DEMO_PASSWORD_GRANT, { username, password, scope: 'api' });
    return tokens.access_token;
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError) throw new Error(`sign-in of ${username} was refused: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`, { cause: err });
    throw err;
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** From Retry-After on 429 and 503, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Retry-After in seconds or as an HTTP date, in ms (undefined when absent or unreadable). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const RETRYABLE = new Set([429, 503]);
const MAX_WAIT_MS = 60_000;

export interface CallOptions {
  headers?: Record<string, string>;
  /** Attempts after the first on 429/503 (default 100: predictions for large data sets run into the rate limit by design). */
  retries?: number;
  signal?: AbortSignal;
}

async function callOnce<T>(base: string, token: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ body: T; etag: string | null }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    let title = text.slice(0, 200);
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string };
      title = [problem.title, problem.detail].filter(Boolean).join(': ');
    } catch {
      // not a problem document
    }
    const wait = RETRYABLE.has(res.status) ? retryAfterMs(res.headers.get('retry-after')) : undefined;
    throw new ApiError(res.status, `${method} ${path} failed with HTTP ${res.status}: ${title}`, wait);
  }
  return { body: (text ? JSON.parse(text) : undefined) as T, etag: res.headers.get('etag') };
}

/** One API call with a bearer token; on 429 and 503 it waits as long as Retry-After says (1 s without one) and tries again. */
export function apiCall<T>(base: string, token: string, method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<{ body: T; etag: string | null }> {
  return pRetry(() => callOnce<T>(base, token, method, path, body, opts.headers ?? {}), {
    retries: opts.retries ?? 100,
    // The server says how long to wait; p-retry's own backoff is off (minTimeout 0) and the wait happens here.
    minTimeout: 0,
    shouldRetry: ({ error }) => error instanceof ApiError && RETRYABLE.has(error.status),
    onFailedAttempt: async ({ error, retriesLeft }) => {
      if (!(error instanceof ApiError) || !RETRYABLE.has(error.status) || retriesLeft === 0) return;
      const wait = Math.min(MAX_WAIT_MS, error.retryAfterMs ?? 1000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Splits predictions into PUT bodies under the API's body limit (64 KiB, kept at 48 KiB here). */
export function* predictionBatches(predictions: readonly Prediction[], maxBytes = 48 * 1024, maxItems = 1000): Generator<Prediction[]> {
  let batch: Prediction[] = [];
  let size = 20;
  for (const p of predictions) {
    const bytes = JSON.stringify(p).length + 1;
    if (batch.length > 0 && (size + bytes > maxBytes || batch.length >= maxItems)) {
      yield batch;
      batch = [];
      size = 20;
    }
    batch.push(p);
    size += bytes;
  }
  if (batch.length > 0) yield batch;
}
