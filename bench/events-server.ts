// Child process of the change-stream benchmark: one API process with its one
// listener, so the streams' memory and CPU are measured apart from the load
// generator. Answers "stats" on stdin with its memory, CPU time and open streams.
import { createInterface } from 'node:readline';
import { buildApp } from '../api/src/app';
import { openStore } from '../api/src/db/pg-store';
import { pgChangeSource } from '../api/src/live/listener';
import { createTestAudit } from '../testing/audit';

const apiUrl = process.env.BENCH_API_DATABASE_URL;
const issuer = process.env.ISSUER;
if (!apiUrl || !issuer) throw new Error('BENCH_API_DATABASE_URL and ISSUER are required');

const store = await openStore({ databaseUrl: apiUrl, poolSize: 4 });
const audit = createTestAudit();
const app = await buildApp({
  store,
  audit: audit.config,
  issuer,
  logger: false,
  rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 },
  changes: pgChangeSource(apiUrl),
  live: { maxStreamsPerSubject: 1_000, heartbeatMs: Number(process.env.BENCH_HEARTBEAT_MS ?? 15_000) },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'gc') globalThis.gc?.();
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, cpuUs: cpu.user + cpu.system, streams: app.live.streams, ...app.live.stats }));
});
process.once('SIGTERM', () => {
  void app.close().then(() => store.close()).finally(() => {
    audit.cleanup();
    process.exit(0);
  });
});
