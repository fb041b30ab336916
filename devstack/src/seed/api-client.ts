// The seed's way through the front door: OAuth tokens from the OpenID provider
// and calls to the real API, so predictions arrive on the ingestion path the
// model jobs use and the audit history is written by the API's functions.
import { createHash, randomBytes } from 'node:crypto';
import type { Prediction } from '../../../shared/api';

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`OpenID discovery at ${issuer} failed with HTTP ${res.status}`);
  return (await res.json()) as Discovery;
}

async function tokenFrom(res: Response): Promise<string> {
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request refused: ${body.error ?? res.status}`);
  return body.access_token;
}

/** A client-credentials token source that renews itself before the 5-minute tokens expire. */
export function clientCredentials(issuer: string, clientId: string, clientSecret: string, scope: string) {
  let cached: { token: string; until: number } | undefined;
  return async (force = false): Promise<string> => {
    if (!force && cached && Date.now() < cached.until) return cached.token;
    const { token_endpoint } = await discover(issuer);
    const res = await fetch(token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    cached = { token: await tokenFrom(res), until: Date.now() + 120_000 };
    return cached.token;
  };
}

/**
 * Signs a demo user in with authorization code + PKCE through the provider's
 * own login form. The code is read from the final redirect's Location header;
 * nothing listens on the loopback redirect URI.
 */
export async function signInAs(issuer: string, username: string, password: string, clientId = 'cims-console'): Promise<string> {
  const d = await discover(issuer);
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = 'http://127.0.0.1:9/callback';
  const auth = new URL(d.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile api',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('base64url'),
  }).toString();
  const cookies = new Map<string, string>();
  let url = auth.href;
  let init: RequestInit = {};
  for (let hop = 0; hop < 8; hop++) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(redirectUri)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`sign-in of ${username} failed: ${next.searchParams.get('error') ?? 'no code'}`);
        const token = await fetch(d.token_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier }),
        });
        return tokenFrom(token);
      }
      url = next.href;
      init = {};
      continue;
    }
    const html = await res.text();
    if (init.method === 'POST') throw new Error(`sign-in of ${username} was refused by the login page`);
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no login form at ${url} (HTTP ${res.status})`);
    url = new URL(action.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))), url).href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    };
  }
  throw new Error(`sign-in of ${username} did not finish`);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One API call with a bearer token; waits and retries when rate-limited (429). */
export async function apiCall<T>(base: string, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ body: T; etag: string | null }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 429 && attempt < 100) {
      const wait = Number(res.headers.get('retry-after') ?? '1');
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, Math.min(60, Math.max(1, wait)) * 1000));
      continue;
    }
    const text = await res.text();
    if (!res.ok) {
      let title = text.slice(0, 200);
      try {
        const problem = JSON.parse(text) as { title?: string; detail?: string };
        title = [problem.title, problem.detail].filter(Boolean).join(': ');
      } catch {
        // not a problem document
      }
      throw new ApiError(res.status, `${method} ${path} failed with HTTP ${res.status}: ${title}`);
    }
    return { body: (text ? JSON.parse(text) : undefined) as T, etag: res.headers.get('etag') };
  }
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
