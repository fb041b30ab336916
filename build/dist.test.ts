// `npm run dist` stops before electron-builder, with one clear message, when no Electron
// distribution can be found (as on these machines: no network, node_modules/electron/dist missing).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from './temp-dirs';
import { electronVersion, findElectronDist } from './electron-dist';

const tempDir = useTempDirs();

const root = join(import.meta.dirname, '..');
const version = electronVersion(root);

/** A project folder whose node_modules/electron has package.json only (what `npm ci` leaves for Electron 45). */
function project(): string {
  const dir = tempDir('dist-project-');
  mkdirSync(join(dir, 'node_modules', 'electron'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'electron', 'package.json'), JSON.stringify({ name: 'electron', version }));
  return dir;
}

/** An unzipped Electron release folder as far as packaging looks at it: the binary and the version file. */
function electronFolder(withVersion: string): string {
  const dir = tempDir(`electron-v${withVersion}-`);
  writeFileSync(join(dir, 'electron'), 'binary');
  writeFileSync(join(dir, 'version'), withVersion);
  return dir;
}

const query = (projectDir: string, env: Record<string, string> = {}) => findElectronDist({ projectDir, env, platform: 'linux', arch: 'x64' });

describe('finding the Electron distribution', () => {
  it('explains what is missing and how to provide it when there is none', () => {
    const result = query(project());
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.message;
    expect(message).toContain(`no Electron ${version} distribution for linux-x64`);
    expect(message).toContain('ELECTRON_DIST_DIR is not set');
    expect(message).toContain('node_modules/electron/dist is missing');
    expect(message).toContain(`ELECTRON_DIST_DIR=/path/to/electron-v${version}-linux-x64 npm run dist`);
    expect(message).toContain('node node_modules/electron/install.js');
    expect(message).toContain('Nothing was packaged.');
  });

  it('names a wrong ELECTRON_DIST_DIR and a wrong Electron version', () => {
    const empty = tempDir('empty-');
    const wrongFolder = query(project(), { ELECTRON_DIST_DIR: empty });
    expect(wrongFolder.ok ? '' : wrongFolder.message).toContain(`ELECTRON_DIST_DIR: ${empty} holds neither electron nor electron-v${version}-linux-x64.zip`);
    const old = electronFolder('44.0.0');
    const wrongVersion = query(project(), { ELECTRON_DIST_DIR: old });
    expect(wrongVersion.ok ? '' : wrongVersion.message).toContain(`holds Electron 44.0.0, but the app is built for Electron ${version}`);
  });

  it('takes ELECTRON_DIST_DIR, a folder holding the release zip, or node_modules/electron/dist', () => {
    const dir = electronFolder(version);
    expect(query(project(), { ELECTRON_DIST_DIR: dir })).toMatchObject({ ok: true, dir, source: 'ELECTRON_DIST_DIR' });
    const zips = tempDir('zips-');
    writeFileSync(join(zips, `electron-v${version}-linux-x64.zip`), 'zip');
    expect(query(project(), { ELECTRON_DIST_DIR: zips })).toMatchObject({ ok: true, dir: zips });
    const installed = project();
    mkdirSync(join(installed, 'node_modules', 'electron', 'dist'));
    writeFileSync(join(installed, 'node_modules', 'electron', 'dist', 'electron'), 'binary');
    expect(query(installed)).toMatchObject({ ok: true, source: 'node_modules/electron/dist' });
  });
});

describe('npm run dist', () => {
  const dist = (env: Record<string, string | undefined>) =>
    spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'build', 'scripts', 'dist.ts')], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

  it('stops with the message and exit code 2, before building or calling electron-builder', () => {
    const run = dist({ ELECTRON_DIST_DIR: tempDir('empty-') });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`Cannot package CIMS Console: no Electron ${version} distribution for ${process.platform}-${process.arch}`);
    expect(run.stdout + run.stderr).not.toMatch(/build:renderer|electron-builder\s+version|SBOM written/);
  }, 30_000);

  it.skipIf(existsSync(join(root, 'node_modules', 'electron', 'dist')))('says so on this machine, where Electron has no binary', () => {
    const run = dist({ ELECTRON_DIST_DIR: undefined });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('node_modules/electron/dist is missing');
  }, 30_000);
});
