// Announces committed changes on the change stream, after their commit and off
// the writer's commit path. A writing transaction that notified would hold
// PostgreSQL's one database-wide NOTIFY lock until its commit is flushed, so no
// two writers could share a flush; instead the store queues here the request ids
// of every write call that returned (its transaction committed), and one call of
// api.announce_changes sends what is queued: that function finds those requests'
// committed events and notifies each (audit.sql). Request ids are the API's own,
// never a caller's, so no request can have another's events announced or hidden.
//
// Best effort by design: the change is committed and audited before it is
// queued. What a process holds here when it dies is never announced (the live
// hint only; docs/operating.md says what the consoles see then).
export interface AnnouncerOptions {
  /** One call of api.announce_changes with these request ids. */
  send(requestIds: string[]): Promise<unknown>;
  onError(err: unknown): void;
}

/** Request ids a call announces at most (api.announce_changes refuses more than 1000). */
export const ANNOUNCE_BATCH = 500;
/** Sends of the same ids after a failure (a broken connection, a busy database). */
const RETRIES = 1;

export class Announcer {
  /** Request id → sends failed so far. */
  private readonly queued = new Map<string, number>();
  private running: Promise<void> | null = null;

  constructor(private readonly o: AnnouncerOptions) {}

  /** Queues the requests of a write call that returned; sent once the current turn ends. */
  queue(requestIds: readonly string[]): void {
    for (const id of requestIds) if (!this.queued.has(id)) this.queued.set(id, 0);
    this.running ??= this.run();
  }

  /** Resolves once everything queued so far has been sent (or given up). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    // Writes answered in the same turn (one edit batch) share a call; while one call runs,
    // what is queued waits for the next, so a busy API sends fewer, larger calls.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queued.size > 0) {
      const batch = [...this.queued].slice(0, ANNOUNCE_BATCH);
      for (const [id] of batch) this.queued.delete(id);
      try {
        await this.o.send(batch.map(([id]) => id));
      } catch (err) {
        this.o.onError(err);
        // Nothing was announced if the call failed before its commit; should it have failed
        // after, a second notification of the same events only makes consoles refetch once more.
        for (const [id, failed] of batch) if (failed < RETRIES && !this.queued.has(id)) this.queued.set(id, failed + 1);
        if (batch.every(([, failed]) => failed >= RETRIES)) continue;
        await new Promise<void>((resolve) => setTimeout(resolve, 100).unref());
      }
    }
    this.running = null;
  }
}
