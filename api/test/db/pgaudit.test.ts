// pgaudit on the test cluster, as scripts/setup-system.sh configures it and
// docs/operating.md describes: a change made directly in the database, outside
// the API (here by a superuser), leaves a line in the server log, and so does
// any read of the billing table (object audit through role cims_pgaudit,
// migration 012). The log is the server's own: pg_current_logfile() when the
// logging collector runs, else Debian's per-cluster file under /var/log/postgresql.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, createTestDatabase, seedBilling, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
let logFile: string;

async function setting(name: string): Promise<string> {
  const r = await t.admin.query<{ v: string }>('SELECT current_setting($1) AS v', [name]);
  return r.rows[0]!.v;
}

async function serverLogFile(): Promise<string> {
  const current = await t.admin.query<{ f: string | null }>('SELECT pg_current_logfile() AS f');
  const f = current.rows[0]?.f;
  if (f) return f.startsWith('/') ? f : `${await setting('data_directory')}/${f}`;
  // pg_ctlcluster sends stderr to /var/log/postgresql/postgresql-<version>-<cluster>.log.
  const cluster = (await setting('cluster_name')).replace('/', '-');
  return `/var/log/postgresql/postgresql-${cluster}.log`;
}

/** The file's bytes from `from` to its end: only the new part, since a busy server's log grows past what one read can hold (2 GiB). */
async function readFrom(file: string, from: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - from));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The log's text written from `from` on, once it holds `needle` (the collector writes asynchronously). */
async function logAfter(from: number, needle: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await readFrom(logFile, from);
    if (text.includes(needle) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  logFile = await serverLogFile();
});
afterAll(() => t?.drop());

describe('pgaudit', () => {
  it('is loaded and set for role and DDL statements, with cims_pgaudit as the object audit role', async () => {
    expect((await setting('shared_preload_libraries')).split(',').map((s) => s.trim())).toContain('pgaudit');
    expect((await setting('pgaudit.log')).split(',').map((s) => s.trim())).toEqual(expect.arrayContaining(['role', 'ddl']));
    expect(await setting('pgaudit.role')).toBe('cims_pgaudit');
    expect(existsSync(logFile), `server log ${logFile}`).toBe(true);
  });

  it("logs a superuser's DDL statement made directly in the database", async () => {
    const table = `pgaudit_probe_${randomBytes(4).toString('hex')}`;
    const from = statSync(logFile).size;
    // Identifiers cannot be parameters: a fixed prefix and hex digits.
    await t.admin.query(`CREATE TABLE public.${table} (id int)`);
    await t.admin.query(`DROP TABLE public.${table}`);
    const log = await logAfter(from, `DROP TABLE public.${table}`);
    expect(log).toMatch(new RegExp(`postgres@${t.name} LOG:  AUDIT: SESSION,\\d+,\\d+,DDL,CREATE TABLE,,,CREATE TABLE public\\.${table} \\(id int\\)`));
    expect(log).toMatch(new RegExp(`AUDIT: SESSION,\\d+,\\d+,DDL,DROP TABLE,,,DROP TABLE public\\.${table}`));
  });

  it('logs role statements', async () => {
    const role = `pgaudit_probe_${randomBytes(4).toString('hex')}`;
    const from = statSync(logFile).size;
    await t.admin.query(`CREATE ROLE ${role} NOLOGIN`);
    await t.admin.query(`GRANT cims_analyst TO ${role}`);
    await t.admin.query(`DROP ROLE ${role}`);
    const log = await logAfter(from, `DROP ROLE ${role}`);
    expect(log).toMatch(new RegExp(`AUDIT: SESSION,\\d+,\\d+,ROLE,CREATE ROLE,,,CREATE ROLE ${role} NOLOGIN`));
    expect(log).toMatch(new RegExp(`AUDIT: SESSION,\\d+,\\d+,ROLE,GRANT ROLE,,,GRANT cims_analyst TO ${role}`));
  });

  it('logs a direct read and a direct change of the billing table as object audit lines', async () => {
    const orgId = 'ORG-900001';
    await seedCustomer(t.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedBilling(t.admin, orgId);
    const from = statSync(logFile).size;
    await t.admin.query(`SELECT count(*) FROM core.billing_methods WHERE org_id = $1 /* direct ${orgId} */`, [orgId]);
    await t.admin.query(`UPDATE core.billing_methods SET billing_email = 'ap@example.com' WHERE org_id = $1 /* change ${orgId} */`, [orgId]);
    const log = await logAfter(from, `change ${orgId}`);
    expect(log).toMatch(new RegExp(`postgres@${t.name} LOG:  AUDIT: OBJECT,\\d+,\\d+,READ,SELECT,TABLE,core\\.billing_methods,.*direct ${orgId}`));
    expect(log).toMatch(new RegExp(`postgres@${t.name} LOG:  AUDIT: OBJECT,\\d+,\\d+,WRITE,UPDATE,TABLE,core\\.billing_methods,.*change ${orgId}`));
  });

  it("leaves the API's own reads to the access trail: pgaudit skips tables read inside another owner's SECURITY DEFINER function", async () => {
    // pgaudit logs a relation inside a SECURITY DEFINER function only when its owner runs it
    // (upstream issue 157); the API's reads are recorded in audit.access_events instead.
    const orgId = 'ORG-900002';
    await seedCustomer(t.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedBilling(t.admin, orgId);
    const from = statSync(logFile).size;
    const detail = await t.store.getCustomer(actors.alice, testContext(), orgId);
    expect(detail.billing).toHaveLength(1);
    const marker = randomBytes(4).toString('hex');
    await t.admin.query(`CREATE TABLE public.pgaudit_end_${marker} ()`);
    const log = await logAfter(from, `pgaudit_end_${marker}`);
    expect(log).not.toMatch(new RegExp(`cims_api@${t.name} LOG:  AUDIT: OBJECT`));
    const reads = await t.admin.query("SELECT count(*)::int AS n FROM audit.access_events WHERE entity_id = $1 AND kind = 'customer.read'", [orgId]);
    expect(reads.rows[0]).toEqual({ n: 1 });
  });

  it('does not log ordinary reads of other tables (the log stays readable)', async () => {
    const marker = randomBytes(4).toString('hex');
    const from = statSync(logFile).size;
    await t.admin.query(`SELECT count(*) FROM core.customers /* ${marker} */`);
    await t.admin.query(`CREATE TABLE public.pgaudit_end_${marker} ()`);
    const log = await logAfter(from, `pgaudit_end_${marker}`);
    expect(log).not.toContain(`core.customers /* ${marker}`);
  });
});
