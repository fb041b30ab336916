// Brings a database to the shape of api/sql/, in two parts:
//
// 1. Migrations (api/sql/migrations/NNN_name.sql): what holds data (roles,
//    schemas, tables, indexes, views). Forward-only, applied in order, each once:
//    a file runs in its own transaction together with the row that records it
//    in public.schema_migrations. A database whose schema_migrations names a
//    file this version does not have is refused: it was made by another layout
//    and is recreated, not upgraded.
// 2. Definitions (api/sql/functions/*.sql): the functions of schemas core,
//    audit and api, which hold no data. On every run, in ONE transaction: every
//    function in those schemas is dropped (a function removed from the files is
//    gone, and so is anything created there by hand), the files are run as
//    cims_owner, and the grants are set from scratch: cims_api may execute
//    every function in schema api and nothing else; PUBLIC nothing. So schema
//    api holds exactly the functions the API may call, and helpers live in core
//    or audit. Table triggers call functions, so they are definitions too: each
//    is written in the file right after its function, and dropped here before
//    the functions (without CASCADE, so anything else that depends on a
//    function, e.g. a view, makes the run fail instead of vanishing).
//
// Both parts take the same advisory lock, so concurrent migrators take turns.
// A running API carries on (its statements resolve the new functions); the
// trigger drops lock the audit tables until the transaction commits, so its
// writes pause for that moment.
// Run it as a superuser, never as cims_api: the audit tables belong to
// cims_audit_owner, a role nobody is a member of (migration 005), so only a
// superuser may act as it to re-create their triggers; a member of cims_owner
// alone can no longer change them. Works over node-postgres and PGlite alike
// (SqlRunner).
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { checkDatabaseUrl } from './connection';

export const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');
export const MIGRATIONS_DIR = join(SQL_DIR, 'migrations');
export const FUNCTIONS_DIR = join(SQL_DIR, 'functions');

/** Schemas whose functions are defined by FUNCTIONS_DIR alone. */
export const DEFINED_SCHEMAS = ['core', 'audit', 'api'] as const;

/** The little a migration needs from a connection: `pg.Client` and PGlite both fit. */
export interface SqlRunner {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec?(text: string): Promise<unknown>;
}

export interface SqlFile {
  name: string;
  sql: string;
}
export type Migration = SqlFile;

async function loadSqlFiles(dir: string, pattern: RegExp): Promise<SqlFile[]> {
  const names = (await readdir(dir)).filter((n) => pattern.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(join(dir, name), 'utf8') })));
}

export function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  return loadSqlFiles(dir, /^[0-9]{3}_[a-z0-9_]+\.sql$/);
}

/** The definition files, in name order (a LANGUAGE sql function must follow what it calls in its own file). */
export function loadDefinitions(dir = FUNCTIONS_DIR): Promise<SqlFile[]> {
  return loadSqlFiles(dir, /^[a-z0-9_]+\.sql$/);
}

/** Runs a multi-statement script (no parameters). PGlite has `exec`; pg's simple query protocol takes several statements. */
async function runScript(db: SqlRunner, sql: string): Promise<void> {
  if (db.exec) await db.exec(sql);
  else await db.query(sql);
}

const LOCK = "SELECT pg_advisory_xact_lock(hashtext('cims.migrate'))";

const schemaList = DEFINED_SCHEMAS.map((s) => `'${s}'`).join(', ');

// Drops the triggers that call our functions, then the functions, as the
// migrator (a function created by hand by another role goes too). Names come
// from the catalog (regclass/regprocedure print quoted, qualified names); one
// DROP statement for all functions, so their order does not matter.
const DROP_DEFINITIONS = `
DO $$
DECLARE
  r record;
  routines text;
BEGIN
  FOR r IN SELECT t.tgname, t.tgrelid::regclass AS rel
             FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE NOT t.tgisinternal AND n.nspname IN (${schemaList}) LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN (${schemaList}) AND p.prokind = 'a' LOOP
    EXECUTE format('DROP AGGREGATE %s', r.fn);
  END LOOP;
  SELECT string_agg(p.oid::regprocedure::text, ', ') INTO routines
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname IN (${schemaList}) AND p.prokind <> 'a'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e');
  IF routines IS NOT NULL THEN
    EXECUTE 'DROP ROUTINE ' || routines;
  END IF;
END
$$;`;

// Grants after the files, from nothing, as the migrator (the audit trigger
// functions belong to cims_audit_owner): the files create functions as
// cims_owner (whose default privileges already withhold EXECUTE from PUBLIC),
// and this states the whole rule once.
const GRANTS = `
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${DEFINED_SCHEMAS.join(', ')} FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO cims_api;`;

async function inTransaction(db: SqlRunner, fn: () => Promise<void>): Promise<void> {
  await runScript(db, 'BEGIN');
  try {
    // Serializes concurrent migrators of this database; every check is made under the lock.
    await db.query(LOCK);
    await fn();
    await runScript(db, 'COMMIT');
  } catch (err) {
    await runScript(db, 'ROLLBACK').catch(() => undefined);
    throw err;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Refuses a database whose recorded migrations are not all among `known`. */
async function checkRecorded(db: SqlRunner, known: Migration[]): Promise<void> {
  const names = new Set(known.map((m) => m.name));
  const recorded = (await db.query('SELECT name FROM public.schema_migrations ORDER BY name')).rows.map((r) =>
    String((r as { name: unknown }).name),
  );
  const unknown = recorded.filter((n) => !names.has(n));
  if (unknown.length > 0) {
    throw new Error(
      `this database was migrated by another version of CIMS (public.schema_migrations lists ${unknown.join(', ')}, ` +
        'which this version does not have) and cannot be upgraded in place: recreate it ' +
        '(the demo stack: npm run stack -- --reset; PostgreSQL: drop and create the database, then npm run db:migrate)',
    );
  }
}

/** Drops and re-creates every function of DEFINED_SCHEMAS from `definitions`, with their grants, in one transaction. */
export async function defineFunctions(db: SqlRunner, definitions: SqlFile[]): Promise<void> {
  await inTransaction(db, async () => {
    await runScript(db, DROP_DEFINITIONS);
    await runScript(db, 'SET LOCAL ROLE cims_owner');
    for (const f of definitions) {
      try {
        await runScript(db, f.sql);
      } catch (err) {
        throw new Error(`function definitions ${f.name} failed: ${message(err)}`, { cause: err });
      }
    }
    await runScript(db, 'RESET ROLE');
    await runScript(db, GRANTS);
  });
}

/** Applies every pending migration, then re-creates all functions; returns the names of the migrations applied now. */
export async function migrate(target: string | SqlRunner): Promise<string[]> {
  if (typeof target === 'string') {
    checkDatabaseUrl('the migrator database URL', target);
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      return await migrate(client);
    } finally {
      await client.end();
    }
  }
  const db = target;
  const [migrations, definitions] = await Promise.all([loadMigrations(), loadDefinitions()]);
  // Under the lock too: concurrent migrators would otherwise collide on the catalog row (REVOKE).
  await inTransaction(db, async () => {
    await runScript(
      db,
      `CREATE TABLE IF NOT EXISTS public.schema_migrations (
         name text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       );
       REVOKE ALL ON public.schema_migrations FROM PUBLIC;`,
    );
    await checkRecorded(db, migrations);
  });
  const applied: string[] = [];
  for (const m of migrations) {
    try {
      await inTransaction(db, async () => {
        const done = await db.query('SELECT 1 FROM public.schema_migrations WHERE name = $1', [m.name]);
        if (done.rows.length > 0) return;
        await runScript(db, m.sql);
        await runScript(db, 'RESET ROLE');
        await db.query('INSERT INTO public.schema_migrations (name) VALUES ($1)', [m.name]);
        applied.push(m.name);
      });
    } catch (err) {
      throw new Error(`migration ${m.name} failed: ${message(err)}`, { cause: err });
    }
  }
  await defineFunctions(db, definitions);
  return applied;
}
