// Unit tests of the API client's mapping against a tiny real HTTP server. The
// token source here is a counter, not the session: the session's refresh path
// is covered against the real identity provider in electron/test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiClient } from './api-client';
import { systemClock } from './deps';
import { IpcFailure } from './errors';
import { EventHub } from './events';
import { nullLog } from './log';

type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Route>();
const seen: { auth: string | undefined; ifMatch: string | undefined; appVersion: string | undefined; path: string }[] = [];
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({
    auth: req.headers.authorization,
    ifMatch: req.headers['if-match'] as string | undefined,
    appVersion: req.headers['x-cims-app-version'] as string | undefined,
    path: url.pathname + url.search,
  });
  (routes.get(url.pathname) ?? ((_q, r) => r.writeHead(404).end()))(req, res);
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const problem = (res: ServerResponse, status: number, extra: object = {}) =>
  res
    .writeHead(status, { 'Content-Type': 'application/problem+json' })
    .end(JSON.stringify({ type: 'about:blank', title: `t${status}`, status, requestId: 'req-1', ...extra }));

function client(baseUrl = base) {
  let n = 0;
  const refused: string[] = [];
  const hub = new EventHub();
  const connectivity: boolean[] = [];
  hub.on('api:connectivity', (p) => connectivity.push(p.reachable));
  const api = new ApiClient({
    baseUrl,
    fetch: (i, init) => fetch(i, init),
    hub,
    log: nullLog,
    clock: systemClock,
    appVersion: '1.2.3',
    tokens: {
      accessToken: async (refusedToken) => {
        if (refusedToken) refused.push(refusedToken);
        return refusedToken ? `token-${++n}` : `token-${n}`;
      },
    },
  });
  return { api, refused, connectivity };
}

const Thing = z.strictObject({ ok: z.literal(true) });
const errorOf = async (p: Promise<unknown>) => {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IpcFailure);
  return (e as IpcFailure).error;
};

describe('ApiClient', () => {
  it('sends the bearer token and If-Match, and validates the response', async () => {
    routes.set('/v1/thing', (_q, r) => r.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
    const { api } = client();
    expect(await api.json({ method: 'PATCH', path: '/v1/thing', route: 't', ifMatch: '"3"', body: {} }, Thing)).toEqual({ ok: true });
    expect(seen.at(-1)).toMatchObject({ auth: 'Bearer token-0', ifMatch: '"3"', appVersion: '1.2.3' });
  });

  it('refreshes once on 401 and replays the request', async () => {
    let calls = 0;
    routes.set('/v1/once', (q, r) => {
      calls++;
      if (q.headers.authorization === 'Bearer token-0') return problem(r, 401);
      r.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
    const { api, refused } = client();
    expect(await api.json({ method: 'GET', path: '/v1/once', route: 'o' }, Thing)).toEqual({ ok: true });
    expect(calls).toBe(2);
    expect(refused).toEqual(['token-0']);
  });

  it('gives up after one retry with unauthenticated', async () => {
    routes.set('/v1/never', (_q, r) => problem(r, 401));
    const { api, refused } = client();
    expect((await errorOf(api.json({ method: 'GET', path: '/v1/never', route: 'n' }, Thing))).code).toBe('unauthenticated');
    expect(refused).toHaveLength(1);
  });

  it('maps problem+json statuses to IpcError codes with field errors and request id', async () => {
    const { api } = client();
    const cases: [number, string, object?][] = [
      [412, 'conflict'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [429, 'rate_limited'],
      [503, 'unavailable'],
      [500, 'internal', { detail: 'SELECT * FROM core.customers failed' }],
      [422, 'validation', { errors: [{ path: 'changes.contactEmail', message: 'Enter a valid email address' }] }],
    ];
    for (const [status, code, extra] of cases) {
      routes.set('/v1/p', (_q, r) => problem(r, status, extra));
      const e = await errorOf(api.json({ method: 'GET', path: '/v1/p', route: 'p' }, Thing));
      expect(e).toMatchObject({ code, status, requestId: 'req-1' });
      expect(e.message).not.toContain('SELECT');
      if (status === 422) expect(e.fieldErrors).toEqual([{ path: 'changes.contactEmail', message: 'Enter a valid email address' }]);
    }
  });

  it('refuses a response that does not match the schema', async () => {
    routes.set('/v1/odd', (_q, r) => r.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":"yes","extra":1}'));
    const { api } = client();
    expect((await errorOf(api.json({ method: 'GET', path: '/v1/odd', route: 'o' }, Thing))).code).toBe('internal');
  });

  it('reports an unreachable API as unavailable and emits api:connectivity', async () => {
    const { api, connectivity } = client('http://127.0.0.1:9');
    expect((await errorOf(api.json({ method: 'GET', path: '/v1/x', route: 'x' }, Thing))).code).toBe('unavailable');
    expect(connectivity).toEqual([false]);
  });

  it('streams a download to the chosen path and counts rows without the header', async () => {
    routes.set('/v1/audit/events.csv', (_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/csv' });
      r.write('id,action,reason\r\n');
      for (let i = 1; i <= 1000; i++) r.write(`${i},customer.update,"line one\r\nline ""two"""\r\n`);
      r.end();
    });
    const { api } = client();
    const path = join(mkdtempSync(join(tmpdir(), 'cims-dl-')), 'audit.csv');
    const progress: [number, boolean][] = [];
    const rows = await api.download({ method: 'GET', path: '/v1/audit/events.csv', route: 'csv' }, path, (n, d) => progress.push([n, d]));
    expect(rows).toBe(1000);
    expect(progress.at(-1)).toEqual([1000, true]);
    expect(readFileSync(path, 'utf8').split('\r\n')[1]).toBe('1,customer.update,"line one');
  });
});
