// Child process of the API benchmark: serves the hardened API (real store,
// audit sealing, access-log barrier, token verification, validation, logs to
// a discarding sink) and the naive endpoint side by side, so the load
// generator in the parent does not share their event loop.
import { openStore } from '../api/src/db/pg-store';
import { startApi } from '../api/src/server';
import { createTestAudit } from '../testing/audit';
import { startNaiveServer } from './naive-server';

const apiUrl = process.env.BENCH_API_DATABASE_URL;
const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL;
const issuer = process.env.ISSUER;
if (!apiUrl || !adminUrl || !issuer) throw new Error('BENCH_API_DATABASE_URL, BENCH_ADMIN_DATABASE_URL and ISSUER are required');

// BENCH_POOL_SIZE: the hardened store's connections (the API's default, 10, unless set).
const store = await openStore({ databaseUrl: apiUrl, poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10) });
// A throwaway signing key and sink: checkpoints are signed as in production.
const audit = createTestAudit();
const api = await startApi({
  store,
  ownsStore: true,
  audit: audit.config,
  issuer,
  port: 0,
  // Logging stays on (its cost is part of the design); lines go nowhere.
  logger: { level: 'info', sink: { write: () => undefined } },
  // One subject drives thousands of requests a second here; the limiter still runs.
  rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 },
});
const naive = await startNaiveServer(adminUrl, 10);
console.log(JSON.stringify({ hardened: api.url, naive: naive.url }));

const stop = async () => {
  await Promise.all([api.close(), naive.close()]);
  audit.cleanup();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
