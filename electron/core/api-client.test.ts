// Unit tests of the API client against a tiny real HTTP server. The
// token source here is a counter, not the session: the session's refresh path
// is covered against the real identity provider in electron/test.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Problem } from '../../shared/api';
import { endpoints, pathFor, type Endpoint } from '../../shared/http';
import { ERROR_MESSAGES } from '../../shared/messages';
import { ApiClient, busyWaitMs, MAX_BUSY_WAIT_MS } from './api-client';
import { systemClock, type LogFields } from './deps';
import { DpopKey } from './dpop';
import { IpcFailure } from './errors';
import { EventHub } from './events';

type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Route>();
const seen: { method: string | undefined; auth: string | undefined; ifMatch: string | undefined; appVersion: string | undefined; path: string }[] = [];
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({
    method: req.method,
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

const writes: { level: string; event: string; fields: LogFields }[] = [];
const sleeps: number[] = [];

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
    log: { write: (level, event, fields) => void writes.push({ level, event, fields }) },
    clock: systemClock,
    appVersion: '1.2.3',
    sleep: async (ms) => void sleeps.push(ms),
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
const Params = z.strictObject({ id: z.string() });
/** Endpoints of a small contract of the test's own: the client is generic over endpoints. */
const get = (path: string) =>
  ({ method: 'GET', path, summary: 't', access: 'human', params: Params, responses: { 200: Thing, 503: Problem } }) as const satisfies Endpoint;
const patchThing = {
  method: 'PATCH',
  path: '/test/things/:id',
  summary: 't',
  access: 'human',
  params: Params,
  body: z.strictObject({ note: z.string() }),
  ifMatch: true,
  responses: { 200: Thing, 412: Problem, 503: Problem },
} as const satisfies Endpoint;
const postThing = { ...patchThing, method: 'POST', path: '/test/things/:id/archive' } as const satisfies Endpoint;

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
const busy = (res: ServerResponse, retryAfter = '2') =>
  res
    .writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': retryAfter })
    .end(JSON.stringify({ type: 'urn:cims:problem:busy', title: 'Service Unavailable', status: 503, detail: 'The database is busy.', requestId: 'req-b' }));

const errorOf = async (p: Promise<unknown>) => {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IpcFailure);
  return (e as IpcFailure).error;
};

beforeEach(() => {
  writes.length = 0;
  sleeps.length = 0;
});

describe('ApiClient', () => {
  it('builds method, path and If-Match from the endpoint, sends the bearer token, and validates the response', async () => {
    routes.set('/test/things/a%2Fb', (_q, r) => json(r, 200, { ok: true }));
    const { api } = client();
    expect(await api.call(patchThing, { params: { id: 'a/b' }, body: { note: 'x' }, ifMatch: 3 })).toEqual({ ok: true });
    expect(seen.at(-1)).toMatchObject({ method: 'PATCH', path: '/test/things/a%2Fb', auth: 'Bearer token-0', ifMatch: '"3"', appVersion: '1.2.3' });
  });

  it('sends a customer edit as the contract says: PATCH with If-Match from the version; 412 is a conflict', async () => {
    routes.set(pathFor(endpoints['customers.update'], { orgId: 'ORG-000001' }), (_q, r) => problem(r, 412, { detail: 'stale' }));
    const { api } = client();
    const e = await errorOf(
      api.call(endpoints['customers.update'], { params: { orgId: 'ORG-000001' }, body: { changes: { userCount: 3 }, reason: 'More seats' }, ifMatch: 7 }),
    );
    expect(seen.at(-1)).toMatchObject({ method: 'PATCH', ifMatch: '"7"' });
    expect(e).toMatchObject({ code: 'conflict', status: 412 });
  });

  it('logs the route template, never the path with its ids', async () => {
    routes.set(pathFor(endpoints['customers.get'], { orgId: 'ORG-000042' }), (_q, r) => problem(r, 404));
    const { api } = client();
    await errorOf(api.call(endpoints['customers.get'], { params: { orgId: 'ORG-000042' } }));
    expect(writes.find((w) => w.event === 'api.call')?.fields).toMatchObject({ method: 'GET', route: endpoints['customers.get'].path, status: 404 });
    expect(JSON.stringify(writes)).not.toContain('ORG-000042');
  });

  it('refreshes once on 401 and replays the request', async () => {
    let calls = 0;
    routes.set('/test/once', (q, r) => {
      calls++;
      if (q.headers.authorization === 'Bearer token-0') return problem(r, 401);
      json(r, 200, { ok: true });
    });
    const { api, refused } = client();
    expect(await api.call(get('/test/once'), { params: { id: 'x' } })).toEqual({ ok: true });
    expect(calls).toBe(2);
    expect(refused).toEqual(['token-0']);
  });

  it('gives up after one retry with unauthenticated', async () => {
    routes.set('/test/never', (_q, r) => problem(r, 401));
    const { api, refused } = client();
    expect((await errorOf(api.call(get('/test/never'), { params: { id: 'x' } }))).code).toBe('unauthenticated');
    expect(refused).toHaveLength(1);
  });

  it('maps problem+json statuses to IpcError codes with field errors and request id; server errors keep their internals', async () => {
    const { api } = client();
    const cases: [number, string, object?][] = [
      [412, 'conflict'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [429, 'rate_limited'],
      [503, 'unavailable', { type: 'urn:cims:problem:issuer-unavailable' }],
      [500, 'internal', { detail: 'SELECT * FROM core.customers failed' }],
      [422, 'validation', { errors: [{ path: 'changes.contactEmail', message: 'Enter a valid email address' }] }],
    ];
    for (const [status, code, extra] of cases) {
      routes.set('/test/p', (_q, r) => problem(r, status, extra));
      const e = await errorOf(api.call(get('/test/p'), { params: { id: 'x' } }));
      expect(e).toMatchObject({ code, status, requestId: 'req-1' });
      expect(e.message).toBe(status < 500 ? `t${status}` : ERROR_MESSAGES[code as keyof typeof ERROR_MESSAGES]);
      if (status === 422) expect(e.fieldErrors).toEqual([{ path: 'changes.contactEmail', message: 'Enter a valid email address' }]);
    }
  });

  it('refuses a response that does not match the schema, or comes with a status the endpoint does not declare', async () => {
    const { api } = client();
    routes.set('/test/odd', (_q, r) => json(r, 200, { ok: 'yes', extra: 1 }));
    expect((await errorOf(api.call(get('/test/odd'), { params: { id: 'x' } }))).code).toBe('internal');
    routes.set('/test/created', (_q, r) => json(r, 201, { ok: true }));
    expect(await errorOf(api.call(get('/test/created'), { params: { id: 'x' } }))).toMatchObject({ code: 'internal', status: 201 });
  });

  it('reports an unreachable API as unavailable ("check your connection") and emits api:connectivity', async () => {
    const { api, connectivity } = client('http://127.0.0.1:9');
    const e = await errorOf(api.call(get('/test/x'), { params: { id: 'x' } }));
    expect(e).toMatchObject({ code: 'unavailable', message: ERROR_MESSAGES.unavailable });
    expect(e.message).toMatch(/connection/);
    expect(connectivity).toEqual([false]);
  });

  it('streams a download to the chosen path and counts rows without the header', async () => {
    routes.set(endpoints['audit.exportCsv'].path, (_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/csv' });
      r.write('id,action,reason\r\n');
      for (let i = 1; i <= 1000; i++) r.write(`${i},customer.update,"line one\r\nline ""two"""\r\n`);
      r.end();
    });
    const { api } = client();
    const path = join(mkdtempSync(join(tmpdir(), 'cims-dl-')), 'audit.csv');
    const progress: [number, boolean][] = [];
    const rows = await api.download(endpoints['audit.exportCsv'], { query: { action: 'customer.update' } }, path, (n, d) => progress.push([n, d]));
    expect(rows).toBe(1000);
    expect(progress.at(-1)).toEqual([1000, true]);
    expect(seen.at(-1)?.path).toBe(`${endpoints['audit.exportCsv'].path}?action=customer.update`);
    expect(readFileSync(path, 'utf8').split('\r\n')[1]).toBe('1,customer.update,"line one');
  });

  it('counts an evidence bundle\'s records without its header and end lines, quotes in JSON strings included, and its bytes', async () => {
    const body = ['{"type":"header"}', ...Array.from({ length: 50 }, (_, i) => `{"type":"link","reason":"a \\"quoted\\" ${i}"}`), '{"type":"end"}'].join('\n') + '\n';
    let accept: string | undefined;
    routes.set(endpoints['audit.evidence'].path, (q, r) => {
      accept = q.headers.accept;
      r.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      r.end(body);
    });
    const { api } = client();
    const path = join(mkdtempSync(join(tmpdir(), 'cims-dl-')), 'evidence.ndjson');
    const progress: [number, boolean, number][] = [];
    const rows = await api.download(endpoints['audit.evidence'], { query: {} }, path, (n, d, b) => progress.push([n, d, b]));
    expect(rows).toBe(50);
    expect(progress.at(-1)).toEqual([50, true, Buffer.byteLength(body)]);
    expect(accept).toBe('application/x-ndjson');
    expect(readFileSync(path, 'utf8')).toBe(body);
  });
});

describe('ApiClient when the API is busy', () => {
  it('retries a GET once after Retry-After and returns the answer', async () => {
    let calls = 0;
    routes.set('/test/busy-once', (_q, r) => (++calls === 1 ? busy(r) : json(r, 200, { ok: true })));
    const { api } = client();
    expect(await api.call(get('/test/busy-once'), { params: { id: 'x' } })).toEqual({ ok: true });
    expect(calls).toBe(2);
    expect(sleeps).toEqual([2000]);
  });

  it('says busy, not "check your connection", when the retry is busy too', async () => {
    let calls = 0;
    routes.set('/test/busy', (_q, r) => {
      calls++;
      busy(r);
    });
    const { api } = client();
    const e = await errorOf(api.call(get('/test/busy'), { params: { id: 'x' } }));
    expect(calls).toBe(2);
    expect(e).toMatchObject({ code: 'busy', status: 503, requestId: 'req-b', message: ERROR_MESSAGES.busy });
    expect(e.message).toMatch(/busy/);
    expect(e.message).not.toMatch(/connection/);
  });

  it('retries a PATCH with If-Match, but never another write', async () => {
    let patches = 0;
    let posts = 0;
    routes.set('/test/things/p', (_q, r) => (++patches === 1 ? busy(r) : json(r, 200, { ok: true })));
    routes.set('/test/things/p/archive', (_q, r) => {
      posts++;
      busy(r);
    });
    const { api } = client();
    expect(await api.call(patchThing, { params: { id: 'p' }, body: { note: 'x' }, ifMatch: 4 })).toEqual({ ok: true });
    expect(patches).toBe(2);
    expect(seen.at(-1)?.ifMatch).toBe('"4"');
    expect(await errorOf(api.call(postThing, { params: { id: 'p' }, body: { note: 'x' }, ifMatch: 4 }))).toMatchObject({ code: 'busy' });
    expect(posts).toBe(1);
    expect(sleeps).toEqual([2000]);
  });

  it('waits at most five seconds, whatever Retry-After asks', async () => {
    let calls = 0;
    routes.set('/test/slow', (_q, r) => (++calls === 1 ? busy(r, '120') : json(r, 200, { ok: true })));
    const { api } = client();
    await api.call(get('/test/slow'), { params: { id: 'x' } });
    expect(sleeps).toEqual([MAX_BUSY_WAIT_MS]);
    expect(MAX_BUSY_WAIT_MS).toBeLessThanOrEqual(5000);
    expect(busyWaitMs(new Date(10_000 + 3_000).toUTCString(), 10_000)).toBe(3000);
    expect(busyWaitMs('soon', 0)).toBe(1000);
    expect(busyWaitMs(null, 0)).toBe(1000);
  });
});

describe('ApiClient with a DPoP-bound token', () => {
  it('sends the token under the DPoP scheme with a fresh proof per request, and repeats once with the nonce the API asks for', async () => {
    const proofs: string[] = [];
    let calls = 0;
    routes.set('/test/bound', (req, res) => {
      proofs.push(String(req.headers.dpop));
      if (++calls === 1) {
        res
          .writeHead(401, { 'Content-Type': 'application/problem+json', 'WWW-Authenticate': 'DPoP algs="ES256", error="use_dpop_nonce", error_description="n"', 'DPoP-Nonce': 'nonce-1' })
          .end(JSON.stringify({ type: 'urn:cims:problem:unauthorized', title: 'Unauthorized', status: 401, requestId: 'r' }));
        return;
      }
      json(res, 200, { ok: true });
    });
    const key = await DpopKey.generate();
    let tokenCalls = 0;
    const api = new ApiClient({
      baseUrl: base,
      fetch: (i, init) => fetch(i, init),
      hub: new EventHub(),
      log: { write: () => undefined },
      clock: systemClock,
      tokens: {
        accessToken: async () => {
          tokenCalls += 1;
          return 'bound-token';
        },
        proofKey: () => key,
      },
    });
    expect(await api.call(get('/test/bound'), { params: { id: 'x' } })).toEqual({ ok: true });
    // The nonce retry is not a 401 for the token: no refresh was asked for.
    expect(tokenCalls).toBe(1);
    expect(seen.slice(-2).map((s) => s.auth)).toEqual(['DPoP bound-token', 'DPoP bound-token']);
    const [first, second] = proofs.map((p) => JSON.parse(Buffer.from(p.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(first).toMatchObject({ htm: 'GET', htu: `${base}/test/bound` });
    expect(first).not.toHaveProperty('nonce');
    expect(second).toMatchObject({ htm: 'GET', htu: `${base}/test/bound`, nonce: 'nonce-1' });
    expect(second!.jti).not.toBe(first!.jti);
  });
});
