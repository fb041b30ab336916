// Applies api/migrations/NNN_name.sql in order, each once: a file runs in its
// own transaction together with the row that records it in
// public.schema_migrations, so re-running is a no-op and a failed file leaves
// nothing behind. Run it as the migrator (a superuser or the database owner),
// never as cims_api.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** The little a migration needs from a connection: `pg.Client` and PGlite both fit. */
export interface SqlRunner {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec?(text: string): Promise<unknown>;
}

export interface Migration {
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => /^[0-9]{3}_[a-z0-9_]+\.sql$/.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(join(dir, name), 'utf8') })));
}

/** Runs a multi-statement script (no parameters). PGlite has `exec`; pg's simple query protocol takes several statements. */
async function runScript(db: SqlRunner, sql: string): Promise<void> {
  if (db.exec) await db.exec(sql);
  else await db.query(sql);
}

/** Applies every pending migration; returns the names applied now. */
export async function migrate(target: string | SqlRunner): Promise<string[]> {
  if (typeof target === 'string') {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      return await migrate(client);
    } finally {
      await client.end();
    }
  }
  const db = target;
  const migrations = await loadMigrations();
  await runScript(
    db,
    `CREATE TABLE IF NOT EXISTS public.schema_migrations (
       name text PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT now()
     );
     REVOKE ALL ON public.schema_migrations FROM PUBLIC;`,
  );
  const applied: string[] = [];
  for (const m of migrations) {
    await runScript(db, 'BEGIN');
    try {
      // Serializes concurrent migrators of this database; the check is repeated under the lock.
      await db.query("SELECT pg_advisory_xact_lock(hashtext('cims.migrate'))");
      const done = await db.query('SELECT 1 FROM public.schema_migrations WHERE name = $1', [m.name]);
      if (done.rows.length === 0) {
        await runScript(db, m.sql);
        await runScript(db, 'RESET ROLE');
        await db.query('INSERT INTO public.schema_migrations (name) VALUES ($1)', [m.name]);
        applied.push(m.name);
      }
      await runScript(db, 'COMMIT');
    } catch (err) {
      await runScript(db, 'ROLLBACK').catch(() => undefined);
      throw new Error(`migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return applied;
}
