// electron-builder 26 configuration of CIMS Console (loaded with `--config build/electron-builder.config.ts`).
// Everything secret (certificates, passwords, Apple and Azure credentials) comes from the build
// machine's environment; see build/signing.ts and docs/deploying.md.
import type { AfterPackContext, Configuration } from 'electron-builder';
import { ELECTRON_FUSES, assertFuses, packedElectronBinary } from './fuses';
import { azureSignOptions, signingPlan, unsignedWarning, type Env } from './signing';

export const APP_ID = 'com.cims.console';
export const PRODUCT_NAME = 'CIMS Console';
/** Fixed so that every MSI version upgrades the previous one in place (never change it). */
export const MSI_UPGRADE_CODE = '6f0d3c4e-5a27-4d0b-9f3e-2b8a7c1e4d59';
export const OUTPUT_DIR = 'release';

export interface ConfigOptions {
  env: Env;
  /** The OS being built on (electron-builder builds for the current OS). */
  platform: NodeJS.Platform;
  /** Set by `npm run dist` when it found a local Electron distribution (see build/electron-dist.ts). */
  electronDist?: string;
}

export function createConfig({ env, platform, electronDist }: ConfigOptions): Configuration {
  const plan = signingPlan(env);
  const azure = azureSignOptions(env);

  // Packed app folders seen in afterPack; their fuses are read back once electron-builder has
  // flipped them (after afterPack, before signing) and before any installer is made from them.
  const packed = new Map<string, { binary: string; verified: boolean }>();
  const verifyPacked = async (): Promise<void> => {
    for (const entry of packed.values()) {
      if (entry.verified) continue;
      await assertFuses(entry.binary);
      entry.verified = true;
    }
  };
  const remember = (context: AfterPackContext): void => {
    const { packager } = context;
    const productFilename = packager.appInfo.productFilename;
    const executableName = 'executableName' in packager ? String(packager.executableName) : productFilename;
    packed.set(context.appOutDir, {
      binary: packedElectronBinary(context.appOutDir, context.electronPlatformName, productFilename, executableName),
      verified: false,
    });
  };

  return {
    appId: APP_ID,
    productName: PRODUCT_NAME,
    copyright: 'Copyright © CIMS',
    directories: { output: OUTPUT_DIR, buildResources: 'build' },
    ...(electronDist ? { electronDist } : {}),

    // Only what the built app needs: the bundles, package.json and production node_modules
    // (electron-builder adds those from `dependencies`; devDependencies never ship).
    asar: true,
    asarUnpack: ['**/*.node'],
    files: [
      'package.json',
      'dist/electron/**/*',
      'dist/renderer/**/*',
      '!**/*.map',
      '!**/*.{ts,tsx,mts,cts}',
      '!**/*.{test,spec}.*',
      // Demo tooling and tests never ship, even if a wider pattern is added above (the last match wins).
      '!{api,devstack,testing,e2e,bench}{,/**/*}',
      '!dist/{api,devstack,testing}{,/**/*}',
    ],
    extraMetadata: { main: 'dist/electron/main.js' },

    // keytar is a native module: rebuilt from source against Electron's ABI (not Node's) while packaging.
    npmRebuild: true,
    nativeRebuilder: 'sequential',
    buildDependenciesFromSource: true,

    // An unsigned macOS app still needs a valid ad-hoc signature after the fuses change the binary.
    electronFuses: { ...ELECTRON_FUSES, resetAdHocDarwinSignature: platform === 'darwin' && plan.mac === 'unsigned' },
    // Fail the build if the binary's fuses differ: checked after signing (signed builds), and
    // before each installer and at the end (unsigned builds and Linux, where afterSign never runs).
    afterPack: async (context) => remember(context),
    afterSign: async () => verifyPacked(),
    artifactBuildStarted: async () => verifyPacked(),
    afterAllArtifactBuild: async () => {
      await verifyPacked();
      return [];
    },

    // Release CI sets CIMS_REQUIRE_SIGNING=1 so that a missing certificate fails instead of warning.
    forceCodeSigning: env.CIMS_REQUIRE_SIGNING === '1',
    // No self-updater: IT rolls out new versions (policy `autoUpdate` stays false by default).
    publish: null,

    win: {
      target: [
        { target: 'nsis', arch: ['x64'] },
        { target: 'msi', arch: ['x64'] },
      ],
      icon: 'build/icon.ico',
      // Besides the .exe: Electron's DLLs and the unpacked keytar.node, which WDAC / AppLocker refuse unsigned.
      signExts: ['.dll', '.node'],
      ...(azure ? { azureSignOptions: azure } : { signtoolOptions: { signingHashAlgorithms: ['sha256'] } }),
    },
    nsis: {
      oneClick: false,
      perMachine: true,
      allowElevation: true,
      allowToChangeInstallationDirectory: false,
      createDesktopShortcut: true,
      createStartMenuShortcut: true,
      runAfterFinish: false,
      deleteAppDataOnUninstall: false,
      artifactName: 'CIMS-Console-Setup-${version}.${ext}',
    },
    msi: {
      oneClick: false,
      perMachine: true,
      runAfterFinish: false,
      createDesktopShortcut: true,
      upgradeCode: MSI_UPGRADE_CODE,
      artifactName: 'CIMS-Console-${version}.${ext}',
    },

    mac: {
      target: [
        { target: 'dmg', arch: ['arm64', 'x64'] },
        { target: 'pkg', arch: ['arm64', 'x64'] },
      ],
      icon: 'build/icon.icns',
      category: 'public.app-category.business',
      hardenedRuntime: true,
      gatekeeperAssess: false,
      entitlements: 'build/entitlements.mac.plist',
      entitlementsInherit: 'build/entitlements.mac.plist',
      // Signs only with an identity from the environment; never picks one from a keychain by chance.
      ...(plan.mac === 'unsigned' ? { identity: null } : {}),
      notarize: plan.notarize,
    },
    dmg: { artifactName: 'CIMS-Console-${version}-${arch}.${ext}' },
    pkg: {
      installLocation: '/Applications',
      allowAnywhere: false,
      allowCurrentUserHome: false,
      isRelocatable: false,
      isVersionChecked: true,
      overwriteAction: 'upgrade',
      artifactName: 'CIMS-Console-${version}-${arch}.${ext}',
    },

    linux: {
      target: [
        { target: 'deb', arch: ['x64'] },
        { target: 'rpm', arch: ['x64'] },
        { target: 'AppImage', arch: ['x64'] },
      ],
      icon: 'build/icon.png',
      executableName: 'cims-console',
      category: 'Office',
      synopsis: 'Audited customer records for relationship managers',
      maintainer: 'CIMS IT <it@cims.invalid>',
      vendor: 'CIMS',
    },
    // keytar needs the Secret Service client library at run time.
    deb: { depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'] },
    rpm: { depends: ['gtk3', 'libnotify', 'nss', 'libXScrnSaver', 'libXtst', 'xdg-utils', 'at-spi2-core', 'libuuid', 'libsecret'] },
    appImage: { artifactName: 'CIMS-Console-${version}-${arch}.${ext}' },
  };
}

/** electron-builder calls this when it loads the file; it is the only place the warning is printed. */
export default function electronBuilderConfig(): Configuration {
  const config = createConfig({ env: process.env, platform: process.platform, electronDist: process.env.ELECTRON_DIST_DIR || undefined });
  const warning = unsignedWarning(signingPlan(process.env), process.platform);
  if (warning) console.warn(`\n${warning}\n`);
  return config;
}
