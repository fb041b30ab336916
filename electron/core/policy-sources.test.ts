// The registry and managed-preferences readers, and loadConfig's order of sources. reg.exe,
// PowerShell and plutil are stood in for at the OS edge (PolicyOs) with output in the form those
// tools print; the parsing, the coercion and the validation are the real code.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { POLICY_REGISTRY_KEY } from '../../shared/config';
import { loadConfig } from './config';
import { PLUTIL, POWERSHELL_EXE, REG_EXE, parseRegQuery, readManagedPreferences, readRegistryPolicy, type PolicyOs, type RunResult } from './policy-sources';

const ROOT = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\CIMS\\CIMS Console';
const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
const oneLinePem = pem.trim().split('\n').join(' ');

/** reg query's output for the values an ADMX-managed machine holds (four spaces between columns). */
const regOutput = (values: string[], lists: Record<string, string[]> = {}) =>
  [
    '',
    ROOT,
    ...values.map((v) => `    ${v}`),
    '',
    ...Object.entries(lists).flatMap(([name, items]) => [`${ROOT}\\${name}`, ...items.map((item, i) => `    ${i + 1}    REG_SZ    ${item}`), '']),
  ].join('\r\n');

const GOOD_VALUES = [
  'issuer    REG_SZ    https://login.example.com/realms/cims',
  'clientId    REG_SZ    cims-console',
  'apiBaseUrl    REG_SZ    https://cims-api.example.com',
  'apiAudience    REG_SZ    urn:cims:api',
  'inactivityTimeoutMinutes    REG_DWORD    0x1e',
  'autoUpdate    REG_DWORD    0x0',
];

function standIn(answers: Record<string, RunResult | ((args: string[]) => RunResult)>): PolicyOs & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: async (file, args) => {
      calls.push([file, ...args]);
      const answer = answers[file];
      if (!answer) throw new Error(`unexpected program ${file}`);
      return typeof answer === 'function' ? answer(args) : answer;
    },
  };
}
const ok = (stdout: string): RunResult => ({ code: 0, stdout, stderr: '' });
const NO_KEY: RunResult = { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.' };

describe('the Windows registry', () => {
  it('parses reg query output into the key and its subkeys', () => {
    const keys = parseRegQuery(regOutput(['issuer    REG_SZ    https://a b.example'], { allowedExternalHosts: ['x.example.com'] }), POLICY_REGISTRY_KEY);
    expect(keys.get('')).toEqual([{ name: 'issuer', type: 'REG_SZ', data: 'https://a b.example' }]);
    expect(keys.get('allowedExternalHosts')).toEqual([{ name: '1', type: 'REG_SZ', data: 'x.example.com' }]);
  });

  it('gives the policy fields: strings, DWORD numbers and booleans, lists from numbered subkey values, one-line PEM keys', async () => {
    // A German Windows names the unset default value "(Standard)": it is not a field.
    const os = standIn({ [REG_EXE]: ok(regOutput(['(Standard)    REG_SZ    ', ...GOOD_VALUES], { allowedExternalHosts: ['intranet.example.com', 'wiki.example.com'], auditPublicKeys: [oneLinePem] })) });
    const raw = await readRegistryPolicy(os);
    expect(os.calls[0]).toEqual([REG_EXE, 'query', POLICY_REGISTRY_KEY, '/s', '/reg:64']);
    expect(raw).toEqual({
      issuer: 'https://login.example.com/realms/cims',
      clientId: 'cims-console',
      apiBaseUrl: 'https://cims-api.example.com',
      apiAudience: 'urn:cims:api',
      inactivityTimeoutMinutes: 30,
      autoUpdate: false,
      allowedExternalHosts: ['intranet.example.com', 'wiki.example.com'],
      auditPublicKeys: [pem],
    });
  });

  it('is missing: null, so the file is read next', async () => {
    expect(await readRegistryPolicy(standIn({ [REG_EXE]: NO_KEY }))).toBeNull();
    // In the system's language, whatever it is: exit 1 is the answer.
    expect(await readRegistryPolicy(standIn({ [REG_EXE]: { code: 1, stdout: '', stderr: 'FEHLER: Das System konnte den angegebenen Registrierungsschlüssel bzw. Wert nicht finden.' } }))).toBeNull();
    await expect(readRegistryPolicy(standIn({ [REG_EXE]: { code: -1, stdout: '', stderr: 'spawn C:\\Windows\\System32\\reg.exe ENOENT' } }))).rejects.toThrow(/cannot be read: spawn .*ENOENT/);
  });

  it('wins over the file, and a bad value is refused naming the registry key and the field', async () => {
    const os = standIn({ [REG_EXE]: ok(regOutput(GOOD_VALUES)) });
    const loaded = await loadConfig({ platform: 'win32', os, packaged: true });
    expect(loaded.source).toEqual({ kind: 'registry', key: POLICY_REGISTRY_KEY });
    expect(loaded.policy).toMatchObject({ issuer: 'https://login.example.com/realms/cims', inactivityTimeoutMinutes: 30 });
    expect(os.calls.map((c) => c[0])).toEqual([REG_EXE]); // the file is not even looked for

    const bad = standIn({ [REG_EXE]: ok(regOutput([...GOOD_VALUES.slice(0, 3), 'apiAudience    REG_SZ    urn:cims:api', 'debug    REG_DWORD    0x1', 'issuer    REG_SZ    http://login.example.com'])) });
    const error = (await loadConfig({ platform: 'win32', os: bad, packaged: true }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(`The machine policy in the registry (${POLICY_REGISTRY_KEY}) is not valid`);
    expect(error.message).toMatch(/field "issuer"/);
    const wrongType = standIn({ [REG_EXE]: ok(regOutput([...GOOD_VALUES.slice(0, 4), 'inactivityTimeoutMinutes    REG_SZ    30'])) });
    await expect(loadConfig({ platform: 'win32', os: wrongType, packaged: true })).rejects.toThrow(/field "inactivityTimeoutMinutes"/);
  });

  it('without the key or the file, an installed console names both places', async () => {
    const os = standIn({ [REG_EXE]: NO_KEY, [POWERSHELL_EXE]: ok('C:\\ProgramData\r\n') });
    const absent = async () => {
      throw Object.assign(new Error('absent'), { code: 'ENOENT' });
    };
    await expect(loadConfig({ platform: 'win32', os, packaged: true, readText: absent })).rejects.toThrow(
      `No machine policy in the registry (${POLICY_REGISTRY_KEY}) and no policy file at C:\\ProgramData\\CIMS Console\\policy.json.`,
    );
  });

  it('without the key, the file under the ProgramData known folder is read after its permissions are checked', async () => {
    const read: string[] = [];
    const os = standIn({
      [REG_EXE]: NO_KEY,
      [POWERSHELL_EXE]: (args) =>
        args.at(-1)!.includes('GetFolderPath')
          ? ok('C:\\ProgramData\r\n')
          : ok(JSON.stringify({ owner: 'S-1-5-32-544', rules: [{ sid: 'S-1-5-32-545', allow: true, rights: 0x1301bf }] })),
    });
    const error = (await loadConfig({
      platform: 'win32',
      os,
      packaged: true,
      readText: async (p) => (read.push(p), JSON.stringify({ issuer: 'https://i.example.com', clientId: 'c', apiBaseUrl: 'https://a.example.com', apiAudience: 'a' })),
    }).catch((e: unknown) => e)) as Error;
    expect(read).toEqual(['C:\\ProgramData\\CIMS Console\\policy.json']);
    expect(error.message).toMatch(/policy\.json is refused: the file can be changed by S-1-5-32-545/);
    // The path reaches PowerShell as an argument, never inside the script text.
    const aclCall = os.calls.find((c) => c[0] === POWERSHELL_EXE && c.at(-1) === 'C:\\ProgramData\\CIMS Console\\policy.json');
    expect(aclCall).toBeDefined();
  });
});

describe('macOS managed preferences', () => {
  const profile = {
    PayloadUUID: '0B1D3A6E-9E0F-4E43-8C0B-7C2F0D9A1B11',
    issuer: 'https://login.example.com/realms/cims',
    clientId: 'cims-console',
    apiBaseUrl: 'https://cims-api.example.com',
    apiAudience: 'urn:cims:api',
    lockOnScreenLock: true,
    auditPublicKeys: [oneLinePem],
  };

  it('gives the payload fields without the profile bookkeeping', async () => {
    const os = standIn({ [PLUTIL]: ok(JSON.stringify(profile)) });
    const raw = await readManagedPreferences(os);
    expect(os.calls[0]).toEqual([PLUTIL, '-convert', 'json', '-o', '-', '--', '/Library/Managed Preferences/com.cims.console.plist']);
    expect(raw).not.toHaveProperty('PayloadUUID');
    expect(raw).toMatchObject({ issuer: profile.issuer, lockOnScreenLock: true, auditPublicKeys: [pem] });
  });

  it('without a profile: null, and the file is read next', async () => {
    const none = standIn({ [PLUTIL]: { code: 1, stdout: '', stderr: '/Library/Managed Preferences/com.cims.console.plist: file does not exist or is not readable or is not a regular file' } });
    expect(await readManagedPreferences(none)).toBeNull();
    const loaded = await loadConfig({ platform: 'darwin', os: none, packaged: false, checkOwnership: false, readText: async () => { throw Object.assign(new Error('absent'), { code: 'ENOENT' }); }, env: { CIMS_ISSUER: 'http://127.0.0.1:1', CIMS_API_BASE_URL: 'http://127.0.0.1:2' } });
    expect(loaded.source).toEqual({ kind: 'environment' });
  });

  it('from a profile, validated like the file', async () => {
    const os = standIn({ [PLUTIL]: ok(JSON.stringify({ ...profile, apiBaseUrl: 'ftp://x' })) });
    await expect(loadConfig({ platform: 'darwin', os, packaged: true, checkOwnership: false })).rejects.toThrow(/managed preferences for com\.cims\.console.*field "apiBaseUrl"/);
    const good = standIn({ [PLUTIL]: ok(JSON.stringify(profile)) });
    await expect(loadConfig({ platform: 'darwin', os: good, packaged: true, checkOwnership: false })).resolves.toMatchObject({ source: { kind: 'managed-preferences', domain: 'com.cims.console' } });
  });
});
