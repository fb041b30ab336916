// The OS-native policy stores IT's tools write, read once at start: the Windows registry under
// HKLM\SOFTWARE\Policies (Group Policy with build/policy/*.admx, Intune's ADMX ingestion) and macOS
// managed preferences (a configuration profile from an MDM). Each gives the raw fields of a policy,
// validated afterwards by the same zod Policy as the file (electron/core/config.ts).
//
// A small reader of our own rather than a native module (@vscode/policy-watcher watches for changes,
// which the console does not need, and would have to be rebuilt for Electron's ABI): the OS tools
// are run by absolute path, never through PATH or a shell, behind the PolicyOs edge tests replace.
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { POLICY_MANAGED_DOMAIN, POLICY_REGISTRY_KEY, Policy } from '../../shared/config';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The OS edge: runs a program by absolute path with arguments, no shell. */
export interface PolicyOs {
  run(file: string, args: string[]): Promise<RunResult>;
}

export const processPolicyOs: PolicyOs = {
  run: (file, args) =>
    new Promise((resolve) => {
      execFile(file, args, { encoding: 'utf8', windowsHide: true, timeout: 15_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code === -1 ? error.message : '') });
      });
    }),
};

// The system folder is not taken from %SystemRoot%, which whoever starts the console can set.
const SYSTEM32 = String.raw`C:\Windows\System32`;
export const REG_EXE = `${SYSTEM32}\\reg.exe`;
export const POWERSHELL_EXE = `${SYSTEM32}\\WindowsPowerShell\\v1.0\\powershell.exe`;
export const PLUTIL = '/usr/bin/plutil';
export const MANAGED_PREFERENCES_FILE = `/Library/Managed Preferences/${POLICY_MANAGED_DOMAIN}.plist`;

export class PolicySourceError extends Error {
  override name = 'PolicySourceError';
}

export type FieldKind = 'string' | 'number' | 'boolean' | 'list';

/** Each policy field's kind, from the JSON Schema of the zod Policy (the one the templates come from). */
export function policyFieldKinds(): Record<string, FieldKind> {
  const schema = z.toJSONSchema(Policy, { io: 'input' }) as { properties: Record<string, { type?: string }> };
  return Object.fromEntries(
    Object.entries(schema.properties).map(([name, p]) => {
      const kind: FieldKind = p.type === 'array' ? 'list' : p.type === 'number' || p.type === 'integer' ? 'number' : p.type === 'boolean' ? 'boolean' : 'string';
      return [name, kind];
    }),
  );
}

// The key's unnamed default value, which reg.exe prints in the system's language ("(Default)", "(Standard)", ...).
const isDefaultValue = (v: { name: string }) => /^\(.*\)$/.test(v.name);

interface RegValue {
  name: string;
  type: string;
  data: string;
}

/** `reg query KEY /s` output: the values of the key and of each subkey, by subkey path relative to KEY ('' for KEY itself). */
export function parseRegQuery(stdout: string, key: string): Map<string, RegValue[]> {
  const keys = new Map<string, RegValue[]>();
  const fullRoot = key.replace(/^HKLM\\/i, 'HKEY_LOCAL_MACHINE\\').toLowerCase();
  let current: RegValue[] | null = null;
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.trim()) continue;
    if (!line.startsWith(' ')) {
      const lower = line.trim().toLowerCase();
      if (lower !== fullRoot && !lower.startsWith(`${fullRoot}\\`)) {
        current = null;
        continue;
      }
      const relative = line.trim().slice(fullRoot.length).replace(/^\\/, '');
      current = [];
      keys.set(relative, current);
      continue;
    }
    const m = /^ {4}(.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(line);
    if (m && current) current.push({ name: m[1]!, type: m[2]!, data: m[3] ?? '' });
  }
  return keys;
}

// ADMX text boxes hold one line: a PEM key may be written with spaces (or a literal \n) for its line breaks.
const normalizePem = (value: string) =>
  value
    .trim()
    .replace(/\\n/g, '\n')
    .replace(/^(-----BEGIN [A-Z ]+-----)\s+/, '$1\n')
    .replace(/\s+(-----END [A-Z ]+-----)$/, '\n$1\n');

function fromRegValue(kind: FieldKind, value: RegValue): unknown {
  if (kind === 'number' || kind === 'boolean') {
    if (value.type !== 'REG_DWORD' && value.type !== 'REG_QWORD') return value.data; // refused by the schema, naming the field
    const n = Number.parseInt(value.data, 16);
    return kind === 'boolean' ? n !== 0 : n;
  }
  return value.data;
}

/**
 * The policy's raw fields from the registry, or null when the key does not exist. Values of unknown
 * names are kept, so the schema refuses them as it refuses unknown fields in the file.
 */
export async function readRegistryPolicy(os: PolicyOs, key = POLICY_REGISTRY_KEY): Promise<Record<string, unknown> | null> {
  const result = await os.run(REG_EXE, ['query', key, '/s', '/reg:64']);
  if (result.code !== 0) {
    // Exit 1 is reg.exe's "no such key" (its message is in the system's language); every user may
    // read HKLM\SOFTWARE\Policies, so it is not a refusal. Anything else (reg.exe missing) is an error.
    if (result.code === 1) return null;
    throw new PolicySourceError(`The machine policy in the registry (${key}) cannot be read: ${result.stderr.trim() || `reg.exe exit ${result.code}`}`);
  }
  const keys = parseRegQuery(result.stdout, key);
  const kinds = policyFieldKinds();
  const raw: Record<string, unknown> = {};
  for (const value of keys.get('') ?? []) {
    if (isDefaultValue(value)) continue;
    const kind = kinds[value.name] ?? 'string';
    raw[value.name] = kind === 'list' ? value.data : fromRegValue(kind, value);
  }
  // A list is a subkey named after the field with values 1, 2, 3... (what an ADMX <list> writes).
  for (const [sub, values] of keys) {
    if (!sub || sub.includes('\\')) continue;
    const name = Object.keys(kinds).find((k) => k.toLowerCase() === sub.toLowerCase()) ?? sub;
    const items = values
      .filter((v) => !isDefaultValue(v))
      .sort((a, b) => Number(a.name) - Number(b.name) || a.name.localeCompare(b.name))
      .map((v) => (name === 'auditPublicKeys' ? normalizePem(v.data) : v.data));
    raw[name] = items;
  }
  return Object.keys(raw).length ? raw : null;
}

/** The policy's raw fields from macOS managed preferences (a profile's payload for our domain), or null without a profile. */
export async function readManagedPreferences(os: PolicyOs, file = MANAGED_PREFERENCES_FILE): Promise<Record<string, unknown> | null> {
  const result = await os.run(PLUTIL, ['-convert', 'json', '-o', '-', '--', file]);
  if (result.code !== 0) {
    if (/no such file|does not exist|couldn.t be opened because there is no such file/i.test(result.stderr + result.stdout)) return null;
    throw new PolicySourceError(`The managed preferences ${file} cannot be read: ${result.stderr.trim() || `plutil exit ${result.code}`}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new PolicySourceError(`The managed preferences ${file} are not a property list of policy fields`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PolicySourceError(`The managed preferences ${file} are not a dictionary of policy fields`);
  }
  // The profile's own bookkeeping keys (PayloadUUID, ...) may be carried along; they are not policy.
  const raw = Object.fromEntries(Object.entries(parsed).filter(([k]) => !k.startsWith('Payload')));
  if (Array.isArray(raw.auditPublicKeys)) raw.auditPublicKeys = raw.auditPublicKeys.map((k) => (typeof k === 'string' ? normalizePem(k) : k));
  return Object.keys(raw).length ? raw : null;
}

/** The ProgramData known folder (FOLDERID_ProgramData through .NET's GetFolderPath), not %ProgramData%. */
export async function windowsProgramDataFolder(os: PolicyOs): Promise<string> {
  const result = await os.run(POWERSHELL_EXE, [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    "[Console]::OutputEncoding = [Text.Encoding]::UTF8; [Environment]::GetFolderPath('CommonApplicationData')",
  ]);
  const folder = result.stdout.trim();
  if (result.code !== 0 || !/^[A-Za-z]:\\/.test(folder)) {
    throw new PolicySourceError(`The ProgramData folder cannot be found (known folder lookup failed: ${result.stderr.trim() || folder || `exit ${result.code}`})`);
  }
  return folder;
}
