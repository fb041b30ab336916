// The demo stack's embedded database: PGlite (PostgreSQL in WebAssembly, in the
// data folder or in memory) behind the API's store. Migrated as its superuser,
// then the one connection is switched to cims_api, so the API runs with exactly
// the privileges it has on a real PostgreSQL. Never used by the API server itself.
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { migrate } from '../../api/src/db/migrate';
import { PgStore, type Db, type StoreTuning } from '../../api/src/db/pg-store';
import { CHANGES_CHANNEL, ChangeNotice, type ChangeSource } from '../../api/src/live/listener';

/** PGlite has a single connection: calls are serialized in arrival order. */
class PgliteDb implements Db {
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly db: PGlite) {}
  call(_name: string, text: string, values: unknown[]): Promise<unknown> {
    const run = this.tail.then(async () => (await this.db.query<{ r: unknown }>(text, values)).rows[0]?.r);
    this.tail = run.catch(() => undefined);
    return run;
  }
  async close(): Promise<void> {
    await this.tail;
    await this.db.close();
  }
}

/** Opens embedded PGlite with the extensions the migrations need (in memory without `dataDir`). */
export function createPglite(dataDir?: string): Promise<PGlite> {
  return PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
}

/**
 * A store over an open PGlite: applies the migrations as its superuser, then switches the one
 * connection to cims_api (`SET ROLE`), so every later query has the API role's privileges.
 * On a single in-process connection the role switch is what separates them.
 */
export async function pgliteStore(db: PGlite, opts: StoreTuning = {}): Promise<PgStore> {
  await db.exec('RESET ROLE');
  await migrate(db);
  await db.exec('SET ROLE cims_api');
  return new PgStore(new PgliteDb(db), 'pglite', opts);
}

/** A migrated store on a new PGlite in `dataDir` (in memory without it); closing the store closes PGlite. */
export async function openPgliteStore(opts: StoreTuning & { dataDir?: string } = {}): Promise<PgStore> {
  return pgliteStore(await createPglite(opts.dataDir), opts);
}

/**
 * The change stream's source on PGlite: its one connection LISTENs too (there is no other), so the
 * demo stack's consoles get live updates as on PostgreSQL.
 */
export function pgliteChangeSource(db: PGlite): ChangeSource {
  let stop: (() => Promise<void>) | null = null;
  return {
    async start(h) {
      stop = await db.listen(CHANGES_CHANNEL, (payload) => {
        let parsed: ReturnType<typeof ChangeNotice.safeParse> | null = null;
        try {
          parsed = ChangeNotice.safeParse(JSON.parse(payload));
        } catch {
          parsed = null;
        }
        if (parsed?.success) h.notice(parsed.data);
        else h.error(new Error('a change notification of an unknown shape was ignored'));
      });
    },
    async close() {
      await stop?.().catch(() => undefined);
      stop = null;
    },
  };
}
