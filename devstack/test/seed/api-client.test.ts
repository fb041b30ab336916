// The seeder's API calls: 429 and 503 are retried after the wait the server asks
// for in Retry-After (p-retry does the counting), anything else fails at once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, apiCall, retryAfterMs } from '../../src/seed/api-client';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server that answers with `replies` in order (the last one repeats) and records when each request came. */
async function serve(replies: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>): Promise<{ url: string; seen: number[] }> {
  const seen: number[] = [];
  server = createServer((req, res) => {
    seen.push(Date.now());
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)]!;
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body ?? { title: 'x' }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe('apiCall', () => {
  it('waits as long as Retry-After says on 429 and 503, then succeeds', async () => {
    const { url, seen } = await serve([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 503, headers: { 'retry-after': '1' } },
      { status: 200, body: { ok: true } },
    ]);
    const { body } = await apiCall<{ ok: boolean }>(url, 't', 'GET', '/v1/x');
    expect(body).toEqual({ ok: true });
    expect(seen).toHaveLength(3);
    expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(950);
    expect(seen[2]! - seen[1]!).toBeGreaterThanOrEqual(950);
  });

  it('gives up after its retries with the last error, and never retries other statuses', async () => {
    const busy = await serve([{ status: 429, headers: { 'retry-after': '0' } }]);
    const err = await apiCall(busy.url, 't', 'GET', '/v1/x', undefined, { retries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    expect(busy.seen).toHaveLength(3);
    await new Promise<void>((r) => server!.close(() => r()));

    const refused = await serve([{ status: 412, body: { title: 'Precondition Failed', detail: 'stale' } }]);
    await expect(apiCall(refused.url, 't', 'PATCH', '/v1/x', {})).rejects.toThrow(/HTTP 412: Precondition Failed: stale/);
    expect(refused.seen).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
