// `npm start`'s last step: launch the Electron console configured for the
// stack. The electron package fetches its binary the first time it is asked
// for it; where that cannot happen (no network) we say so once, clearly, and
// leave the stack running. Electron is only located and spawned here, never
// imported: the API workspace has no Electron code.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadyInfo } from './stack';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: stderr + err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastLine = (text: string): string =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .at(-1)
    ?.trim()
    .slice(0, 300) ?? 'no output';

/** The most telling line of a failed run's output (the network error, rather than Node's version footer). */
function reasonFrom(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !l.startsWith('Node.js v'));
  return (lines.find((l) => /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|certificate/i.test(l)) ?? lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

/** The Electron executable, fetched by the electron package if it can; a reason when there is none. */
export async function findElectron(repoRoot: string): Promise<{ path: string } | { missing: string }> {
  // require('electron') returns the executable's path, downloading it first when it is missing.
  const located = await run(process.execPath, ['-e', "process.stdout.write(require('electron'))"], repoRoot, 180_000);
  const path = located.stdout.trim() ? lastLine(located.stdout) : '';
  if (located.code !== 0 || !path) return { missing: `the electron package could not provide its binary: ${reasonFrom(located.stderr)}` };
  if (!existsSync(path)) return { missing: `the Electron executable ${path} does not exist` };
  const version = await run(path, ['--version'], repoRoot, 20_000);
  if (version.code !== 0) return { missing: `${path} --version failed: ${reasonFrom(version.stderr)}` };
  return { path };
}

export function missingElectronParagraph(reason: string): string {
  return [
    'The console was not launched: no Electron binary is installed on this machine,',
    `and none could be fetched (${reason}).`,
    'The stack keeps running, so tests, tools and a console started elsewhere can use it.',
    'To launch the console here, either set ELECTRON_OVERRIDE_DIST_PATH to a local, unpacked',
    'Electron 45 distribution (the folder that contains the electron executable) and run npm start again,',
    'or run npm start once on a networked machine so the electron package can fetch its binary.',
  ].join(' ');
}

async function ensureBuilt(repoRoot: string, log: (line: string) => void): Promise<boolean> {
  const steps: Array<[string, string]> = [
    [join(repoRoot, 'dist', 'electron', 'main.js'), 'build:electron'],
    [join(repoRoot, 'dist', 'renderer', 'index.html'), 'build:renderer'],
  ];
  for (const [output, script] of steps) {
    if (existsSync(output)) continue;
    log(`building the console (npm run ${script})`);
    const built = await run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '-s', script], repoRoot, 300_000);
    if (built.code !== 0 || !existsSync(output)) {
      log(`npm run ${script} failed: ${reasonFrom(built.stderr || built.stdout)}. The stack keeps running.`);
      return false;
    }
  }
  return true;
}

/** Launches the console against the stack; calls `onExit` when the console window is closed. */
export function launchConsole(repoRoot: string, ready: ReadyInfo, log: (line: string) => void, onExit: () => void): void {
  void (async () => {
    const electron = await findElectron(repoRoot);
    if ('missing' in electron) {
      process.stderr.write(`\n${missingElectronParagraph(electron.missing)}\n\n`);
      return;
    }
    if (!(await ensureBuilt(repoRoot, log))) return;
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main?: string };
    const app = pkg.main ? repoRoot : join(repoRoot, 'dist', 'electron', 'main.js');
    log('launching the console');
    const child = spawn(electron.path, [app], {
      cwd: repoRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        CIMS_ISSUER: ready.issuer,
        CIMS_API_BASE_URL: ready.api,
        CIMS_CLIENT_ID: ready.clientId,
        CIMS_API_AUDIENCE: ready.audience,
        CIMS_SCOPE: ready.scope,
      },
    });
    child.on('error', (err) => log(`the console could not start: ${err.message}. The stack keeps running.`));
    child.on('exit', (code) => {
      log(`the console exited (code ${code ?? 'signal'})`);
      onExit();
    });
  })();
}
