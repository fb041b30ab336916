// A plain HTTP caller for the fault tests: one request, its status (0 when no
// answer came: refused, reset, timed out), body and ETag. Every request carries
// its own x-request-id, so acknowledged calls can be matched to audit rows.
import { randomUUID } from 'node:crypto';

export interface Answer {
  status: number;
  body: unknown;
  etag: string | null;
  requestId: string;
  /** Why no answer came, when status is 0. */
  error?: string;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH';
  token?: string;
  body?: unknown;
  ifMatch?: number;
  timeoutMs?: number;
}

export async function call(base: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const requestId = `f-${randomUUID()}`;
  const headers: Record<string, string> = { 'x-request-id': requestId, accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
  try {
    const res = await fetch(`${base}${path}`, {
      method: opts.method ?? 'GET',
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: res.status, body, etag: res.headers.get('etag'), requestId };
  } catch (err) {
    return { status: 0, body: null, etag: null, requestId, error: (err as Error).message };
  }
}

/** The customer's version from a CustomerDetail body. */
export function versionOf(body: unknown): number {
  const v = (body as { customer?: { version?: unknown } } | null)?.customer?.version;
  if (typeof v !== 'number') throw new Error(`no customer version in ${JSON.stringify(body).slice(0, 200)}`);
  return v;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
