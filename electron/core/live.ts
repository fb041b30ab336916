// The change stream of one session: while signed in, the core holds one
// GET /v1/events (through ApiClient.open, the path of every call: token, DPoP
// proof, refresh on 401) and turns its events into bridge events (live:change,
// live:reset, live:status). Reconnects with Last-Event-ID after a break, at
// once after the API ended it (the token expired: the next request has a fresh
// one), with a growing pause after a failure; a silent connection (no event or
// heartbeat for a while) is taken as broken. Locked or signed out: no stream.
// It never blocks or fails a call: a lost stream is only `paused`.
import { endpoints } from '../../shared/http';
import type { SessionState } from '../../shared/ipc';
import { LIVE_EVENTS, LIVE_HEARTBEAT_MS, LiveChange } from '../../shared/live';
import type { ApiClient } from './api-client';
import type { LogSink } from './deps';
import { IpcFailure } from './errors';
import type { EventHub } from './events';

export interface LiveDeps {
  api: Pick<ApiClient, 'open'>;
  hub: EventHub;
  log: LogSink;
  /** Pause before reconnecting after the n-th failure in a row; default 1 s doubling up to 30 s, with jitter. */
  pauseMs?: (failures: number) => number;
  /** No bytes for this long and the stream is taken as broken; default three heartbeats. */
  silenceMs?: number;
}

/** One SSE message. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/** Parses Server-Sent Events (the subset the API sends: event, data, id; comments are only signs of life). */
export async function* readSse(body: ReadableStream<Uint8Array>, onBytes: () => void = () => undefined): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let data: string[] = [];
  let id: string | null = null;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onBytes();
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\n|\r/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length || event) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          id = null;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

const defaultPause = (failures: number) => Math.min(1_000 * 2 ** Math.min(failures - 1, 5), 30_000) * (0.75 + Math.random() * 0.5);

/** How many event ids are remembered to drop repeats (a replay may resend what was seen). */
const SEEN_IDS = 1_000;

export class LiveStream {
  private abort: AbortController | null = null;
  private running: Promise<void> | null = null;
  private lastId: string | null = null;
  private readonly seen: string[] = [];
  private state: 'live' | 'paused' | 'off' = 'off';
  private readonly unsubscribe: () => void;
  private disposed = false;

  constructor(private readonly deps: LiveDeps, initial: SessionState) {
    this.unsubscribe = deps.hub.on('session:changed', (s) => this.follow(s));
    this.follow(initial);
  }

  /** The current state, as live:status last said it. */
  get status(): 'live' | 'paused' | 'off' {
    return this.state;
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    this.stop();
  }

  private follow(session: SessionState): void {
    if (session.status === 'signedIn' && !this.disposed) this.startLoop();
    else this.stop();
  }

  private setState(state: 'live' | 'paused' | 'off'): void {
    if (this.state === state) return;
    this.state = state;
    this.deps.hub.emit('live:status', { state });
  }

  private startLoop(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    this.running = this.loop(abort.signal).finally(() => {
      if (this.abort === abort) this.abort = null;
    });
  }

  private stop(): void {
    this.abort?.abort();
    this.abort = null;
    this.setState('off');
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const opened = Date.now();
      try {
        const ended = await this.once(signal);
        failures = 0;
        // Ended by the API (token expiry, a restart): reconnect at once, unless it keeps ending quickly.
        if (ended === 'ended' && Date.now() - opened < 1_000) failures = 1;
      } catch (error) {
        if (signal.aborted) break;
        const code = error instanceof IpcFailure ? error.error.code : 'unavailable';
        // Locked or signed out meanwhile: session:changed stops or restarts the loop. Refused: not for this user.
        // Not found: an API without the stream; the next sign-in tries again.
        if (code === 'locked' || code === 'unauthenticated' || code === 'forbidden' || code === 'not_found') {
          this.setState('off');
          break;
        }
        failures++;
        this.deps.log.write('warn', 'live.stream.lost', { code, failures });
      }
      if (signal.aborted) break;
      if (failures > 0) {
        this.setState('paused');
        await sleep((this.deps.pauseMs ?? defaultPause)(failures), signal);
      }
    }
  }

  /** One connection, until it ends; 'ended' when the API closed it. Throws when it broke. */
  private async once(outer: AbortSignal): Promise<'ended'> {
    const local = new AbortController();
    const stopLocal = () => local.abort();
    outer.addEventListener('abort', stopLocal, { once: true });
    const silenceMs = this.deps.silenceMs ?? LIVE_HEARTBEAT_MS * 3;
    let watchdog: NodeJS.Timeout | null = null;
    const alive = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => local.abort(new Error('silent')), silenceMs);
      watchdog.unref?.();
    };
    try {
      alive();
      const response = await this.deps.api.open(endpoints['events.stream'], {}, {
        headers: this.lastId ? { 'Last-Event-ID': this.lastId } : {},
        signal: local.signal,
      });
      this.setState('live');
      this.deps.log.write('info', 'live.stream.open', { resumed: this.lastId !== null });
      for await (const message of readSse(response.body!, alive)) this.handle(message);
      if (local.signal.aborted && !outer.aborted) throw new Error('the change stream went silent');
      return 'ended';
    } catch (error) {
      if (local.signal.aborted && !outer.aborted) throw new Error('the change stream went silent');
      throw error;
    } finally {
      if (watchdog) clearTimeout(watchdog);
      outer.removeEventListener('abort', stopLocal);
      local.abort();
    }
  }

  private handle(message: SseMessage): void {
    if (message.event === LIVE_EVENTS.reset) {
      this.deps.hub.emit('live:reset', {});
      return;
    }
    if (message.event !== LIVE_EVENTS.change) return;
    let parsed: ReturnType<typeof LiveChange.safeParse>;
    try {
      parsed = LiveChange.safeParse(JSON.parse(message.data));
    } catch {
      this.deps.log.write('warn', 'live.event.invalid', {});
      return;
    }
    if (!parsed.success) {
      this.deps.log.write('warn', 'live.event.invalid', { issues: parsed.error.issues.length });
      return;
    }
    const change = parsed.data;
    this.lastId = message.id ?? change.id;
    if (this.seen.includes(change.id)) return;
    this.seen.push(change.id);
    if (this.seen.length > SEEN_IDS) this.seen.shift();
    this.deps.hub.emit('live:change', change);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
