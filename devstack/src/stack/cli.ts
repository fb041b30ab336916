// `npm run stack` and `npm start`: the demo stack in one command.
//   --data-dir DIR      where data persists (default .data/stack in the repository)
//   --reset             start over: remove the stack's data first
//   --customers N       demo customers to generate when the database is empty (default 500)
//   --seed N            generator seed (same seed, same data)
//   --usage-customers N customers that get 180 days of usage (default: all up to 20,000)
//   --electron          then launch the console against it (what `npm start` does)
// Ports: CIMS_IDP_PORT (4800), CIMS_API_PORT (4801), CIMS_PORTAL_PORT (4803, the demo
// customer portal). DATABASE_URL: PostgreSQL as
// its migrator instead of the embedded database (CIMS_API_DATABASE_URL: the
// API's cims_api connection, default: the same URL with user cims_api).
// The API refuses people's bearer tokens (requireDpop) unless CIMS_REQUIRE_DPOP=0.
// When ready it prints one line `CIMS stack ready {json}` to stdout; progress
// and notes go to stderr.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createProgress } from '../seed/progress';
import { MAX_CUSTOMERS } from '../seed/generate';
import { launchConsole } from './console-launcher';
import { READY_PREFIX, isUserFacing, startStack } from './stack';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const note = (line: string) => process.stderr.write(`cims stack: ${line}\n`);

function fail(message: string, code = 1): never {
  process.stderr.write(`\ncims stack: ${message}\n`);
  process.exit(code);
}

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be a whole number from ${min} to ${max} (got "${value}").`, 2);
  return n;
}

function portFromEnv(name: string): number | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) fail(`${name} must be a port number from 1 to 65535, or 0 for any free port (got "${value}").`, 2);
  return n;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        reset: { type: 'boolean', default: false },
        customers: { type: 'string' },
        seed: { type: 'string' },
        'usage-customers': { type: 'string' },
        electron: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}. Options: --data-dir DIR, --reset, --customers N, --seed N, --usage-customers N.`, 2);
  }
  if (args.help) {
    process.stdout.write('Usage: npm run stack -- [--reset] [--customers N] [--seed N] [--usage-customers N] [--data-dir DIR]\n');
    return;
  }

  // Ctrl+C while starting (seeding can take minutes) stops between steps and undoes what was started.
  const starting = new AbortController();
  const abortStart = (signal: string) => {
    if (starting.signal.aborted) return;
    note(`${signal}: stopping before the stack was ready`);
    starting.abort();
  };
  const onStartSignal = { SIGINT: () => abortStart('SIGINT'), SIGTERM: () => abortStart('SIGTERM'), SIGHUP: () => abortStart('SIGHUP') };
  for (const [sig, handler] of Object.entries(onStartSignal)) process.on(sig, handler);

  const stack = await startStack({
    dataDir: args['data-dir'] ?? join(REPO_ROOT, '.data', 'stack'),
    reset: args.reset,
    customers: intOption('customers', args.customers, 0, MAX_CUSTOMERS),
    seed: intOption('seed', args.seed, 0, 2 ** 31 - 1),
    usageCustomers: intOption('usage-customers', args['usage-customers'], 0, MAX_CUSTOMERS),
    idpPort: portFromEnv('CIMS_IDP_PORT'),
    apiPort: portFromEnv('CIMS_API_PORT'),
    portalPort: portFromEnv('CIMS_PORTAL_PORT'),
    databaseUrl: process.env.DATABASE_URL || undefined,
    apiDatabaseUrl: process.env.CIMS_API_DATABASE_URL || undefined,
    requireDpop: process.env.CIMS_REQUIRE_DPOP !== '0',
    log: note,
    progress: createProgress(process.stderr),
    signal: starting.signal,
  }).catch((err: unknown) => {
    if (starting.signal.aborted) fail('stopped; nothing is left running.', 1);
    if (isUserFacing(err)) fail(err.message);
    fail(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
  });

  for (const [sig, handler] of Object.entries(onStartSignal)) process.off(sig, handler);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    note(`${signal}: stopping`);
    const timer = setTimeout(() => {
      note('did not stop within 10 s; exiting');
      process.exit(1);
    }, 10_000);
    timer.unref();
    stack.close().then(
      () => {
        note('stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        note(`stopped with an error: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));

  process.stdout.write(`${READY_PREFIX}${JSON.stringify(stack.ready)}\n`);
  note(`OpenID provider ${stack.ready.issuer}, API ${stack.ready.api} (log: ${stack.ready.apiLog}), customer portal ${stack.ready.portal ?? '(off)'}. Ctrl+C stops everything.`);

  if (args.electron) {
    launchConsole(REPO_ROOT, stack.ready, note, () => stop('console closed'));
  }
}

main().catch((err: unknown) => fail(`failed: ${err instanceof Error ? err.message : String(err)}`));
