// `npm run dist [-- <electron-builder args>]`: installers for the current OS.
// 1. find an Electron distribution (stops here, before building anything, when there is none);
// 2. build the renderer and the main process (the `build:renderer` / `build:electron` scripts, if present);
// 3. write the CycloneDX SBOM next to the installers;
// 4. run electron-builder with build/electron-builder.config.ts (fuses, signing from the environment, fuse check);
// 5. write SHA256SUMS over the installers and the SBOM, next to them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findElectronDist } from '../electron-dist';
import { CHECKSUMS_FILE, writeChecksums } from './checksums';
import { PROJECT_DIR, defaultSbomPath, writeSbom } from './sbom';

/** What the packaged app loads; electron-builder would otherwise package a broken app without complaint. */
export const BUILT_OUTPUT = ['dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/renderer/index.html'] as const;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd: PROJECT_DIR, stdio: 'inherit', env, shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}). Nothing was packaged.`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const found = findElectronDist({ projectDir: PROJECT_DIR, env: process.env, platform: process.platform, arch: process.arch });
  if (!found.ok) {
    console.error(found.message);
    process.exit(2);
  }
  console.log(`Electron ${found.electronVersion} distribution: ${found.dir} (from ${found.source})`);

  const scripts = (JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  for (const script of ['build:renderer', 'build:electron']) {
    if (scripts[script]) run('npm', ['run', script]);
    else console.warn(`No "${script}" script in package.json: using what is already in dist/.`);
  }
  const missing = BUILT_OUTPUT.filter((file) => !existsSync(join(PROJECT_DIR, file)));
  if (missing.length > 0) {
    console.error(`Cannot package CIMS Console: the built app is incomplete (missing ${missing.join(', ')}). Nothing was packaged.`);
    process.exit(2);
  }

  const sbom = defaultSbomPath();
  writeSbom(sbom);
  console.log(`SBOM written to ${sbom}`);

  const builder = join(PROJECT_DIR, 'node_modules', '.bin', process.platform === 'win32' ? 'electron-builder.cmd' : 'electron-builder');
  run(builder, ['--config', 'build/electron-builder.config.ts', '--publish', 'never', ...process.argv.slice(2)], {
    ...process.env,
    ELECTRON_DIST_DIR: found.dir,
  });

  const { version } = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string };
  const listed = await writeChecksums(dirname(sbom), version);
  console.log(`${CHECKSUMS_FILE} written to ${join(dirname(sbom), CHECKSUMS_FILE)} (${listed.join(', ')})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`npm run dist failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
