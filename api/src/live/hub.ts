// Fan-out in the process: the one listener's notifications, looked up once per
// batch (api.live_events: who acted, which fields, whom it concerns), then handed
// to each open stream whose caller may read it. Streams are indexed by subject,
// so an event costs the CRMs it concerns plus the readers of everything, not
// every stream.
import { z } from 'zod';
import { LIVE_HEARTBEAT_MS, LiveChange } from '../../../shared/live';
import type { Actor } from '../db/store';
import type { ChangeNotice, ChangeSource } from './listener';

/** What api.live_events returns for one event: the change, and the CRMs it concerns. */
export const LiveRow = LiveChange.extend({ owners: z.array(z.string()) });
export type LiveRow = z.infer<typeof LiveRow>;
export const LiveRows = z.array(LiveRow);

/** Roles that read every customer (and so hear of every change). */
const READ_ALL: readonly string[] = ['support_lead', 'admin'];

/** Whether the caller may hear of this change: readers of everything, or a CRM it concerns. */
export function mayHear(actor: Actor, row: LiveRow): boolean {
  if (actor.roles.some((r) => READ_ALL.includes(r))) return true;
  return actor.roles.includes('crm') && row.owners.includes(actor.sub);
}

/** What a stream is told; the route writes it as SSE. */
export interface LiveSubscriber {
  readonly actor: Actor;
  change(change: LiveChange): void;
  /** Changes may have been missed: refetch everything. */
  reset(): void;
  /** The API is shutting down: end the stream (the client reconnects to another process). */
  end(): void;
}

export interface LiveHubOptions {
  /** null: this API has no listener (the stream answers, but only heartbeats and resets). */
  source: ChangeSource | null;
  lookup(ids: readonly string[]): Promise<LiveRow[]>;
  replay(afterId: string, limit: number): Promise<LiveRow[] | null>;
  onError(err: unknown): void;
  /** Open streams one subject may hold (several consoles, a reconnect that overlaps). */
  maxStreamsPerSubject?: number;
  /** Comment lines that keep proxies from closing an idle stream; default LIVE_HEARTBEAT_MS. */
  heartbeatMs?: number;
  /** No stream outlives this, whatever its token says; default an hour. */
  maxStreamMs?: number;
}

/** Ids looked up per call. */
const LOOKUP_BATCH = 500;
/** Events replayed after a reconnect before a reset is cheaper. */
export const REPLAY_LIMIT = 500;

export class TooManyStreamsError extends Error {}

/** Strips what only the hub needs. */
const toChange = ({ owners: _owners, ...change }: LiveRow): LiveChange => change;

export class LiveHub {
  private readonly bySubject = new Map<string, Set<LiveSubscriber>>();
  private readonly readAll = new Set<LiveSubscriber>();
  private pending: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private started: Promise<void> | null = null;
  private closed = false;
  /** Counters for the benchmark and the logs. */
  readonly stats = { notices: 0, delivered: 0, lookups: 0, resets: 0 };

  constructor(private readonly o: LiveHubOptions) {}

  get heartbeatMs(): number {
    return this.o.heartbeatMs ?? LIVE_HEARTBEAT_MS;
  }

  get maxStreamMs(): number {
    return this.o.maxStreamMs ?? 60 * 60 * 1000;
  }

  get streams(): number {
    let n = this.readAll.size;
    for (const set of this.bySubject.values()) n += set.size;
    return n;
  }

  /** Adds a stream; throws TooManyStreamsError past the per-subject limit. Returns the unsubscribe. */
  subscribe(sub: LiveSubscriber): () => void {
    if (this.closed) throw new Error('the change stream is closing');
    const own = this.bySubject.get(sub.actor.sub) ?? new Set<LiveSubscriber>();
    const held = own.size + [...this.readAll].filter((s) => s.actor.sub === sub.actor.sub).length;
    if (held >= (this.o.maxStreamsPerSubject ?? 8)) throw new TooManyStreamsError('too many open change streams for this user');
    if (sub.actor.roles.some((r) => READ_ALL.includes(r))) this.readAll.add(sub);
    else {
      own.add(sub);
      this.bySubject.set(sub.actor.sub, own);
    }
    this.start();
    return () => {
      this.readAll.delete(sub);
      const set = this.bySubject.get(sub.actor.sub);
      set?.delete(sub);
      if (set?.size === 0) this.bySubject.delete(sub.actor.sub);
    };
  }

  /** Changes after `afterId` the caller may hear, or null when the stream should reset instead. */
  async replay(actor: Actor, afterId: string): Promise<LiveChange[] | null> {
    const rows = await this.o.replay(afterId, REPLAY_LIMIT);
    return rows && rows.filter((r) => mayHear(actor, r)).map(toChange);
  }

  /** Ends every stream's subscription and the listener. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.all()) s.end();
    this.readAll.clear();
    this.bySubject.clear();
    await this.flushing;
    await this.o.source?.close();
  }

  private start(): void {
    if (this.started || !this.o.source) return;
    this.started = this.o.source.start({
      notice: (n) => this.notice(n),
      gap: () => this.resetAll(),
      error: (err) => this.o.onError(err),
    });
  }

  private notice(n: ChangeNotice): void {
    this.stats.notices++;
    this.pending.push(n.id);
    if (this.scheduled) return;
    this.scheduled = true;
    // Notifications that arrive together (one announcement call) share one lookup.
    setImmediate(() => {
      this.scheduled = false;
      const ids = this.pending;
      this.pending = [];
      this.flushing = this.flushing.then(() => this.deliver(ids));
    });
  }

  private async deliver(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
      let rows: LiveRow[];
      try {
        this.stats.lookups++;
        rows = await this.o.lookup(ids.slice(i, i + LOOKUP_BATCH));
      } catch (err) {
        // Heard but not described: the streams cannot say what changed, so they refetch.
        this.o.onError(err);
        this.resetAll();
        return;
      }
      for (const row of rows) this.dispatch(row);
    }
  }

  private dispatch(row: LiveRow): void {
    const change = toChange(row);
    const targets = [...this.readAll];
    for (const owner of row.owners) for (const s of this.bySubject.get(owner) ?? []) targets.push(s);
    for (const s of targets) {
      if (!mayHear(s.actor, row)) continue;
      this.stats.delivered++;
      try {
        s.change(change);
      } catch (err) {
        this.o.onError(err);
      }
    }
  }

  private resetAll(): void {
    this.stats.resets++;
    for (const s of this.all()) s.reset();
  }

  private all(): LiveSubscriber[] {
    return [...this.readAll, ...[...this.bySubject.values()].flatMap((set) => [...set])];
  }
}
