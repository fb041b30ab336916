// `npm run sbom`: a CycloneDX JSON SBOM of what ships in the desktop app: the production
// dependencies of the root package (no devDependencies, not the `api` workspace). Works offline:
// it reads node_modules and package-lock.json. `npm run dist` writes one next to the installers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function defaultSbomPath(projectDir = PROJECT_DIR): string {
  const { version } = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { version: string };
  return join(projectDir, 'release', `CIMS-Console-${version}.cdx.json`);
}

/** Writes the SBOM to `outputFile`; throws with cyclonedx-npm's own output when it fails. */
export function writeSbom(outputFile: string, projectDir = PROJECT_DIR): void {
  mkdirSync(dirname(outputFile), { recursive: true });
  const bin = join(projectDir, 'node_modules', '.bin', process.platform === 'win32' ? 'cyclonedx-npm.cmd' : 'cyclonedx-npm');
  const args = ['--omit', 'dev', '--no-workspaces', '--spec-version', '1.6', '--output-reproducible', '--output-format', 'JSON', '--output-file', outputFile];
  const run = spawnSync(bin, args, { cwd: projectDir, encoding: 'utf8', shell: process.platform === 'win32' });
  if (run.status !== 0) {
    throw new Error(`cyclonedx-npm failed (exit ${run.status ?? run.signal}):\n${run.stderr || run.stdout}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = process.argv.indexOf('--output');
  const requested = flag > 0 ? process.argv[flag + 1] : undefined;
  const output = requested ? resolve(requested) : defaultSbomPath();
  writeSbom(output);
  console.log(`SBOM (CycloneDX 1.6, production dependencies of the desktop app) written to ${output}`);
}
