// `npm run bench:api`: the hardened API against the old design's naive
// endpoint (same SQL, superuser, no token check, no validation, no audit),
// on 100,000 seeded customers in a fresh PostgreSQL database. A report, not a
// test: it prints requests/s, p50 and p99 of each and the ratios.
//
//   BENCH_DURATION=10 BENCH_CONNECTIONS=10 BENCH_ROUNDS=3 BENCH_SCENARIOS=read,search,write npm run bench:api
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../testing/db';
import { startTestIssuer } from '../testing/issuer';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'read,search,write').split(',');
// Hardened and naive take turns this many times per scenario; the report gives medians, since
// one pair of runs on a small shared machine can be ±30% apart.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Where to write a V8 CPU profile of the server process (open it in Chrome's DevTools).
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

const orgId = (n: number) => `ORG-${String(n).padStart(6, '0')}`;
const randomOrg = () => orgId(randomInt(1, CUSTOMERS + 1));

/** A migrated scratch database with CUSTOMERS rows, loaded directly as the owner. */
async function createDatabase(): Promise<ScratchDatabase> {
  const db = await createScratchDatabase('cims_bench');
  const adminUrl = db.adminUrl;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('BEGIN');
    await admin.query('SET LOCAL ROLE cims_owner');
    await admin.query(
      `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
         contract_value_cents, currency, renewal_date, owner_sub, owner_name, latest_churn_risk)
       SELECT 'ORG-' || CASE WHEN g < 1000000 THEN lpad(g::text, 6, '0') ELSE g::text END,
              (ARRAY['Acme','Globex','Initech','Umbrella','Stark','Wayne','Hooli','Vandelay','Soylent','Tyrell'])[1 + g % 10]
                || ' ' || (ARRAY['Logistics','Foods','Labs','Systems','Media','Health','Energy','Retail'])[1 + (g / 10) % 8] || ' ' || g,
              'Contact ' || g, 'contact' || g || '@customer' || (g % 997) || '.example',
              '+1 555 ' || lpad((g % 10000)::text, 4, '0'), 10 + g % 5000, (g % 1000) * 10000, 'EUR',
              current_date + (g % 700), 'alice', 'Alice Adams', (g % 100) / 100.0
         FROM generate_series(1, $1::int) g`,
      [CUSTOMERS],
    );
    await admin.query('COMMIT');
    await admin.query('ANALYZE');
  } finally {
    await admin.end();
  }
  return db;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU milliseconds per request in the server process and in PostgreSQL (Linux only). */
  serverCpu: number | null;
  dbCpu: number | null;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by one process, from /proc. */
function processCpu(pid: number | string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

interface CpuSample {
  server: number;
  /** CPU seconds per PostgreSQL process id. */
  db: Map<string, number>;
}

/**
 * CPU used by the server process and by each PostgreSQL process, so a run also says where the
 * time went: on a machine whose cores are all busy, requests/s alone mixes the two.
 */
function cpuSample(serverPid: number): CpuSample | null {
  try {
    const db = new Map<string, number>();
    for (const pid of readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d))) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') db.set(pid, processCpu(pid));
      } catch {
        // the process ended between listing and reading
      }
    }
    return { server: processCpu(serverPid), db };
  } catch {
    return null; // not Linux
  }
}

/** Database CPU seconds between two samples: per process, so one that exits (an idle pool connection) does not count negative. */
function dbCpuBetween(before: CpuSample, after: CpuSample): number {
  let total = 0;
  for (const [pid, cpu] of after.db) total += cpu - (before.db.get(pid) ?? 0);
  return total;
}

async function load(url: string, request: autocannon.Request, serverPid: number, token?: string): Promise<Figures> {
  const before = cpuSample(serverPid);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    requests: [request],
  });
  const after = cpuSample(serverPid);
  const total = result.requests.total;
  const perRequest = (seconds: number) => (total === 0 ? null : (seconds * 1000) / total);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    serverCpu: before && after ? perRequest(after.server - before.server) : null,
    dbCpu: before && after ? perRequest(dbCpuBetween(before, after)) : null,
  };
}

const versions = new Map<string, number>();

function scenarios(prefix: string, hardened: boolean): Record<'read' | 'search' | 'write', autocannon.Request> {
  const customers = hardened ? '/v1/customers' : '/naive/customers';
  return {
    read: { method: 'GET', setupRequest: (req) => ({ ...req, path: `${customers}/${randomOrg()}` }) },
    search: {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `${customers}?q=${randomInt(100, 1000)}${randomInt(0, 10)}&limit=20` }),
    },
    write: {
      method: 'PATCH',
      setupRequest: (req) => {
        // Distinct ranges per run, so each side edits its own customers.
        const id = orgId(randomInt(1, CUSTOMERS / 2) + (hardened ? 0 : CUSTOMERS / 2));
        const version = versions.get(id) ?? 1;
        return {
          ...req,
          path: `${customers}/${id}`,
          headers: { ...req.headers, 'content-type': 'application/json', ...(hardened ? { 'if-match': `"${version}"` } : {}) },
          body: JSON.stringify({ changes: { userCount: randomInt(1, 10_000) }, reason: `${prefix} benchmark edit` }),
        };
      },
      onResponse: (status, body) => {
        if (status !== 200) return;
        const c = (JSON.parse(body) as { customer?: { orgId: string; version: number } }).customer;
        if (c) versions.set(c.orgId, c.version);
      },
    },
  };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9);

async function main(): Promise<void> {
  console.log(`Seeding ${CUSTOMERS} customers into a fresh database…`);
  const db = await createDatabase();
  const issuer = await startTestIssuer('RS256');
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const servers = spawn(process.execPath, [...profile, '--import', 'tsx', fileURLToPath(new URL('./bench-servers.ts', import.meta.url))], {
    env: { ...process.env, BENCH_API_DATABASE_URL: db.apiUrl, BENCH_ADMIN_DATABASE_URL: db.adminUrl, ISSUER: issuer.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const urls = await new Promise<{ hardened: string; naive: string }>((resolve, reject) => {
      servers.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
      servers.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
    });
    const pid = servers.pid ?? 0;
    const token = await issuer.sign({ sub: 'alice', name: 'Alice Adams', roles: ['crm'], scope: 'openid', exp: Math.floor(Date.now() / 1000) + 3600 });

    const results: { name: string; hardened: Figures[]; naive: Figures[] }[] = [];
    for (const name of (['read', 'search', 'write'] as const).filter((n) => SCENARIOS.includes(n))) {
      // A short warm-up of each side (JIT, connection pools, caches), then the measured rounds.
      await autocannon({ url: urls.hardened, connections: 2, duration: 2, headers: { authorization: `Bearer ${token}` }, requests: [scenarios('warm', true)[name]] });
      await autocannon({ url: urls.naive, connections: 2, duration: 2, requests: [scenarios('warm', false)[name]] });
      const result = { name, hardened: [] as Figures[], naive: [] as Figures[] };
      for (let round = 1; round <= ROUNDS; round++) {
        result.hardened.push(await load(urls.hardened, scenarios('hardened', true)[name], pid, token));
        result.naive.push(await load(urls.naive, scenarios('naive', false)[name], pid));
        console.log(`${name}: round ${round} of ${ROUNDS} done`);
      }
      results.push(result);
    }

    console.log(`\n${CUSTOMERS} customers, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds; medians of the rounds\n`);
    console.log('scenario     side        req/s   p50 ms   p99 ms   errors   CPU ms/request: server  database');
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)] ?? NaN;
    const medianOf = (runs: Figures[], pick: (f: Figures) => number | null) => {
      const values = runs.map(pick).filter((v): v is number => v !== null);
      return values.length ? median(values) : null;
    };
    const cell = (v: number | null, digits: number) => (v === null ? '        -' : fmt(v, digits));
    const line = (runs: Figures[]) =>
      `${cell(medianOf(runs, (f) => f.rps), 0)}${cell(medianOf(runs, (f) => f.p50), 1)}${cell(medianOf(runs, (f) => f.p99), 1)}` +
      `${cell(medianOf(runs, (f) => f.errors), 0)}       ${cell(medianOf(runs, (f) => f.serverCpu), 3)}${cell(medianOf(runs, (f) => f.dbCpu), 3)}`;
    for (const r of results) {
      console.log(`${r.name.padEnd(12)} hardened ${line(r.hardened)}`);
      console.log(`${''.padEnd(12)} naive    ${line(r.naive)}`);
    }
    console.log('\nratios hardened/naive, median of the rounds [lowest-highest round]');
    console.log('goals: throughput reads ≥ 0.7, writes ≥ 0.5; p99 reads ≤ 1.5');
    for (const r of results) {
      const ratios = (pick: (f: Figures) => number) => r.hardened.map((h, i) => pick(h) / Math.max(pick(r.naive[i]!), 0.001));
      const summary = (values: number[]) =>
        `${median(values).toFixed(2)} [${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}]`;
      console.log(`${r.name.padEnd(12)} throughput ${summary(ratios((f) => f.rps))}   p99 ${summary(ratios((f) => f.p99))}`);
    }
  } finally {
    servers.kill('SIGTERM');
    await new Promise((r) => servers.once('exit', r));
    await issuer.close();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
