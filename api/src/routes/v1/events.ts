// GET /v1/events: the change stream (Server-Sent Events, shared/live.ts). Each
// caller hears only of changes they may read (live/hub.ts), resumes after a
// reconnect from Last-Event-ID, gets a heartbeat comment so proxies keep the
// stream open, and the stream ends when the access token expires, so the
// console reconnects with a fresh one and a revoked sign-in stops hearing.
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { endpoints } from '../../../../shared/http';
import { EVENTS_CONTENT_TYPE, LIVE_EVENTS, type LiveChange } from '../../../../shared/live';
import { TooManyStreamsError } from '../../live/hub';
import { actorOf } from '../../plugins/auth';
import { HttpProblem } from '../../plugins/problems';
import { route } from '../route';

/** How long a client waits before reconnecting after the stream broke (SSE `retry`). */
const RETRY_MS = 3_000;
const EVENT_ID = /^[1-9][0-9]{0,18}$/;

/** When the (already verified) access token expires, in ms; null when it cannot be read. */
export function tokenExpiry(authorization: string | undefined): number | null {
  const token = /^(?:Bearer|DPoP) +(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return null;
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

function frame(event: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function eventRoutes(app: FastifyInstance): Promise<void> {
  route(app, endpoints['events.stream'], async (_input, req, reply) => {
    const actor = actorOf(req);
    const stream = new PassThrough();
    let done = false;
    const write = (chunk: string) => {
      if (!done) stream.write(chunk);
    };
    const change = (c: LiveChange) => write(frame(LIVE_EVENTS.change, c, c.id));
    const reset = () => write(frame(LIVE_EVENTS.reset, {}));

    let unsubscribe: () => void;
    try {
      unsubscribe = app.live.subscribe({ actor, change, reset, end: () => finish() });
    } catch (err) {
      if (err instanceof TooManyStreamsError) {
        throw new HttpProblem(429, 'too-many-streams', 'Too many open change streams for this user; close another console.');
      }
      throw err;
    }
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), app.live.heartbeatMs);
    const ends = Math.min(tokenExpiry(req.headers.authorization) ?? Date.now(), Date.now() + app.live.maxStreamMs);
    const expiry = setTimeout(() => {
      write(frame(LIVE_EVENTS.expired, {}));
      finish();
    }, Math.max(ends - Date.now(), 0));
    function finish(): void {
      if (done) return;
      done = true;
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(expiry);
      stream.end();
    }
    req.raw.on('close', finish);
    stream.on('error', finish);

    write(`retry: ${RETRY_MS}\n: connected\n\n`);
    // Subscribed before the replay is read, so nothing falls between them (a repeat is ignored by the client).
    const last = req.headers['last-event-id'];
    if (typeof last === 'string' && last !== '') {
      const missed = EVENT_ID.test(last) ? await app.live.replay(actor, last).catch((err: unknown) => {
        req.log.warn({ err }, 'change stream replay failed');
        return null;
      }) : null;
      if (missed) missed.forEach(change);
      else reset();
    }

    reply
      .type(EVENTS_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      // Proxies that buffer responses (nginx) would hold events back.
      .header('x-accel-buffering', 'no')
      // A stream's socket is not reused: when it ends (expiry, shutdown) it closes, so a closing API waits for nothing.
      .header('connection', 'close');
    return stream;
  });
}
