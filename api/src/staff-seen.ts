// The staff directory learns who works with CIMS from the requests themselves,
// off the hot path: a person is noted at most once per `everyMs` in this
// process (sooner when their name or roles change), the notes of a moment are
// sent in one call of api.staff_seen after `flushMs`, and a failed call is
// logged and forgotten (the person is noted again on their next request), so
// no request ever waits for it or fails because of it.
import type { Actor, StaffSighting } from './db/store';

const STAFF_ROLES = new Set(['crm', 'support_lead', 'admin']);
/** api.staff_seen takes at most this many people per call. */
const MAX_PER_CALL = 1000;

export interface StaffSightingsOptions {
  /** How long a person noted is not noted again (default 5 minutes). */
  everyMs?: number;
  /** How long notes gather before they are sent (default 1 second). */
  flushMs?: number;
  /** People remembered as noted before old entries are let go (default 10,000). */
  maxTracked?: number;
  onError?: (err: unknown) => void;
}

export class StaffSightings {
  private readonly noted = new Map<string, { at: number; key: string }>();
  private readonly pending = new Map<string, StaffSighting>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly everyMs: number;
  private readonly flushMs: number;
  private readonly maxTracked: number;

  constructor(
    private readonly record: (people: StaffSighting[]) => Promise<number>,
    private readonly options: StaffSightingsOptions = {},
  ) {
    this.everyMs = options.everyMs ?? 5 * 60_000;
    this.flushMs = options.flushMs ?? 1000;
    this.maxTracked = options.maxTracked ?? 10_000;
  }

  /** Notes a caller; service accounts and people without a staff role are not staff. */
  note(actor: Actor, now = Date.now()): void {
    if (this.closed) return;
    const roles = actor.roles.filter((r) => STAFF_ROLES.has(r)).sort();
    if (roles.length === 0) return;
    const key = `${actor.name}\u0000${roles.join(',')}`;
    const last = this.noted.get(actor.sub);
    if (last && last.key === key && now - last.at < this.everyMs) return;
    if (this.noted.size >= this.maxTracked) this.forgetOlderThan(now - this.everyMs);
    this.noted.set(actor.sub, { at: now, key });
    this.pending.set(actor.sub, { sub: actor.sub, name: actor.name, roles });
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Sends what was noted (one call per 1000 people); resolves when sent or failed. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const people = [...this.pending.values()];
    this.pending.clear();
    this.running = this.running.then(async () => {
      for (let i = 0; i < people.length; i += MAX_PER_CALL) {
        const part = people.slice(i, i + MAX_PER_CALL);
        try {
          await this.record(part);
        } catch (err) {
          for (const p of part) this.noted.delete(p.sub);
          this.options.onError?.(err);
        }
      }
    });
    return this.running;
  }

  /** Sends what is pending and takes no more notes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [sub, n] of this.noted) if (n.at < cutoff) this.noted.delete(sub);
    // Still full (that many people within one interval): start over rather than grow.
    if (this.noted.size >= this.maxTracked) this.noted.clear();
  }
}
