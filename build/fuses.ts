// Electron fuses of the shipped app, and the check that reads them back from the packaged binary.
// electron-builder flips them (config `electronFuses`) right before signing; the check runs after
// that and fails the build if the binary says anything else. End-to-end runs use the unfused
// development build, because Playwright cannot attach to an app whose inspect fuse is off.
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { FuseState } from '@electron/fuses/dist/constants';
import { join } from 'node:path';
import type { Configuration } from 'electron-builder';

type FuseOptions = NonNullable<Configuration['electronFuses']>;

export const ELECTRON_FUSES = {
  runAsNode: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  enableCookieEncryption: true,
  grantFileProtocolExtraPrivileges: false,
} as const satisfies FuseOptions;

type FuseName = keyof typeof ELECTRON_FUSES;

const FUSE_INDEX: Record<FuseName, FuseV1Options> = {
  runAsNode: FuseV1Options.RunAsNode,
  enableCookieEncryption: FuseV1Options.EnableCookieEncryption,
  enableNodeOptionsEnvironmentVariable: FuseV1Options.EnableNodeOptionsEnvironmentVariable,
  enableNodeCliInspectArguments: FuseV1Options.EnableNodeCliInspectArguments,
  enableEmbeddedAsarIntegrityValidation: FuseV1Options.EnableEmbeddedAsarIntegrityValidation,
  onlyLoadAppFromAsar: FuseV1Options.OnlyLoadAppFromAsar,
  grantFileProtocolExtraPrivileges: FuseV1Options.GrantFileProtocolExtraPrivileges,
};

const STATE_NAME: Record<number, string> = {
  [FuseState.ENABLE]: 'on',
  [FuseState.DISABLE]: 'off',
  [FuseState.INHERIT]: 'inherited',
  [FuseState.REMOVED]: 'removed',
};

/** The fuses in `binaryPath` that differ from ELECTRON_FUSES, as readable lines (empty when all match). */
export async function fuseMismatches(binaryPath: string): Promise<string[]> {
  const wire = await getCurrentFuseWire(binaryPath);
  const mismatches: string[] = [];
  for (const [name, wanted] of Object.entries(ELECTRON_FUSES) as [FuseName, boolean][]) {
    const actual = wire[FUSE_INDEX[name]];
    const expected = wanted ? FuseState.ENABLE : FuseState.DISABLE;
    if (actual !== expected) {
      const seen = actual === undefined ? 'missing' : (STATE_NAME[actual] ?? `unknown (${actual})`);
      mismatches.push(`${name}: expected ${wanted ? 'on' : 'off'}, binary says ${seen}`);
    }
  }
  return mismatches;
}

/** Throws, naming every wrong fuse, unless the binary carries exactly ELECTRON_FUSES. */
export async function assertFuses(binaryPath: string): Promise<void> {
  const mismatches = await fuseMismatches(binaryPath);
  if (mismatches.length > 0) {
    throw new Error(`Electron fuses of ${binaryPath} are not as configured:\n  ${mismatches.join('\n  ')}`);
  }
}

/** Where the Electron binary (the file that carries the fuse wire) sits in a packed app folder. */
export function packedElectronBinary(appOutDir: string, platform: string, productFilename: string, executableName: string): string {
  switch (platform) {
    case 'darwin':
    case 'mas':
      return join(appOutDir, `${productFilename}.app`);
    case 'win32':
      return join(appOutDir, `${productFilename}.exe`);
    default:
      return join(appOutDir, executableName);
  }
}
