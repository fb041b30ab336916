// Starts `npm run stack` the way a developer would and reads its ready line,
// so the tests never guess ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StackInfo {
  issuer: string;
  api: string;
  clientId: string;
  audience: string;
  scope: string;
  dataDir: string;
  demoAccounts: { username: string; password: string; roles: string[] }[];
}

export interface RunningStack {
  info: StackInfo;
  process: ChildProcess;
  stop(): Promise<void>;
}

const READY = 'CIMS stack ready ';

export async function startStack(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cims-e2e-stack-'));
  const child = spawn('npm', ['run', '-s', 'stack', '--', '--data-dir', dataDir, ...extraArgs], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const info = await new Promise<StackInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack not ready after 180 s:\n${output}`)), 180_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith(READY));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(READY.length)) as StackInfo);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    info,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        process.kill(-child.pid!, 'SIGTERM');
      }),
  };
}
