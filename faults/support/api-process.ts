// The real API as its own process: the server entry (api/src/server.ts) under
// `node --import tsx`, configured through the environment exactly as deployed.
// It can be killed with SIGKILL and started again; every process started here is
// killed when the test file ends (killAllApis in afterAll, and on exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ENTRY = resolve(ROOT, 'api/src/server.ts');

export interface ApiProcessOptions {
  databaseUrl: string;
  issuer: string;
  /** CIMS_AUDIT_SIGNING_KEY, CIMS_AUDIT_SINK_DIR, ... (testing/audit.ts `env`). */
  auditEnv: Record<string, string>;
  /** 0 (default) lets the OS pick; pass a port to come back on the same address. */
  port?: number;
  env?: Record<string, string>;
}

export interface ApiProcess {
  url: string;
  port: number;
  pid: number;
  /** Everything it wrote (its request log and errors), for failure messages. */
  output(): string;
  /** Whether it is still running. */
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function startApiProcess(opts: ApiProcessOptions, timeoutMs = 30_000): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: opts.databaseUrl,
      ISSUER: opts.issuer,
      CIMS_API_HOST: '127.0.0.1',
      CIMS_API_PORT: String(opts.port ?? 0),
      ...opts.auditEnv,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let exited = false;
  child.once('exit', () => {
    exited = true;
    children.delete(child);
  });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the API did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    let ready = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.length > 2_000_000) out = out.slice(-1_000_000);
      if (ready) return;
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*CIMS API listening|CIMS API listening[^\n]*"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        ready = true;
        clearTimeout(timer);
        ok((m[1] ?? m[2])!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`the API exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    output: () => out,
    alive: () => !exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (exited) return;
      const gone = once(child, 'exit');
      child.kill(signal);
      await gone;
    },
  };
}

/** Kills every API process still running (afterAll). */
export async function killAllApis(): Promise<void> {
  await Promise.all(
    [...children].map(async (c) => {
      const gone = once(c, 'exit');
      c.kill('SIGKILL');
      await gone;
    }),
  );
}
