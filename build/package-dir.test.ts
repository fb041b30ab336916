// A real electron-builder run (`--linux --dir`, no installer) of the real app, opt-in because it
// takes about half a minute: CIMS_PACKAGE_TEST=1 npx vitest run --project unit build/package-dir.test.ts
// Needs the built app (dist/electron, dist/renderer). No Electron binary exists on these machines,
// so the Electron distribution is a stand-in folder whose `electron` file carries a real fuse wire;
// everything else (loading the config, collecting production modules, asar, flipping the fuses, the
// fuse check in our hooks) is electron-builder's own work. keytar is not rebuilt (no Electron headers offline).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listPackage } from '@electron/asar';
import { FuseState, SENTINEL } from '@electron/fuses/dist/constants';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from './temp-dirs';
import { electronVersion } from './electron-dist';
import { fuseMismatches } from './fuses';
import { BUILT_OUTPUT } from './scripts/dist';

const root = join(import.meta.dirname, '..');
const enabled = process.env.CIMS_PACKAGE_TEST === '1';
const tempDir = useTempDirs();

function standInElectron(): string {
  const dir = tempDir('electron-dist-');
  const wire = Buffer.from([1, 9, ...Array<number>(9).fill(FuseState.INHERIT)]);
  writeFileSync(join(dir, 'electron'), Buffer.concat([Buffer.alloc(2048, 0x2a), Buffer.from(SENTINEL), wire, Buffer.alloc(2048, 0x2a)]), { mode: 0o755 });
  writeFileSync(join(dir, 'version'), electronVersion(root));
  writeFileSync(join(dir, 'LICENSE'), 'MIT');
  mkdirSync(join(dir, 'resources'));
  return dir;
}

function packDir(output: string, extra: string[] = []) {
  return spawnSync(
    join(root, 'node_modules', '.bin', 'electron-builder'),
    ['--config', 'build/electron-builder.config.ts', '--linux', '--dir', '--publish', 'never', '-c.npmRebuild=false', `-c.directories.output=${output}`, ...extra],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ELECTRON_DIST_DIR: standInElectron() } },
  );
}

describe.runIf(enabled)('electron-builder --dir of the real app', () => {
  it('packs only the built output and production modules into app.asar, with the fuses flipped and checked', () => {
    const missing = BUILT_OUTPUT.filter((f) => !existsSync(join(root, f)));
    expect(missing, 'build the app first (npm run build:renderer, npm run build:electron)').toEqual([]);
    const output = tempDir('pack-');
    const run = packDir(output);
    expect(run.status, run.stdout + run.stderr).toBe(0);

    const appDir = join(output, 'linux-unpacked');
    const files = listPackage(join(appDir, 'resources', 'app.asar'), { isPack: false });
    const outside = files.filter((f) => !f.startsWith('/node_modules'));
    expect(outside.filter((f) => !f.startsWith('/dist'))).toEqual(['/package.json']);
    expect(files).toEqual(expect.arrayContaining(['/dist/electron/main.js', '/dist/electron/preload.cjs', '/dist/renderer/index.html']));
    expect(files.filter((f) => /\.(map|ts|tsx)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    const modules = new Set(files.filter((f) => f.startsWith('/node_modules/')).map((f) => f.split('/').slice(2, f.split('/')[2]?.startsWith('@') ? 4 : 3).join('/')));
    for (const name of ['keytar', 'zod', 'openid-client']) expect(modules, name).toContain(name);
    for (const name of ['electron', 'vitest', 'electron-builder', 'fastify', 'pg', 'oidc-provider', 'api']) expect(modules, name).not.toContain(name);

    return fuseMismatches(join(appDir, 'cims-console')).then((mismatches) => expect(mismatches).toEqual([]));
  }, 180_000);

  it('fails the build when the flipped fuses differ from the ones the app must ship with', () => {
    const run = packDir(tempDir('pack-'), ['-c.electronFuses.enableNodeCliInspectArguments=true']);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('enableNodeCliInspectArguments: expected off, binary says on');
  }, 180_000);
});
