// The whole system on one machine: embedded database (PGlite in the data
// folder, or PostgreSQL at DATABASE_URL), migrations, demo data when the
// database is empty, the local OpenID provider and the API, in one process.
// Anything that fails on the way up is reported with what to do, and whatever
// was already started is stopped again: nothing is left half-running.
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { z } from 'zod';
import { migrate, type SqlRunner } from '../../../api/src/db/migrate';
import { openStore } from '../../../api/src/db/pg-store';
import { generateSigningKey, readSigningKey, writeSigningKey } from '../../../api/src/audit/keys';
import { DirectorySink } from '../../../api/src/audit/sink';
import type { AuditConfig } from '../../../api/src/audit/trail';
import { DEFAULT_API_PORT, startApi } from '../../../api/src/server';
import { pgChangeSource, type ChangeSource } from '../../../api/src/live/listener';
import { createPglite, pgliteChangeSource, pgliteStore } from '../pglite';
import { DEFAULT_IDP_PORT, PortInUseError, STATE_FILE, startIdentityProvider } from '../idp/provider';
import { DataDirError, SECRETS_FILE, loadOrCreateSecrets } from '../idp/secrets';
import { DEMO_ACCOUNTS, DEMO_CUSTOMER_ACCOUNTS } from '../seed/demo-accounts';
import { DEFAULT_PORTAL_PORT, startPortal } from '../portal/portal';
import { isEmpty } from '../seed/load';
import { silentProgress, type Progress } from '../seed/progress';
import { DEFAULT_CUSTOMERS, generatorOptions, loadBulkData, makeAuditHistory } from '../seed/seed';
import { clientCredentials } from '../seed/api-client';
import { publish, trainFrom, type TrainedRun } from '../../../models/run';
import type { ReadyInfo } from './ready';

export { READY_PREFIX, ReadyInfo } from './ready';

const PGDATA = 'pgdata';
const SEED_STATE = 'seed-state.json';
const LOCK = 'stack.lock';
const API_LOG = 'api.log';
/** The audit signing key (mode 0600) and the checkpoint sink: a real deployment keeps both away from the database's administrators. */
const AUDIT_KEY = 'audit-signing.pem';
const CHECKPOINTS = 'checkpoints';
/** Everything the stack writes into its data folder; --reset removes exactly these. */
const OWN_ENTRIES = [PGDATA, SECRETS_FILE, STATE_FILE, SEED_STATE, API_LOG, AUDIT_KEY, CHECKPOINTS];

/** The demo's audit key and sink in the data folder: made on first start, kept afterwards (a new key would not verify older checkpoints). */
function demoAudit(dataDir: string): AuditConfig {
  const keyFile = join(dataDir, AUDIT_KEY);
  if (!existsSync(keyFile)) writeSigningKey(keyFile, generateSigningKey().privateKey);
  return { signingKey: readSigningKey(keyFile), sink: new DirectorySink(join(dataDir, CHECKPOINTS)) };
}

export interface StackOptions {
  dataDir: string;
  /** Remove this stack's files from the data folder first. */
  reset?: boolean;
  /** Demo customers when the database is empty (default 500). */
  customers?: number;
  seed?: number;
  usageCustomers?: number;
  idpPort?: number;
  apiPort?: number;
  /** The demo customer portal (default 4803; 0 picks a free port). */
  portalPort?: number;
  /** PostgreSQL as its migrator (owner or superuser); absent: embedded PGlite in the data folder. */
  databaseUrl?: string;
  /** The API's own connection (role cims_api); default: databaseUrl with the user cims_api. */
  apiDatabaseUrl?: string;
  log?: (line: string) => void;
  progress?: Progress;
  /** Aborts start-up (Ctrl+C before the stack is ready): what was started is stopped again. */
  signal?: AbortSignal;
  /** IT's requireDpop at the API: people's bearer tokens refused (default true; CIMS_REQUIRE_DPOP=0 turns it off). */
  requireDpop?: boolean;
}

export interface RunningStack {
  ready: ReadyInfo;
  close(): Promise<void>;
}

/** A problem the person starting the stack can fix; the message says how. */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}

export const isUserFacing = (err: unknown): err is Error =>
  err instanceof StackError || err instanceof PortInUseError || err instanceof DataDirError;

const SeedState = z.object({ database: z.string(), seed: z.number(), customers: z.number(), asOf: z.string(), bulkLoaded: z.boolean(), apiSeeded: z.boolean() });
type SeedState = z.infer<typeof SeedState>;

function readSeedState(dataDir: string): SeedState | undefined {
  const path = join(dataDir, SEED_STATE);
  if (!existsSync(path)) return undefined;
  try {
    return SeedState.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new DataDirError(`${path} is damaged. Start over with --reset.`);
  }
}

const writeSeedState = (dataDir: string, state: SeedState) => writeFileSync(join(dataDir, SEED_STATE), JSON.stringify(state), { mode: 0o600 });

/** One stack per data folder: PGlite must never be opened twice. */
function takeLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`Cannot write to the data folder ${dataDir}: ${(err as Error).message}`);
      const pid = Number(readFileSync(path, 'utf8'));
      let alive = false;
      try {
        if (Number.isInteger(pid) && pid > 0) process.kill(pid, 0);
        alive = Number.isInteger(pid) && pid > 0;
      } catch {
        alive = false;
      }
      if (alive) throw new StackError(`Another CIMS stack (process ${pid}) is using the data folder ${dataDir}. Stop it first (Ctrl+C in its terminal), or use another folder with --data-dir.`);
      unlinkSync(path); // left behind by a stack that was killed
    }
  }
  throw new StackError(`Cannot lock the data folder ${dataDir}.`);
}

/** Fails early, before any work, when a port is taken. */
function checkPortFree(port: number, envVar: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new PortInUseError('127.0.0.1', port, envVar)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePromise()));
  });
}

function describeDbUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** The API's connection: the same database as the cims_api role (no password: local trust or a .pgpass entry). */
export function apiUrlFor(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.username = 'cims_api';
  u.password = '';
  return u.href;
}

interface MigratorDb {
  runner: SqlRunner;
  close(): Promise<void>;
}

async function openMigrator(o: StackOptions, pgdata: string): Promise<MigratorDb> {
  if (o.databaseUrl) {
    let client: pg.Client;
    try {
      client = new pg.Client({ connectionString: o.databaseUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
    } catch (err) {
      throw new StackError(
        `Cannot connect to the database in DATABASE_URL (${describeDbUrl(o.databaseUrl)}): ${(err as Error).message}. ` +
          'Check that PostgreSQL is running and the URL (user, host, port, database) is right, or unset DATABASE_URL to use the embedded database.',
      );
    }
    return { runner: client, close: () => client.end() };
  }
  let db: PGlite;
  try {
    db = await createPglite(pgdata);
  } catch (err) {
    throw new DataDirError(
      `The embedded database in ${pgdata} cannot be opened (${(err as Error).message ?? String(err)}). ` +
        'It may be damaged or from another version: start over with --reset (this deletes the demo data).',
    );
  }
  return { runner: db, close: () => db.close() };
}

export async function startStack(o: StackOptions): Promise<RunningStack> {
  const log = o.log ?? (() => {});
  const dataDir = resolve(o.dataDir);
  const pgdata = join(dataDir, PGDATA);
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        log(`while stopping: ${(err as Error).message}`);
      }
    }
  };

  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    closers.push(takeLock(dataDir));
    if (o.reset) {
      for (const entry of OWN_ENTRIES) rmSync(join(dataDir, entry), { recursive: true, force: true });
      log(`reset: removed the stack's data from ${dataDir}`);
    }
    loadOrCreateSecrets(dataDir); // a damaged key file is reported now, before minutes of seeding
    const idpPort = o.idpPort ?? DEFAULT_IDP_PORT;
    const apiPort = o.apiPort ?? DEFAULT_API_PORT;
    await checkPortFree(idpPort, 'CIMS_IDP_PORT');
    await checkPortFree(apiPort, 'CIMS_API_PORT');
    // A stack on free ports (tests) puts the portal on one too.
    const portalPort = o.portalPort ?? (o.idpPort === 0 ? 0 : DEFAULT_PORTAL_PORT);
    await checkPortFree(portalPort, 'CIMS_PORTAL_PORT');

    // 1. Database: migrations and bulk demo rows through the migrator's connection.
    const customers = o.customers ?? DEFAULT_CUSTOMERS;
    const database = o.databaseUrl ? describeDbUrl(o.databaseUrl) : 'pglite';
    // The state describes one database: another DATABASE_URL starts from its own emptiness check.
    let state = readSeedState(dataDir);
    if (state && state.database !== database) state = undefined;
    log(o.databaseUrl ? `database: PostgreSQL at ${describeDbUrl(o.databaseUrl)}` : `database: embedded (PGlite) in ${pgdata}`);
    // PGlite opens slowly and the API's store migrates it on open: once seeded, skip the migrator's pass.
    // The model job reads its features through the migrator's connection (as cims_model) before the API is up.
    let trained: TrainedRun | undefined;
    if (o.databaseUrl || !state?.bulkLoaded || !state.apiSeeded) {
      const migrator = await openMigrator(o, pgdata);
      closers.push(() => migrator.close());
      try {
        await migrate(migrator.runner);
      } catch (err) {
        throw new StackError(`The database migrations failed: ${(err as Error).message}. ${o.databaseUrl ? 'Check that DATABASE_URL names a migrator (owner or superuser) of a CIMS database.' : 'Start over with --reset.'}`);
      }
      if (state && !state.bulkLoaded) {
        throw new DataDirError(`Loading the demo data into ${o.databaseUrl ? describeDbUrl(o.databaseUrl) : pgdata} was interrupted. Start over with --reset.`);
      }
      if (customers > 0 && (await isEmpty(migrator.runner))) {
        const gen = generatorOptions({ customers, seed: o.seed, usageCustomers: o.usageCustomers });
        log(`seeding ${customers} demo customers (seed ${gen.seed}, usage for ${gen.usageCustomers})`);
        // Marked as started first: an interrupted load is then recognized (and reported) at the next start.
        writeSeedState(dataDir, { database, seed: gen.seed, customers, asOf: gen.asOf, bulkLoaded: false, apiSeeded: false });
        await loadBulkData(migrator.runner, { ...gen, progress: o.progress ?? silentProgress, signal: o.signal });
        state = { database, seed: gen.seed, customers, asOf: gen.asOf, bulkLoaded: true, apiSeeded: false };
        writeSeedState(dataDir, state);
      }
      if (state?.bulkLoaded && !state.apiSeeded && customers > 0) {
        // Without Python and scikit-learn the demo runs on, without scores (npm run models adds them later).
        trained = await trainFrom(migrator.runner, log).catch((err: Error) => (log(`model job failed, no predictions: ${err.message}`), undefined));
      }
      closers.pop();
      await migrator.close();
    }

    o.signal?.throwIfAborted();
    // 2. The OpenID provider, 3. the API (in-process, as cims_api).
    // The portal listens first: the provider registers its redirect URI, which names its port.
    const portal = await startPortal({ port: portalPort, log });
    closers.push(() => portal.close());
    const idp = await startIdentityProvider({ port: idpPort, dataDir, log, persistSessions: true, portal: { redirectUri: portal.redirectUri, baseUrl: portal.url } });
    closers.push(() => idp.close());
    let store;
    let changes: ChangeSource;
    try {
      if (o.databaseUrl) {
        const apiUrl = o.apiDatabaseUrl ?? apiUrlFor(o.databaseUrl);
        store = await openStore({ databaseUrl: apiUrl });
        // Live changes: the one LISTEN connection, straight to PostgreSQL.
        changes = pgChangeSource(apiUrl);
      } else {
        const pglite = await createPglite(pgdata);
        store = await pgliteStore(pglite);
        changes = pgliteChangeSource(pglite);
      }
    } catch (err) {
      throw new StackError(`The API cannot open the database: ${(err as Error).message}.`);
    }
    const apiLogPath = join(dataDir, API_LOG);
    const apiLog: WriteStream = createWriteStream(apiLogPath, { flags: 'a', mode: 0o600 });
    closers.push(() => new Promise<void>((r) => apiLog.end(() => r())));
    const requireDpop = o.requireDpop ?? true;
    let seeding = true;
    let api;
    try {
      api = await startApi({
        store,
        ownsStore: true,
        audit: demoAudit(dataDir),
        issuer: idp.issuer,
        audience: idp.apiAudience,
        modelRunnerClientId: idp.modelRunner.clientId,
        ...(idp.portal ? { portalClientId: idp.portal.clientId } : {}),
        port: apiPort,
        logger: { level: 'info', sink: apiLog },
        // The demo seed's users get bearer tokens from the demo-only password grant; DPoP is required once it is done, before the stack is ready.
        dpop: { required: () => requireDpop && !seeding },
        changes,
      });
    } catch (err) {
      await store.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError('127.0.0.1', apiPort, 'CIMS_API_PORT');
      throw err;
    }
    closers.push(() => api.close());
    if (idp.portal) portal.connect({ issuer: idp.issuer, ...idp.portal, audience: idp.apiAudience, apiUrl: api.url });

    // 4. Predictions and audit history through the API, once per fresh database.
    if (state?.bulkLoaded && !state.apiSeeded) {
      const through = { ...state, signal: o.signal, apiUrl: api.url, issuer: idp.issuer, modelRunner: idp.modelRunner, demoSeeder: idp.demoSeeder, progress: o.progress ?? silentProgress, log };
      // The model job's scores, with the model runner's own client-credentials token.
      const pushed = trained ? await publish(api.url, clientCredentials(idp.issuer, idp.modelRunner, idp.modelRunner.scope), trained.predictions, o.signal) : { accepted: 0 };
      log(`predictions: ${pushed.accepted} accepted through PUT /v1/predictions`);
      await makeAuditHistory(through);
      state = { ...state, apiSeeded: true };
      writeSeedState(dataDir, state);
    }
    seeding = false;

    o.signal?.throwIfAborted();
    const ready: ReadyInfo = {
      issuer: idp.issuer,
      api: api.url,
      clientId: idp.consoleClientId,
      audience: idp.apiAudience,
      scope: idp.consoleScope,
      demoAccounts: DEMO_ACCOUNTS.map((a) => ({ username: a.username, password: a.password, roles: [...a.roles] })),
      portal: portal.url,
      customerAccounts: DEMO_CUSTOMER_ACCOUNTS.map((a) => ({ username: a.username, password: a.password, orgId: a.orgId })),
      dataDir,
      database: o.databaseUrl ? 'postgres' : 'pglite',
      apiLog: apiLogPath,
    };
    let closing: Promise<void> | undefined;
    return { ready, close: () => (closing ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
