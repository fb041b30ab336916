// The API through PgBouncer in transaction pooling mode (Debian's pgbouncer,
// 1.18: no named prepared statements across transactions before 1.21). A
// private pgbouncer process per file on a free port, with a generated config
// and user list, TLS on both sides: the API to PgBouncer with verify-full
// against the test CA, PgBouncer to PostgreSQL with verify-full too. The
// configuration is the one docs/operating.md gives, with trust in place of cert
// authentication (the test cluster trusts loopback).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerDetail, CustomerListPage } from '../../../shared/api';
import { buildApp, type App } from '../../src/app';
import { openStore, type PgStore } from '../../src/db/pg-store';
import { TEST_CA_FILE, auditEventsFor, customerRow, seedBilling, seedCustomer } from '../../../testing/db';
import { freePort } from '../../../testing/processes';
import { startHarness, type Harness } from './harness';

const PGBOUNCER = '/usr/sbin/pgbouncer';
// The test cluster's server certificate (localhost, 127.0.0.1), which PgBouncer presents to its clients too.
const TLS_DIR = TEST_CA_FILE.replace(/\/[^/]+$/, '');

interface Bouncer {
  port: number;
  /** A connection string through PgBouncer to database `db` ('<name>' or '<name>_one'). */
  url(user: string, db: string): string;
  log(): string;
  stop(): Promise<void>;
}

async function startPgBouncer(database: string): Promise<Bouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'cims-pgbouncer-'));
  const port = await freePort();
  const target = `host=127.0.0.1 port=5432 dbname=${database}`;
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = ${target}`,
      // One server connection only: two clients preparing the same named statement must meet on it.
      `${database}_one = ${target} pool_size=1`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'pool_mode = transaction',
      'default_pool_size = 2',
      'max_client_conn = 100',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'admin_users = postgres',
      'client_tls_sslmode = require',
      `client_tls_cert_file = ${TLS_DIR}/server.crt`,
      `client_tls_key_file = ${TLS_DIR}/server.key`,
      'server_tls_sslmode = verify-full',
      `server_tls_ca_file = ${TEST_CA_FILE}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'userlist.txt'), '"cims_api" ""\n"postgres" ""\n');
  // PgBouncer refuses to run as root: as root, it drops to postgres, which must read its files.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (const f of ['', 'pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), postgresUid(), postgresGid());
  const child: ChildProcess = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const log = () => {
    try {
      return out + readFileSync(join(dir, 'pgbouncer.log'), 'utf8');
    } catch {
      return out;
    }
  };
  const bouncer: Bouncer = {
    port,
    url: (user, db) => `postgres://${user}@127.0.0.1:${port}/${db}?sslmode=verify-full&sslrootcert=${encodeURIComponent(TEST_CA_FILE)}`,
    log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready once its admin console answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}):\n${log()}`);
    const c = new pg.Client({ connectionString: bouncer.url('postgres', 'pgbouncer') });
    try {
      await c.connect();
      await c.end();
      return bouncer;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) {
        await bouncer.stop();
        throw new Error(`pgbouncer did not start: ${(err as Error).message}\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function passwdEntry(): string[] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install PostgreSQL (scripts/setup-system.sh)');
  return line.split(':');
}
const postgresUid = () => Number(passwdEntry()[2]);
const postgresGid = () => Number(passwdEntry()[3]);

/** One row of PgBouncer's SHOW command for `database` (the admin console speaks the simple protocol only). */
async function show(bouncer: Bouncer, what: 'STATS' | 'POOLS', database: string): Promise<Record<string, string> | undefined> {
  const c = new pg.Client({ connectionString: bouncer.url('postgres', 'pgbouncer') });
  await c.connect();
  try {
    const r = await c.query<Record<string, string>>(`SHOW ${what}`);
    // A database gets its rows once a client has used it.
    return r.rows.find((x) => x.database === database && (what === 'STATS' || x.user === 'cims_api'));
  } finally {
    await c.end();
  }
}

let h: Harness;
let bouncer: Bouncer;
const stores: PgStore[] = [];
const ORGS = Array.from({ length: 12 }, (_, i) => `ORG-7000${String(i + 10)}`);

beforeAll(async () => {
  h = await startHarness();
  for (const orgId of ORGS) {
    await seedCustomer(h.db.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedBilling(h.db.admin, orgId);
  }
  bouncer = await startPgBouncer(h.db.name);
});
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  await bouncer?.stop();
  await h?.close();
});

async function bouncerStore(db: string, transactionPooler: boolean, poolSize: number): Promise<PgStore> {
  const store = await openStore({ databaseUrl: bouncer.url('cims_api', db), transactionPooler, poolSize, sealIntervalMs: 0 });
  stores.push(store);
  return store;
}

describe('PgBouncer in transaction mode', () => {
  it('breaks named prepared statements: two clients preparing the same name meet on one server connection', async () => {
    const pool = new pg.Pool({ connectionString: bouncer.url('cims_api', `${h.db.name}_one`), max: 2 });
    try {
      const named = () => pool.query({ name: 'cims_probe', text: 'SELECT 1 AS r' });
      const results = await Promise.allSettled([named(), named()]);
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      // 42P05 duplicate_prepared_statement, or 26000 when a client's statement is not on its next server connection.
      expect(['42P05', '26000']).toContain((failed[0]!.reason as { code?: string }).code);
    } finally {
      await pool.end();
    }
  });

  it('so the store with named statements fails through it, and with transactionPooler it does not', async () => {
    const named = await bouncerStore(`${h.db.name}_one`, false, 2);
    const outcomes = await Promise.allSettled([named.ping(), named.ping(), named.ping()]);
    expect(outcomes.some((o) => o.status === 'rejected')).toBe(true);

    const unnamed = await bouncerStore(`${h.db.name}_one`, true, 2);
    await expect(Promise.all([unnamed.ping(), unnamed.ping(), unnamed.ping(), unnamed.ping()])).resolves.toHaveLength(4);
  });
});

describe('a session of its own', () => {
  /** Whether a NOTIFY from another session reaches a client that LISTENed over `url`. */
  async function hears(url: string): Promise<boolean> {
    const channel = `cims_probe_${Math.random().toString(16).slice(2, 10)}`;
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    try {
      let heard = false;
      listener.on('notification', (n) => (heard ||= n.channel === channel));
      await listener.query(`LISTEN ${channel}`);
      await h.db.admin.query('SELECT pg_notify($1, $2)', [channel, 'ping']);
      const until = Date.now() + 1_500;
      while (!heard && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return heard;
    } finally {
      await listener.end();
    }
  }

  it('LISTEN through PgBouncer in transaction mode hears nothing; directly it does, hence CIMS_LISTEN_DATABASE_URL', async () => {
    expect(await hears(bouncer.url('cims_api', h.db.name))).toBe(false);
    expect(await hears(h.db.apiUrl)).toBe(true);
  });
});

describe('the API through PgBouncer (CIMS_DATABASE_POOLER=transaction)', () => {
  let app: App;
  let store: PgStore;
  beforeAll(async () => {
    // More client connections than PgBouncer has server connections (6 against 2).
    store = await bouncerStore(h.db.name, true, 6);
    app = await buildApp({ store, audit: h.audit.config, issuer: h.issuer.url, logger: false });
  });
  afterAll(() => app?.close());

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${h.tokens.owner}` } });

  it('serves concurrent record reads (batched) and searches', async () => {
    const before = Number((await show(bouncer, 'STATS', h.db.name))?.total_xact_count ?? 0);
    const reads = await Promise.all([...ORGS, ...ORGS].map((org) => get(`/v1/customers/${org}`)));
    for (const [i, r] of reads.entries()) {
      expect(r.statusCode, r.body).toBe(200);
      const detail = r.json() as CustomerDetail;
      expect(detail.customer.orgId).toBe([...ORGS, ...ORGS][i]);
      expect(detail.billing).toHaveLength(1);
    }
    const searches = await Promise.all(['owner=me', 'q=Acme', 'sort=renewal'].map((q) => get(`/v1/customers?${q}`)));
    for (const s of searches) {
      expect(s.statusCode, s.body).toBe(200);
      expect((s.json() as CustomerListPage).items.length).toBeGreaterThan(0);
    }
    // It all went through PgBouncer, on at most its 2 server connections.
    const stats = await show(bouncer, 'STATS', h.db.name);
    // Batched reads share transactions, and the counters lag a little: some, not one per request.
    expect(Number(stats?.total_xact_count)).toBeGreaterThan(before);
    const pools = await show(bouncer, 'POOLS', h.db.name);
    expect(pools).toMatchObject({ pool_mode: 'transaction' });
    const servers = ['sv_active', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login'].reduce((n, k) => n + Number(pools?.[k] ?? 0), 0);
    expect(servers).toBeGreaterThan(0);
    expect(servers).toBeLessThanOrEqual(2);
  });

  it('applies edits with their audit events, and seals and verifies the trail', async () => {
    const org = ORGS[0]!;
    const edits = await Promise.all(
      ORGS.slice(0, 6).map(async (o, i) => {
        const etag = (await get(`/v1/customers/${o}`)).headers.etag as string;
        return app.inject({
          method: 'PATCH',
          url: `/v1/customers/${o}`,
          headers: { authorization: `Bearer ${h.tokens.owner}`, 'if-match': etag, 'content-type': 'application/json' },
          payload: JSON.stringify({ changes: { contactName: `Through PgBouncer ${i}` }, reason: 'Pooled edit' }),
        });
      }),
    );
    for (const e of edits) expect(e.statusCode, e.body).toBe(200);
    expect(await customerRow(h.db.admin, org)).toMatchObject({ contact_name: 'Through PgBouncer 0', version: 2 });
    const events = await auditEventsFor(h.db.admin, org);
    expect(events.at(-1)).toMatchObject({ action: 'customer.update', request_id: edits[0]!.headers['x-request-id'] });

    // Sealing, signing a checkpoint and recomputing the whole trail, all through PgBouncer.
    const verify = await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: { authorization: `Bearer ${h.tokens.lead}` } });
    expect(verify.statusCode, verify.body).toBe(200);
    expect(verify.json()).toMatchObject({ ok: true });
    expect(bouncer.log()).not.toMatch(/prepared statement .* (does not exist|already exists)/);
  });
});
