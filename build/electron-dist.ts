// Where `npm run dist` finds the Electron distribution electron-builder packages the app into.
// Electron 45 fetches its binary on first run, not at install, so a machine without network
// access has none; packaging then stops before electron-builder with one message that says
// what is missing and how to provide it.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ElectronDistQuery {
  projectDir: string;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  arch: string;
}

export type ElectronDistResult =
  | { ok: true; dir: string; source: 'ELECTRON_DIST_DIR' | 'node_modules/electron/dist'; electronVersion: string }
  | { ok: false; message: string };

const BINARY: Partial<Record<NodeJS.Platform, string>> = { linux: 'electron', win32: 'electron.exe', darwin: 'Electron.app' };

export function electronVersion(projectDir: string): string {
  const pkg = JSON.parse(readFileSync(join(projectDir, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Why `dir` is not a usable Electron distribution for this version, platform and arch, or null when it is. */
function problemWith(dir: string, version: string, platform: NodeJS.Platform, arch: string): string | null {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return `${dir} does not exist or is not a folder`;
  const zip = `electron-v${version}-${platform}-${arch}.zip`;
  if (existsSync(join(dir, zip))) return null;
  const binary = BINARY[platform] ?? 'electron';
  if (!existsSync(join(dir, binary))) {
    const found = readdirSync(dir).slice(0, 5).join(', ') || 'nothing';
    return `${dir} holds neither ${binary} nor ${zip} (found: ${found})`;
  }
  const versionFile = join(dir, 'version');
  if (existsSync(versionFile)) {
    const found = readFileSync(versionFile, 'utf8').trim().replace(/^v/, '');
    if (found !== version) return `${dir} holds Electron ${found}, but the app is built for Electron ${version}`;
  }
  return null;
}

export function findElectronDist({ projectDir, env, platform, arch }: ElectronDistQuery): ElectronDistResult {
  const version = electronVersion(projectDir);
  const target = `${platform}-${arch}`;
  const problems: string[] = [];

  const fromEnv = env.ELECTRON_DIST_DIR?.trim();
  if (fromEnv) {
    const dir = resolve(projectDir, fromEnv);
    const problem = problemWith(dir, version, platform, arch);
    if (!problem) return { ok: true, dir, source: 'ELECTRON_DIST_DIR', electronVersion: version };
    problems.push(`ELECTRON_DIST_DIR: ${problem}`);
  } else {
    problems.push('ELECTRON_DIST_DIR is not set');
  }

  const installed = join(projectDir, 'node_modules', 'electron', 'dist');
  const problem = problemWith(installed, version, platform, arch);
  if (!problem) return { ok: true, dir: installed, source: 'node_modules/electron/dist', electronVersion: version };
  problems.push(
    existsSync(installed)
      ? `node_modules/electron/dist: ${problem}`
      : 'node_modules/electron/dist is missing (Electron fetches its binary on first run, not at npm install)',
  );

  const message = [
    `Cannot package CIMS Console: no Electron ${version} distribution for ${target} is available.`,
    ...problems.map((p) => `  - ${p}`),
    'Provide one, then run `npm run dist` again:',
    `  1. ELECTRON_DIST_DIR=/path/to/electron-v${version}-${target} npm run dist`,
    `     (the unzipped release asset electron-v${version}-${target}.zip, or a folder that holds that zip;`,
    "     it becomes electron-builder's `electronDist`), or",
    '  2. node node_modules/electron/install.js',
    `     (downloads Electron ${version} into node_modules/electron/dist; needs network access,`,
    '     or ELECTRON_MIRROR pointing at an internal mirror).',
    'Nothing was packaged.',
  ].join('\n');
  return { ok: false, message };
}
