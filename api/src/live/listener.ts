// The one LISTEN connection of an API process. It is a direct connection of its
// own (CIMS_LISTEN_DATABASE_URL, default DATABASE_URL): LISTEN holds a session,
// which a pooler in transaction mode in front of the API's pool cannot keep.
// When the connection breaks it is opened again with a growing pause, and the
// process is told it may have missed notifications (`onGap`), so streams can
// tell their clients to refresh instead of trusting what they have.
import pg from 'pg';
import { z } from 'zod';

export const CHANGES_CHANNEL = 'cims_changes';

/** What api.announce_changes announces (api/sql/functions/audit.sql): ids and a version, nothing personal. */
export const ChangeNotice = z.strictObject({
  id: z.string().regex(/^[1-9][0-9]{0,18}$/),
  type: z.string().max(100),
  entity: z.string().max(200),
  version: z.int().min(1).nullable(),
});
export type ChangeNotice = z.infer<typeof ChangeNotice>;

export interface ChangeSourceHandlers {
  notice(notice: ChangeNotice): void;
  /** Listening (again) after a break: what was committed meanwhile was not heard. */
  gap(): void;
  error(err: unknown): void;
}

/** Where notifications come from: one per process, started on first use. */
export interface ChangeSource {
  start(handlers: ChangeSourceHandlers): Promise<void>;
  close(): Promise<void>;
}

const MAX_PAUSE_MS = 10_000;

export function pgChangeSource(connectionString: string, opts: { minPauseMs?: number } = {}): ChangeSource {
  let client: pg.Client | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let failures = 0;
  const minPause = opts.minPauseMs ?? 250;

  async function connect(h: ChangeSourceHandlers, first: boolean): Promise<void> {
    const c = new pg.Client({ connectionString, application_name: 'cims-api-listen' });
    c.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      let parsed: ReturnType<typeof ChangeNotice.safeParse>;
      try {
        parsed = ChangeNotice.safeParse(JSON.parse(msg.payload));
      } catch {
        return h.error(new Error('a change notification that is not JSON was ignored'));
      }
      if (parsed.success) h.notice(parsed.data);
      else h.error(new Error('a change notification of an unknown shape was ignored'));
    });
    const lost = (err?: unknown) => {
      if (client !== c) return;
      client = null;
      c.removeAllListeners('end');
      c.end().catch(() => undefined);
      if (err) h.error(err);
      retry(h);
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error('the change listener connection ended')));
    client = c;
    try {
      await c.connect();
      // The channel is a fixed identifier (no user input in it).
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
      failures = 0;
      if (!first) h.gap();
    } catch (err) {
      if (first) {
        client = null;
        c.removeAllListeners();
        await c.end().catch(() => undefined);
        throw err;
      }
      lost(err);
    }
  }

  function retry(h: ChangeSourceHandlers): void {
    if (closed || timer) return;
    failures++;
    const pause = Math.min(minPause * 2 ** Math.min(failures - 1, 10), MAX_PAUSE_MS);
    timer = setTimeout(() => {
      timer = null;
      if (!closed) void connect(h, false);
    }, pause);
    timer.unref();
  }

  return {
    async start(h) {
      try {
        await connect(h, true);
      } catch (err) {
        // Not listening yet: keep trying in the background; streams still open (and are told of the gap).
        h.error(err);
        retry(h);
      }
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
    },
  };
}
