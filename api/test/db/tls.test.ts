// The database connection as the security review asked: a database on another
// host only over TLS with the server's certificate and name verified (checked
// where every connection string is read, and at start-up with exit code 2),
// and the tests' own connections to the test cluster go through TLS verified
// against the CA scripts/setup-system.sh made.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabaseUrl, InsecureDatabaseUrlError } from '../../src/db/connection';
import { migrate } from '../../src/db/migrate';
import { openStore } from '../../src/db/pg-store';
import { readEnv } from '../../src/server';
import { ADMIN_URL, TEST_CA_FILE, createTestDatabase, onServer, urlFor, type TestDatabase } from '../../../testing/db';
import { createTestAudit, type TestAudit } from '../../../testing/audit';

const ENTRY = join(import.meta.dirname, '..', '..', 'src', 'server.ts');
const MIGRATE_CLI = join(import.meta.dirname, '..', '..', 'src', 'db', 'migrate-cli.ts');

describe('checkDatabaseUrl', () => {
  const noEnv = {};
  it.each([
    'postgres://cims_api@127.0.0.1:5432/cims',
    'postgres://cims_api@localhost/cims',
    'postgres://cims_api@[::1]:5432/cims',
    'postgres://cims_api@127.0.0.9/cims',
    'postgres:///cims?host=/var/run/postgresql',
    'socket:/var/run/postgresql?db=cims',
  ])('accepts a local connection without TLS: %s', (url) => {
    expect(checkDatabaseUrl('DATABASE_URL', url, noEnv).local).toBe(true);
  });

  it('accepts another host with sslmode=verify-full', () => {
    expect(checkDatabaseUrl('DATABASE_URL', 'postgres://cims_api@db.internal:5432/cims?sslmode=verify-full', noEnv)).toEqual({
      host: 'db.internal',
      local: false,
    });
    expect(checkDatabaseUrl('X', `postgres://cims_api@10.0.0.5/cims?sslmode=verify-full&sslrootcert=${TEST_CA_FILE}`, noEnv).local).toBe(false);
  });

  it.each([
    ['postgres://cims_api:hunter2@db.internal:5432/cims', /asks for no TLS/],
    ['postgres://cims_api:hunter2@db.internal/cims?sslmode=require', /sslmode=require does not verify/],
    ['postgres://cims_api:hunter2@db.internal/cims?sslmode=verify-ca', /sslmode=verify-ca does not verify/],
    ['postgres://cims_api:hunter2@db.internal/cims?sslmode=prefer', /sslmode=prefer/],
    ['postgres://cims_api:hunter2@db.internal/cims?sslmode=no-verify', /sslmode=no-verify/],
    ['postgres://cims_api:hunter2@db.internal/cims?sslmode=disable', /sslmode=disable/],
    ['postgres://cims_api:hunter2@db.internal/cims?ssl=true', /asks for no TLS/],
    // The host parameter wins over the URL's host in pg: the check reads it the same way.
    ['postgres://cims_api:hunter2@127.0.0.1/cims?host=db.internal', /to db\.internal/],
    ['postgres://cims_api:hunter2@203.0.113.7/cims', /to 203\.0\.113\.7/],
  ])('refuses %s without echoing the password', (url, why) => {
    let err: unknown;
    try {
      checkDatabaseUrl('DATABASE_URL', url, noEnv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InsecureDatabaseUrlError);
    const message = (err as Error).message;
    expect(message).toMatch(/^Refusing DATABASE_URL to /);
    expect(message).toMatch(why);
    expect(message).toMatch(/sslmode=verify-full/);
    expect(message).not.toContain('hunter2');
  });

  it('takes PGSSLMODE and PGHOST as pg does when the string leaves them out', () => {
    expect(checkDatabaseUrl('DATABASE_URL', 'postgres://cims_api@db.internal/cims', { PGSSLMODE: 'verify-full' }).local).toBe(false);
    expect(() => checkDatabaseUrl('DATABASE_URL', 'postgres://cims_api@db.internal/cims', { PGSSLMODE: 'require' })).toThrow(/sslmode=require/);
    // A TLS setting in the string replaces PGSSLMODE in pg, so it cannot rescue a weaker one.
    expect(() => checkDatabaseUrl('DATABASE_URL', 'postgres://cims_api@db.internal/cims?sslmode=require', { PGSSLMODE: 'verify-full' })).toThrow(
      InsecureDatabaseUrlError,
    );
    expect(() => checkDatabaseUrl('DATABASE_URL', 'postgres:///cims', { PGHOST: 'db.internal' })).toThrow(/to db\.internal: it asks for no TLS/);
    expect(checkDatabaseUrl('DATABASE_URL', 'postgres:///cims', {}).host).toBe('localhost');
  });

  it('refuses verify-full when NODE_TLS_REJECT_UNAUTHORIZED=0 turns verification off for the process', () => {
    expect(() =>
      checkDatabaseUrl('DATABASE_URL', 'postgres://cims_api@db.internal/cims?sslmode=verify-full', { NODE_TLS_REJECT_UNAUTHORIZED: '0' }),
    ).toThrow(/NODE_TLS_REJECT_UNAUTHORIZED=0/);
  });

  it('says what is wrong with a string pg cannot use, without echoing it', () => {
    expect(() => checkDatabaseUrl('DATABASE_URL', 'postgres://u:hunter2@db.internal/cims?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt', noEnv)).toThrow(
      /DATABASE_URL: a certificate or key file it names cannot be read \(ENOENT\)/,
    );
    expect(() => checkDatabaseUrl('DATABASE_URL', 'http://[::1', noEnv)).toThrow(/is not a PostgreSQL connection string/);
  });
});

describe('where connection strings are read', () => {
  let audit: TestAudit;
  beforeAll(() => {
    audit = createTestAudit();
  });
  afterAll(() => audit.cleanup());

  it('readEnv refuses a DATABASE_URL to another host without verified TLS', () => {
    const env = { ISSUER: 'https://idp.example.com', ...audit.env };
    expect(() => readEnv({ ...env, DATABASE_URL: 'postgres://cims_api@db.internal/cims?sslmode=require' })).toThrow(InsecureDatabaseUrlError);
    expect(readEnv({ ...env, DATABASE_URL: 'postgres://cims_api@db.internal/cims?sslmode=verify-full' }).databaseUrl).toMatch(/db\.internal/);
    expect(() => readEnv({ ...env, DATABASE_URL: 'postgres://cims_api@127.0.0.1/cims', CIMS_DATABASE_POOLER: 'session' })).toThrow(/CIMS_DATABASE_POOLER/);
    const pooled = { ...env, DATABASE_URL: 'postgres://cims_api@127.0.0.1:6432/cims', CIMS_LISTEN_DATABASE_URL: 'postgres://cims_api@127.0.0.1:5432/cims' };
    expect(readEnv({ ...pooled, CIMS_DATABASE_POOLER: 'transaction' }).transactionPooler).toBe(true);
  });

  it('readEnv checks the change stream listener URL the same way, and wants it beside a transaction pooler', () => {
    const env = { ISSUER: 'https://idp.example.com', ...audit.env, DATABASE_URL: 'postgres://cims_api@pgbouncer.internal:6432/cims?sslmode=verify-full' };
    expect(() => readEnv({ ...env, CIMS_LISTEN_DATABASE_URL: 'postgres://cims_api:hunter2@db.internal/cims?sslmode=require' })).toThrow(
      /^Refusing CIMS_LISTEN_DATABASE_URL to db\.internal: sslmode=require does not verify/,
    );
    expect(() => readEnv({ ...env, CIMS_DATABASE_POOLER: 'transaction' })).toThrow(/CIMS_LISTEN_DATABASE_URL is required with CIMS_DATABASE_POOLER=transaction/);
    const direct = 'postgres://cims_api@db.internal:5432/cims?sslmode=verify-full';
    expect(readEnv({ ...env, CIMS_DATABASE_POOLER: 'transaction', CIMS_LISTEN_DATABASE_URL: direct })).toMatchObject({
      transactionPooler: true,
      listenDatabaseUrl: direct,
    });
  });

  it('openStore and migrate refuse before opening any connection', async () => {
    await expect(openStore({ databaseUrl: 'postgres://cims_api@db.internal/cims' })).rejects.toThrow(/Refusing the API database URL to db\.internal/);
    await expect(migrate('postgres://postgres@db.internal/cims?sslmode=no-verify')).rejects.toThrow(/Refusing the migrator database URL to db\.internal/);
  });

  function run(entry: string, env: NodeJS.ProcessEnv) {
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    return spawnSync(process.execPath, ['--import', 'tsx', entry], {
      env: { ...rest, ISSUER: 'https://idp.example.com', CIMS_API_PORT: '0', ...audit.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('node api/src/server.ts exits with code 2 and says how to fix it, without the password', () => {
    const server = run(ENTRY, { DATABASE_URL: 'postgres://cims_api:hunter2@db.internal:5432/cims' });
    expect(server.error).toBeUndefined();
    expect(server.status).toBe(2);
    expect(server.stderr).toMatch(/cims-api: Refusing DATABASE_URL to db\.internal: it asks for no TLS/);
    expect(server.stderr).toMatch(/sslmode=verify-full&sslrootcert=/);
    expect(server.stderr).not.toContain('hunter2');
    expect(server.stdout).not.toMatch(/listening/i);
  });

  it('npm run db:migrate (migrate-cli) exits with code 2 the same way', () => {
    const cli = run(MIGRATE_CLI, { DATABASE_URL: 'postgres://postgres:hunter2@db.internal/cims?sslmode=require' });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/Refusing DATABASE_URL to db\.internal: sslmode=require does not verify/);
    expect(cli.stderr).not.toContain('hunter2');
  });
});

describe('the test cluster over TLS', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cims-tls-'));
  });
  afterAll(async () => {
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the tests connect with sslmode=verify-full against the setup CA', () => {
    expect(ADMIN_URL).toMatch(/sslmode=verify-full/);
    expect(new URL(t.apiUrl).searchParams.get('sslmode')).toBe('verify-full');
    expect(new URL(t.apiUrl).searchParams.get('sslrootcert')).toBe(TEST_CA_FILE);
  });

  it('the superuser client and the API store really run over TLS', async () => {
    const admin = await t.admin.query<{ ssl: boolean; version: string }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(admin.rows[0]).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
    // Every cims_api backend on this database, opened by the store's pool.
    await t.store.ping();
    const api = await t.admin.query<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.usename = 'cims_api' AND a.datname = $1`,
      [t.name],
    );
    expect(api.rows.length).toBeGreaterThan(0);
    expect(api.rows.every((r) => r.ssl)).toBe(true);
  });

  it('the server itself refuses the API role over TCP without TLS (pg_hba.conf, as in production)', async () => {
    const plain = new URL(t.apiUrl);
    plain.search = '?sslmode=disable';
    const client = new pg.Client({ connectionString: plain.toString() });
    await expect(client.connect()).rejects.toThrow(/pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "cims_api".*no encryption/);
  });

  it('verify-full refuses a server whose certificate another CA signed', async () => {
    const otherCa = join(dir, 'other-ca.crt');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-new', '-nodes', '-newkey', 'rsa:2048', '-days', '1', '-subj', '/CN=Not the test CA', '-keyout', join(dir, 'other-ca.key'), '-out', otherCa],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const url = new URL(t.adminUrl);
    url.searchParams.set('sslrootcert', otherCa);
    const client = new pg.Client({ connectionString: url.toString() });
    await expect(client.connect()).rejects.toThrow(/self[- ]signed certificate|unable to verify|unable to get local issuer/i);
  });

  it('verify-full refuses a server whose certificate names another host', async () => {
    // The certificate names localhost and 127.0.0.1; asking for db.internal on that same socket must fail.
    const url = new URL(t.adminUrl);
    const client = new pg.Client({
      host: url.hostname,
      port: Number(url.port || 5432),
      user: 'postgres',
      database: t.name,
      ssl: { ca: readFileSync(url.searchParams.get('sslrootcert') ?? TEST_CA_FILE, 'utf8'), servername: 'db.internal' },
    });
    await expect(client.connect()).rejects.toThrow(/Hostname\/IP does not match|altnames/i);
  });
});

describe('certificate authentication for cims_api (pg_hba.conf `cert`, as production)', () => {
  // setup-system.sh: `hostssl cims_cert_probe cims_api 127.0.0.1/32 cert` and a client certificate
  // for CN=cims_api signed by the test CA. The database holds nothing; it only selects that rule.
  const PROBE_DB = 'cims_cert_probe';
  const TLS_DIR = TEST_CA_FILE.replace(/\/[^/]+$/, '');
  let dir: string;

  const urlWith = (params: Record<string, string>) => {
    const u = new URL(urlFor(ADMIN_URL, PROBE_DB, 'cims_api'));
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  };
  /** A client key and certificate for `cn`, signed by the test CA or (other) by a CA of its own. */
  function clientCert(cn: string, other = false): { sslcert: string; sslkey: string } {
    const key = join(dir, `${cn}-${other ? 'other' : 'ca'}.key`);
    const crt = key.replace(/\.key$/, '.crt');
    const run = (args: string[]) => {
      const r = spawnSync('openssl', args, { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    run(['req', '-new', '-nodes', '-newkey', 'rsa:2048', '-subj', `/CN=${cn}`, '-keyout', key, '-out', `${key}.csr`]);
    if (other) {
      run(['req', '-x509', '-new', '-nodes', '-newkey', 'rsa:2048', '-days', '1', '-subj', '/CN=Not the test CA', '-keyout', join(dir, 'o-ca.key'), '-out', join(dir, 'o-ca.crt')]);
      run(['x509', '-req', '-days', '1', '-in', `${key}.csr`, '-CA', join(dir, 'o-ca.crt'), '-CAkey', join(dir, 'o-ca.key'), '-set_serial', '7', '-out', crt]);
    } else {
      run(['x509', '-req', '-days', '1', '-in', `${key}.csr`, '-CA', TEST_CA_FILE, '-CAkey', join(TLS_DIR, 'ca.key'), '-set_serial', '8', '-out', crt]);
    }
    return { sslcert: crt, sslkey: key };
  }
  async function connect(url: string): Promise<{ user: string; dn: string | null }> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ user: string; dn: string | null }>('SELECT current_user AS user, client_dn AS dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return r.rows[0]!;
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cims-cert-'));
    // Shared by every run on this server: made once, never dropped (another run may be using it).
    await onServer(`CREATE DATABASE ${PROBE_DB}`).catch((err: { code?: string }) => {
      if (err.code !== '42P04' && err.code !== '23505') throw err;
    });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs cims_api in by its certificate, and the store works over that URL', async () => {
    const url = urlWith({ sslcert: join(TLS_DIR, 'cims_api.crt'), sslkey: join(TLS_DIR, 'cims_api.key') });
    expect(await connect(url)).toEqual({ user: 'cims_api', dn: '/CN=cims_api' });
    const store = await openStore({ databaseUrl: url, sealIntervalMs: 0, poolSize: 1 });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('refuses cims_api without a client certificate', async () => {
    await expect(connect(urlWith({}))).rejects.toThrow(/connection requires a valid client certificate/);
  });

  it('refuses a certificate of the test CA that names another role', async () => {
    await expect(connect(urlWith(clientCert('cims_analyst')))).rejects.toThrow(/certificate authentication failed for user "cims_api"/);
  });

  it('refuses a cims_api certificate from another CA', async () => {
    // The server ends the handshake: TLS alert 48, unknown_ca.
    await expect(connect(urlWith(clientCert('cims_api', true)))).rejects.toThrow(/alert unknown ca/);
  });
});
