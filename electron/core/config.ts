// The console's configuration: IT's policy file when one exists at the fixed
// per-OS path, otherwise development values from the environment. The policy
// wins over the environment entirely, so a user cannot redirect a managed
// install to another identity provider or API.
import { readFile } from 'node:fs/promises';
import { POLICY_PATHS, Policy, type PolicyInput } from '../../shared/config';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  platform?: NodeJS.Platform;
  env?: Record<string, string | undefined>;
  /** Overrides the per-OS path (tests). */
  policyPath?: string;
  readText?: (path: string) => Promise<string>;
  /**
   * Whether this is an installed build (the shell passes `app.isPackaged`); no
   * default, so no caller can forget it. A packaged console never takes values
   * from the environment (it does not start without IT's policy) and refuses
   * plain http even on loopback: only development builds talk to the local stack.
   */
  packaged: boolean;
}

/** The policy path for this OS, with `%ProgramData%` expanded on Windows. */
export function policyPathFor(platform: NodeJS.Platform, env: Record<string, string | undefined>): string {
  if (platform === 'win32') {
    const programData = env.ProgramData ?? env.PROGRAMDATA ?? String.raw`C:\ProgramData`;
    return POLICY_PATHS.win32.replace('%ProgramData%', programData);
  }
  return platform === 'darwin' ? POLICY_PATHS.darwin : POLICY_PATHS.linux;
}

export type ConfigSource = { kind: 'policy'; path: string } | { kind: 'environment' };
export interface LoadedConfig {
  policy: Policy;
  source: ConfigSource;
}

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && (error as { code?: unknown }).code === 'ENOENT';

/** Loads and validates the configuration; throws a ConfigError naming the file and the field when it is bad. */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const path = options.policyPath ?? policyPathFor(options.platform ?? process.platform, env);
  const readText = options.readText ?? ((p: string) => readFile(p, 'utf8'));

  let text: string | null;
  try {
    text = await readText(path);
  } catch (error) {
    if (!isMissing(error)) throw new ConfigError(`The policy file ${path} cannot be read: ${(error as Error).message}`);
    text = null;
  }

  if (text !== null) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`The policy file ${path} is not valid JSON: ${(error as Error).message}`);
    }
    const where = `The policy file ${path}`;
    const policy = validate(raw, where);
    if (options.packaged) refusePlainHttp(policy, where);
    return { policy, source: { kind: 'policy', path } };
  }
  if (options.packaged) {
    throw new ConfigError(
      `No policy file at ${path}. An installed CIMS Console reads its identity provider and API from it; ask IT to deploy it (see the administrator's guide).`,
    );
  }
  return { policy: validate(fromEnvironment(env), 'The development configuration (environment)'), source: { kind: 'environment' } };
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
