// Least privilege, read from the catalog of a freshly migrated database, and
// tried for real over the API's own connection.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const OUR_SCHEMAS = ['core', 'audit', 'api', 'analytics'];

/** What the API may call: schema api, in full. */
const API_FUNCTIONS = [
  'access_events',
  'announce_changes',
  'approval_rules',
  'assignments_apply',
  'audit_access_pending',
  'audit_checkpoint',
  'audit_checkpoint_add',
  'audit_checkpoint_state',
  'audit_events',
  'audit_evidence',
  'audit_evidence_checkpoints',
  'audit_export',
  'audit_export_page',
  'audit_seal_link',
  'audit_seal_pending',
  'audit_verify_access',
  'audit_verify_links',
  'audit_verify_state',
  'change_request_approve',
  'change_request_get',
  'change_request_reject',
  'change_request_withdraw',
  'change_requests',
  'customer_access',
  'customer_archive',
  'customer_audit',
  'customer_create',
  'customer_predictions',
  'customer_read',
  'customer_search',
  'customer_unarchive',
  'customer_update_many',
  'customer_usage',
  'live_events',
  'live_events_after',
  'portfolio_summary',
  'prediction_feedback',
  'predictions_ingest',
  'self_billing_replace',
  'self_organization',
  'self_organization_update',
  'staff_list',
  'staff_seen',
];

async function rows<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await t.admin.query<T>(sql, params)).rows;
}

describe('cims_api', () => {
  it('is a plain login: not superuser, no BYPASSRLS, cannot create roles or databases, inherits nothing', async () => {
    const [r] = await rows<Record<string, boolean>>(
      `SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin
         FROM pg_roles WHERE rolname = 'cims_api'`,
    );
    expect(r).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolcanlogin: true });
    const memberships = await rows(`SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'cims_api'`);
    expect(memberships).toHaveLength(0);
  });

  it('has no privilege on any table, view or sequence in the database', async () => {
    const granted = await rows<{ rel: string; priv: string }>(
      `SELECT c.oid::regclass::text AS rel, p.priv
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p(priv)
        WHERE c.relkind IN ('r','v','m','p','f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_table_privilege('cims_api', c.oid, p.priv)
       UNION ALL
       SELECT c.oid::regclass::text, 'USAGE' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('cims_api', c.oid, 'USAGE') ELSE false END`,
    );
    expect(granted).toEqual([]);
  });

  it('has USAGE on schema api only, and CREATE on no schema and not on the database', async () => {
    const usage = await rows<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
          AND has_schema_privilege('cims_api', oid, 'USAGE') ORDER BY 1`,
    );
    expect(usage.map((r) => r.nspname)).toEqual(['api']);
    const create = await rows(`SELECT nspname FROM pg_namespace WHERE has_schema_privilege('cims_api', oid, 'CREATE')`);
    expect(create).toEqual([]);
    const [db] = await rows<{ create: boolean; temp: boolean }>(
      `SELECT has_database_privilege('cims_api', current_database(), 'CREATE') AS create,
              has_database_privilege('cims_api', current_database(), 'TEMP') AS temp`,
    );
    expect(db).toEqual({ create: false, temp: false });
  });

  it('may execute exactly the api functions, which are SECURITY DEFINER, owned by cims_owner, with a fixed search_path ending in pg_temp', async () => {
    const fns = await rows<{ schema: string; name: string; definer: boolean; owner: string; config: string[] | null }>(
      `SELECT n.nspname AS schema, p.proname AS name, p.prosecdef AS definer, pg_get_userbyid(p.proowner) AS owner,
              p.proconfig AS config
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE has_function_privilege('cims_api', p.oid, 'EXECUTE')
          AND n.nspname = ANY($1)`,
      [OUR_SCHEMAS],
    );
    expect(fns.length).toBeGreaterThan(10);
    for (const f of fns) {
      expect(f.schema, f.name).toBe('api');
      expect(f.definer, f.name).toBe(true);
      expect(f.owner, f.name).toBe('cims_owner');
      expect(f.config, f.name).toContain('search_path=pg_catalog, core, audit, pg_temp');
    }
    const names = fns.map((f) => f.name).sort();
    expect(names).toEqual(API_FUNCTIONS);
    // Single edits run only inside the batch function, which calls them as their owner.
    expect(names).not.toContain('customer_update');
  });

  it('may execute every function in schema api: the schema holds nothing else', async () => {
    const all = await rows<{ name: string; ok: boolean }>(
      `SELECT p.proname AS name, has_function_privilege('cims_api', p.oid, 'EXECUTE') AS ok
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'api' ORDER BY 1`,
    );
    expect(all.map((f) => f.name).sort()).toEqual(API_FUNCTIONS);
    expect(all.filter((f) => !f.ok)).toEqual([]);
  });

  it('is granted exactly the functions the store calls', async () => {
    const files = ['../../src/db/pg-store.ts', '../../src/audit/audit-store.ts', '../../src/audit/evidence.ts', '../../src/live/plugin.ts'];
    const source = (await Promise.all(files.map((f) => readFile(fileURLToPath(new URL(f, import.meta.url)), 'utf8')))).join('\n');
    const called = new Set([...source.matchAll(/SELECT api\.([a-z_]+)\(/g)].map((m) => m[1]));
    expect([...called].sort()).toEqual(API_FUNCTIONS);
  });

  it('is refused when its own connection reads or writes a table directly', async () => {
    const api = new pg.Client({ connectionString: t.apiUrl });
    await api.connect();
    try {
      for (const sql of [
        'SELECT * FROM core.customers',
        'SELECT * FROM core.billing_methods',
        'SELECT * FROM audit.events',
        "INSERT INTO audit.events (actor_sub) VALUES ('x')",
        'DELETE FROM audit.events',
        'SELECT * FROM analytics.customers',
        'CREATE TABLE api.sneaky (x int)',
        'CREATE TEMP TABLE sneaky (x int)',
      ]) {
        await expect(api.query(sql), sql).rejects.toMatchObject({ code: '42501' });
      }
      // It can call the functions it was given.
      await expect(api.query('SELECT api.audit_checkpoint_state()')).resolves.toBeDefined();
    } finally {
      await api.end();
    }
  });
});

describe('PUBLIC', () => {
  it('has nothing on our schemas, tables or functions', async () => {
    const schemaAcl = await rows(
      `SELECT n.nspname FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE n.nspname = ANY($1) AND a.grantee = 0`,
      [OUR_SCHEMAS],
    );
    expect(schemaAcl).toEqual([]);
    const tableAcl = await rows(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
              aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        WHERE n.nspname = ANY($1) AND a.grantee = 0`,
      [OUR_SCHEMAS],
    );
    expect(tableAcl).toEqual([]);
    const fnAcl = await rows(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
              aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        WHERE n.nspname = ANY($1) AND a.grantee = 0`,
      [OUR_SCHEMAS],
    );
    expect(fnAcl).toEqual([]);
    const [db] = await rows<{ n: string }>(
      `SELECT count(*) AS n FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        WHERE d.datname = current_database() AND a.grantee = 0`,
    );
    expect(db?.n).toBe('0');
  });
});

describe('cims_analyst', () => {
  it('reads de-identified views only: no contact, owner or billing column, no table privilege', async () => {
    const cols = await rows<{ table_name: string; column_name: string }>(
      `SELECT c.relname AS table_name, a.attname AS column_name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE has_table_privilege('cims_analyst', c.oid, 'SELECT') AND a.attnum > 0 AND NOT a.attisdropped
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect(new Set(cols.map((c) => c.table_name))).toEqual(new Set(['customers', 'usage_daily', 'predictions', 'outcomes', 'prediction_feedback']));
    const names = cols.map((c) => c.column_name);
    for (const forbidden of ['contact_name', 'contact_email', 'contact_phone', 'owner_sub', 'owner_name', 'billing_email', 'last4', 'processor_token']) {
      expect(names).not.toContain(forbidden);
    }
    const views = await rows<{ relkind: string; nspname: string }>(
      `SELECT c.relkind, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE has_table_privilege('cims_analyst', c.oid, 'SELECT') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect(views.every((v) => v.relkind === 'v' && v.nspname === 'analytics')).toBe(true);
  });
});

describe('billing', () => {
  it('has no column that could hold a card number or security code', async () => {
    const cols = await rows<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'billing_methods'`,
    );
    const names = cols.map((c) => c.column_name);
    expect(names).toEqual(expect.arrayContaining(['processor_token', 'brand', 'last4', 'exp_month', 'exp_year', 'billing_email']));
    for (const n of names) expect(n).not.toMatch(/card|pan|cvv|cvc|number|security|^num/i);
    // last4 only ever holds four digits.
    await expect(
      t.admin.query(`INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
                       contract_value_cents, currency, renewal_date, owner_sub, owner_name)
                     VALUES ('ORG-999999', 'X', 'Y', 'y@x.example', '+1 555 0100', 1, 1, 'EUR', '2027-01-01', 'alice', 'Alice')`),
    ).resolves.toBeDefined();
    await expect(
      t.admin.query(`INSERT INTO core.billing_methods (org_id, processor_token, brand, last4, exp_month, exp_year, billing_email)
                     VALUES ('ORG-999999', 'tok_12345678', 'visa', '4242424242424242', 12, 2030, 'b@x.example')`),
    ).rejects.toMatchObject({ code: '23514' });
  });
});

describe('migrations', () => {
  it('are idempotent: running them again applies nothing and changes nothing', async () => {
    const before = await rows<{ n: string }>(`SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)`, [OUR_SCHEMAS]);
    await expect(migrate(t.adminUrl)).resolves.toEqual([]);
    await expect(migrate(t.adminUrl)).resolves.toEqual([]);
    const after = await rows<{ n: string }>(`SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)`, [OUR_SCHEMAS]);
    expect(after).toEqual(before);
    const applied = await rows<{ name: string }>('SELECT name FROM public.schema_migrations ORDER BY name');
    // Every migration file, each once.
    expect(applied.map((a) => a.name)).toEqual((await loadMigrations()).map((m) => m.name));
    // The grants are set again with the functions: the same, and PUBLIC still has none.
    const executable = await rows<{ fn: string }>(
      `SELECT n.nspname || '.' || p.proname AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY($1) AND has_function_privilege('cims_api', p.oid, 'EXECUTE')`,
      [OUR_SCHEMAS],
    );
    expect(executable.map((f) => f.fn).sort()).toEqual(API_FUNCTIONS.map((f) => `api.${f}`));
    const publicAcl = await rows(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
              aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        WHERE n.nspname = ANY($1) AND a.grantee = 0`,
      [OUR_SCHEMAS],
    );
    expect(publicAcl).toEqual([]);
  });
});
