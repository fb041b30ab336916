// The core's change stream against a tiny real HTTP server speaking the API's
// SSE (the API itself is covered in api/test/http/events.test.ts): bridge events
// from its messages, repeats dropped, Last-Event-ID on reconnect, `paused` while
// it cannot connect, no stream while locked or signed out. The request goes
// through ApiClient, so it carries the session's token like every call.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventPayload, SessionState } from '../../shared/ipc';
import type { LiveChange } from '../../shared/live';
import { ApiClient } from './api-client';
import { systemClock } from './deps';
import { EventHub } from './events';
import { LiveStream, readSse } from './live';

interface Seen {
  auth: string | undefined;
  accept: string | undefined;
  lastEventId: string | undefined;
}
const seen: Seen[] = [];
let respond: (res: ServerResponse, n: number) => void = () => undefined;
const open = new Set<ServerResponse>();
const server = createServer((req, res) => {
  seen.push({ auth: req.headers.authorization, accept: req.headers.accept, lastEventId: req.headers['last-event-id'] as string | undefined });
  open.add(res);
  res.on('close', () => open.delete(res));
  respond(res, seen.length);
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
});

const change = (id: string, over: Partial<LiveChange> = {}): LiveChange => ({
  id,
  action: 'customer.update',
  type: 'customer',
  entity: 'ORG-000001',
  version: Number(id),
  actorSub: 'carol',
  actorName: 'Carol Diaz',
  fields: ['contactPhone'],
  changeRequest: null,
  ...over,
});
const frame = (event: string, data: unknown, id?: string) => `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });

const signedIn: SessionState = { status: 'signedIn', issuer: 'https://idp.example', user: { sub: 'carol', name: 'Carol Diaz', roles: ['crm'] }, message: null, signInUrl: null, signInDeadline: null };
const signedOut: SessionState = { ...signedIn, status: 'signedOut', user: null };
const locked: SessionState = { ...signedIn, status: 'locked' };

function start(initial = signedIn) {
  const hub = new EventHub();
  const got: { changes: LiveChange[]; resets: number; status: EventPayload<'live:status'>['state'][] } = { changes: [], resets: 0, status: [] };
  hub.on('live:change', (c) => void got.changes.push(c));
  hub.on('live:reset', () => void got.resets++);
  hub.on('live:status', (s) => void got.status.push(s.state));
  const api = new ApiClient({
    baseUrl: base,
    fetch: (i, init) => fetch(i, init),
    hub,
    log: { write: () => undefined },
    clock: systemClock,
    tokens: { accessToken: async () => 'token-1' },
  });
  const live = new LiveStream({ api, hub, log: { write: () => undefined }, pauseMs: () => 20, silenceMs: 1_000 }, initial);
  return { hub, live, got };
}

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('readSse', () => {
  it('reads events, ids, multi-line data and CRLF line ends; comments are no messages', async () => {
    const text = ': hello\r\n\r\nid: 7\r\nevent: change\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: heartbeat\n\nevent: reset\ndata: {}\n\n';
    const body = new Response(text).body!;
    const out = [];
    for await (const m of readSse(body)) out.push(m);
    expect(out).toEqual([
      { event: 'change', data: '{"a":\n1}', id: '7' },
      { event: 'reset', data: '{}', id: null },
    ]);
  });
});

describe('LiveStream', () => {
  it('holds one stream while signed in, through the API client (token, Accept), and turns its events into bridge events', async () => {
    respond = (res) => {
      sse(res);
      res.write(': connected\n\n');
      res.write(frame('change', change('5'), '5'));
      res.write(frame('change', change('5'), '5')); // a repeat (a replay) is dropped
      res.write(frame('change', { ...change('6'), extra: 'x' }, '6')); // not the contract: dropped
      res.write(frame('reset', {}));
    };
    const { live, got } = start();
    await until(() => got.resets === 1);
    expect(got.changes.map((c) => c.id)).toEqual(['5']);
    expect(got.status).toEqual(['live']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ auth: 'Bearer token-1', accept: 'text/event-stream', lastEventId: undefined });
    live.dispose();
    await until(() => open.size === 0);
    expect(got.status).toEqual(['live', 'off']);
  });

  it('reconnects with Last-Event-ID after the API ends the stream (token expiry)', async () => {
    respond = (res, n) => {
      sse(res);
      if (n === 1) res.end(frame('change', change('9'), '9') + frame('expired', {}));
      else res.write(frame('change', change('10'), '10'));
    };
    const { live, got } = start();
    await until(() => got.changes.length === 2);
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, '9']);
    live.dispose();
  });

  it('says paused while the API cannot be reached or refuses, and live again once it answers', async () => {
    respond = (res, n) => {
      if (n <= 2) return void res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'down', status: 503 }));
      sse(res);
      res.write(': connected\n\n');
    };
    const { live, got } = start();
    await until(() => got.status.at(-1) === 'live' && seen.length >= 3);
    expect(got.status[0]).toBe('paused');
    live.dispose();
  });

  it('takes a silent connection as broken and opens another', async () => {
    respond = (res) => {
      sse(res);
      res.write(': connected\n\n'); // then nothing, not even a heartbeat
    };
    const { live } = start();
    await until(() => seen.length >= 2, 4_000);
    live.dispose();
  });

  it('holds no stream while locked or signed out, and opens one when the session is signed in again', async () => {
    respond = (res) => {
      sse(res);
      res.write(': connected\n\n');
    };
    const { hub, live, got } = start(locked);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(0);
    hub.emit('session:changed', signedIn);
    await until(() => open.size === 1 && got.status.at(-1) === 'live');
    hub.emit('session:changed', signedOut);
    await until(() => open.size === 0);
    expect(got.status.at(-1)).toBe('off');
    live.dispose();
  });
});
