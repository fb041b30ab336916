// SHA256SUMS next to the installers: one `<sha256>  <file>` line per installer and the SBOM, in the
// format `sha256sum -c SHA256SUMS` (and `shasum -a 256 -c`) checks, so IT can verify a download
// against the checksums published with the release.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a release ships: the installers electron-builder makes and the CycloneDX SBOM (not its logs, blockmaps or update files). */
export const RELEASE_FILE = /\.(msi|exe|dmg|pkg|deb|rpm|AppImage|zip|tar\.gz|snap)$|\.cdx\.json$/;
export const CHECKSUMS_FILE = 'SHA256SUMS';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Writes `dir`/SHA256SUMS over this version's release files directly in `dir` (installers of an
 * earlier build left in the folder are not listed); returns the files it lists.
 */
export async function writeChecksums(dir: string, version: string): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((name) => RELEASE_FILE.test(name) && name.includes(version) && statSync(join(dir, name)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`No installers or SBOM of version ${version} in ${dir}: nothing to write ${CHECKSUMS_FILE} for.`);
  const lines = await Promise.all(files.map(async (name) => `${await sha256(join(dir, name))}  ${name}`));
  writeFileSync(join(dir, CHECKSUMS_FILE), `${lines.join('\n')}\n`);
  return files;
}
