// Code signing comes from the build machine's environment only: the repository holds no
// certificate, password or key. electron-builder reads CSC_LINK / CSC_KEY_PASSWORD /
// WIN_CSC_LINK / WIN_CSC_KEY_PASSWORD / CSC_NAME and the APPLE_* notarization variables itself;
// this module decides what the configuration turns on and says loudly what stays unsigned.
import type { Configuration } from 'electron-builder';

export type Env = Readonly<Record<string, string | undefined>>;
type AzureSignOptions = NonNullable<NonNullable<Configuration['win']>['azureSignOptions']>;

const has = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';
const all = (env: Env, names: readonly string[]): boolean => names.every((n) => has(env, n));

/** Azure Trusted Signing: where to sign (not secret) and who signs (Entra ID, read by Azure's EnvironmentCredential). */
export const AZURE_SIGNING_ENV = ['AZURE_TRUSTED_SIGNING_ENDPOINT', 'AZURE_TRUSTED_SIGNING_ACCOUNT', 'AZURE_TRUSTED_SIGNING_PROFILE', 'WIN_PUBLISHER_NAME'] as const;
export const AZURE_CREDENTIAL_ENV = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET'] as const;

/** The three ways @electron/notarize can authenticate, each a complete set of variables. */
export const NOTARIZE_ENV_SETS = [
  ['APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER'],
  ['APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID'],
  ['APPLE_KEYCHAIN', 'APPLE_KEYCHAIN_PROFILE'],
] as const;

export interface SigningPlan {
  windows: 'certificate' | 'azure-trusted-signing' | 'unsigned';
  mac: 'developer-id' | 'unsigned';
  notarize: boolean;
}

export function signingPlan(env: Env): SigningPlan {
  const windows = all(env, AZURE_SIGNING_ENV)
    ? 'azure-trusted-signing'
    : has(env, 'WIN_CSC_LINK') || has(env, 'CSC_LINK')
      ? 'certificate'
      : 'unsigned';
  const mac = has(env, 'CSC_LINK') || has(env, 'CSC_NAME') ? 'developer-id' : 'unsigned';
  const notarize = mac === 'developer-id' && NOTARIZE_ENV_SETS.some((set) => all(env, set));
  return { windows, mac, notarize };
}

/** Only the non-secret coordinates go into the configuration; the credential stays in the environment. */
export function azureSignOptions(env: Env): AzureSignOptions | null {
  if (!all(env, AZURE_SIGNING_ENV)) return null;
  return {
    publisherName: env.WIN_PUBLISHER_NAME as string,
    endpoint: env.AZURE_TRUSTED_SIGNING_ENDPOINT as string,
    codeSigningAccountName: env.AZURE_TRUSTED_SIGNING_ACCOUNT as string,
    certificateProfileName: env.AZURE_TRUSTED_SIGNING_PROFILE as string,
  };
}

/** The banner an unsigned (or un-notarized) build prints, or null when everything for `platform` is signed. */
export function unsignedWarning(plan: SigningPlan, platform: NodeJS.Platform): string | null {
  const lines: string[] = [];
  if (platform === 'win32' && plan.windows === 'unsigned') {
    lines.push(
      'The Windows installers and executables are NOT SIGNED.',
      'Set WIN_CSC_LINK + WIN_CSC_KEY_PASSWORD (a code-signing certificate), or Azure Trusted Signing:',
      `${AZURE_SIGNING_ENV.join(', ')} plus ${AZURE_CREDENTIAL_ENV.join(', ')}.`,
    );
  }
  if (platform === 'darwin' && plan.mac === 'unsigned') {
    lines.push(
      'The macOS app, DMG and PKG are NOT SIGNED and NOT NOTARIZED: Gatekeeper will refuse them.',
      'Set CSC_LINK + CSC_KEY_PASSWORD (Developer ID Application/Installer), or CSC_NAME for a keychain identity.',
    );
  } else if (platform === 'darwin' && !plan.notarize) {
    lines.push(
      'The macOS build is signed but NOT NOTARIZED: Gatekeeper will refuse it on other Macs.',
      `Set one of: ${NOTARIZE_ENV_SETS.map((set) => set.join(' + ')).join(' | ')}.`,
    );
  }
  if (platform === 'linux') {
    lines.push(
      'The Linux packages (deb, rpm, AppImage) are NOT SIGNED by this build.',
      'Sign them where they are published: a GPG-signed apt/yum repository, rpm --addsign, or debsigs.',
    );
  }
  if (lines.length === 0) return null;
  const rule = '!'.repeat(78);
  return [rule, '!! UNSIGNED BUILD: not for distribution to managed workstations', ...lines.map((l) => `!! ${l}`), rule].join('\n');
}
