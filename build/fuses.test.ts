// The fuse check against a binary that carries a real fuse wire. No Electron binary exists on
// these machines, so the binary is a synthetic file: filler bytes, @electron/fuses' sentinel and a
// wire of "inherit" states, exactly the layout getCurrentFuseWire/flipFuses read and write.
// The fuses are flipped with the options electron-builder derives from our configuration.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FuseV1Options, FuseVersion, flipFuses } from '@electron/fuses';
import { FuseState, SENTINEL } from '@electron/fuses/dist/constants';
import { PlatformPackager } from 'app-builder-lib';
import type { AfterPackContext, Configuration } from 'electron-builder';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from './temp-dirs';
import { createConfig } from './electron-builder.config';
import { assertFuses, fuseMismatches } from './fuses';

const tempDir = useTempDirs();

const WIRE_LENGTH = 9;

function fakeElectronBinary(dir: string, name: string): string {
  const path = join(dir, name);
  const wire = Buffer.from([Number(FuseVersion.V1), WIRE_LENGTH, ...Array<number>(WIRE_LENGTH).fill(FuseState.INHERIT)]);
  writeFileSync(path, Buffer.concat([Buffer.alloc(4096, 0x2a), Buffer.from(SENTINEL), wire, Buffer.alloc(4096, 0x2a)]));
  return path;
}

/** Flips the fuses the way electron-builder does after afterPack: from `electronFuses` via its own generateFuseConfig. */
async function flipAsElectronBuilder(binary: string, config: Configuration): Promise<void> {
  const generate = (PlatformPackager.prototype as unknown as { generateFuseConfig: (f: unknown) => Promise<Parameters<typeof flipFuses>[1]> }).generateFuseConfig;
  await flipFuses(binary, await generate.call({}, config.electronFuses));
}

describe('fuse check', () => {
  it('fails on an unfused binary, naming every fuse', async () => {
    const binary = fakeElectronBinary(tempDir('fuses-'), 'electron');
    const mismatches = await fuseMismatches(binary);
    expect(mismatches).toHaveLength(7);
    await expect(assertFuses(binary)).rejects.toThrow(/runAsNode: expected off, binary says inherited/);
  });

  it('passes once the configured fuses are flipped, and fails when one differs', async () => {
    const binary = fakeElectronBinary(tempDir('fuses-'), 'electron');
    await flipAsElectronBuilder(binary, createConfig({ env: {}, platform: 'linux' }));
    await expect(assertFuses(binary)).resolves.toBeUndefined();

    await flipFuses(binary, { version: FuseVersion.V1, [FuseV1Options.EnableNodeCliInspectArguments]: true });
    await expect(assertFuses(binary)).rejects.toThrow(/enableNodeCliInspectArguments: expected off, binary says on/);
  });

  it('runs in the build: an installer is not started from a packed app whose fuses are wrong', async () => {
    const appOutDir = tempDir('linux-unpacked-');
    const binary = fakeElectronBinary(appOutDir, 'cims-console');
    const config = createConfig({ env: {}, platform: 'linux' });
    // The parts of electron-builder's pack context the hook reads (a Linux packager).
    const context = {
      appOutDir,
      electronPlatformName: 'linux',
      packager: { appInfo: { productFilename: 'CIMS Console' }, executableName: 'cims-console' },
    } as unknown as AfterPackContext;
    const hook = <T,>(h: unknown) => h as (arg: T) => Promise<unknown>;

    await hook<AfterPackContext>(config.afterPack)(context);
    await expect(hook<object>(config.artifactBuildStarted)({ targetPresentableName: 'deb', file: 'x.deb', arch: null })).rejects.toThrow(
      /Electron fuses of .*cims-console are not as configured/,
    );

    await flipAsElectronBuilder(binary, config);
    await expect(hook<object>(config.artifactBuildStarted)({ targetPresentableName: 'deb', file: 'x.deb', arch: null })).resolves.toBeUndefined();
    await expect(hook<object>(config.afterAllArtifactBuild)({})).resolves.toEqual([]);
  });
});
