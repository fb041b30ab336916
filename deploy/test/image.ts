// The container image without a container engine: reads deploy/container/Containerfile, runs its
// build stage's bundling and its deps stage's install here, then lays out the final stage's /app
// from exactly what that stage copies, so tests start the server from those files and no others.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../../testing/processes';
import { REPO_DIR, buildApi } from '../container/build-api';

export const CONTAINERFILE = join(REPO_DIR, 'deploy', 'container', 'Containerfile');

export interface Instruction {
  op: string;
  args: string;
}
export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

/** The Containerfile's stages, with ARG defaults substituted into FROM lines. */
export function parseContainerfile(text = readFileSync(CONTAINERFILE, 'utf8')): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    const [, op, rest] = m as unknown as [string, string, string];
    if (op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split('=', 2) as [string, string?];
      args[k] = v;
      continue;
    }
    if (op === 'FROM') {
      const fm = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!fm) throw new Error(`cannot read FROM ${rest}`);
      const from = fm[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
      stages.push({ from, name: fm[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${op} before the first FROM`);
    stage.instructions.push({ op, args: rest });
  }
  return { args, stages };
}

/** A JSON-array (exec form) argument list, or null for the shell form. */
export function execForm(args: string): string[] | null {
  const text = args.replace(/^(--\S+\s+)*(CMD\s+)?/, '');
  if (!text.startsWith('[')) return null;
  return JSON.parse(text) as string[];
}

export interface Image {
  /** The final stage's WORKDIR, laid out on disk. */
  appDir: string;
  /** ENV of the final stage. */
  env: Record<string, string>;
  /** CMD (arguments to the image's node entrypoint). */
  cmd: string[];
  /** npm packages the bundles import. */
  imports: string[];
  cleanup(): void;
}

/**
 * Builds the image's /app: `build` stage = buildApi (the command its last RUN gives), `deps` stage =
 * its RUN (npm ci --omit=dev ...) with --offline, from npm's cache, then the final stage's COPY lines.
 */
export async function layOutImage(): Promise<Image> {
  const { stages } = parseContainerfile();
  const root = mkdtempSync(join(tmpdir(), 'cims-image-'));
  const stageDir = (name: string) => join(root, 'stages', name);
  const build = stages.find((s) => s.name === 'build');
  const deps = stages.find((s) => s.name === 'deps');
  const final = stages.at(-1)!;
  if (!build || !deps) throw new Error('the Containerfile has no build or deps stage');

  const buildRun = build.instructions.filter((i) => i.op === 'RUN').at(-1)!.args;
  const outArg = /build-api\.ts\s+(\S+)/.exec(buildRun)?.[1];
  if (!outArg) throw new Error(`the build stage does not run build-api.ts: ${buildRun}`);
  const built = await buildApi(join(stageDir('build'), outArg));

  // The deps stage: its COPY --from=build lines, then its RUN in its WORKDIR.
  const depsWorkdir = deps.instructions.find((i) => i.op === 'WORKDIR')!.args;
  mkdirSync(join(stageDir('deps'), depsWorkdir), { recursive: true });
  for (const copy of deps.instructions.filter((i) => i.op === 'COPY')) copyLine(copy.args, depsWorkdir, stageDir('deps'), stageDir);
  const install = deps.instructions.find((i) => i.op === 'RUN')!.args.split(/\s+/);
  if (install[0] !== 'npm') throw new Error(`the deps stage installs with ${install[0]}, not npm`);
  execFileSync(install[0], [...install.slice(1), '--offline'], { cwd: join(stageDir('deps'), depsWorkdir), stdio: 'pipe' });

  const workdir = final.instructions.find((i) => i.op === 'WORKDIR')!.args;
  const finalRoot = stageDir('final');
  mkdirSync(join(finalRoot, workdir), { recursive: true });
  for (const copy of final.instructions.filter((i) => i.op === 'COPY')) copyLine(copy.args, workdir, finalRoot, stageDir);
  const env: Record<string, string> = {};
  for (const e of final.instructions.filter((i) => i.op === 'ENV')) {
    for (const pair of e.args.split(/\s+/)) {
      const [k, v] = pair.split('=', 2) as [string, string];
      env[k] = v;
    }
  }
  const cmd = execForm(final.instructions.find((i) => i.op === 'CMD')!.args);
  if (!cmd) throw new Error('CMD must be in exec form (the image has no shell)');
  return {
    appDir: join(finalRoot, workdir),
    env,
    cmd,
    imports: built.imports,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** `COPY [--from=stage] src... dest`, relative to `workdir` in the stage laid out at `into`. */
function copyLine(args: string, workdir: string, into: string, stageDir: (name: string) => string): void {
  const parts = args.split(/\s+/);
  const from = parts[0]!.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : null;
  if (!from) throw new Error(`COPY from the build context in a later stage: ${args}`);
  const dest = parts.pop()!;
  const destPath = dest.startsWith('/') ? join(into, dest) : join(into, workdir, dest);
  for (const src of parts) {
    const source = join(stageDir(from), src);
    // A trailing slash or several sources: into the folder; otherwise the file itself.
    const target = dest.endsWith('/') && !src.endsWith('/') ? join(destPath, src.split('/').pop()!) : destPath;
    cpSync(source, target, { recursive: true });
  }
}

/** Runs `node <args>` in the image's /app with only the given environment (as the container would). */
export function runInImage(image: Image, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: image.appDir, env: { ...image.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface ImageServer {
  process: ChildProcess;
  port: number;
  /** The environment it runs with beyond the image's ENV: the caller's, with CIMS_API_HOST and CIMS_API_PORT. */
  env: Record<string, string>;
  /** Everything it has printed so far, stdout and stderr together. */
  output(): string;
  /** Its exit code and signal; listened for from the start, so an early exit is not missed. */
  exited: Promise<[code: number | null, signal: NodeJS.Signals | null]>;
}

/** Starts the image's CMD (the API server) on a free port of 127.0.0.1 with `env`; resolves once it says it listens. */
export async function startServer(image: Image, env: Record<string, string>): Promise<ImageServer> {
  const port = await freePort();
  const serverEnv = { ...env, CIMS_API_HOST: '127.0.0.1', CIMS_API_PORT: String(port) };
  const child = runInImage(image, image.cmd, serverEnv);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    await waitFor(
      () => /CIMS API listening/.test(out) || child.exitCode !== null || child.signalCode !== null,
      () => `the server did not start:\n${out}`,
      { intervalMs: 100 },
    );
    if (!/CIMS API listening/.test(out)) throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before it listened:\n${out}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { process: child, port, env: serverEnv, output: () => out, exited };
}
