// The API as the container runs it, in one folder (the Containerfile's build stage runs this):
//   src/server.js, src/db/migrate-cli.js  the server and the migrator, our code bundled (api/src and
//                                         shared/), every npm package left as an import
//   healthcheck.js, copy-secret.js        the image's HEALTHCHECK and the key-copying init step
//   sql/                                  migrations and function definitions (the migrator reads them)
//   package.json, package-lock.json       exactly api/package.json's dependencies, locked at the
//                                         versions of the repository's package-lock.json
// `npm ci --omit=dev` in that folder then installs the production dependencies and nothing else.
// Usage: node --import tsx deploy/container/build-api.ts <out-dir>
import { builtinModules } from 'node:module';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Source entry (relative to the repository) -> output file (relative to the out folder). */
export const ENTRIES = {
  'api/src/server.ts': 'src/server.js',
  'api/src/db/migrate-cli.ts': 'src/db/migrate-cli.js',
  'deploy/container/healthcheck.ts': 'healthcheck.js',
  'deploy/container/copy-secret.ts': 'copy-secret.js',
} as const;

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}
interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}
interface PackageJson {
  name: string;
  version: string;
  type?: string;
  dependencies?: Record<string, string>;
  engines?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Where Node finds `name` from the package at lock path `from` (its own node_modules, then each parent's). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return null;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut >= 0 ? dir.slice(0, cut) : '';
  }
}

/**
 * The lockfile of the API workspace's production dependencies alone: every package Node would load
 * from api/ (its dependencies, theirs, present optional and required peer dependencies), at the paths
 * it has in the repository's lock, re-rooted so that `api/node_modules/x` becomes `node_modules/x`.
 */
export function apiProductionLock(rootLock: Lockfile, api: PackageJson): Lockfile {
  const { packages } = rootLock;
  const closure = new Map<string, string>(); // lock path in the root lock -> path in the new lock
  const visit = (from: string, deps: Record<string, string>, optional: Set<string>) => {
    for (const name of Object.keys(deps)) {
      const at = resolveIn(packages, from, name);
      if (!at) {
        if (optional.has(name)) continue;
        throw new Error(`${from || 'the root'} needs ${name}, which package-lock.json does not hold: run npm install`);
      }
      if (closure.has(at)) continue;
      const entry = packages[at]!;
      if (entry.link) throw new Error(`${name} is a workspace link (${at}): the API must not depend on another workspace`);
      closure.set(at, at.startsWith('api/') ? at.slice('api/'.length) : at);
      const peerOptional = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n));
      const requiredPeers = Object.fromEntries(Object.entries(entry.peerDependencies ?? {}).filter(([n]) => !peerOptional.has(n)));
      visit(at, { ...entry.dependencies, ...requiredPeers }, new Set());
      visit(at, entry.optionalDependencies ?? {}, new Set(Object.keys(entry.optionalDependencies ?? {})));
    }
  };
  visit('api', api.dependencies ?? {}, new Set());

  const out: Record<string, LockEntry> = {
    '': { name: api.name, version: api.version, dependencies: api.dependencies ?? {}, ...(api.engines ? { engines: api.engines } : {}) },
  };
  for (const [from, to] of [...closure].sort(([a], [b]) => a.localeCompare(b))) {
    if (out[to]) throw new Error(`two versions of one package land at ${to}; the API's dependency tree cannot be re-rooted`);
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = packages[from]!;
    out[to] = entry;
  }
  return { name: api.name, version: api.version, lockfileVersion: 3, packages: out };
}

export interface BuiltApi {
  outDir: string;
  /** npm packages the bundles import (each must be a declared dependency of the API). */
  imports: string[];
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** Builds the folder the container copies; refuses a bundle that imports a package the API does not declare. */
export async function buildApi(outDir: string, repoDir = REPO_DIR): Promise<BuiltApi> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const api = readJson<PackageJson>(join(repoDir, 'api', 'package.json'));
  const declared = new Set(Object.keys(api.dependencies ?? {}));
  const imports = new Set<string>();
  for (const [entry, outFile] of Object.entries(ENTRIES)) {
    const result = await build({
      entryPoints: [join(repoDir, entry)],
      outfile: join(outDir, outFile),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      packages: 'external',
      metafile: true,
      logLevel: 'warning',
      legalComments: 'none',
    });
    for (const output of Object.values(result.metafile.outputs)) {
      for (const imported of output.imports) {
        if (imported.external && !BUILTINS.has(imported.path)) imports.add(packageOf(imported.path));
      }
    }
  }
  const undeclared = [...imports].filter((p) => !declared.has(p));
  if (undeclared.length) {
    throw new Error(`the API imports ${undeclared.join(', ')} without declaring it in api/package.json: the container would not have it`);
  }
  cpSync(join(repoDir, 'api', 'sql'), join(outDir, 'sql'), { recursive: true });
  const pkg: PackageJson = { name: api.name, version: api.version, type: 'module', dependencies: api.dependencies ?? {}, ...(api.engines ? { engines: api.engines } : {}) };
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ ...pkg, private: true }, null, 2)}\n`);
  const lock = apiProductionLock(readJson<Lockfile>(join(repoDir, 'package-lock.json')), api);
  writeFileSync(join(outDir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  return { outDir, imports: [...imports].sort() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node --import tsx deploy/container/build-api.ts <out-dir>');
    process.exit(2);
  }
  const built = await buildApi(resolve(out));
  console.log(`API built in ${built.outDir}; it imports ${built.imports.join(', ')}`);
}
