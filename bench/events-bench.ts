// `npm run bench:events`: 1,000 concurrent change streams (GET /v1/events) on
// one API process (a child process, bench/events-server.ts), over a fresh
// PostgreSQL database. Reports the API process's memory per stream, its CPU
// per stream while idle (heartbeats only) and per delivered event, and the delay
// from a write's commit to its event arriving at the streams (p50/p99).
// A report, not a test. The numbers depend on the machine and on what else runs.
//
//   EVENTS_BENCH_STREAMS=1000 EVENTS_BENCH_WRITES=300 npm run bench:events
import { spawn } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStore } from '../api/src/db/pg-store';
import { createScratchDatabase, seedCustomer, testContext } from '../testing/db';
import { startTestIssuer } from '../testing/issuer';

const STREAMS = Number(process.env.EVENTS_BENCH_STREAMS ?? 1_000);
/** Streams per CRM: several consoles each (and so several deliveries of each of their changes). */
const PER_CRM = 10;
const CRMS = Math.max(1, Math.floor(STREAMS / PER_CRM));
const WRITES = Number(process.env.EVENTS_BENCH_WRITES ?? 300);
const WRITES_PER_SECOND = 20;
const IDLE_SECONDS = 20;
const HEARTBEAT_MS = 5_000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  rss: number;
  heapUsed: number;
  cpuUs: number;
  streams: number;
  delivered: number;
  lookups: number;
}

async function main(): Promise<void> {
  const db = await createScratchDatabase('cims_bench_events');
  const issuer = await startTestIssuer('ES256');
  const orgOf = (i: number) => `ORG-${String(900_000 + i).padStart(6, '0')}`;
  const admin = await import('pg').then(({ default: pg }) => new pg.Client({ connectionString: db.adminUrl }));
  await admin.connect();
  for (let i = 0; i < CRMS; i++) await seedCustomer(admin, { orgId: orgOf(i), ownerSub: `crm-${i}`, ownerName: `CRM ${i}` });
  await admin.end();

  const server = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./events-server.ts', import.meta.url))], {
    env: { ...process.env, BENCH_API_DATABASE_URL: db.apiUrl, ISSUER: issuer.url, BENCH_HEARTBEAT_MS: String(HEARTBEAT_MS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: server.stdout! });
  const replies: ((line: string) => void)[] = [];
  lines.on('line', (l) => replies.shift()?.(l));
  const next = () => new Promise<string>((resolve) => replies.push(resolve));
  const stats = async (): Promise<Stats> => {
    const reply = next();
    server.stdin!.write('gc\n');
    return JSON.parse(await reply) as Stats;
  };
  const streams: IncomingMessage[] = [];
  try {
    const { url } = JSON.parse(await next()) as { url: string };
    const base = new URL(url);
    const tokens = await Promise.all(
      Array.from({ length: CRMS }, (_, i) =>
        issuer.sign({ sub: `crm-${i}`, name: `CRM ${i}`, roles: ['crm'], scope: 'openid', exp: Math.floor(Date.now() / 1000) + 3_600 }),
      ),
    );
    // Warm the process (token verification, routes) before the baseline.
    await sleep(1_000);
    const before = await stats();
    // The process's own idle cost without streams (audit sealing rounds, timers), subtracted below.
    await sleep(IDLE_SECONDS * 1_000);
    const baseline = await stats();

    // Each arrival of a change event: which write (by org and version) and when.
    const arrivals = new Map<string, number[]>();
    const open = (token: string) =>
      new Promise<void>((resolve, reject) => {
        const req = request({ host: base.hostname, port: base.port, path: '/v1/events', headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false });
        req.on('response', (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
          streams.push(res);
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = performance.now();
            buf += chunk;
            let at: number;
            while ((at = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, at);
              buf = buf.slice(at + 2);
              const data = /^data: (.*)$/m.exec(block)?.[1];
              if (!block.includes('event: change') || !data) continue;
              const c = JSON.parse(data) as { entity: string; version: number };
              const key = `${c.entity}@${c.version}`;
              arrivals.set(key, [...(arrivals.get(key) ?? []), now]);
            }
          });
          resolve();
        });
        req.on('error', reject);
        req.end();
      });
    const openStarted = performance.now();
    for (let i = 0; i < STREAMS; i += 50) await Promise.all(Array.from({ length: Math.min(50, STREAMS - i) }, (_, k) => open(tokens[(i + k) % CRMS]!)));
    const openSeconds = (performance.now() - openStarted) / 1000;
    await sleep(2_000);
    const opened = await stats();

    // Idle: heartbeats only.
    await sleep(IDLE_SECONDS * 1_000);
    const idle = await stats();

    // Writes through the API's own store (as the API's edits are), paced; each concerns one CRM's PER_CRM streams.
    const store = await openStore({ databaseUrl: db.apiUrl, poolSize: 4, sealIntervalMs: 0 });
    const versions = new Map<string, number>();
    const writes: { key: string; started: number; answered: number }[] = [];
    const writeStart = performance.now();
    const pending: Promise<void>[] = [];
    for (let w = 0; w < WRITES; w++) {
      const i = w % CRMS;
      const orgId = orgOf(i);
      const v = versions.get(orgId) ?? 1;
      versions.set(orgId, v + 1);
      const started = performance.now();
      pending.push(
        store
          .updateCustomer({ sub: `crm-${i}`, name: `CRM ${i}`, roles: ['crm'], scopes: ['openid'] }, testContext(), orgId, v, { contactName: `Contact ${w}` }, 'Benchmark edit')
          .then(() => void writes.push({ key: `${orgId}@${v + 1}`, started, answered: performance.now() })),
      );
      await sleep(Math.max(0, writeStart + ((w + 1) * 1_000) / WRITES_PER_SECOND - performance.now()));
    }
    await Promise.all(pending);
    await sleep(2_000);
    const busy = await stats();
    await store.close();

    const fromAnswer: number[] = [];
    const fromStart: number[] = [];
    let missing = 0;
    for (const w of writes) {
      const got = arrivals.get(w.key) ?? [];
      missing += PER_CRM - got.length;
      for (const t of got) {
        fromAnswer.push(t - w.answered);
        fromStart.push(t - w.started);
      }
    }
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    const kbPerStream = (a: number, b: number) => ((b - a) / STREAMS / 1024).toFixed(1);
    const delivered = busy.delivered - idle.delivered;
    console.log(`\nChange streams: ${STREAMS} concurrent on one API process (${CRMS} CRMs x ${PER_CRM} consoles), heartbeat every ${HEARTBEAT_MS / 1000} s`);
    console.log(`  opened in ${openSeconds.toFixed(1)} s; open streams at the API: ${opened.streams}`);
    console.log(`  memory: rss ${mb(before.rss)} -> ${mb(opened.rss)} MB (${kbPerStream(before.rss, opened.rss)} KB per stream), heap ${mb(before.heapUsed)} -> ${mb(opened.heapUsed)} MB (${kbPerStream(before.heapUsed, opened.heapUsed)} KB per stream)`);
    const idleCpuMs = (idle.cpuUs - opened.cpuUs) / 1000;
    const baseCpuMs = (baseline.cpuUs - before.cpuUs) / 1000;
    const perStreamUs = ((idleCpuMs - baseCpuMs) / IDLE_SECONDS / STREAMS) * 1000;
    console.log(`  CPU idle: ${idleCpuMs.toFixed(0)} ms over ${IDLE_SECONDS} s with the streams, ${baseCpuMs.toFixed(0)} ms without = ${perStreamUs.toFixed(1)} us per stream per second (${((idleCpuMs / (IDLE_SECONDS * 1000)) * 100).toFixed(1)}% of a core in all)`);
    const busyCpuMs = (busy.cpuUs - idle.cpuUs) / 1000;
    console.log(`  CPU with ${WRITES} writes at ${WRITES_PER_SECOND}/s: ${busyCpuMs.toFixed(0)} ms for ${delivered} deliveries = ${((busyCpuMs * 1000) / Math.max(delivered, 1)).toFixed(0)} us per delivered event (lookups: ${busy.lookups - idle.lookups}); missing deliveries: ${missing}`);
    console.log(`  delay commit -> event at the stream, from the write being answered: p50 ${pct(fromAnswer, 50).toFixed(1)} ms, p99 ${pct(fromAnswer, 99).toFixed(1)} ms (negative: the event came before the answer)`);
    console.log(`  delay from the write being sent (includes the write itself): p50 ${pct(fromStart, 50).toFixed(1)} ms, p99 ${pct(fromStart, 99).toFixed(1)} ms`);
  } finally {
    for (const s of streams) s.destroy();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await issuer.close();
    await db.drop();
  }
}

await main();
