// Starts `npm run stack` the way a developer would and reads its ready line with
// the stack's own schema (devstack/src/stack/ready.ts), so tests never guess ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReadyLine, type ReadyInfo } from '../devstack/src/stack/ready';

export { parseReadyLine, READY_PREFIX, ReadyInfo } from '../devstack/src/stack/ready';

export const REPO_ROOT = join(import.meta.dirname, '..');

export type StackInfo = ReadyInfo;

export interface RunningStack {
  info: StackInfo;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Resolves with the ready info from the first ready line of `stdout`; rejects when the process exits first or after `timeoutMs`. */
export function readyInfoFrom(child: ChildProcess, timeoutMs: number, output = { text: '' }): Promise<ReadyInfo> {
  return new Promise<ReadyInfo>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`stack not ready after ${timeoutMs / 1000} s:\n${output.text}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output.text += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const info = parseReadyLine(line);
          if (!info) continue;
          clearTimeout(timer);
          resolve(info);
        } catch (err) {
          clearTimeout(timer);
          reject(new Error(`the stack's ready line does not match its schema: ${(err as Error).message}\n${line}`));
        }
      }
    });
    child.stderr?.on('data', (c: Buffer) => (output.text += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before it was ready:\n${output.text}`));
    });
  });
}

export async function startStack(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cims-e2e-stack-'));
  // Detached: its own process group, so SIGTERM reaches npm, tsx and node as a terminal's would.
  const child = spawn('npm', ['run', '-s', 'stack', '--', '--data-dir', dataDir, ...extraArgs], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const info = await readyInfoFrom(child, 180_000);
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
