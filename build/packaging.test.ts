// The packaging configuration, checked through electron-builder's own code wherever it decides
// something: its loader and JSON Schema, the file matcher the packager builds from `files`, its
// collector of production modules, its fuse flipping and its Windows signing filter. Each test
// fails when what ships (or how) changes, not when a literal is spelled differently.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Stats } from 'node:fs';
import { FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire } from '@electron/fuses';
import { FuseState, SENTINEL } from '@electron/fuses/dist/constants';
import { PlatformPackager } from 'app-builder-lib';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import * as fileMatcher from 'app-builder-lib/out/fileMatcher';
import { getFileMatchers, type FileMatcher } from 'app-builder-lib/out/fileMatcher';
import { getCollectorByPackageManager, PM } from 'app-builder-lib/out/node-module-collector';
import { WinPackager } from 'app-builder-lib/out/winPackager';
import { DebugLogger, TmpDir } from 'builder-util';
import type { Configuration, PlatformSpecificBuildOptions } from 'electron-builder';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MSI_UPGRADE_CODE, createConfig } from './electron-builder.config';
import { BUILT_OUTPUT } from './scripts/dist';
import { signingPlan, unsignedWarning } from './signing';
import { useTempDirs } from './temp-dirs';

const root = join(import.meta.dirname, '..');
const tempDir = useTempDirs();
const config = (env: Record<string, string> = {}, platform: NodeJS.Platform = 'linux'): Configuration => createConfig({ env, platform });
const PLATFORMS = ['win', 'mac', 'linux'] as const;

type MainFileMatchers = (
  appDir: string, destination: string, macroExpander: (s: string) => string, options: PlatformSpecificBuildOptions,
  packager: unknown, outDir: string, isElectronCompile: boolean,
) => FileMatcher[];
// Internal to electron-builder (absent from its .d.ts): the matcher its packager builds for the app's own files.
const getMainFileMatchers = (fileMatcher as unknown as { getMainFileMatchers: MainFileMatchers }).getMainFileMatchers;

afterEach(() => vi.restoreAllMocks());

/** The app-file filter electron-builder's packager builds for one platform (files + the platform's files + its defaults). */
function packagedFilter(c: Configuration, platform: (typeof PLATFORMS)[number]): (path: string) => boolean {
  const options = (c[platform] ?? {}) as PlatformSpecificBuildOptions;
  // The parts of a platform packager getMainFileMatchers reads.
  const packager = { info: { projectDir: root, buildResourcesDir: join(root, 'build'), config: c, isPrepackedAppAsar: false, debugLogger: new DebugLogger(false) } };
  const matchers = getMainFileMatchers(root, '/app', (s: string) => s, options, packager, join(root, 'release'), false);
  const filters = matchers.map((m) => m.createFilter());
  const file = { isDirectory: () => false } as Stats;
  return (path) => filters.some((f) => f(join(root, path), file));
}

/** Every file of the working tree outside node_modules and .git, as relative paths. */
function treeFiles(dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === '.git') return [];
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return [];
    return stat.isDirectory() ? treeFiles(path) : [relative(root, path)];
  });
}

// Demo tooling and tests, wherever they sit: none of it may ever be in the app.
const NEVER_SHIPPED = [
  'api/src/server.ts', 'api/package.json', 'devstack/src/idp/provider.ts', 'devstack/package.json', 'testing/idp.ts', 'testing/package.json',
  'dist/devstack/cli.js', 'dist/testing/idp.js', 'dist/api/server.js',
  'dist/electron/main.js.map', 'dist/renderer/assets/index-abc123.js.map',
  'electron/core/session.ts', 'electron/shell/main.ts', 'electron/test/harness.ts', 'renderer/app/App.tsx', 'shared/config.ts',
  'build/electron-builder.config.ts', 'build/packaging.test.ts', 'dist/electron/core.test.js', 'dist/renderer/app.spec.js',
  'e2e/specs/sign-in.spec.ts', 'bench/api-bench.ts', 'scripts/with-keyring.sh', 'docs/deploying.md', 'README.md',
  'tsconfig.json', 'package-lock.json', 'vitest.config.ts', '.env', '.ci/run', 'release/CIMS-Console-0.1.0.cdx.json',
];
const isAppFile = (path: string) => path === 'package.json' || /^dist\/(electron|renderer)\//.test(path);

describe('electron-builder loads the configuration', () => {
  it('from build/electron-builder.config.ts, and it passes electron-builder\'s schema', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const loaded = await getConfig(root, 'build/electron-builder.config.ts', null);
    await validateConfiguration(loaded, new DebugLogger(false));
    // The unsigned banner is printed when electron-builder loads the file on a machine without signing variables.
    const unsignedHere = unsignedWarning(signingPlan(process.env), process.platform);
    if (unsignedHere) expect(warn.mock.calls.flat().join('\n')).toContain('UNSIGNED BUILD');
  }, 30_000);
});

describe('what goes into the app', () => {
  it('on every platform, only the built output and package.json: nothing of api/, devstack/, testing/, no sources, tests or maps', () => {
    const c = config();
    const candidates = [...new Set([...treeFiles(), ...NEVER_SHIPPED, ...BUILT_OUTPUT, 'dist/renderer/assets/index-abc123.js', 'dist/renderer/assets/index-abc123.css'])];
    for (const platform of PLATFORMS) {
      const packaged = packagedFilter(c, platform);
      const shipped = candidates.filter(packaged);
      expect(shipped.filter((p) => !isAppFile(p) || /\.(map|tsx?|mts|cts)$|\.(test|spec)\./.test(p)), platform).toEqual([]);
      for (const path of NEVER_SHIPPED) expect(packaged(path), `${platform}: ${path}`).toBe(false);
      for (const path of [...BUILT_OUTPUT, 'package.json', 'dist/renderer/assets/index-abc123.js']) expect(packaged(path), `${platform}: ${path}`).toBe(true);
    }
  });

  it('keeps api/, devstack/ and testing/ out even if someone widens `files` to everything', () => {
    const base = config();
    const widened = { ...base, files: ['**/*', ...(base.files as string[])] };
    const packaged = packagedFilter(widened, 'linux');
    for (const path of ['api/src/server.ts', 'devstack/src/idp/provider.ts', 'devstack/package.json', 'testing/idp.ts', 'dist/devstack/cli.js', 'dist/testing/idp.js', 'dist/api/server.js']) {
      expect(packaged(path), path).toBe(false);
    }
  });

  it('ships nothing beside the app files: no extra files or resources on any platform', () => {
    const c = config();
    for (const platform of PLATFORMS) {
      for (const name of ['extraFiles', 'extraResources'] as const) {
        const options = { macroExpander: (s: string) => s, customBuildOptions: (c[platform] ?? {}) as PlatformSpecificBuildOptions, globalOutDir: join(root, 'release'), defaultSrc: root };
        const matchers = getFileMatchers(c, name, '/resources', options);
        // Only electron-builder's own exclusion of unpacked output may be there.
        expect((matchers ?? []).flatMap((m) => m.patterns).filter((p) => !p.startsWith('!')), `${platform} ${name}`).toEqual([]);
      }
    }
  });

  it('points the app at the main bundle the build writes', () => {
    const main = (config().extraMetadata as { main?: string }).main ?? '';
    expect(BUILT_OUTPUT).toContain(main);
    expect(packagedFilter(config(), 'linux')(main)).toBe(true);
  });

  it('production modules, as electron-builder collects them: the app\'s runtime and no workspace, demo or build package', async () => {
    const tmp = new TmpDir('packaging-test');
    try {
      const collector = getCollectorByPackageManager(PM.NPM, root, tmp);
      const modules = await collector.getNodeModules({ packageName: 'cims-console' });
      const names = new Set<string>();
      const walk = (list: readonly { name: string; dependencies?: readonly { name: string }[] }[]): void => {
        for (const m of list) {
          names.add(m.name);
          if (m.dependencies) walk(m.dependencies);
        }
      };
      walk(modules.nodeModules);
      for (const name of ['keytar', 'openid-client', 'zod', 'react']) expect(names, name).toContain(name);

      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
      const workspaces = pkg.workspaces.filter((w) => existsSync(join(root, w, 'package.json')));
      if (existsSync(join(root, 'testing', 'package.json'))) workspaces.push('testing');
      const workspaceNames = workspaces.map((w) => (JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')) as { name: string }).name);
      expect(workspaceNames.length).toBeGreaterThan(0);
      const never = [...workspaceNames, 'electron', 'electron-builder', 'electron-updater', 'vitest', '@playwright/test', 'oidc-provider', '@faker-js/faker', '@electric-sql/pglite', 'cli-progress', 'fastify', 'pg', 'typescript'];
      for (const name of never) expect(names, name).not.toContain(name);
    } finally {
      await tmp.cleanup();
    }
  }, 60_000);

  it('is an asar archive with only native modules unpacked (the asar fuses check everything else)', () => {
    const c = config();
    expect(c.asar).toBe(true);
    // The unpack filter electron-builder's packager builds from asarUnpack.
    for (const platform of PLATFORMS) {
      const options = { macroExpander: (s: string) => s, customBuildOptions: (c[platform] ?? {}) as PlatformSpecificBuildOptions, globalOutDir: join(root, 'release'), defaultSrc: root };
      const filter = getFileMatchers(c, 'asarUnpack', '/app', options)?.[0]?.createFilter();
      expect(filter, platform).toBeDefined();
      const file = { isDirectory: () => false } as Stats;
      const unpacked = (path: string) => Boolean(filter?.(join(root, path), file));
      expect(unpacked('node_modules/keytar/build/Release/keytar.node'), platform).toBe(true);
      for (const path of [...BUILT_OUTPUT, 'package.json', 'node_modules/openid-client/build/index.js', 'node_modules/keytar/lib/keytar.js']) {
        expect(unpacked(path), `${platform}: ${path}`).toBe(false);
      }
    }
  });

  it('rebuilds the native keychain module for Electron while packaging', () => {
    const keytar = JSON.parse(readFileSync(join(root, 'node_modules', 'keytar', 'package.json'), 'utf8')) as { gypfile?: boolean };
    expect(keytar.gypfile || existsSync(join(root, 'node_modules', 'keytar', 'binding.gyp'))).toBe(true);
    expect(config().npmRebuild).not.toBe(false);
  });

  it('has no self-updater: nothing is published and electron-updater is not a dependency', () => {
    expect(config().publish).toBeNull();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('electron-updater');
  });

  it('has an icon file on disk for every platform', () => {
    const c = config();
    for (const platform of PLATFORMS) expect(existsSync(join(root, String(c[platform]?.icon))), platform).toBe(true);
  });
});

describe('fuses', () => {
  /** A file with @electron/fuses' sentinel and an all-"inherit" wire: what flipFuses edits in a real Electron binary. */
  function standInBinary(): string {
    const path = join(tempDir('fuses-'), 'electron');
    const wire = Buffer.from([Number(FuseVersion.V1), 9, ...Array<number>(9).fill(FuseState.INHERIT)]);
    writeFileSync(path, Buffer.concat([Buffer.alloc(1024, 0x2a), Buffer.from(SENTINEL), wire, Buffer.alloc(1024, 0x2a)]));
    return path;
  }

  it('flipped by electron-builder from the configuration, leave no way to run the app as Node, inject code or swap the asar', async () => {
    const binary = standInBinary();
    const generate = (PlatformPackager.prototype as unknown as { generateFuseConfig: (f: unknown) => Promise<Parameters<typeof flipFuses>[1]> }).generateFuseConfig;
    await flipFuses(binary, await generate.call({}, config().electronFuses));
    const wire = await getCurrentFuseWire(binary);
    const off = [FuseV1Options.RunAsNode, FuseV1Options.EnableNodeOptionsEnvironmentVariable, FuseV1Options.EnableNodeCliInspectArguments, FuseV1Options.GrantFileProtocolExtraPrivileges];
    const on = [FuseV1Options.EnableEmbeddedAsarIntegrityValidation, FuseV1Options.OnlyLoadAppFromAsar, FuseV1Options.EnableCookieEncryption];
    for (const fuse of off) expect(wire[fuse], FuseV1Options[fuse]).toBe(FuseState.DISABLE);
    for (const fuse of on) expect(wire[fuse], FuseV1Options[fuse]).toBe(FuseState.ENABLE);
  });

  it('re-sign an unsigned macOS app ad hoc after flipping, and only there', () => {
    expect(config({}, 'darwin').electronFuses?.resetAdHocDarwinSignature).toBe(true);
    expect(config({ CSC_LINK: 'file:///certs/id.p12' }, 'darwin').electronFuses?.resetAdHocDarwinSignature).toBe(false);
    expect(config({}, 'linux').electronFuses?.resetAdHocDarwinSignature).toBe(false);
  });
});

describe('what gets signed on Windows', () => {
  // electron-builder's own decision (WinPackager.shouldSignFile) applied to the files of a packed app.
  const signs = (file: string) => (WinPackager.prototype as unknown as { shouldSignFile(this: unknown, f: string): boolean }).shouldSignFile.call(
    { platformSpecificBuildOptions: config({}, 'win32').win },
    file,
  );

  it('the executable, Electron\'s DLLs and the unpacked native keychain module (WDAC and AppLocker block unsigned code)', () => {
    for (const file of ['CIMS Console.exe', 'ffmpeg.dll', 'libEGL.dll', 'resources/app.asar.unpacked/node_modules/keytar/build/Release/keytar.node']) {
      expect(signs(file), file).toBe(true);
    }
    for (const file of ['resources/app.asar', 'resources.pak', 'LICENSE.electron.txt', 'locales/en-US.pak']) expect(signs(file), file).toBe(false);
  });
});

describe('installers', () => {
  it('upgrade in place: the MSI upgrade code never changes', () => {
    // Changing it makes every installed copy a different product: two consoles side by side.
    expect(MSI_UPGRADE_CODE).toBe('6f0d3c4e-5a27-4d0b-9f3e-2b8a7c1e4d59');
    expect(config().msi?.upgradeCode).toBe(MSI_UPGRADE_CODE);
  });

  it('install per machine without launching the app, so IT can deploy silently', () => {
    const c = config();
    for (const target of [c.nsis, c.msi, c.pkg]) expect(target).not.toHaveProperty('runAfterFinish', true);
    expect(c.nsis?.perMachine).toBe(true);
    expect(c.msi?.perMachine).toBe(true);
    expect(c.pkg?.allowCurrentUserHome).toBe(false);
  });

  it('macOS: hardened runtime with entitlements that allow JIT and nothing that weakens library validation', () => {
    const c = config();
    expect(c.mac?.hardenedRuntime).toBe(true);
    for (const path of [c.mac?.entitlements, c.mac?.entitlementsInherit]) {
      const plist = readFileSync(join(root, String(path)), 'utf8');
      expect(plist).toContain('com.apple.security.cs.allow-jit');
      expect(plist).not.toMatch(/disable-library-validation|allow-dyld-environment-variables|allow-unsigned-executable-memory|device\.camera|get-task-allow/);
    }
  });

  it('Linux packages depend on libsecret, which the keychain needs at run time', () => {
    const c = config();
    expect(c.deb?.depends).toContain('libsecret-1-0');
    expect(c.rpm?.depends).toContain('libsecret');
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
