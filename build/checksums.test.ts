// SHA256SUMS as `npm run dist` writes it next to the installers: checked with the real
// `sha256sum -c`, the command the administrator's guide gives, which must also catch a changed file.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from './temp-dirs';
import { CHECKSUMS_FILE, writeChecksums } from './scripts/checksums';

const tempDir = useTempDirs();

describe('SHA256SUMS', () => {
  it("lists this version's installers and SBOM only, and sha256sum -c verifies them", async () => {
    const dir = tempDir('release-');
    const release = ['CIMS-Console-1.2.3.msi', 'CIMS-Console-Setup-1.2.3.exe', 'cims-console_1.2.3_amd64.deb', 'cims-console-1.2.3.x86_64.rpm', 'CIMS-Console-1.2.3.cdx.json'];
    for (const name of release) writeFileSync(join(dir, name), `contents of ${name}`);
    // Not part of the release: builder logs, update metadata, blockmaps, an older build's installer.
    for (const name of ['builder-debug.yml', 'latest.yml', 'CIMS-Console-Setup-1.2.3.exe.blockmap', 'CIMS-Console-1.2.2.msi']) writeFileSync(join(dir, name), 'x');

    expect(await writeChecksums(dir, '1.2.3')).toEqual([...release].sort());
    const lines = readFileSync(join(dir, CHECKSUMS_FILE), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => l.split('  ')[1])).toEqual([...release].sort());
    expect(lines.every((l) => /^[0-9a-f]{64} {2}\S+$/.test(l))).toBe(true);

    const check = spawnSync('sha256sum', ['-c', CHECKSUMS_FILE], { cwd: dir, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('CIMS-Console-1.2.3.msi: OK');

    appendFileSync(join(dir, 'CIMS-Console-1.2.3.msi'), 'tampered');
    const tampered = spawnSync('sha256sum', ['-c', CHECKSUMS_FILE], { cwd: dir, encoding: 'utf8' });
    expect(tampered.status).not.toBe(0);
    expect(tampered.stdout).toContain('CIMS-Console-1.2.3.msi: FAILED');
  });

  it('refuses to write an empty list', async () => {
    await expect(writeChecksums(tempDir('empty-'), '1.2.3')).rejects.toThrow(/No installers or SBOM of version 1\.2\.3/);
  });
});
