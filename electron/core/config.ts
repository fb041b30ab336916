// The console's configuration: IT's policy from the OS's own store (Windows: the registry under
// HKLM\SOFTWARE\Policies, written by Group Policy or Intune; macOS: managed preferences from a
// configuration profile), else IT's policy file at the fixed per-OS path (Linux's only source),
// else, in development builds only, values from the environment. The policy wins over the
// environment entirely, so a user cannot redirect a managed install to another identity provider
// or API; a policy file that someone other than root/Administrators could have written is refused.
import { readFile } from 'node:fs/promises';
import { POLICY_MANAGED_DOMAIN, POLICY_PATHS, POLICY_REGISTRY_KEY, Policy, type PolicyInput } from '../../shared/config';
import { MANAGED_PREFERENCES_FILE, PolicySourceError, processPolicyOs, readManagedPreferences, readRegistryPolicy, windowsProgramDataFolder, type PolicyOs } from './policy-sources';
import { UntrustedPolicyError, checkPosixPolicyTrust, checkWindowsPolicyTrust } from './policy-trust';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  platform?: NodeJS.Platform;
  env?: Record<string, string | undefined>;
  /** Overrides the per-OS path (tests); then the OS stores are not read and ownership is not checked unless asked. */
  policyPath?: string;
  readText?: (path: string) => Promise<string>;
  /** The OS edge that runs reg.exe, PowerShell and plutil (tests pass a stand-in). */
  os?: PolicyOs;
  /** Read the registry (Windows) or managed preferences (macOS) first; default: when no policyPath is given. */
  nativeSources?: boolean;
  /** Refuse a policy file that anyone but root/Administrators owns or may write; default: when no policyPath is given. */
  checkOwnership?: boolean;
  /**
   * Whether this is an installed build (the shell passes `app.isPackaged`); no
   * default, so no caller can forget it. A packaged console never takes values
   * from the environment (it does not start without IT's policy) and refuses
   * plain http even on loopback: only development builds talk to the local stack.
   */
  packaged: boolean;
}

/**
 * The policy file's path for this OS. On Windows the ProgramData folder comes from the known-folder
 * API, never from the ProgramData variable, which whoever starts the console can set.
 */
export async function policyPathFor(platform: NodeJS.Platform, os: PolicyOs = processPolicyOs): Promise<string> {
  if (platform === 'win32') return POLICY_PATHS.win32.replace('%ProgramData%', await windowsProgramDataFolder(os));
  return platform === 'darwin' ? POLICY_PATHS.darwin : POLICY_PATHS.linux;
}

export type ConfigSource =
  | { kind: 'registry'; key: string }
  | { kind: 'managed-preferences'; domain: string }
  | { kind: 'policy'; path: string }
  | { kind: 'environment' };
export interface LoadedConfig {
  policy: Policy;
  source: ConfigSource;
}

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && (error as { code?: unknown }).code === 'ENOENT';

/** Loads and validates the configuration; throws a ConfigError naming the file and the field when it is bad. */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  try {
    return await load(options);
  } catch (error) {
    if (error instanceof PolicySourceError || error instanceof UntrustedPolicyError) throw new ConfigError(error.message);
    throw error;
  }
}

async function load(options: LoadConfigOptions): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const os = options.os ?? processPolicyOs;
  const fixedPath = options.policyPath === undefined;

  if (options.nativeSources ?? fixedPath) {
    if (platform === 'win32') {
      const raw = await readRegistryPolicy(os);
      if (raw) return { policy: checked(raw, `The machine policy in the registry (${POLICY_REGISTRY_KEY})`, options.packaged), source: { kind: 'registry', key: POLICY_REGISTRY_KEY } };
    }
    if (platform === 'darwin') {
      const raw = await readManagedPreferences(os);
      if (raw) {
        // The OS writes managed preferences as root; a file anyone else wrote is not IT's profile.
        if (options.checkOwnership ?? fixedPath) checkPosixPolicyTrust(MANAGED_PREFERENCES_FILE, platform);
        const where = `The managed preferences for ${POLICY_MANAGED_DOMAIN} (configuration profile)`;
        return { policy: checked(raw, where, options.packaged), source: { kind: 'managed-preferences', domain: POLICY_MANAGED_DOMAIN } };
      }
    }
  }

  const path = options.policyPath ?? (await policyPathFor(platform, os));
  const readText = options.readText ?? ((p: string) => readFile(p, 'utf8'));

  let text: string | null;
  try {
    text = await readText(path);
  } catch (error) {
    if (!isMissing(error)) throw new ConfigError(`The policy file ${path} cannot be read: ${(error as Error).message}`);
    text = null;
  }

  if (text !== null) {
    if (options.checkOwnership ?? fixedPath) {
      if (platform === 'win32') await checkWindowsPolicyTrust(os, path);
      else checkPosixPolicyTrust(path, platform);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`The policy file ${path} is not valid JSON: ${(error as Error).message}`);
    }
    return { policy: checked(raw, `The policy file ${path}`, options.packaged), source: { kind: 'policy', path } };
  }
  if (options.packaged) {
    const native = !(options.nativeSources ?? fixedPath)
      ? ''
      : platform === 'win32'
        ? `No machine policy in the registry (${POLICY_REGISTRY_KEY}) and no`
        : platform === 'darwin'
          ? `No configuration profile for ${POLICY_MANAGED_DOMAIN} and no`
          : '';
    throw new ConfigError(
      `${native ? `${native} policy file at ${path}.` : `No policy file at ${path}.`} An installed CIMS Console reads its identity provider and API from IT's policy; ask IT to deploy it (see the administrator's guide).`,
    );
  }
  return { policy: validate(fromEnvironment(env), 'The development configuration (environment)'), source: { kind: 'environment' } };
}

function checked(raw: unknown, where: string, packaged: boolean): Policy {
  const policy = validate(raw, where);
  if (packaged) refusePlainHttp(policy, where);
  return policy;
}

/** The policy schema allows http on loopback for development; an installed console must not (a local process could answer). */
function refusePlainHttp(policy: Policy, where: string): void {
  const problems = (['issuer', 'apiBaseUrl'] as const)
    .filter((field) => new URL(policy[field]).protocol !== 'https:')
    .map((field) => `field "${field}": must use https:// (an installed console refuses plain http, loopback included)`);
  if (problems.length) throw new ConfigError(`${where} is not valid: ${problems.join('; ')}`);
}

function fromEnvironment(env: Record<string, string | undefined>): Partial<PolicyInput> {
  const out: Partial<PolicyInput> = {};
  if (env.CIMS_ISSUER) out.issuer = env.CIMS_ISSUER;
  out.clientId = env.CIMS_CLIENT_ID ?? 'cims-console';
  if (env.CIMS_API_BASE_URL) out.apiBaseUrl = env.CIMS_API_BASE_URL;
  out.apiAudience = env.CIMS_API_AUDIENCE ?? 'urn:cims:api';
  if (env.CIMS_SCOPE) out.scope = env.CIMS_SCOPE;
  if (env.CIMS_INACTIVITY_MINUTES) out.inactivityTimeoutMinutes = Number(env.CIMS_INACTIVITY_MINUTES);
  // Checked by Policy like any other value: a misspelt binding stops the start.
  if (env.CIMS_TOKEN_BINDING) out.tokenBinding = env.CIMS_TOKEN_BINDING as Policy['tokenBinding'];
  // PEM text (one or more blocks), not a path: the API's CIMS_AUDIT_PUBLIC_KEYS names a file.
  if (env.CIMS_AUDIT_PUBLIC_KEYS_PEM) out.auditPublicKeys = splitPemBlocks(env.CIMS_AUDIT_PUBLIC_KEYS_PEM);
  return out;
}

/** Each `-----BEGIN ...-----` to `-----END ...-----` block of a text, as it is written (validated by the policy schema). */
export function splitPemBlocks(text: string): string[] {
  return (text.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g) ?? [text]).map((block) => `${block}\n`);
}

function validate(raw: unknown, where: string): Policy {
  const parsed = Policy.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    return `field "${field}": ${issue.message}`;
  });
  throw new ConfigError(`${where} is not valid: ${problems.join('; ')}`);
}
