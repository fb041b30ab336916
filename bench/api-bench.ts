// `npm run bench:api`: the hardened API against the old design's naive
// endpoint (same SQL, superuser, no token check, no validation, no audit), on
// BENCH_CUSTOMERS seeded customers (100,000 by default; 1,000,000 and
// 5,000,000 work) in a fresh PostgreSQL database. A report, not a test: for
// every round it prints requests/s, p50/p95/p99, errors, CPU per request in the
// server and in PostgreSQL, and what PostgreSQL's backends were waiting on
// (sampled from pg_stat_activity); then the ratios against the goals of
// bench/README.md, round by round.
//
//   BENCH_CUSTOMERS=1000000 BENCH_DURATION=10 BENCH_CONNECTIONS=10 BENCH_ROUNDS=3 \
//   BENCH_SCENARIOS=read,search,broad,write,history,propose,approve npm run bench:api [-- --cpu-prof]
//
// --cpu-prof (or BENCH_PROFILE_DIR=<dir>) writes a V8 CPU profile of the server process and prints
// the functions with the most self time; open the .cpuprofile in Chrome's DevTools for the rest.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../testing/db';
import { startTestIssuer } from '../testing/issuer';
import { summarizeProfile } from './profile';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ALL_SCENARIOS = ['read', 'search', 'broad', 'write', 'history', 'propose', 'approve'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? ALL_SCENARIOS.join(',')).split(',');
// Hardened and naive take turns this many times per scenario: one pair of runs on a small shared
// machine can be ±30% apart, so each round's ratio is of two runs made one after the other.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROFILE_DIR =
  process.env.BENCH_PROFILE_DIR ?? (process.argv.includes('--cpu-prof') ? mkdtempSync(join(tmpdir(), 'cims-bench-profile-')) : undefined);
const WAIT_SAMPLE_MS = 25;
// Rows a seeding statement inserts; each commits, so 5,000,000 customers never sit in one transaction.
const SEED_CHUNK = 500_000;

if (!Number.isInteger(CUSTOMERS) || CUSTOMERS < 1000 || CUSTOMERS > 999_999_999_999) throw new RangeError('BENCH_CUSTOMERS: 1000 or more');

const orgId = (n: number) => `ORG-${String(n).padStart(6, '0')}`;
const randomOrg = () => orgId(randomInt(1, CUSTOMERS + 1));
// Each side edits customers of its own: hardened edits in [1, 30%), proposes in [30%, 50%); naive in the upper half.
const range = (from: number, to: number) => [Math.max(1, Math.floor(CUSTOMERS * from)), Math.floor(CUSTOMERS * to)] as const;
const RANGES = { write: range(0, 0.3), propose: range(0.3, 0.5), naiveWrite: range(0.5, 0.8), naivePropose: range(0.8, 1) };
const inRange = ([lo, hi]: readonly [number, number]) => orgId(randomInt(lo, hi));

/**
 * A migrated scratch database with CUSTOMERS rows, loaded set-based as the owner: the secondary
 * indexes are dropped first and built again afterwards from their own definitions (one sort per
 * index instead of a trigram insert per row), in chunks that commit one by one.
 */
async function createDatabase(): Promise<ScratchDatabase> {
  const db = await createScratchDatabase('cims_bench');
  const started = Date.now();
  const admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  try {
    await admin.query(`SET maintenance_work_mem = '256MB'`);
    const { rows: indexes } = await admin.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i WHERE i.indrelid = 'core.customers'::regclass AND NOT i.indisprimary AND NOT i.indisunique`,
    );
    await admin.query('BEGIN');
    await admin.query('SET LOCAL ROLE cims_owner');
    // Names come from the catalog, not from input.
    for (const ix of indexes) await admin.query(`DROP INDEX ${ix.name}`);
    await admin.query('COMMIT');
    for (let from = 1; from <= CUSTOMERS; from += SEED_CHUNK) {
      const to = Math.min(CUSTOMERS, from + SEED_CHUNK - 1);
      await admin.query('BEGIN');
      // The card-number guard's row trigger (core.customers_refuse_pan) is skipped for these generated
      // rows only (no run of 13 digits in them): it is most of a million rows' insert time. The guard
      // itself is tested in api/test; the API's own writes during the runs go through it.
      await admin.query(`SET LOCAL session_replication_role = replica`);
      await admin.query('SET LOCAL ROLE cims_owner');
      await admin.query(
        `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
           contract_value_cents, currency, renewal_date, owner_sub, owner_name, latest_churn_risk)
         SELECT 'ORG-' || lpad(g::text, greatest(6, length(g::text)), '0'),
                (ARRAY['Acme','Globex','Initech','Umbrella','Stark','Wayne','Hooli','Vandelay','Soylent','Tyrell'])[1 + g % 10]
                  || ' ' || (ARRAY['Logistics','Foods','Labs','Systems','Media','Health','Energy','Retail'])[1 + (g / 10) % 8] || ' ' || g,
                'Contact ' || g, 'contact' || g || '@customer' || (g % 997) || '.example',
                '+1 555 ' || lpad((g % 10000)::text, 4, '0'), 10 + g % 5000, (g % 1000) * 10000, 'EUR',
                current_date + (g % 700)::int, 'alice', 'Alice Adams', (g % 100) / 100.0
           FROM generate_series($1::bigint, $2::bigint) g`,
        [from, to],
      );
      await admin.query('COMMIT');
      process.stdout.write(`  ${to.toLocaleString('en')} customers\r`);
    }
    const inserted = Date.now();
    await admin.query('BEGIN');
    await admin.query('SET LOCAL ROLE cims_owner');
    for (const ix of indexes) await admin.query(ix.def);
    await admin.query('COMMIT');
    await admin.query('VACUUM ANALYZE core.customers');
    console.log(`  rows ${((inserted - started) / 1000).toFixed(0)} s, indexes and statistics ${((Date.now() - inserted) / 1000).toFixed(0)} s`);
  } finally {
    await admin.end();
  }
  return db;
}

interface Figures {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /** Answers other than 2xx and the expected 412, plus socket errors and timeouts. */
  errors: number;
  /** 412 answers to a write whose version another had just changed (expected, never an error). */
  stale: number;
  /** CPU milliseconds per request in the server process and in PostgreSQL (Linux only). */
  serverCpu: number | null;
  dbCpu: number | null;
  /** What PostgreSQL's busy backends were doing, share of samples: 'CPU' or wait_event_type:wait_event. */
  waits: [string, number][];
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

/**
 * Samples pg_stat_activity every WAIT_SAMPLE_MS while a run lasts: each backend of the bench
 * database that is not idle counts once per sample, under its wait event or as 'CPU' when it has
 * none. Its own connection is left out; the sampling costs the database one tiny query per sample.
 */
function sampleWaits(client: pg.Client, database: string): () => Promise<[string, number][]> {
  const counts = new Map<string, number>();
  let total = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ w: string; n: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*)::int AS n
           FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            AND state NOT IN ('idle') GROUP BY 1`,
        [database],
      );
      for (const r of rows) {
        counts.set(r.w, (counts.get(r.w) ?? 0) + r.n);
        total += r.n;
      }
      await new Promise((r) => setTimeout(r, WAIT_SAMPLE_MS));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return [...counts].sort((a, b) => b[1] - a[1]).map(([w, n]) => [w, total ? n / total : 0] as [string, number]);
  };
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

interface Side {
  url: string;
  token?: string;
  request: () => autocannon.Request;
  /** Statuses that are not errors besides 2xx. */
  expected?: number[];
}

async function load(side: Side, serverPid: number, waits: pg.Client, database: string): Promise<Figures> {
  const before = cpuSample(serverPid);
  const stopWaits = sampleWaits(waits, database);
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: side.url,
        connections: CONNECTIONS,
        duration: DURATION,
        headers: side.token ? { authorization: `Bearer ${side.token}` } : {},
        requests: [side.request()],
      },
      (err, r) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(r)),
    );
    // Every answer's time, so p95 is exact (autocannon's own table has p90 and p97.5).
    instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
  const waitShares = await stopWaits();
  const after = cpuSample(serverPid);
  const total = result.requests.total;
  const perRequest = (seconds: number) => (total === 0 ? null : (seconds * 1000) / total);
  const statuses = result.statusCodeStats as Record<string, { count: number }>;
  const count = (code: number) => statuses[String(code)]?.count ?? 0;
  const expected = (side.expected ?? []).reduce((n, code) => n + count(code), 0);
  times.sort((a, b) => a - b);
  return {
    rps: result.requests.average,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    errors: result.non2xx - expected + result.errors + result.timeouts,
    stale: count(412),
    serverCpu: before && after ? perRequest(after.server - before.server) : null,
    dbCpu: before && after ? perRequest(dbCpuBetween(before, after)) : null,
    waits: waitShares,
  };
}

const versions = new Map<string, number>();
/** Change requests proposed by the propose scenario and not yet decided, oldest first. */
const proposals: { id: string; version: number; orgId: string; baseVersion: number }[] = [];
const pendingOrgs = new Set<string>();
let proposeNext = RANGES.propose[0];
let approvalsRanDry = 0;

interface ChangeRequestBody {
  id: string;
  orgId: string;
  version: number;
  baseVersion: number;
  status: string;
}

/** A JSON write on top of `req` (whose headers carry the token). */
function patch(req: autocannon.Request, path: string, body: unknown, ifMatch?: number): autocannon.Request {
  return {
    ...req,
    path,
    headers: { ...req.headers, 'content-type': 'application/json', ...(ifMatch !== undefined ? { 'if-match': `"${ifMatch}"` } : {}) },
    body: JSON.stringify(body),
  };
}

const onCustomer = (status: number, body: string) => {
  if (status !== 200) return;
  const c = (JSON.parse(body) as { customer?: { orgId: string; version: number } }).customer;
  if (c) versions.set(c.orgId, c.version);
};

/** The two sides of each scenario: the hardened API (with its token) and the naive endpoint. */
function sides(name: Scenario, urls: { hardened: string; naive: string }, tokens: { crm: string; lead: string }): { hardened: Side; naive: Side } {
  const h = (request: () => autocannon.Request, expected?: number[], token = tokens.crm): Side => ({
    url: urls.hardened,
    token,
    request,
    ...(expected ? { expected } : {}),
  });
  const n = (request: () => autocannon.Request): Side => ({ url: urls.naive, request });
  const naiveUpdate = (field: 'contactName' | 'userCount', ids: readonly [number, number]) =>
    n(() => ({
      method: 'PATCH',
      setupRequest: (req) =>
        patch(req, `/naive/customers/${inRange(ids)}`, {
          changes: field === 'userCount' ? { userCount: randomInt(1, 10_000) } : { contactName: `Naive ${randomInt(1e9)}` },
          reason: 'naive',
        }),
    }));
  const searchQuery = () => `q=${randomInt(100, 1000)}${randomInt(0, 10)}&limit=20`;
  switch (name) {
    case 'read':
      return {
        hardened: h(() => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/customers/${randomOrg()}` }) })),
        naive: n(() => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/naive/customers/${randomOrg()}` }) })),
      };
    case 'search':
      return {
        hardened: h(() => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/customers?${searchQuery()}` }) })),
        naive: n(() => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/naive/customers?${searchQuery()}` }) })),
      };
    case 'broad':
      // Matches every customer: the hardened search stops at its cap and says so; naive sorts what it finds.
      return {
        hardened: h(() => ({ method: 'GET', path: '/v1/customers?q=example&limit=20' })),
        naive: n(() => ({ method: 'GET', path: '/naive/customers?q=example&limit=20' })),
      };
    case 'write':
      // contactName needs no approval: an audited edit against an unaudited UPDATE.
      return {
        hardened: h(
          () => ({
            method: 'PATCH',
            setupRequest: (req) => {
              const id = inRange(RANGES.write);
              return patch(req, `/v1/customers/${id}`, { changes: { contactName: `Bench ${randomInt(1e9)}` }, reason: 'benchmark edit' }, versions.get(id) ?? 1);
            },
            onResponse: onCustomer,
          }),
          [412],
        ),
        naive: naiveUpdate('contactName', RANGES.naiveWrite),
      };
    case 'history':
      // The customers the write scenario edited have events; each page writes its access event.
      return {
        hardened: h(() => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/customers/${inRange(RANGES.write)}/audit?limit=50` }) })),
        naive: n(() => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/naive/customers/${inRange(RANGES.write)}/history?limit=50` }) })),
      };
    case 'propose':
      // The number of users needs a second person: the edit becomes a change request (202).
      return {
        hardened: h(
          () => ({
            method: 'PATCH',
            setupRequest: (req) => {
              // The next customer of the range without a pending request (one at a time per customer).
              let id: string;
              let tries = 0;
              do {
                id = orgId(proposeNext);
                advanceProposal();
              } while (pendingOrgs.has(id) && ++tries < 1000);
              pendingOrgs.add(id);
              return patch(req, `/v1/customers/${id}`, { changes: { userCount: randomInt(1, 10_000) }, reason: 'benchmark proposal' }, versions.get(id) ?? 1);
            },
            onResponse: (status, body) => {
              if (status !== 202) return;
              const r = (JSON.parse(body) as { changeRequest: ChangeRequestBody }).changeRequest;
              proposals.push({ id: r.id, version: r.version, orgId: r.orgId, baseVersion: r.baseVersion });
            },
          }),
        ),
        naive: naiveUpdate('userCount', RANGES.naivePropose),
      };
    case 'approve':
      // A support lead approves the proposals, oldest first; the change is applied with its audit events.
      return {
        hardened: h(
          () => ({
            method: 'POST',
            setupRequest: (req) => {
              const p = proposals.shift();
              if (!p) approvalsRanDry++;
              return patch(req, `/v1/change-requests/${p?.id ?? 'none'}/approve`, { reason: 'benchmark approval' }, p?.version ?? 1);
            },
            onResponse: (status, body) => {
              if (status !== 200) return;
              const r = JSON.parse(body) as ChangeRequestBody;
              pendingOrgs.delete(r.orgId);
              if (r.status === 'approved') versions.set(r.orgId, r.baseVersion + 1);
            },
          }),
          undefined,
          tokens.lead,
        ),
        naive: naiveUpdate('userCount', RANGES.naivePropose),
      };
  }
}

/** Approvals a second the top-up provides for, at most (above what this machine reaches). */
const APPROVALS_PER_SECOND = 2_000;

/**
 * Approvals can outrun the propose scenario (they no longer queue on NOTIFY's commit lock), and a
 * round that runs out measures answers to nothing. So before its rounds the approve scenario gets
 * pending requests of its own, inserted as the superuser for customers of the write and propose
 * ranges that have none, at their current versions: enough for every round at
 * APPROVALS_PER_SECOND. Their change.requested events are left out; approving one is the same work.
 */
async function topUpProposals(admin: pg.Client): Promise<number> {
  const want = ROUNDS * DURATION * APPROVALS_PER_SECOND - proposals.length;
  if (want <= 0) return 0;
  const candidates: string[] = [];
  for (const [lo, hi] of [RANGES.write, RANGES.propose])
    for (let i = lo; i < hi && candidates.length < want; i++) if (!pendingOrgs.has(orgId(i))) candidates.push(orgId(i));
  const { rows } = await admin.query<{ id: string; version: number; org_id: string; base_version: number }>(
    `INSERT INTO core.change_requests (org_id, kind, base_version, changes, reason, maker_sub, maker_name, maker_roles, expires_at)
     SELECT c.org_id, 'edit', c.version,
            jsonb_build_array(jsonb_build_object('field', 'userCount', 'before', c.user_count, 'after', c.user_count + 1)),
            'benchmark proposal', 'alice', 'Alice Adams', '{crm}', now() + interval '7 days'
       FROM core.customers c WHERE c.org_id = ANY ($1::text[]) ORDER BY c.org_id
     ON CONFLICT (org_id) WHERE status = 'pending' DO NOTHING
     RETURNING id::text, version, org_id, base_version`,
    [candidates],
  );
  for (const r of rows) {
    pendingOrgs.add(r.org_id);
    proposals.push({ id: r.id, version: r.version, orgId: r.org_id, baseVersion: r.base_version });
  }
  return rows.length;
}

function advanceProposal(): void {
  proposeNext = proposeNext + 1 >= RANGES.propose[1] ? RANGES.propose[0] : proposeNext + 1;
}

/** The goals of bench/README.md, each checked on one round's pair of runs. */
interface Goal {
  name: string;
  check: (h: Figures, n: Figures, read?: Figures) => { ok: boolean; text: string };
}

const ratio = (a: number, b: number) => a / Math.max(b, 0.001);
const throughputAndTail = (minThroughput: number): Goal[] => [
  { name: `throughput ≥ ${minThroughput}`, check: (h, n) => ({ ok: ratio(h.rps, n.rps) >= minThroughput, text: ratio(h.rps, n.rps).toFixed(2) }) },
  { name: 'p99 ≤ 1.5×', check: (h, n) => ({ ok: ratio(h.p99, n.p99) <= 1.5, text: ratio(h.p99, n.p99).toFixed(2) }) },
  { name: 'no errors', check: (h) => ({ ok: h.errors === 0, text: String(h.errors) }) },
];
const GOALS: Record<Scenario, Goal[]> = {
  read: throughputAndTail(0.8),
  write: throughputAndTail(0.7),
  history: throughputAndTail(0.8),
  propose: throughputAndTail(0.7),
  approve: throughputAndTail(0.7),
  search: [
    { name: 'ahead of naive', check: (h, n) => ({ ok: h.rps >= n.rps, text: ratio(h.rps, n.rps).toFixed(2) }) },
    {
      name: 'p95 ≤ 3× read p95',
      check: (h, _n, read) => (read ? { ok: h.p95 <= 3 * read.p95, text: ratio(h.p95, read.p95).toFixed(2) } : { ok: false, text: 'no read run' }),
    },
    { name: 'no errors', check: (h) => ({ ok: h.errors === 0, text: String(h.errors) }) },
  ],
  // Bounded work is a comparison across sizes (its database CPU per request at 100,000 and at
  // 1,000,000 customers, in the table above), not within one run.
  broad: [{ name: 'no errors', check: (h) => ({ ok: h.errors === 0, text: String(h.errors) }) }],
};

const fmt = (n: number | null, digits = 0, width = 9) => (n === null || Number.isNaN(n) ? '-'.padStart(width) : n.toFixed(digits).padStart(width));
const waitText = (w: [string, number][]) =>
  w
    .slice(0, 3)
    .map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
    .join(', ') || '-';

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Seeding ${CUSTOMERS.toLocaleString('en')} customers into a fresh database…`);
  const db = await createDatabase();
  console.log(`Seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const issuer = await startTestIssuer('RS256');
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const servers = spawn(process.execPath, [...profile, '--import', 'tsx', fileURLToPath(new URL('./bench-servers.ts', import.meta.url))], {
    env: { ...process.env, BENCH_API_DATABASE_URL: db.apiUrl, BENCH_ADMIN_DATABASE_URL: db.adminUrl, ISSUER: issuer.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waits = new pg.Client({ connectionString: db.adminUrl });
  await waits.connect();
  const exited = new Promise((r) => servers.once('exit', r));
  try {
    const urls = await new Promise<{ hardened: string; naive: string }>((resolve, reject) => {
      servers.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
      servers.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
    });
    const pid = servers.pid ?? 0;
    const exp = Math.floor(Date.now() / 1000) + 4 * 3600;
    // Bearer tokens (the console's DPoP-bound ones add one proof check a request; not measured here).
    const tokens = {
      crm: await issuer.sign({ sub: 'alice', name: 'Alice Adams', roles: ['crm'], scope: 'openid', exp }),
      lead: await issuer.sign({ sub: 'bob', name: 'Bob Brown', roles: ['support_lead'], scope: 'openid', exp }),
    };

    const results: { name: Scenario; hardened: Figures[]; naive: Figures[] }[] = [];
    for (const name of ALL_SCENARIOS.filter((n) => SCENARIOS.includes(n))) {
      // A short warm-up of each side (JIT, connection pools, caches), then the measured rounds.
      const warm = sides(name, urls, tokens);
      if (name !== 'approve') {
        for (const side of [warm.hardened, warm.naive]) {
          await autocannon({ url: side.url, connections: 2, duration: 2, headers: side.token ? { authorization: `Bearer ${side.token}` } : {}, requests: [side.request()] });
        }
      }
      if (name === 'approve') console.log(`approve: ${await topUpProposals(waits)} more pending requests inserted for its rounds`);
      const result = { name, hardened: [] as Figures[], naive: [] as Figures[] };
      for (let round = 1; round <= ROUNDS; round++) {
        const s = sides(name, urls, tokens);
        result.hardened.push(await load(s.hardened, pid, waits, db.name));
        result.naive.push(await load(s.naive, pid, waits, db.name));
        console.log(`${name}: round ${round} of ${ROUNDS} done`);
      }
      results.push(result);
    }

    console.log(
      `\n${CUSTOMERS.toLocaleString('en')} customers, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, ` +
        `${new Date().toISOString().slice(0, 16)}Z; latencies in ms, CPU in ms per request\n`,
    );
    console.log('scenario  round side        req/s    p50    p95    p99  errors  412s  cpu:api     db   PostgreSQL backends (share of samples)');
    for (const r of results) {
      r.hardened.forEach((h, i) => {
        for (const [side, f] of [['hardened', h], ['naive', r.naive[i]!]] as const) {
          console.log(
            `${(i === 0 && side === 'hardened' ? r.name : '').padEnd(9)} ${String(side === 'hardened' ? i + 1 : '').padStart(5)} ${side.padEnd(8)}` +
              `${fmt(f.rps, 0)}${fmt(f.p50, 1, 7)}${fmt(f.p95, 1, 7)}${fmt(f.p99, 1, 7)}${fmt(f.errors, 0, 8)}${fmt(f.stale, 0, 6)}` +
              `${fmt(f.serverCpu, 2, 9)}${fmt(f.dbCpu, 2, 7)}   ${waitText(f.waits)}`,
          );
        }
      });
    }
    if (approvalsRanDry > 0) console.log(`\n(approve: ${approvalsRanDry} requests found no proposal left to approve and count as errors)`);

    console.log('\nratios hardened/naive and goals, round by round (✓ met, ✗ not met)');
    const reads = results.find((r) => r.name === 'read')?.hardened;
    for (const r of results) {
      for (const goal of GOALS[r.name]) {
        const checks = r.hardened.map((h, i) => goal.check(h, r.naive[i]!, reads?.[i]));
        const all = checks.every((c) => c.ok);
        console.log(`${r.name.padEnd(9)} ${goal.name.padEnd(28)} ${checks.map((c) => `${c.text}${c.ok ? '✓' : '✗'}`.padStart(8)).join(' ')}   ${all ? 'met in every round' : 'NOT met'}`);
      }
    }
  } finally {
    await waits.end().catch(() => undefined);
    servers.kill('SIGTERM');
    await exited;
    await issuer.close();
    await db.drop();
  }
  if (PROFILE_DIR) {
    const file = readdirSync(PROFILE_DIR).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      console.log(`\nV8 CPU profile of the server process: ${join(PROFILE_DIR, file)}; most self time:`);
      for (const line of summarizeProfile(readFileSync(join(PROFILE_DIR, file), 'utf8'), 25)) console.log(`  ${line}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
