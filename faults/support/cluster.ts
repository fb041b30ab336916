// A private PostgreSQL cluster for the tests that stop the database: initdb into
// a temporary folder with Debian's binaries, trust authentication, loopback only,
// a free port and its own socket folder. The machine's shared cluster on 5432 is
// never touched. initdb refuses to run as root, so as root the cluster belongs to
// the unprivileged `postgres` user.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../testing/processes';

export interface PrivateCluster {
  port: number;
  dir: string;
  /** Superuser connection string to `database`. */
  url(database?: string, user?: string): string;
  start(): void;
  /** `pg_ctl stop -m immediate`: every backend dies at once, as in a crash. */
  stopImmediate(): void;
  /** Stops the server (if running) and removes its folder. Safe to call twice. */
  destroy(): void;
}

/** The newest installed PostgreSQL's bin folder (/usr/lib/postgresql/<ver>/bin). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${root} (run scripts/setup-system.sh)`);
  return join(root, newest, 'bin');
}

const asRoot = userInfo().uid === 0;

/** Runs a server binary as the cluster's owner (postgres when we are root). */
function run(bin: string, args: string[]): void {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

const live = new Set<PrivateCluster>();
// Last resort if a test process ends without its afterAll: no cluster outlives it.
process.once('exit', () => {
  for (const c of live) c.destroy();
});

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'cims-faults-pg-'));
  if (asRoot) execFileSync('chown', ['postgres:', dir]);
  const data = join(dir, 'data');
  const port = await freePort();
  let running = false;
  let destroyed = false;

  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;

  const cluster: PrivateCluster = {
    port,
    dir,
    url: (database = 'postgres', user = 'postgres') => `postgres://${user}@127.0.0.1:${port}/${database}`,
    start() {
      run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '30', 'start']);
      running = true;
    },
    stopImmediate() {
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      running = false;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(cluster);
      if (running || existsSync(join(data, 'postmaster.pid'))) {
        try {
          cluster.stopImmediate();
        } catch {
          // Already gone: nothing to stop.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  try {
    cluster.start();
  } catch (err) {
    cluster.destroy();
    throw err;
  }
  return cluster;
}

/** Creates a database on the cluster (superuser). */
export async function createDatabase(cluster: PrivateCluster, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: cluster.url() });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
}

/** Whether a folder is still there (the tests check that nothing is left behind). */
export const folderExists = (dir: string): boolean => {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
};
