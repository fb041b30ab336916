// The database API as a definition: every function is written once, in
// api/sql/functions; migrate re-creates exactly those (with their triggers and
// grants) on every run without touching data, and refuses a database made by
// another layout of the migrations.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFINED_SCHEMAS, FUNCTIONS_DIR, MIGRATIONS_DIR, SQL_DIR, defineFunctions, loadDefinitions, migrate } from '../../src/db/migrate';
import { SEARCH_MAX_MATCHES } from '../../../shared/api';
import { ADMIN_URL, actors, createTestDatabase, customerFields, onServer, seedCustomer, testContext, urlFor, type TestDatabase } from '../../../testing/db';

interface SqlSource {
  file: string;
  sql: string;
}

async function sqlFiles(dir: string): Promise<SqlSource[]> {
  const out: SqlSource[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sqlFiles(path)));
    else if (entry.name.endsWith('.sql')) out.push({ file: path.slice(SQL_DIR.length + 1), sql: await readFile(path, 'utf8') });
  }
  return out;
}

/** Comments out, so that prose mentioning CREATE FUNCTION does not count. */
const stripComments = (sql: string) => sql.replace(/--[^\n]*/g, '');

/** `schema.name` of every CREATE [OR REPLACE] FUNCTION/PROCEDURE in the text. */
function createdFunctions(sql: string): string[] {
  const re = /\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+"?([a-z_][a-z0-9_]*)"?\s*\.\s*"?([a-z_][a-z0-9_]*)"?\s*\(/gi;
  return [...stripComments(sql).matchAll(re)].map((m) => `${m[1]!.toLowerCase()}.${m[2]!.toLowerCase()}`);
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

async function catalogFunctions(client: pg.Client = t.admin): Promise<string[]> {
  const r = await client.query<{ fn: string }>(
    `SELECT n.nspname || '.' || p.proname AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1) ORDER BY 1`,
    [DEFINED_SCHEMAS],
  );
  return r.rows.map((x) => x.fn).sort();
}

async function oidOf(signature: string): Promise<string | null> {
  const r = await t.admin.query<{ oid: string | null }>('SELECT to_regprocedure($1)::oid::text AS oid', [signature]);
  return r.rows[0]?.oid ?? null;
}

describe('the SQL files', () => {
  it('define every function exactly once, in api/sql/functions, and the migrations define none', async () => {
    const files = await sqlFiles(SQL_DIR);
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['migrations/001_roles_schemas.sql', 'functions/core.sql']));
    const where = new Map<string, string[]>();
    for (const f of files) {
      for (const fn of createdFunctions(f.sql)) where.set(fn, [...(where.get(fn) ?? []), f.file]);
    }
    const twice = [...where].filter(([, in_]) => in_.length > 1);
    expect(twice).toEqual([]);
    const inMigrations = [...where].filter(([, in_]) => in_.some((f) => f.startsWith('migrations/')));
    expect(inMigrations).toEqual([]);
    expect(where.size).toBeGreaterThan(30);
    for (const fn of where.keys()) expect(DEFINED_SCHEMAS.map(String), fn).toContain(fn.split('.')[0]);
  });

  it('are definitions, not a history: plain CREATE FUNCTION, nothing replaced or dropped', async () => {
    for (const f of await sqlFiles(FUNCTIONS_DIR)) {
      const sql = stripComments(f.sql);
      expect(sql, f.file).not.toMatch(/\bOR\s+REPLACE\b/i);
      expect(sql, f.file).not.toMatch(/\bDROP\s+(FUNCTION|ROUTINE|PROCEDURE|TRIGGER|TABLE)\b/i);
      // Grants are migrate's, stated once for the schema.
      expect(sql, f.file).not.toMatch(/\b(GRANT|REVOKE)\b/i);
    }
    // Migrations drop nothing; relaxing a column (ALTER COLUMN ... DROP NOT NULL / DROP DEFAULT) removes no data,
    // nor does replacing a constraint (DROP CONSTRAINT, then ADD it wider, e.g. a CHECK list of actions).
    // A view holds no data: a migration may drop one to define it anew (CREATE OR REPLACE VIEW cannot remove
    // columns, and 011 must take the names and org ids out of 003's analytics views), but only if it creates
    // every view it drops again in the same file, so no reader loses a view it had.
    for (const f of await sqlFiles(MIGRATIONS_DIR)) {
      const sql = stripComments(f.sql);
      expect(sql, f.file).not.toMatch(/\bDROP\s+(?!NOT\s+NULL\b|DEFAULT\b|CONSTRAINT\b|VIEW\b)/i);
      const dropped = [...sql.matchAll(/\bDROP\s+VIEW\s+(?!IF\b)([^;]+);/gi)].flatMap((m) =>
        m[1]!.split(',').map((v) => v.trim().toLowerCase()),
      );
      const created = [...sql.matchAll(/\bCREATE\s+VIEW\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\b/gi)].map((m) => m[1]!.toLowerCase());
      for (const view of dropped) expect(created, `${f.file} drops ${view}`).toContain(view);
      expect(sql, f.file).not.toMatch(/\bDROP\s+VIEW\s+IF\b|\bCASCADE\b/i);
    }
  });

  it('cap a search at the number the contract tells the console (SEARCH_MAX_MATCHES)', async () => {
    // The database enforces the cap whatever the API sends; the console says the number to the CRM.
    const customers = (await sqlFiles(FUNCTIONS_DIR)).find((f) => f.file === 'functions/customers.sql');
    const cap = /max_matches\s+constant\s+integer\s*:=\s*([0-9]+)/i.exec(customers?.sql ?? '');
    expect(Number(cap?.[1])).toBe(SEARCH_MAX_MATCHES);
  });

  it('match the catalog of a migrated database: the same functions, no more, no fewer', async () => {
    const defined = (await sqlFiles(FUNCTIONS_DIR)).flatMap((f) => createdFunctions(f.sql)).sort();
    expect(await catalogFunctions()).toEqual(defined);
  });
});

describe('dead objects', () => {
  it('do not exist: the single-read and flush functions, the flush marker, and no single edit in schema api', async () => {
    const r = await t.admin.query<{ fn: string }>(
      `SELECT n.nspname || '.' || p.proname AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname IN ('customer_get', 'access_flush') OR (n.nspname = 'api' AND p.proname = 'customer_update')`,
    );
    expect(r.rows).toEqual([]);
    const marker = await t.admin.query<{ rel: string | null }>("SELECT to_regclass('audit.flush_marker')::text AS rel");
    expect(marker.rows[0]?.rel).toBeNull();
    // The single edit lives on as a helper the batch calls.
    expect(await oidOf('core.customer_update(text, text, text[], text[], text, text, text, text, integer, jsonb, text, text, bigint)')).not.toBeNull();
  });
});

describe('migrate on a migrated database', () => {
  it('applies no migration, keeps every row, and re-creates the functions', async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000901', ownerSub: 'alice' });
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 1, { userCount: 9 }, 'Re-run check');
    await t.store.sealAudit();
    const snapshot = async () =>
      (
        await t.admin.query(
          `SELECT (SELECT jsonb_agg(c ORDER BY org_id) FROM core.customers c) AS customers,
                  (SELECT jsonb_agg(e ORDER BY id) FROM audit.events e) AS events,
                  (SELECT jsonb_agg(c ORDER BY seq) FROM audit.chain c) AS chain,
                  (SELECT jsonb_agg(m ORDER BY name) FROM public.schema_migrations m) AS migrations`,
        )
      ).rows[0];
    const before = await snapshot();
    const oidBefore = await oidOf('core.iso(timestamptz)');

    await expect(migrate(t.adminUrl)).resolves.toEqual([]);

    expect(await snapshot()).toEqual(before);
    const oidAfter = await oidOf('core.iso(timestamptz)');
    expect(oidAfter).not.toBeNull();
    expect(oidAfter).not.toBe(oidBefore);
    // The store's open connections and prepared statements carry on over the new functions.
    const read = await t.store.getCustomer(actors.bob, testContext(), 'ORG-000901');
    expect(read.customer).toMatchObject({ userCount: 9, version: 2 });
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', 2, { userCount: 10 }, 'After re-run');
    expect(await t.trail.verify(actors.bob)).toMatchObject({ ok: true, checked: 2, unsealed: 0 });
  });

  it('re-creates the audit triggers with their functions: still append-only, new events still queued for sealing', async () => {
    await migrate(t.adminUrl);
    const triggers = await t.admin.query<{ tgname: string }>(
      `SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'audit.%' ORDER BY 1`,
    );
    expect(triggers.rows.map((r) => r.tgname)).toEqual([
      'access_events_append_only',
      'access_events_queue_for_checkpoint',
      'chain_append_only',
      'checkpoints_append_only',
      'events_append_only',
      'events_queue_for_seal',
    ]);
    // ENABLE ALWAYS: they fire under session_replication_role = replica too; the audit owner owns them.
    const state = await t.admin.query<{ enabled: string; owner: string }>(
      `SELECT DISTINCT t.tgenabled AS enabled, pg_get_userbyid(c.relowner) AS owner FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relnamespace = 'audit'::regnamespace`,
    );
    expect(state.rows).toEqual([{ enabled: 'A', owner: 'cims_audit_owner' }]);
    await expect(t.admin.query('DELETE FROM audit.events')).rejects.toMatchObject({ code: 'CA405' });
    await t.store.createCustomer(actors.alice, testContext(), { customer: { orgId: 'ORG-000902', ...customerFields() }, reason: 'Queued' });
    const queued = await t.admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.unsealed');
    expect(Number(queued.rows[0]?.n)).toBeGreaterThan(0);
    expect(await t.store.sealAudit()).toBeGreaterThan(0);
  });

  it('brings back a function dropped by hand and removes functions and grants added by hand', async () => {
    await t.admin.query('DROP FUNCTION api.customer_usage(text, text, text[], text[], text, text, text, text, date, date, text)');
    await t.admin.query('CREATE FUNCTION api.sneaky() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');
    await t.admin.query('SET ROLE cims_owner');
    await t.admin.query('CREATE FUNCTION core.leftover() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');
    await t.admin.query('RESET ROLE');
    await t.admin.query('GRANT EXECUTE ON FUNCTION core.iso(timestamptz) TO cims_api');
    expect(await oidOf('api.sneaky()')).not.toBeNull();

    await migrate(t.adminUrl);

    expect(await oidOf('api.customer_usage(text, text, text[], text[], text, text, text, text, date, date, text)')).not.toBeNull();
    expect(await oidOf('api.sneaky()')).toBeNull();
    expect(await oidOf('core.leftover()')).toBeNull();
    const granted = await t.admin.query<{ ok: boolean }>("SELECT has_function_privilege('cims_api', 'core.iso(timestamptz)', 'EXECUTE') AS ok");
    expect(granted.rows[0]?.ok).toBe(false);
    await expect(t.store.usage(actors.alice, testContext(), 'ORG-000901', '2026-01-01', '2026-01-31')).resolves.toEqual([]);
  });

  it('takes turns with a concurrent migrate', async () => {
    await expect(Promise.all([migrate(t.adminUrl), migrate(t.adminUrl), migrate(t.adminUrl)])).resolves.toEqual([[], [], []]);
    expect(await catalogFunctions()).toContain('api.customer_read');
  });

  it('re-creates in one transaction: a definition that fails leaves the functions as they were', async () => {
    const before = await catalogFunctions();
    const oidBefore = await oidOf('core.iso(timestamptz)');
    const broken = [...(await loadDefinitions()), { name: 'zz_broken.sql', sql: 'CREATE FUNCTION api.broken( RETURNS int' }];
    await expect(defineFunctions(t.admin, broken)).rejects.toThrow(/zz_broken\.sql/);
    expect(await catalogFunctions()).toEqual(before);
    expect(await oidOf('core.iso(timestamptz)')).toBe(oidBefore);
    expect((await t.admin.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u).not.toBe('cims_owner');
  });
});

describe('migrate on a database made by another layout of the migrations', () => {
  const name = `cims_test_old_${process.pid}_${Date.now().toString(36)}`;
  const url = urlFor(ADMIN_URL, name);
  // The name is a fixed prefix, a number and base-36 digits: safe as an identifier.
  beforeAll(() => onServer(`CREATE DATABASE ${name}`));
  afterAll(() => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  it('fails, naming the unknown migrations and saying to recreate the database, and changes nothing', async () => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      // What the earlier layout recorded.
      await db.query(`CREATE TABLE public.schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                      INSERT INTO public.schema_migrations (name) VALUES ('001_roles_schemas.sql'), ('002_core_tables.sql'),
                        ('003_audit.sql'), ('004_api_functions.sql'), ('005_analytics_views.sql'), ('006_batched_reads.sql'),
                        ('007_planned_once.sql'), ('008_batched_edits.sql')`);
      const err = await migrate(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      const message = (err as Error).message;
      expect(message).toContain('002_core_tables.sql');
      expect(message).toContain('008_batched_edits.sql');
      expect(message).not.toContain('001_roles_schemas.sql');
      expect(message).toMatch(/recreate/);
      expect(message).toContain('npm run stack -- --reset');
      const recorded = await db.query('SELECT count(*)::int AS n FROM public.schema_migrations');
      expect(recorded.rows[0]).toEqual({ n: 8 });
      const schemas = await db.query("SELECT nspname FROM pg_namespace WHERE nspname IN ('core', 'audit', 'api')");
      expect(schemas.rows).toEqual([]);
    } finally {
      await db.end();
    }
  });
});
