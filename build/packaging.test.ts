// The packaging configuration, checked for what matters to IT and to security: targets,
// per-machine installs, signing from the environment only, fuses, and what goes into the app.
// The configuration is loaded and validated by electron-builder's own loader and JSON Schema.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Stats } from 'node:fs';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { FileMatcher } from 'app-builder-lib/out/fileMatcher';
import { DebugLogger } from 'builder-util';
import type { Configuration, TargetConfiguration } from 'electron-builder';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MSI_UPGRADE_CODE, createConfig } from './electron-builder.config';
import { signingPlan, unsignedWarning } from './signing';

const root = join(import.meta.dirname, '..');
const config = (env: Record<string, string> = {}, platform: NodeJS.Platform = 'linux'): Configuration => createConfig({ env, platform });

const targetsOf = (value: unknown): string[] =>
  (value as TargetConfiguration[]).map((t) => (typeof t === 'string' ? t : t.target));

afterEach(() => vi.restoreAllMocks());

describe('electron-builder loads the configuration', () => {
  it('from build/electron-builder.config.ts, and it passes electron-builder\'s schema', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const loaded = await getConfig(root, 'build/electron-builder.config.ts', null);
    await validateConfiguration(loaded, new DebugLogger(false));
    expect(loaded.appId).toBe('com.cims.console');
    expect(loaded.productName).toBe('CIMS Console');
    // The unsigned banner is printed when electron-builder loads the file on a machine without signing variables.
    const unsignedHere = unsignedWarning(signingPlan(process.env), process.platform);
    if (unsignedHere) expect(warn.mock.calls.flat().join('\n')).toContain('UNSIGNED BUILD');
  }, 30_000);
});

describe('identity and contents', () => {
  it('has the app id, product name, icons and asar', () => {
    const c = config();
    expect(c.appId).toBe('com.cims.console');
    expect(c.productName).toBe('CIMS Console');
    expect(c.asar).toBe(true);
    expect(c.extraMetadata).toEqual({ main: 'dist/electron/main.js' });
    for (const icon of [c.win?.icon, c.mac?.icon, c.linux?.icon]) expect(existsSync(join(root, String(icon)))).toBe(true);
  });

  it('packages only the built output and package.json: no sources, tests, maps or build files', () => {
    const matcher = new FileMatcher(root, '/app', (s: string) => s, config().files as string[]);
    const filter = matcher.createFilter();
    const file = { isDirectory: () => false } as Stats;
    const packaged = (path: string): boolean => filter(join(root, path), file);

    for (const path of ['package.json', 'dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/renderer/index.html', 'dist/renderer/assets/index-abc123.js', 'dist/renderer/assets/index-abc123.css']) {
      expect(packaged(path), path).toBe(true);
    }
    for (const path of [
      'dist/electron/main.js.map', 'dist/renderer/assets/index-abc123.js.map',
      'electron/core/session.ts', 'electron/shell/main.ts', 'renderer/app/App.tsx', 'shared/config.ts', 'api/src/server.ts',
      'build/electron-builder.config.ts', 'build/packaging.test.ts', 'dist/electron/core.test.js', 'e2e/sign-in.spec.ts',
      'README.md', 'docs/deploying.md', 'tsconfig.json', 'package-lock.json', 'vitest.config.ts', '.env',
      'node_modules/vitest/package.json', 'release/CIMS-Console-0.1.0.cdx.json',
    ]) {
      expect(packaged(path), path).toBe(false);
    }
  });

  it('rebuilds keytar for Electron\'s ABI while packaging', () => {
    const c = config();
    expect(c.npmRebuild).toBe(true);
    expect(c.nativeRebuilder).toBe('sequential');
    expect(c.asarUnpack).toContain('**/*.node');
  });

  it('has no self-updater: nothing is published and electron-updater is not a dependency', () => {
    expect(config().publish).toBeNull();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('electron-updater');
  });
});

describe('targets', () => {
  it('Windows: NSIS and MSI, both per machine and silent-capable (no forced launch)', () => {
    const c = config();
    expect(targetsOf(c.win?.target)).toEqual(['nsis', 'msi']);
    expect(c.nsis).toMatchObject({ perMachine: true, oneClick: false, runAfterFinish: false });
    expect(c.msi).toMatchObject({ perMachine: true, runAfterFinish: false, upgradeCode: MSI_UPGRADE_CODE });
  });

  it('macOS: DMG and PKG, hardened runtime with the checked-in entitlements', () => {
    const c = config();
    expect(targetsOf(c.mac?.target)).toEqual(['dmg', 'pkg']);
    expect(c.mac?.hardenedRuntime).toBe(true);
    expect(c.mac?.entitlements).toBe('build/entitlements.mac.plist');
    const plist = readFileSync(join(root, 'build/entitlements.mac.plist'), 'utf8');
    expect(plist).toContain('com.apple.security.cs.allow-jit');
    expect(plist).not.toMatch(/disable-library-validation|allow-dyld-environment-variables|device\.camera/);
    expect(c.pkg).toMatchObject({ installLocation: '/Applications', isRelocatable: false });
  });

  it('Linux: deb, rpm and AppImage, with libsecret for the keychain', () => {
    const c = config();
    expect(targetsOf(c.linux?.target)).toEqual(['deb', 'rpm', 'AppImage']);
    expect(c.deb?.depends).toContain('libsecret-1-0');
    expect(c.rpm?.depends).toContain('libsecret');
  });
});

describe('fuses', () => {
  it('are exactly the ones the shipped app needs', () => {
    expect(config().electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
      resetAdHocDarwinSignature: false,
    });
  });

  it('re-sign an unsigned macOS app ad hoc after flipping, and only there', () => {
    expect(config({}, 'darwin').electronFuses?.resetAdHocDarwinSignature).toBe(true);
    expect(config({ CSC_LINK: 'file:///certs/id.p12' }, 'darwin').electronFuses?.resetAdHocDarwinSignature).toBe(false);
  });
});

describe('signing comes from the environment only', () => {
  const secrets = {
    CSC_LINK: 'file:///secure/developer-id.p12',
    CSC_KEY_PASSWORD: 'pw-from-the-vault-1',
    WIN_CSC_LINK: 'file:///secure/authenticode.pfx',
    WIN_CSC_KEY_PASSWORD: 'pw-from-the-vault-2',
    APPLE_ID: 'release@cims.invalid',
    APPLE_APP_SPECIFIC_PASSWORD: 'abcd-efgh-ijkl-mnop',
    APPLE_TEAM_ID: 'TEAM123456',
    AZURE_CLIENT_SECRET: 'azure-secret-value',
  };

  it('puts no password or key into the configuration: electron-builder reads them from the environment', () => {
    for (const platform of ['win32', 'darwin', 'linux'] as const) {
      const text = JSON.stringify(config(secrets, platform));
      for (const [name, value] of Object.entries(secrets)) {
        if (/PASSWORD|SECRET/.test(name)) expect(text, name).not.toContain(value);
      }
    }
  });

  it('signs and notarizes macOS only with credentials from the environment', () => {
    const unsigned = config({}, 'darwin');
    expect(unsigned.mac?.identity).toBeNull();
    expect(unsigned.mac?.notarize).toBe(false);
    const signed = config(secrets, 'darwin');
    expect(signed.mac?.identity).toBeUndefined(); // electron-builder takes it from CSC_LINK
    expect(signed.mac?.notarize).toBe(true);
    expect(config({ CSC_LINK: secrets.CSC_LINK }, 'darwin').mac?.notarize).toBe(false);
  });

  it('uses Azure Trusted Signing when its coordinates are in the environment', () => {
    expect(config({}, 'win32').win?.azureSignOptions).toBeUndefined();
    const azure = config(
      {
        AZURE_TRUSTED_SIGNING_ENDPOINT: 'https://weu.codesigning.azure.net',
        AZURE_TRUSTED_SIGNING_ACCOUNT: 'cims-signing',
        AZURE_TRUSTED_SIGNING_PROFILE: 'cims-public-trust',
        WIN_PUBLISHER_NAME: 'CIMS Ltd',
      },
      'win32',
    );
    expect(azure.win?.azureSignOptions).toEqual({
      endpoint: 'https://weu.codesigning.azure.net',
      codeSigningAccountName: 'cims-signing',
      certificateProfileName: 'cims-public-trust',
      publisherName: 'CIMS Ltd',
    });
  });

  it('warns loudly when a build is unsigned, and fails instead when release CI requires signing', () => {
    expect(unsignedWarning(signingPlan({}), 'win32')).toMatch(/UNSIGNED BUILD[\s\S]*Windows installers and executables are NOT SIGNED/);
    expect(unsignedWarning(signingPlan({}), 'darwin')).toMatch(/NOT SIGNED and NOT NOTARIZED/);
    expect(unsignedWarning(signingPlan({ CSC_LINK: secrets.CSC_LINK }), 'darwin')).toMatch(/signed but NOT NOTARIZED/);
    expect(unsignedWarning(signingPlan({}), 'linux')).toMatch(/Linux packages .* are NOT SIGNED/);
    expect(unsignedWarning(signingPlan({ WIN_CSC_LINK: secrets.WIN_CSC_LINK }), 'win32')).toBeNull();
    expect(unsignedWarning(signingPlan(secrets), 'darwin')).toBeNull();
    expect(config({}).forceCodeSigning).toBe(false);
    expect(config({ CIMS_REQUIRE_SIGNING: '1' }).forceCodeSigning).toBe(true);
  });

  it('keeps no certificate, key or password in build/', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : [path];
      });
    for (const path of files(join(root, 'build'))) {
      const name = relative(root, path);
      expect(name).not.toMatch(/\.(p12|pfx|pem|key|cer|p8|mobileprovision|provisionprofile)$/i);
      if (/\.(png|ico|icns)$/.test(name) || name.endsWith('.test.ts')) continue;
      const text = readFileSync(path, 'utf8');
      expect(text, name).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text, name).not.toMatch(/(certificatePassword|cscKeyPassword|CSC_KEY_PASSWORD|APPLE_APP_SPECIFIC_PASSWORD|AZURE_CLIENT_SECRET)\s*[:=]\s*['"`][^'"`]+/);
    }
  });
});
